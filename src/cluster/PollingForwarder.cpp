#include "cluster/PollingForwarder.hpp"

#include <spdlog/spdlog.h>

namespace parley::cluster {

namespace {
constexpr auto kSweepInterval = std::chrono::seconds(1);

std::string channelOf(std::string_view uid) {
    std::string channel(forward::kChannelPrefix);
    channel += uid;
    return channel;
}
} // namespace

/// Answers a request another node forwarded to us: the response goes back over the bus. Used
/// like the HttpConnection it stands for, on the session's thread; an abort from the requester
/// is run there too.
class RemoteResponder final : public net::Responder, public std::enable_shared_from_this<RemoteResponder> {
public:
    RemoteResponder(PollingForwarder& forwarder, std::string from, std::uint64_t id)
        : forwarder_(forwarder), from_(std::move(from)), id_(id) {}

    void respond(net::Response&& res) override {
        onAbort_ = nullptr;
        if (done_) return;
        done_ = true;
        forwarder_.respondTo(from_, id_, res);
    }

    void onAbort(std::function<void()> fn) override {
        onAbort_ = std::move(fn);
        thread_.store(net::IoThreads::currentIndex(), std::memory_order_release);
    }

    /// The requester's client left. From the home thread: the abort runs on the thread that
    /// registered it, unless the response went out first.
    void abortSoon(net::IoThreads& threads) {
        const std::size_t thread = thread_.load(std::memory_order_acquire);
        if (thread >= threads.size()) return; // nothing held: nothing to abort
        threads.postTo(thread, [self = shared_from_this()] {
            auto fn = std::move(self->onAbort_);
            self->onAbort_ = nullptr;
            if (self->done_ || !fn) return;
            self->done_ = true;
            fn();
        });
    }

private:
    PollingForwarder& forwarder_;
    std::string from_;
    std::uint64_t id_;
    std::function<void()> onAbort_;
    std::atomic<std::size_t> thread_{net::IoThreads::kNotAnIoThread};
    bool done_ = false;
};

PollingForwarder::PollingForwarder(RedisBus& bus, engineio::Server& engine, std::chrono::milliseconds timeout)
    : bus_(bus), engine_(engine), timeout_(timeout), sweepTimer_(bus.threads().context(RedisBus::kHome)) {}

PollingForwarder::~PollingForwarder() = default;

void PollingForwarder::start() {
    engine_.setSidSuffix(bus_.uid());
    engine_.setForwarder(this);
    bus_.serveChannel(channelOf(bus_.uid()), [this](std::string_view payload) { onMessage(payload); });
    bus_.threads().postTo(RedisBus::kHome, [this] { armSweep(); });
}

void PollingForwarder::stop() {
    bus_.threads().postTo(RedisBus::kHome, [this] { sweepTimer_.cancel(); });
}

// ---------------------------------------------------------------------------------------------
// The node the client reached
// ---------------------------------------------------------------------------------------------

std::uint64_t PollingForwarder::forward(const std::string& sid, net::Request&& req, std::string clientAddress,
                                        Reply reply) {
    const std::uint64_t id = nextId_.fetch_add(1, std::memory_order_relaxed);
    auto& threads = bus_.threads();
    const std::size_t here = net::IoThreads::ownIndex(threads);
    const std::size_t uidSize = bus_.uid().size();
    if (sid.size() <= uidSize) {
        threads.postTo(here, [reply = std::move(reply)] { reply(std::nullopt); });
        return id;
    }
    std::string owner = sid.substr(sid.size() - uidSize);
    std::string message = forward::encodeRequest(bus_.uid(), id, req, clientAddress);
    threads.postTo(RedisBus::kHome, [this, id, owner, message = std::move(message),
                                     pending = Pending{owner, here, std::move(reply)}]() mutable {
        send(id, std::move(owner), std::move(message), std::move(pending));
    });
    return id;
}

void PollingForwarder::send(std::uint64_t id, std::string owner, std::string message, Pending pending) {
    pending_.emplace(id, std::move(pending));
    deadlines_.emplace_back(std::chrono::steady_clock::now() + timeout_, id);
    bus_.metrics().pollsForwarded.fetch_add(1, std::memory_order_relaxed);
    // Nobody subscribed to the owner's channel: the node is gone (or never was), and the client
    // learns it now rather than at the timeout.
    bus_.publish(channelOf(owner), std::move(message), [this, id](long long receivers) {
        if (receivers <= 0) settle(id, std::nullopt);
    });
}

void PollingForwarder::settle(std::uint64_t id, std::optional<net::Response> res) {
    auto it = pending_.find(id);
    if (it == pending_.end()) return; // answered, timed out, or cancelled already
    if (!res) bus_.metrics().pollForwardsFailed.fetch_add(1, std::memory_order_relaxed);
    bus_.threads().postTo(it->second.thread, [reply = std::move(it->second.reply), res = std::move(res)]() mutable {
        reply(std::move(res));
    });
    pending_.erase(it);
}

void PollingForwarder::cancel(std::uint64_t handle) {
    bus_.threads().postTo(RedisBus::kHome, [this, handle] {
        auto it = pending_.find(handle);
        if (it == pending_.end()) return;
        bus_.publish(channelOf(it->second.owner), forward::encodeAbort(bus_.uid(), handle));
        pending_.erase(it);
    });
}

void PollingForwarder::armSweep() {
    sweepTimer_.expires_after(kSweepInterval);
    sweepTimer_.async_wait([this](boost::system::error_code ec) {
        if (ec) return;
        sweep();
        armSweep();
    });
}

// Every request waits as long as any other, so the deadlines are in order.
void PollingForwarder::sweep() {
    const auto now = std::chrono::steady_clock::now();
    while (!deadlines_.empty() && deadlines_.front().first <= now) {
        settle(deadlines_.front().second, std::nullopt);
        deadlines_.pop_front();
    }
    std::erase_if(served_, [](const auto& entry) { return entry.second.expired(); });
}

// ---------------------------------------------------------------------------------------------
// The owner
// ---------------------------------------------------------------------------------------------

void PollingForwarder::onMessage(std::string_view payload) {
    auto message = forward::decode(payload);
    if (auto* m = std::get_if<forward::RequestMessage>(&message)) return serve(*m);
    if (auto* m = std::get_if<forward::ResponseMessage>(&message)) return settle(m->id, forward::toResponse(*m));
    if (auto* m = std::get_if<forward::AbortMessage>(&message)) return abortServed(*m);
    bus_.dropped(channelOf(bus_.uid()), std::get<forward::Malformed>(message).why, payload.size());
}

void PollingForwarder::serve(const forward::RequestMessage& m) {
    bus_.metrics().pollsServedForPeers.fetch_add(1, std::memory_order_relaxed);
    auto responder = std::make_shared<RemoteResponder>(*this, std::string(m.from), m.id);
    served_[servedKey(m.from, m.id)] = responder;
    engine_.handleForwarded(std::move(responder), forward::toRequest(m));
}

void PollingForwarder::abortServed(const forward::AbortMessage& m) {
    auto it = served_.find(servedKey(m.from, m.id));
    if (it == served_.end()) return;
    if (auto responder = it->second.lock()) responder->abortSoon(bus_.threads());
    served_.erase(it);
}

// On the session's thread: the bus publishes from any thread.
void PollingForwarder::respondTo(const std::string& node, std::uint64_t id, const net::Response& res) {
    bus_.publish(channelOf(node), forward::encodeResponse(id, res));
}

std::string PollingForwarder::servedKey(std::string_view from, std::uint64_t id) {
    std::string key(from);
    key += '#';
    key += std::to_string(id);
    return key;
}

} // namespace parley::cluster
