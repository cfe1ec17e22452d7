#include "Fleet.hpp"

#include "Clock.hpp"

#include <boost/asio/post.hpp>

#include <limits>

namespace parley::bench {

void Launcher::launch(std::vector<Member*> members, std::size_t limit) {
    queue_ = std::move(members);
    next_ = 0;
    inFlight_ = 0;
    limit_ = limit == 0 ? std::numeric_limits<std::size_t>::max() : limit;
    pump();
}

void Launcher::pump() {
    while (inFlight_ < limit_ && next_ < queue_.size()) {
        Member* m = queue_[next_++];
        ++inFlight_;
        m->start([this] {
            --inFlight_;
            pump();
        });
    }
}

Fleet::Fleet(Workers& workers, RunShared& shared) : workers_(workers), shared_(shared), byThread_(workers.size()) {
    const std::size_t n = shared.roster.users.size();
    members_.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t owner = workers.ownerOf(i);
        members_.push_back(std::make_unique<Member>(i, workers.context(owner), shared));
        byThread_[owner].push_back(members_.back().get());
    }
    for (std::size_t t = 0; t < workers.size(); ++t) launchers_.push_back(std::make_unique<Launcher>());
}

Fleet::~Fleet() = default;

void Fleet::startAll(std::size_t concurrency) {
    const std::size_t perThread = concurrency == 0 ? 0 : std::max<std::size_t>(1, concurrency / workers_.size());
    for (std::size_t t = 0; t < workers_.size(); ++t)
        boost::asio::post(workers_.context(t),
                          [this, t, perThread] { launchers_[t]->launch(byThread_[t], perThread); });
}

bool Fleet::waitSettled(std::int64_t deadlineNs) const {
    const auto& p = shared_.progress;
    waitUntil([&] { return p.ready.load() + p.failed.load() >= members_.size(); }, deadlineNs);
    return p.ready.load() == members_.size();
}

std::size_t Fleet::closeAll(std::chrono::milliseconds timeout) {
    onEachThread([](std::size_t, const std::vector<Member*>& ms) {
        for (auto* m : ms) m->close();
    });
    const auto& p = shared_.progress;
    if (waitUntil([&] { return p.open.load() == 0; }, nowNs() + timeout.count() * 1000000)) return 0;
    const std::size_t stragglers = p.open.load();
    // A close handshake the server never answered: cut the sockets.
    onEachThread([](std::size_t, const std::vector<Member*>& ms) {
        for (auto* m : ms) m->abort();
    });
    waitUntil([&] { return p.open.load() == 0; }, nowNs() + 2000000000);
    return stragglers;
}

void Fleet::onEachThread(std::function<void(std::size_t, const std::vector<Member*>&)> fn) {
    for (std::size_t t = 0; t < workers_.size(); ++t)
        boost::asio::post(workers_.context(t), [this, t, fn] { fn(t, byThread_[t]); });
}

} // namespace parley::bench
