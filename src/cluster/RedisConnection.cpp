#include "cluster/Redis.hpp"

#include "core/Assert.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <limits>
#include <new>
#include <utility>

namespace parley::cluster {

namespace asio = boost::asio;
using boost::system::error_code;
using tcp = asio::ip::tcp;

namespace {

// Read granularity: large enough that a burst of pub/sub messages takes few reads.
constexpr std::size_t kReadChunk = 64 * 1024;
// Commands of up to this many arguments are formatted without a heap array of pointers.
constexpr std::size_t kInlineArgs = 16;

bool isAborted(const error_code& ec) { return ec == asio::error::operation_aborted; }

} // namespace

std::shared_ptr<RedisConnection> RedisConnection::create(asio::io_context& ctx, RedisOptions options) {
    return std::shared_ptr<RedisConnection>(new RedisConnection(ctx, std::move(options)));
}

RedisConnection::RedisConnection(asio::io_context& ctx, RedisOptions options)
    : ctx_(ctx), options_(std::move(options)), socket_(ctx), resolver_(ctx), connectTimer_(ctx), commandTimer_(ctx),
      readBuffer_(kReadChunk), metrics_(options_.metrics != nullptr ? options_.metrics : &ownMetrics_),
      random_(std::random_device{}()) {
    PARLEY_ASSERT(options_.reconnectMin.count() > 0 && options_.reconnectMin <= options_.reconnectMax,
                  "reconnectMin must be positive and at most reconnectMax");
}

RedisConnection::~RedisConnection() = default;

bool RedisConnection::connected() const noexcept { return state_ == State::Connected; }

void RedisConnection::onState(StateHandler h) { onState_ = std::move(h); }

void RedisConnection::onMessage(MessageHandler handler) { onMessage_ = std::move(handler); }

// ---------------------------------------------------------------------------------------------
// Connection life: connect, set up, reset, back off, close
// ---------------------------------------------------------------------------------------------

void RedisConnection::start() {
    PARLEY_ASSERT(state_ == State::Idle, "start() is called once");
    connect();
}

void RedisConnection::connect() {
    state_ = State::Connecting;
    armConnectTimer(options_.connectTimeout);
    const Epoch epoch = epoch_;
    error_code ec;
    const auto ip = asio::ip::make_address(options_.address.host, ec);
    if (!ec) {
        socket_.async_connect(tcp::endpoint(ip, options_.address.port),
                              [self = shared_from_this(), epoch](error_code e) { self->onConnected(epoch, e); });
        return;
    }
    // Names go through Asio's resolver, which never blocks this thread.
    resolver_.async_resolve(options_.address.host, std::to_string(options_.address.port),
                            [self = shared_from_this(), epoch](error_code e, const tcp::resolver::results_type& r) {
                                self->onResolved(epoch, e, r);
                            });
}

void RedisConnection::onResolved(Epoch epoch, error_code ec, const tcp::resolver::results_type& endpoints) {
    if (epoch != epoch_) return;
    if (ec) return reset(RedisErrc::ConnectionLost, "resolve: " + ec.message());
    asio::async_connect(socket_, endpoints, [self = shared_from_this(), epoch](error_code e, const tcp::endpoint&) {
        self->onConnected(epoch, e);
    });
}

void RedisConnection::onConnected(Epoch epoch, error_code ec) {
    if (epoch != epoch_) return;
    if (ec) return reset(RedisErrc::ConnectionLost, "connect: " + ec.message());
    // Commands are small and latency matters more than packet count (writes are batched anyway).
    socket_.set_option(tcp::no_delay(true), ec);
    // A subscriber only ever reads: keepalive is what notices a peer that vanished silently.
    socket_.set_option(asio::socket_base::keep_alive(true), ec);
    reader_.reset();
    state_ = State::Handshaking;
    read();
    sendSetup();
    if (setupLeft_ == 0) ready();
}

// AUTH, SELECT, CLIENT SETNAME and the subscriptions, pipelined in the connection's first write.
void RedisConnection::sendSetup() {
    setupLeft_ = 0;
    const RedisAddress& a = options_.address;
    if (!a.password.empty()) {
        if (a.user.empty())
            enqueue(std::array<std::string_view, 2>{"AUTH", a.password}, Kind::Setup, {});
        else
            enqueue(std::array<std::string_view, 3>{"AUTH", a.user, a.password}, Kind::Setup, {});
        ++setupLeft_;
    }
    if (a.db != 0) {
        const std::string db = std::to_string(a.db);
        enqueue(std::array<std::string_view, 2>{"SELECT", db}, Kind::Setup, {});
        ++setupLeft_;
    }
    if (!options_.name.empty()) {
        enqueue(std::array<std::string_view, 3>{"CLIENT", "SETNAME", options_.name}, Kind::Setup, {});
        ++setupLeft_;
    }
    // Redis confirms each channel and pattern with a message of its own.
    sendSubscribe("SUBSCRIBE", channels_);
    sendSubscribe("PSUBSCRIBE", patterns_);
    setupLeft_ += channels_.size() + patterns_.size();
}

// One setup reply or subscribe confirmation arrived; after the last the connection is ready.
void RedisConnection::setupStep() {
    if (state_ == State::Handshaking && setupLeft_ != 0 && --setupLeft_ == 0) ready();
}

void RedisConnection::ready() {
    state_ = State::Connected;
    connectTimer_.cancel();
    spdlog::info("redis {} ({}): connected", options_.name, options_.address.describe());
    attempt_ = 0;
    if (onState_) onState_(true);
}

void RedisConnection::armConnectTimer(std::chrono::milliseconds delay) {
    connectTimer_.expires_after(delay);
    connectTimer_.async_wait(
        [self = shared_from_this(), epoch = epoch_](error_code ec) { self->onConnectTimer(epoch, ec); });
}

void RedisConnection::onConnectTimer(Epoch epoch, error_code ec) {
    if (isAborted(ec) || epoch != epoch_) return;
    if (state_ == State::Backoff) return connect();
    if (state_ == State::Connecting || state_ == State::Handshaking)
        reset(RedisErrc::Timeout, "no connection and setup within the connect timeout");
}

// Drops the connection: fails what is pending, reports the loss, retries after a backoff.
void RedisConnection::reset(error_code ec, std::string_view why) {
    PARLEY_ASSERT(state_ != State::Closed && state_ != State::Idle && state_ != State::Backoff,
                  "only a live connection attempt is reset");
    const bool wasConnected = state_ == State::Connected;
    ++epoch_;
    error_code ignored;
    socket_.close(ignored);
    resolver_.cancel();
    commandTimer_.cancel();
    commandTimerAt_ = Clock::time_point::max();
    writeState_ = WriteState::Idle;
    queued_.clear();
    setupLeft_ = 0;
    state_ = State::Backoff;
    metrics_->redisReconnects.fetch_add(1, std::memory_order_relaxed);
    const auto delay = nextBackoff();
    armConnectTimer(delay);
    if (wasConnected || attempt_ <= 1)
        spdlog::warn("redis {} ({}): {}; retrying in {} ms", options_.name, options_.address.describe(), why,
                     delay.count());
    else
        spdlog::debug("redis {}: {}; retrying in {} ms", options_.name, why, delay.count());
    // Callbacks come last: they may issue commands (which now fail) or close() this connection.
    failAll(std::exchange(pending_, {}), ec, false);
    if (wasConnected && state_ != State::Closed && onState_) onState_(false);
}

std::chrono::milliseconds RedisConnection::nextBackoff() {
    const unsigned shift = std::min(attempt_, 20U);
    ++attempt_;
    const auto ceiling = std::min(options_.reconnectMax, options_.reconnectMin * (std::int64_t{1} << shift));
    std::uniform_int_distribution<std::int64_t> jitter(ceiling.count() / 2, ceiling.count());
    return std::chrono::milliseconds(jitter(random_));
}

void RedisConnection::close() {
    if (state_ == State::Closed) return;
    state_ = State::Closed;
    ++epoch_;
    error_code ignored;
    socket_.close(ignored);
    resolver_.cancel();
    connectTimer_.cancel();
    commandTimer_.cancel();
    queued_.clear();
    // The handlers may hold their owner, which may hold this connection: let the cycle go, on
    // a later turn (close() may be running inside one of them). Nothing calls them after close.
    asio::post(ctx_, [self = shared_from_this()]() {
        self->onState_ = nullptr;
        self->onMessage_ = nullptr;
    });
    failAll(std::exchange(pending_, {}), asio::error::operation_aborted, true);
}

// ---------------------------------------------------------------------------------------------
// Commands: format, queue, write in batches, time out
// ---------------------------------------------------------------------------------------------

void RedisConnection::command(std::span<const std::string_view> args, Callback cb) {
    PARLEY_ASSERT(!subscriber_, "a subscriber connection takes no commands");
    enqueue(args, Kind::User, std::move(cb));
}

void RedisConnection::command(std::initializer_list<std::string_view> args, Callback cb) {
    command(std::span<const std::string_view>(args.begin(), args.size()), std::move(cb));
}

void RedisConnection::publish(std::string_view channel, std::string_view payload, Callback cb) {
    PARLEY_ASSERT(!subscriber_, "a subscriber connection takes no commands");
    enqueue(std::array<std::string_view, 3>{"PUBLISH", channel, payload}, Kind::Publish, std::move(cb));
}

void RedisConnection::enqueue(std::span<const std::string_view> args, Kind kind, Callback cb) {
    PARLEY_ASSERT(!args.empty(), "a command has a name");
    if (kind != Kind::Setup) {
        if (state_ != State::Connected) return failSoon(std::move(cb), RedisErrc::NotConnected, kind);
        if (pending_.size() >= options_.maxPending) return failSoon(std::move(cb), RedisErrc::TooManyPending, kind);
    }
    appendCommand(args);
    pending_.push_back(Pending{std::move(cb), Clock::now() + options_.commandTimeout, kind});
    scheduleFlush();
    armCommandTimer();
}

// hiredis formats the command (its one allocation); the bytes join the next write.
void RedisConnection::appendCommand(std::span<const std::string_view> args) {
    std::array<const char*, kInlineArgs> inlineArgv{};
    std::array<std::size_t, kInlineArgs> inlineLengths{};
    std::vector<const char*> heapArgv;
    std::vector<std::size_t> heapLengths;
    const char** argv = inlineArgv.data();
    std::size_t* lengths = inlineLengths.data();
    if (args.size() > kInlineArgs) {
        heapArgv.resize(args.size());
        heapLengths.resize(args.size());
        argv = heapArgv.data();
        lengths = heapLengths.data();
    }
    for (std::size_t i = 0; i < args.size(); ++i) {
        argv[i] = args[i].data();
        lengths[i] = args[i].size();
    }
    char* formatted = nullptr;
    const int length = redisFormatCommandArgv(&formatted, static_cast<int>(args.size()), argv, lengths);
    if (length < 0) throw std::bad_alloc(); // hiredis fails only when out of memory
    queued_.append(formatted, static_cast<std::size_t>(length));
    redisFreeCommand(formatted);
}

// Never runs the callback inside the caller's call: a caller that retries from its callback
// would otherwise recurse.
void RedisConnection::failSoon(Callback cb, error_code ec, Kind kind) {
    metrics_->redisCommandsFailed.fetch_add(1, std::memory_order_relaxed);
    if (kind == Kind::Publish) metrics_->redisPublishErrors.fetch_add(1, std::memory_order_relaxed);
    if (cb) asio::post(ctx_, [cb = std::move(cb), ec]() { cb(ec); });
}

// Completes every command in `pending` with `ec`: now, or on a later turn of the loop when
// `posted` (close() must not run callbacks inside itself).
void RedisConnection::failAll(std::deque<Pending> pending, error_code ec, bool posted) {
    std::uint64_t commands = 0;
    std::uint64_t publishes = 0;
    for (const Pending& p : pending) {
        commands += p.kind != Kind::Setup ? 1 : 0;
        publishes += p.kind == Kind::Publish ? 1 : 0;
    }
    metrics_->redisCommandsFailed.fetch_add(commands, std::memory_order_relaxed);
    metrics_->redisPublishErrors.fetch_add(publishes, std::memory_order_relaxed);
    auto run = [ec](std::deque<Pending>& list) {
        for (Pending& p : list)
            if (p.cb) p.cb(ec);
    };
    if (!posted) return run(pending);
    if (commands != 0) asio::post(ctx_, [run, list = std::move(pending)]() mutable { run(list); });
}

// The first command of a handler posts the flush; the others of the same handler join it.
void RedisConnection::scheduleFlush() {
    if (writeState_ != WriteState::Idle) return;
    writeState_ = WriteState::FlushPosted;
    asio::post(ctx_, [self = shared_from_this(), epoch = epoch_]() {
        if (epoch == self->epoch_) self->flush();
    });
}

void RedisConnection::flush() {
    if (queued_.empty()) {
        writeState_ = WriteState::Idle;
        return;
    }
    writeState_ = WriteState::Writing;
    writing_.swap(queued_);
    queued_.clear();
    asio::async_write(
        socket_, asio::buffer(writing_),
        [self = shared_from_this(), epoch = epoch_](error_code ec, std::size_t) { self->onWritten(epoch, ec); });
}

void RedisConnection::onWritten(Epoch epoch, error_code ec) {
    if (epoch != epoch_) return;
    if (ec) return reset(RedisErrc::ConnectionLost, "write: " + ec.message());
    // What was queued during the write goes out now, as one write.
    flush();
}

// One timer watches the oldest pending command only: replies come in order, so when it is
// answered in time the next one's deadline is checked then, not on every reply.
void RedisConnection::armCommandTimer() {
    if (pending_.empty() || commandTimerAt_ != Clock::time_point::max()) return;
    commandTimerAt_ = pending_.front().deadline;
    commandTimer_.expires_at(commandTimerAt_);
    commandTimer_.async_wait(
        [self = shared_from_this(), epoch = epoch_](error_code ec) { self->onCommandTimer(epoch, ec); });
}

void RedisConnection::onCommandTimer(Epoch epoch, error_code ec) {
    if (isAborted(ec) || epoch != epoch_) return;
    commandTimerAt_ = Clock::time_point::max();
    if (!pending_.empty() && pending_.front().deadline <= Clock::now())
        return reset(RedisErrc::Timeout, "a command was not answered within the command timeout");
    armCommandTimer();
}

// ---------------------------------------------------------------------------------------------
// Replies and pub/sub messages
// ---------------------------------------------------------------------------------------------

void RedisConnection::read() {
    socket_.async_read_some(
        asio::buffer(readBuffer_),
        [self = shared_from_this(), epoch = epoch_](error_code ec, std::size_t n) { self->onRead(epoch, ec, n); });
}

void RedisConnection::onRead(Epoch epoch, error_code ec, std::size_t bytes) {
    if (epoch != epoch_) return;
    if (ec) return reset(RedisErrc::ConnectionLost, "read: " + ec.message());
    reader_.feed(std::string_view(readBuffer_.data(), bytes));
    for (;;) {
        auto next = reader_.next(reply_);
        if (!next) return reset(next.error(), "unreadable reply: " + next.error().message());
        if (!*next) break;
        onReply(reply_);
        // A callback may have closed the connection, or a reply broken it.
        if (epoch != epoch_) return;
    }
    read();
}

void RedisConnection::onReply(RedisReply& reply) {
    if (subscriber_ && onPush(reply)) return;
    if (pending_.empty()) return reset(RedisErrc::ProtocolError, "a reply to no command");
    Pending p = std::move(pending_.front());
    pending_.pop_front();
    switch (p.kind) {
    case Kind::Setup:
        if (reply.type == RedisReply::Type::Error)
            return reset(RedisErrc::HandshakeFailed, "setup refused: " + reply.str);
        return setupStep();
    case Kind::Publish:
        if (reply.type == RedisReply::Type::Error) metrics_->redisPublishErrors.fetch_add(1, std::memory_order_relaxed);
        break;
    case Kind::User: break;
    }
    if (p.cb) p.cb(std::move(reply));
}

// A message, pmessage or subscription confirmation of subscriber mode (true); anything else
// is a reply to a command (false).
bool RedisConnection::onPush(const RedisReply& reply) {
    if (reply.type != RedisReply::Type::Array || reply.elements.empty()) return false;
    const auto& e = reply.elements;
    if (e[0].type != RedisReply::Type::String) return false;
    const std::string_view kind = e[0].str;
    if (kind == "message" && e.size() == 3) {
        if (onMessage_) onMessage_(e[1].str, e[2].str);
    } else if (kind == "pmessage" && e.size() == 4) {
        if (onMessage_) onMessage_(e[2].str, e[3].str);
    } else if (kind == "subscribe" || kind == "psubscribe") {
        setupStep();
    } else if (kind != "unsubscribe" && kind != "punsubscribe") {
        return false;
    }
    return true;
}

// ---------------------------------------------------------------------------------------------
// Subscriptions
// ---------------------------------------------------------------------------------------------

void RedisConnection::subscribe(std::vector<std::string> channels) {
    addSubscriptions("SUBSCRIBE", channels_, std::move(channels));
}

void RedisConnection::psubscribe(std::vector<std::string> patterns) {
    addSubscriptions("PSUBSCRIBE", patterns_, std::move(patterns));
}

void RedisConnection::addSubscriptions(std::string_view verb, std::vector<std::string>& known,
                                       std::vector<std::string> names) {
    PARLEY_ASSERT(state_ != State::Closed, "subscribe after close()");
    subscriber_ = true;
    std::vector<std::string> added;
    for (std::string& name : names)
        if (std::find(known.begin(), known.end(), name) == known.end() &&
            std::find(added.begin(), added.end(), name) == added.end())
            added.push_back(std::move(name));
    if (added.empty()) return;
    known.insert(known.end(), added.begin(), added.end());
    // Not yet connected: the setup of the next connection subscribes to everything known.
    if (state_ != State::Handshaking && state_ != State::Connected) return;
    sendSubscribe(verb, added);
    if (state_ == State::Handshaking) setupLeft_ += added.size();
}

// Subscriptions have no pending entry: Redis answers them with confirmations, not replies.
void RedisConnection::sendSubscribe(std::string_view verb, const std::vector<std::string>& names) {
    if (names.empty()) return;
    std::vector<std::string_view> args;
    args.reserve(names.size() + 1);
    args.push_back(verb);
    args.insert(args.end(), names.begin(), names.end());
    appendCommand(args);
    scheduleFlush();
}

} // namespace parley::cluster
