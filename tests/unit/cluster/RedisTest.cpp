#include "cluster/Redis.hpp"

#include "support/ScratchRedis.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unistd.h>
#include <vector>

// cluster::RedisConnection against a real redis-server: the run's shared one (fixture `redis`)
// for commands and pub/sub, a server of the test's own for restarts, and a TCP acceptor in the
// test for servers that never answer or answer garbage. Everything runs on the test's thread:
// the test drives the io_context until what it waits for happened, or a deadline passed.

namespace {

using namespace std::chrono_literals;
using namespace parley::cluster;
namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using Result = boost::system::result<RedisReply>;
using Type = RedisReply::Type;

constexpr auto kDeadline = 5s;

class RedisTest : public ::testing::Test {
protected:
    /// Runs the io_context until pred() holds; false if `timeout` passed first.
    bool runUntil(const std::function<bool()>& pred, std::chrono::milliseconds timeout = kDeadline) {
        const auto end = Clock::now() + timeout;
        while (!pred()) {
            if (Clock::now() >= end) return false;
            ctx_.run_one_for(10ms);
        }
        return true;
    }

    /// Runs the io_context for `duration` whatever happens.
    void runFor(std::chrono::milliseconds duration) {
        const auto end = Clock::now() + duration;
        while (Clock::now() < end) ctx_.run_one_until(end);
    }

    RedisOptions options(const std::string& uri) {
        RedisOptions o;
        o.address = RedisAddress::parse(uri).value();
        o.name = "parley-test-" + std::to_string(getpid());
        return o;
    }

    /// A started connection that reported itself connected.
    std::shared_ptr<RedisConnection> connect(RedisOptions o) {
        auto conn = RedisConnection::create(ctx_, std::move(o));
        conns_.push_back(conn);
        conn->start();
        EXPECT_TRUE(runUntil([&] { return conn->connected(); })) << "not connected";
        return conn;
    }

    /// The reply (or error) of one command.
    Result call(RedisConnection& conn, std::initializer_list<std::string_view> args) {
        std::optional<Result> out;
        conn.command(args, [&](Result r) { out = std::move(r); });
        EXPECT_TRUE(runUntil([&] { return out.has_value(); })) << "no reply";
        return out ? std::move(*out) : Result(RedisErrc::Timeout);
    }

    /// A key (or channel) of this run of this test alone on the shared server: tests repeat
    /// (--gtest_repeat) and run in parallel on one server.
    std::string key(std::string_view suffix) const {
        return std::string("test:") + ::testing::UnitTest::GetInstance()->current_test_info()->name() + ":" +
               std::to_string(getpid()) + ":" + std::to_string(nonce_) + ":" + std::string(suffix);
    }

    ~RedisTest() override {
        for (auto& c : conns_) c->close();
        ctx_.restart();
        ctx_.poll();
    }

    const long long nonce_ = Clock::now().time_since_epoch().count();
    asio::io_context ctx_;
    asio::executor_work_guard<asio::io_context::executor_type> work_{ctx_.get_executor()};
    std::vector<std::shared_ptr<RedisConnection>> conns_;
};

// ---------------------------------------------------------------------------------------------
// Addresses
// ---------------------------------------------------------------------------------------------

TEST(RedisAddressTest, ParsesHostPortDbAndCredentials) {
    auto a = RedisAddress::parse("redis://localhost").value();
    EXPECT_EQ(a.host, "localhost");
    EXPECT_EQ(a.port, 6379);
    EXPECT_EQ(a.db, 0U);
    EXPECT_TRUE(a.user.empty());
    EXPECT_TRUE(a.password.empty());

    a = RedisAddress::parse("redis://127.0.0.1:6380/2").value();
    EXPECT_EQ(a.host, "127.0.0.1");
    EXPECT_EQ(a.port, 6380);
    EXPECT_EQ(a.db, 2U);

    a = RedisAddress::parse("redis://:s3cret@cache.internal:65535/").value();
    EXPECT_EQ(a.host, "cache.internal");
    EXPECT_EQ(a.port, 65535);
    EXPECT_TRUE(a.user.empty());
    EXPECT_EQ(a.password, "s3cret");

    a = RedisAddress::parse("REDIS://alice:p%40ss%3Aword@[::1]:7000/15").value();
    EXPECT_EQ(a.host, "::1");
    EXPECT_EQ(a.port, 7000);
    EXPECT_EQ(a.db, 15U);
    EXPECT_EQ(a.user, "alice");
    EXPECT_EQ(a.password, "p@ss:word");
}

TEST(RedisAddressTest, RefusesWhatIsNotARedisUri) {
    for (const char* bad :
         {"", "localhost:6379", "http://localhost", "rediss://localhost", "redis://", "redis://:pw@", "redis://h:0",
          "redis://h:65536", "redis://h:99999999999", "redis://h:-1", "redis://h:6x", "redis://h/x", "redis://h/1/2",
          "redis://h/-1", "redis://h/99999999999", "redis://h?db=1", "redis://h#frag"}) {
        auto parsed = RedisAddress::parse(bad);
        ASSERT_FALSE(parsed) << bad;
        EXPECT_EQ(parsed.error(), RedisErrc::BadAddress) << bad;
    }
}

TEST(RedisAddressTest, DescribeMasksThePassword) {
    EXPECT_EQ(RedisAddress::parse("redis://alice:hunter2@h:1/3").value().describe(), "redis://alice:***@h:1/3");
    EXPECT_EQ(RedisAddress::parse("redis://:hunter2@h").value().describe(), "redis://:***@h:6379/0");
    EXPECT_EQ(RedisAddress::parse("redis://h").value().describe(), "redis://h:6379/0");
    EXPECT_EQ(RedisAddress::parse("redis://[::1]:5").value().describe(), "redis://[::1]:5/0");
}

// ---------------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------------

TEST_F(RedisTest, SetAndGetAreBinarySafe) {
    auto conn = connect(options(parley::test::scratchRedisUri()));
    const std::string k = key("bin");
    const std::string value("a\0b\r\n\xff\0", 7);
    auto set = call(*conn, {"SET", k, value});
    ASSERT_TRUE(set);
    EXPECT_EQ(set->type, Type::Status);
    EXPECT_EQ(set->str, "OK");
    auto get = call(*conn, {"GET", k});
    ASSERT_TRUE(get);
    EXPECT_EQ(get->type, Type::String);
    EXPECT_EQ(get->str, value);

    // A key with a NUL in it, and a value of 1 MiB covering every byte value.
    const std::string bigKey = key(std::string("big\0key", 7));
    std::string big(1 << 20, '\0');
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7919 % 256);
    ASSERT_TRUE(call(*conn, {"SET", bigKey, big}));
    auto bigGet = call(*conn, {"GET", bigKey});
    ASSERT_TRUE(bigGet);
    EXPECT_EQ(bigGet->str.size(), big.size());
    EXPECT_TRUE(bigGet->str == big);
}

TEST_F(RedisTest, RepliesCarryTheirTypes) {
    auto conn = connect(options(parley::test::scratchRedisUri()));
    const std::string counter = key("counter");
    auto incr = call(*conn, {"INCR", counter});
    ASSERT_TRUE(incr);
    EXPECT_EQ(incr->type, Type::Integer);
    EXPECT_EQ(incr->integer, 1);

    auto nil = call(*conn, {"GET", key("missing")});
    ASSERT_TRUE(nil);
    EXPECT_EQ(nil->type, Type::Nil);

    // An error reply is a reply, not a failure.
    auto error = call(*conn, {"NOSUCHCOMMAND", "x"});
    ASSERT_TRUE(error);
    EXPECT_EQ(error->type, Type::Error);
    EXPECT_NE(error->str.find("ERR"), std::string::npos);

    const std::string list = key("list");
    ASSERT_TRUE(call(*conn, {"RPUSH", list, "one", "", std::string_view("t\0o", 3)}));
    auto range = call(*conn, {"LRANGE", list, "0", "-1"});
    ASSERT_TRUE(range);
    ASSERT_EQ(range->type, Type::Array);
    ASSERT_EQ(range->elements.size(), 3U);
    EXPECT_EQ(range->elements[0].str, "one");
    EXPECT_EQ(range->elements[1].str, "");
    EXPECT_EQ(range->elements[2].str, std::string("t\0o", 3));
    EXPECT_EQ(range->elements[2].type, Type::String);
}

TEST_F(RedisTest, TenThousandPipelinedCommandsCompleteInOrder) {
    auto conn = connect(options(parley::test::scratchRedisUri()));
    const std::string counter = key("pipelined");
    constexpr int kCount = 10000;
    std::vector<long long> seen;
    seen.reserve(kCount);
    const auto start = Clock::now();
    // All issued from one handler: they go out together and come back in order.
    for (int i = 0; i < kCount; ++i)
        conn->command({"INCR", counter},
                      [&](Result r) { seen.push_back(r && r->type == Type::Integer ? r->integer : -1); });
    ASSERT_TRUE(runUntil([&] { return seen.size() == kCount; }));
    const auto took = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
    for (int i = 0; i < kCount; ++i) ASSERT_EQ(seen[i], i + 1) << "reply " << i;
    std::printf("10000 pipelined INCR: %lld us\n", static_cast<long long>(took.count()));
}

TEST_F(RedisTest, BeyondMaxPendingACommandFailsAtOnce) {
    auto o = options(parley::test::scratchRedisUri());
    o.maxPending = 10;
    auto conn = connect(std::move(o));
    int ok = 0;
    std::optional<Result> refused;
    for (int i = 0; i < 10; ++i) conn->command({"PING"}, [&](Result r) { ok += r ? 1 : 0; });
    conn->command({"PING"}, [&](Result r) { refused = std::move(r); });
    ASSERT_TRUE(runUntil([&] { return ok == 10 && refused.has_value(); }));
    ASSERT_FALSE(*refused);
    EXPECT_EQ(refused->error(), RedisErrc::TooManyPending);
    EXPECT_EQ(conn->metrics().redisCommandsFailed.load(), 1U);
}

// ---------------------------------------------------------------------------------------------
// Pub/sub
// ---------------------------------------------------------------------------------------------

struct Message {
    std::string channel, payload;
};

TEST_F(RedisTest, SubscribeAndPsubscribeDeliverMessagesWithTheirRealChannel) {
    const std::string uri = parley::test::scratchRedisUri();
    const std::string exact = key("exact");
    const std::string prefix = key("room") + "#";
    auto sub = RedisConnection::create(ctx_, options(uri));
    conns_.push_back(sub);
    std::vector<Message> got;
    sub->onMessage([&](std::string_view ch, std::string_view payload) {
        got.push_back({std::string(ch), std::string(payload)});
    });
    sub->subscribe({exact});
    sub->psubscribe({prefix + "*"});
    sub->start();
    ASSERT_TRUE(runUntil([&] { return sub->connected(); }));
    auto pub = connect(options(uri));

    const std::string binary("\0\x01\xff\r\n$3\r\n", 10);
    std::optional<Result> receivers;
    pub->publish(exact, binary, [&](Result r) { receivers = std::move(r); });
    pub->publish(prefix + "42", "to the room");
    ASSERT_TRUE(runUntil([&] { return got.size() == 2; }));
    ASSERT_TRUE(receivers && *receivers);
    EXPECT_EQ((*receivers)->integer, 1); // this test's subscriber only
    EXPECT_EQ(got[0].channel, exact);
    EXPECT_EQ(got[0].payload, binary);
    EXPECT_EQ(got[1].channel, prefix + "42");
    EXPECT_EQ(got[1].payload, "to the room");

    // A channel added while connected is subscribed at once.
    const std::string later = key("later");
    sub->subscribe({later});
    auto numsub = [&] {
        auto r = call(*pub, {"PUBSUB", "NUMSUB", later});
        return r && r->elements.size() == 2 ? r->elements[1].integer : -1;
    };
    ASSERT_TRUE(runUntil([&] { return numsub() == 1; }));
    pub->publish(later, std::string(100000, 'z'));
    ASSERT_TRUE(runUntil([&] { return got.size() == 3; }));
    EXPECT_EQ(got[2].channel, later);
    EXPECT_EQ(got[2].payload, std::string(100000, 'z'));
}

TEST_F(RedisTest, AHandlerMayCloseItsConnection) {
    const std::string uri = parley::test::scratchRedisUri();
    const std::string channel = key("closing");
    auto sub = RedisConnection::create(ctx_, options(uri));
    conns_.push_back(sub);
    int messages = 0;
    int states = 0;
    // Both handlers hold the connection, as an owner's handlers would (a cycle close() breaks).
    sub->onMessage([&, sub](std::string_view, std::string_view) {
        ++messages;
        sub->close();
    });
    sub->onState([&, sub](bool) { ++states; });
    sub->subscribe({channel});
    sub->start();
    ASSERT_TRUE(runUntil([&] { return sub->connected(); }));
    auto pub = connect(options(uri));
    auto closer = connect(options(uri));
    closer->onState([closer](bool) { closer->close(); });
    pub->publish(channel, "one");
    pub->publish(channel, "two");
    ASSERT_TRUE(runUntil([&] { return messages == 1 && !sub->connected(); }));
    runFor(100ms);
    EXPECT_EQ(messages, 1);
    EXPECT_EQ(states, 1);
    EXPECT_EQ(sub.use_count(), 2); // conns_ and this test: the handlers were let go
}

// ---------------------------------------------------------------------------------------------
// Outages
// ---------------------------------------------------------------------------------------------

TEST_F(RedisTest, ARestartedServerIsReconnectedAndResubscribedBeforeConnectedIsReported) {
    parley::test::PrivateRedis redis;
    auto o = options(redis.uri());
    o.reconnectMin = 20ms;
    o.reconnectMax = 200ms;
    std::vector<bool> subStates, pubStates;
    std::vector<Message> got;
    auto sub = RedisConnection::create(ctx_, o);
    conns_.push_back(sub);
    sub->onState([&](bool up) { subStates.push_back(up); });
    sub->onMessage([&](std::string_view ch, std::string_view p) { got.push_back({std::string(ch), std::string(p)}); });
    sub->subscribe({"news"});
    sub->psubscribe({"room#*"});
    sub->start();
    auto pub = connect(o);
    pub->onState([&](bool up) { pubStates.push_back(up); });
    ASSERT_TRUE(runUntil([&] { return sub->connected(); }));

    // A clean restart: both connections see the loss, then report connected again.
    redis.restart();
    ASSERT_TRUE(runUntil([&] { return subStates.size() >= 3 && pubStates.size() >= 2; }));
    EXPECT_EQ(subStates, (std::vector<bool>{true, false, true}));
    EXPECT_EQ(pubStates, (std::vector<bool>{false, true}));
    // Connected means resubscribed: a message published now reaches the subscriber.
    pub->publish("news", "after restart");
    pub->publish("room#7", "pattern after restart");
    ASSERT_TRUE(runUntil([&] { return got.size() == 2; }));
    EXPECT_EQ(got[0].payload, "after restart");
    EXPECT_EQ(got[1].channel, "room#7");

    // A crash: during the outage commands fail at once, far within the command timeout.
    redis.kill();
    ASSERT_TRUE(runUntil([&] { return !pub->connected() && !sub->connected(); }));
    const auto before = Clock::now();
    std::optional<Result> failed;
    pub->command({"PING"}, [&](Result r) { failed = std::move(r); });
    ASSERT_TRUE(runUntil([&] { return failed.has_value(); }));
    EXPECT_LT(Clock::now() - before, 100ms);
    ASSERT_FALSE(*failed);
    EXPECT_EQ(failed->error(), RedisErrc::NotConnected);
    pub->publish("news", "lost");
    EXPECT_EQ(pub->metrics().redisPublishErrors.load(), 1U);

    redis.restart();
    ASSERT_TRUE(runUntil([&] { return pub->connected() && sub->connected(); }));
    pub->publish("news", "after crash");
    ASSERT_TRUE(runUntil([&] { return got.size() == 3; }));
    EXPECT_EQ(got[2].payload, "after crash");
    EXPECT_GE(pub->metrics().redisReconnects.load(), 2U);
}

// A TCP server in the test: accepts every connection and keeps it; sends `greeting` on each.
class FakeServer {
public:
    FakeServer(asio::io_context& ctx, std::string greeting)
        : acceptor_(ctx, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)), greeting_(std::move(greeting)) {
        accept();
    }
    std::string uri() const { return "redis://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()); }
    std::size_t accepted() const { return sockets_.size(); }

private:
    void accept() {
        acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket s) {
            if (ec) return;
            sockets_.push_back(std::make_unique<tcp::socket>(std::move(s)));
            if (!greeting_.empty()) asio::async_write(*sockets_.back(), asio::buffer(greeting_), [](auto, auto) {});
            accept();
        });
    }
    tcp::acceptor acceptor_;
    std::string greeting_;
    std::vector<std::unique_ptr<tcp::socket>> sockets_;
};

TEST_F(RedisTest, ACommandASilentServerNeverAnswersTimesOutAndTheConnectionIsReset) {
    FakeServer silent(ctx_, "");
    auto o = options(silent.uri());
    o.name.clear(); // no setup to answer: connected once TCP is
    o.commandTimeout = 300ms;
    o.reconnectMin = 20ms;
    auto conn = connect(o);
    const auto before = Clock::now();
    std::optional<Result> out;
    conn->command({"PING"}, [&](Result r) { out = std::move(r); });
    ASSERT_TRUE(runUntil([&] { return out.has_value(); }));
    const auto took = Clock::now() - before;
    ASSERT_FALSE(*out);
    EXPECT_EQ(out->error(), RedisErrc::Timeout);
    EXPECT_GE(took, 300ms);
    EXPECT_LT(took, 1500ms);
    // Reset, then connected again on a new TCP connection.
    ASSERT_TRUE(runUntil([&] { return silent.accepted() == 2 && conn->connected(); }));
}

TEST_F(RedisTest, ASilentServerFailsTheSetupWithinTheConnectTimeout) {
    FakeServer silent(ctx_, "");
    auto o = options(silent.uri()); // with a name: CLIENT SETNAME is never answered
    o.connectTimeout = 200ms;
    o.reconnectMin = 20ms;
    o.reconnectMax = 40ms;
    auto conn = RedisConnection::create(ctx_, o);
    conns_.push_back(conn);
    std::vector<bool> states;
    conn->onState([&](bool up) { states.push_back(up); });
    conn->start();
    ASSERT_TRUE(runUntil([&] { return silent.accepted() >= 3; }));
    EXPECT_FALSE(conn->connected());
    EXPECT_TRUE(states.empty());
}

TEST_F(RedisTest, AClosedPortIsRetriedWithBackoffNotInABusyLoop) {
    std::uint16_t port = 0;
    {
        tcp::acceptor probe(ctx_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
        port = probe.local_endpoint().port();
    }
    auto o = options("redis://127.0.0.1:" + std::to_string(port));
    o.reconnectMin = 50ms;
    o.reconnectMax = 200ms;
    auto conn = RedisConnection::create(ctx_, o);
    conns_.push_back(conn);
    std::vector<bool> states;
    conn->onState([&](bool up) { states.push_back(up); });
    conn->start();
    runFor(1000ms);
    EXPECT_FALSE(conn->connected());
    EXPECT_TRUE(states.empty());
    // Delays 25-50, 50-100, 100-200, then 100-200 ms each: about 6 to 11 attempts in a second.
    const auto attempts = conn->metrics().redisReconnects.load();
    EXPECT_GE(attempts, 4U);
    EXPECT_LE(attempts, 15U);
    std::optional<Result> out;
    conn->command({"PING"}, [&](Result r) { out = std::move(r); });
    ASSERT_TRUE(runUntil([&] { return out.has_value(); }));
    EXPECT_EQ(out->error(), RedisErrc::NotConnected);
}

TEST_F(RedisTest, GarbageFromTheServerResetsTheConnectionAndItReconnects) {
    FakeServer junk(ctx_, "?junk\r\n");
    auto o = options(junk.uri());
    o.name.clear();
    o.reconnectMin = 20ms;
    o.reconnectMax = 40ms;
    auto conn = RedisConnection::create(ctx_, o);
    conns_.push_back(conn);
    std::vector<bool> states;
    conn->onState([&](bool up) { states.push_back(up); });
    conn->start();
    ASSERT_TRUE(runUntil([&] { return junk.accepted() >= 3 && states.size() >= 4; }));
    for (std::size_t i = 0; i < states.size(); ++i) EXPECT_EQ(states[i], i % 2 == 0) << i;
}

TEST_F(RedisTest, CloseCompletesEveryPendingCommandExactlyOnceWithAnError) {
    auto conn = connect(options(parley::test::scratchRedisUri()));
    const std::string list = key("blocked");
    constexpr int kCount = 200;
    std::vector<int> calls(kCount, 0);
    std::vector<boost::system::error_code> errors(kCount);
    // The first command blocks the connection on the server for 2 s: everything behind it is
    // in flight when close() comes.
    conn->command({"BLPOP", list, "2"}, [&](Result r) {
        ++calls[0];
        if (!r) errors[0] = r.error();
    });
    for (int i = 1; i < kCount; ++i)
        conn->command({"INCR", key("n")}, [&, i](Result r) {
            ++calls[i];
            if (!r) errors[i] = r.error();
        });
    runFor(200ms);
    conn->close();
    // Nothing runs inside close().
    EXPECT_EQ(std::count(calls.begin(), calls.end(), 0), kCount);
    std::optional<Result> afterClose;
    conn->command({"PING"}, [&](Result r) { afterClose = std::move(r); });
    runFor(300ms);
    for (int i = 0; i < kCount; ++i) {
        EXPECT_EQ(calls[i], 1) << i;
        EXPECT_EQ(errors[i], asio::error::operation_aborted) << i;
    }
    ASSERT_TRUE(afterClose.has_value());
    EXPECT_EQ(afterClose->error(), RedisErrc::NotConnected);
    EXPECT_FALSE(conn->connected());
}

} // namespace
