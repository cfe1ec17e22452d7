#pragma once

#include "cluster/RedisErrc.hpp"
#include "cluster/RedisMetrics.hpp"
#include "cluster/RedisReply.hpp"
#include "cluster/RedisReplyReader.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <initializer_list>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace parley::cluster {

/// redis://[[user]:password@]host[:port][/db]  (port 6379, db 0 by default). Plain TCP only:
/// no rediss://. User and password may be percent-encoded.
struct RedisAddress {
    std::string host;
    std::uint16_t port = 6379;
    unsigned db = 0;
    std::string user, password;

    /// RedisErrc::BadAddress when `uri` is not of the form above (another scheme, no host, a
    /// port outside 1-65535, a db that is not a number, a path or query beyond the db).
    static boost::system::result<RedisAddress> parse(std::string_view uri);
    /// The URI back, for logs: the password shown as "***".
    std::string describe() const;
};

struct RedisOptions {
    RedisAddress address;
    /// CLIENT SETNAME and logs, e.g. "parley-pub-<uid>"; empty: no SETNAME. Redis refuses
    /// names with spaces, which fails the handshake.
    std::string name;
    /// Connect, AUTH, SELECT, SETNAME and resubscription together must take less than this.
    std::chrono::milliseconds connectTimeout{2000};
    /// A command not answered by then completes with RedisErrc::Timeout, and so does every
    /// command behind it: the connection is then reset (a server that stalls one reply stalls
    /// them all, they are answered in order).
    std::chrono::milliseconds commandTimeout{3000};
    /// Backoff between connection attempts: doubling from reconnectMin up to reconnectMax, each
    /// delay drawn between half and all of it (so that nodes do not reconnect in step), forever
    /// until close().
    std::chrono::milliseconds reconnectMin{100}, reconnectMax{2000};
    /// Commands queued or in flight at most; beyond, command() fails at once (TooManyPending).
    std::size_t maxPending = 100000;
    /// Where the connection counts; shared by connections, on any threads. Null: a counter set
    /// of the connection's own (see RedisConnection::metrics()). Must outlive the connection.
    RedisMetrics* metrics = nullptr;
};

/// One Redis connection, owned by one io_context: every method must be called on that
/// context's thread and every callback runs there. Connects on start(), reconnects by itself.
///
/// I/O is Asio's (resolve, connect, reads and writes are all asynchronous); hiredis serves only
/// to format commands and parse replies. Commands issued during one handler go out in one
/// write; replies are matched to commands in order.
class RedisConnection : public std::enable_shared_from_this<RedisConnection> {
public:
    /// A reply, or why there is none: RedisErrc::NotConnected, TooManyPending, Timeout,
    /// ConnectionLost (ProtocolError, ReplyTooLarge: the connection broke), or
    /// asio::error::operation_aborted after close(). An error reply of the server is a reply:
    /// Type::Error.
    using Callback = std::function<void(boost::system::result<RedisReply>)>;
    using MessageHandler = std::function<void(std::string_view channel, std::string_view payload)>;
    using StateHandler = std::function<void(bool connected)>;

    static std::shared_ptr<RedisConnection> create(boost::asio::io_context& ctx, RedisOptions options);
    ~RedisConnection();
    RedisConnection(const RedisConnection&) = delete;
    RedisConnection& operator=(const RedisConnection&) = delete;

    /// Starts connecting (once; the connection then retries by itself until close()).
    void start();
    /// Cancels everything: callbacks of pending commands get operation_aborted (posted, never
    /// run inside close()); no state change or message is reported afterwards. Final.
    void close();
    /// Connected and set up: AUTH, SELECT, SETNAME and (re)subscriptions answered.
    bool connected() const noexcept;
    /// true once set up after every (re)connect; false when an established connection is lost.
    void onState(StateHandler h);

    /// Pipelined command (binary-safe args). When not connected: fails at once (never queues
    /// behind a reconnect: callers decide whether to drop or retry). The callback may be empty
    /// (fire and forget). A failure found here is posted, never run inside command().
    void command(std::span<const std::string_view> args, Callback cb);
    void command(std::initializer_list<std::string_view> args, Callback cb);
    /// PUBLISH channel payload, counted in RedisMetrics::redisPublishErrors when it fails or
    /// gets an error reply.
    void publish(std::string_view channel, std::string_view payload, Callback cb = {});

    /// Subscriber mode: the connection remembers channels/patterns and re-issues them after every
    /// reconnect, before reporting connected. Messages (and pmessages, with the real channel) go to
    /// `handler`. A connection used for subscribe must not be used for command().
    void subscribe(std::vector<std::string> channels);
    void psubscribe(std::vector<std::string> patterns);
    void onMessage(MessageHandler handler);

    /// The counters this connection adds to (RedisOptions::metrics, or its own).
    const RedisMetrics& metrics() const noexcept { return *metrics_; }

private:
    using Clock = std::chrono::steady_clock;
    using Epoch = std::uint64_t;

    enum class State { Idle, Connecting, Handshaking, Connected, Backoff, Closed };
    enum class WriteState { Idle, FlushPosted, Writing };
    enum class Kind : std::uint8_t { User, Publish, Setup };
    struct Pending {
        Callback cb;
        Clock::time_point deadline;
        Kind kind;
    };

    RedisConnection(boost::asio::io_context& ctx, RedisOptions options);

    void connect();
    void onResolved(Epoch epoch, boost::system::error_code ec,
                    const boost::asio::ip::tcp::resolver::results_type& endpoints);
    void onConnected(Epoch epoch, boost::system::error_code ec);
    void sendSetup();
    void setupStep();
    void ready();
    void armConnectTimer(std::chrono::milliseconds delay);
    void onConnectTimer(Epoch epoch, boost::system::error_code ec);
    void reset(boost::system::error_code ec, std::string_view why);
    std::chrono::milliseconds nextBackoff();

    void enqueue(std::span<const std::string_view> args, Kind kind, Callback cb);
    void appendCommand(std::span<const std::string_view> args);
    void failSoon(Callback cb, boost::system::error_code ec, Kind kind);
    void failAll(std::deque<Pending> pending, boost::system::error_code ec, bool posted);
    void scheduleFlush();
    void flush();
    void onWritten(Epoch epoch, boost::system::error_code ec);
    void armCommandTimer();
    void onCommandTimer(Epoch epoch, boost::system::error_code ec);

    void read();
    void onRead(Epoch epoch, boost::system::error_code ec, std::size_t bytes);
    void onReply(RedisReply& reply);
    bool onPush(const RedisReply& reply);
    void sendSubscribe(std::string_view verb, const std::vector<std::string>& names);
    void addSubscriptions(std::string_view verb, std::vector<std::string>& known, std::vector<std::string> names);

    boost::asio::io_context& ctx_;
    RedisOptions options_;
    boost::asio::ip::tcp::socket socket_;
    boost::asio::ip::tcp::resolver resolver_;
    boost::asio::steady_timer connectTimer_;                      // connect + setup deadline, then the backoff delay
    boost::asio::steady_timer commandTimer_;                      // the oldest pending command's deadline
    Clock::time_point commandTimerAt_ = Clock::time_point::max(); // max: not armed

    State state_ = State::Idle;
    WriteState writeState_ = WriteState::Idle;
    // Bumped whenever a connection is dropped: completions carry the epoch they were started
    // in and are ignored when it is gone, so nothing of a dead connection touches its successor.
    Epoch epoch_ = 0;
    unsigned attempt_ = 0;      // connection attempts failed in a row (the backoff's exponent)
    std::size_t setupLeft_ = 0; // setup replies and subscribe confirmations still awaited

    std::deque<Pending> pending_; // written or queued, in the order their replies will come
    std::string queued_;          // formatted commands not yet written
    std::string writing_;         // the write in flight
    std::vector<char> readBuffer_;
    RedisReplyReader reader_;
    RedisReply reply_; // reused for every reply read

    bool subscriber_ = false;
    std::vector<std::string> channels_, patterns_;
    MessageHandler onMessage_;
    StateHandler onState_;

    RedisMetrics ownMetrics_;
    RedisMetrics* metrics_;
    std::minstd_rand random_;
};

} // namespace parley::cluster
