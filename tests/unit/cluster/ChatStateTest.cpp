#include "cluster/RedisPresence.hpp"
#include "cluster/RedisRateLimit.hpp"
#include "support/ScratchRedis.hpp"

#include <boost/asio/steady_timer.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

// The cluster's chat state (rate limit and presence) with two or three "nodes" (instances, each
// with its connection) on one real redis-server of the test's own, all on one io_context that
// the test runs until what it waits for has happened (with a deadline).

namespace {

using namespace parley;
using namespace std::chrono_literals;
using cluster::RedisConnection;
using cluster::RedisPresence;
using cluster::RedisRateLimit;

// A server of the suite's own: some tests stop and restart it.
test::PrivateRedis* server = nullptr;

class ChatState : public ::testing::Test {
protected:
    static void SetUpTestSuite() { server = new test::PrivateRedis(); }
    static void TearDownTestSuite() {
        delete server;
        server = nullptr;
    }
    void SetUp() override { command({"FLUSHALL"}); }
    void TearDown() override {
        for (auto& c : connections_) c->close();
        io_.run_for(50ms);
    }

    /// A started connection, connected once this returns.
    std::shared_ptr<RedisConnection> connect(const std::function<void(bool)>& onState = {}) {
        cluster::RedisOptions options;
        options.address = *cluster::RedisAddress::parse(server->uri());
        auto c = RedisConnection::create(io_, options);
        if (onState) c->onState(onState);
        c->start();
        connections_.push_back(c);
        EXPECT_TRUE(runUntil([&] { return c->connected(); }));
        io_.poll(); // the state handlers of the connect
        return c;
    }

    /// Runs the io_context until `done` (true) or the deadline (false).
    bool runUntil(const std::function<bool()>& done, std::chrono::milliseconds deadline = 5s) {
        const auto until = std::chrono::steady_clock::now() + deadline;
        io_.restart();
        while (!done()) {
            if (std::chrono::steady_clock::now() > until) return false;
            io_.run_one_for(10ms);
        }
        return true;
    }

    /// A command on a connection of the test's own; its reply.
    cluster::RedisReply command(std::initializer_list<std::string_view> args) {
        if (!admin_) admin_ = connect();
        std::optional<boost::system::result<cluster::RedisReply>> reply;
        admin_->command(args, [&](boost::system::result<cluster::RedisReply> r) { reply = std::move(r); });
        EXPECT_TRUE(runUntil([&] { return reply.has_value(); }));
        return reply && *reply ? **reply : cluster::RedisReply{};
    }

    boost::asio::io_context io_;
    std::vector<std::shared_ptr<RedisConnection>> connections_;
    std::shared_ptr<RedisConnection> admin_;
};

// --- Rate limit ------------------------------------------------------------------------------

class ChatStateRateLimit : public ChatState {
protected:
    std::shared_ptr<RedisRateLimit> node(const std::string& uid, RedisRateLimit::Options options = {}) {
        std::shared_ptr<RedisRateLimit> limit;
        auto c = connect([&limit](bool up) {
            if (limit) limit->onState(up);
        });
        limit = RedisRateLimit::create(io_, c, uid, options);
        limit->onState(c->connected());
        limits_.push_back(limit);
        return limit;
    }
    boost::system::result<RedisRateLimit::Answer> acquire(RedisRateLimit& limit, const std::string& user) {
        std::optional<boost::system::result<RedisRateLimit::Answer>> answer;
        limit.acquire(user, [&](boost::system::result<RedisRateLimit::Answer> a) { answer = a; });
        EXPECT_TRUE(runUntil([&] { return answer.has_value(); }));
        return answer.value_or(boost::system::error_code(boost::asio::error::timed_out));
    }
    void TearDown() override {
        for (auto& l : limits_) l->close();
        ChatState::TearDown();
    }
    std::vector<std::shared_ptr<RedisRateLimit>> limits_;
};

TEST_F(ChatStateRateLimit, TheEleventhSendIsRefusedWhicheverNodeItHits) {
    auto a = node("nodeA");
    auto b = node("nodeB");
    for (int i = 0; i < 10; ++i) {
        auto r = acquire(i % 2 ? *b : *a, "u1");
        ASSERT_TRUE(r) << i;
        EXPECT_TRUE(r->admitted) << i;
        EXPECT_NE(r->ticket, 0u);
    }
    for (auto* n : {a.get(), b.get()}) {
        auto r = acquire(*n, "u1");
        ASSERT_TRUE(r);
        EXPECT_FALSE(r->admitted);
        EXPECT_GT(r->retryAfterMs, 0);
        EXPECT_LE(r->retryAfterMs, 10'000);
    }
    // Another user has a window of their own.
    EXPECT_TRUE(acquire(*b, "u2")->admitted);
    EXPECT_EQ(command({"ZCARD", "parley:rl:u1"}).integer, 10);
    EXPECT_GT(command({"PTTL", "parley:rl:u1"}).integer, 0);
}

TEST_F(ChatStateRateLimit, ARefundGivesTheSlotBackOnAnyNode) {
    auto a = node("nodeA");
    auto b = node("nodeB");
    RedisRateLimit::Answer last;
    for (int i = 0; i < 10; ++i) last = *acquire(*a, "u");
    EXPECT_FALSE(acquire(*b, "u")->admitted);
    a->refund("u", last.ticket);
    // The refund goes out on A's connection: done once Redis shows it.
    ASSERT_TRUE(runUntil([&] { return command({"ZCARD", "parley:rl:u"}).integer == 9; }));
    EXPECT_TRUE(acquire(*b, "u")->admitted);
    EXPECT_FALSE(acquire(*a, "u")->admitted);
}

TEST_F(ChatStateRateLimit, TheWindowSlides) {
    RedisRateLimit::Options options{3, 600, 250ms};
    auto a = node("nodeA", options);
    auto b = node("nodeB", options);
    EXPECT_TRUE(acquire(*a, "u")->admitted);
    const auto first = std::chrono::steady_clock::now();
    // Later than the first by a clear margin: the window frees the first one before these two.
    io_.run_for(200ms);
    EXPECT_TRUE(acquire(*b, "u")->admitted);
    EXPECT_TRUE(acquire(*a, "u")->admitted);
    auto refused = acquire(*b, "u");
    ASSERT_FALSE(refused->admitted);
    EXPECT_LE(refused->retryAfterMs, 600);
    // Once the first send has left the window there is room for one, and only one.
    io_.run_for(std::chrono::milliseconds(refused->retryAfterMs + 20));
    ASSERT_GE(std::chrono::steady_clock::now() - first, 600ms);
    EXPECT_TRUE(acquire(*b, "u")->admitted);
    EXPECT_FALSE(acquire(*a, "u")->admitted);
}

TEST_F(ChatStateRateLimit, ASlowRedisAnswersAnErrorByTheDeadlineAndCountsNothing) {
    auto a = node("nodeA", {10, 10'000, 150ms});
    auto blocker = connect();
    // A script that spins for 600 ms: Redis answers nobody meanwhile.
    blocker->command({"EVAL",
                      "local function ms() local t = redis.call('TIME') return t[1] * 1000 + t[2] / 1000 end "
                      "local s = ms() while ms() - s < 600 do end return 1",
                      "0"},
                     {});
    // The script runs once a PING on a third connection goes unanswered for 50 ms (the blocker's
    // command may reach Redis after a command sent later on another connection).
    auto probe = connect();
    bool busy = false;
    for (int i = 0; i < 20 && !busy; ++i) {
        auto answered = std::make_shared<bool>(false);
        probe->command({"PING"}, [answered](auto) { *answered = true; });
        busy = !runUntil([&] { return *answered; }, 50ms);
    }
    ASSERT_TRUE(busy) << "the blocking script did not start";
    const auto t0 = std::chrono::steady_clock::now();
    auto r = acquire(*a, "u");
    const auto waited = std::chrono::steady_clock::now() - t0;
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), boost::asio::error::timed_out);
    EXPECT_LT(waited, 500ms);
    // The late answer admitted it in Redis; the slot is given back, since the caller counted it.
    EXPECT_TRUE(runUntil([&] { return command({"ZCARD", "parley:rl:u"}).integer == 0; }, 3s));
}

TEST_F(ChatStateRateLimit, RedisDownFailsAtOnceAndThenWorksAgain) {
    auto a = node("nodeA");
    EXPECT_TRUE(acquire(*a, "u")->admitted);
    server->kill();
    EXPECT_TRUE(runUntil([&] { return !a->available(); }));
    const auto t0 = std::chrono::steady_clock::now();
    auto r = acquire(*a, "u");
    EXPECT_FALSE(r);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 100ms);
    server->restart();
    EXPECT_TRUE(runUntil([&] { return a->available(); }, 10s));
    admin_.reset();
    EXPECT_TRUE(acquire(*a, "u")->admitted); // the script is loaded again (a fresh Redis)
}

// --- Presence --------------------------------------------------------------------------------

struct Told {
    std::string node, user;
    RedisPresence::Decision d;
};

class ChatStatePresence : public ChatState {
protected:
    // Ten heartbeats to a node's lifetime: a live node's heartbeats must not lapse on a slow
    // build (ASan), or it sweeps itself and tells its users offline. (With four, one did, in CI.)
    static RedisPresence::Options fast() {
        RedisPresence::Options o;
        o.windowMs = 400;
        o.heartbeatEvery = 100ms;
        o.nodeTtl = 1000ms;
        o.sweepEvery = 100ms;
        return o;
    }
    /// A node whose decisions land in told_, whose checks run when due.
    std::shared_ptr<RedisPresence> node(const std::string& uid, RedisPresence::Options options = fast()) {
        std::shared_ptr<RedisPresence> p;
        auto c = connect([&p](bool up) {
            if (p) p->onState(up);
        });
        p = RedisPresence::create(io_, c, uid, options);
        std::weak_ptr<RedisPresence> weak = p;
        p->onDecision([this, uid, weak](const std::string& user, const RedisPresence::Decision& d) {
            told_.push_back({uid, user, d});
            if (!d.check) return;
            auto timer = std::make_shared<boost::asio::steady_timer>(io_, std::chrono::milliseconds(d.checkInMs));
            timer->async_wait([timer, weak, user](boost::system::error_code ec) {
                if (auto node = weak.lock(); node && !ec) node->timer(user);
            });
        });
        p->onState(c->connected());
        p->start();
        nodes_.push_back(p);
        connectionOf_[p.get()] = c;
        return p;
    }
    /// A change on `node`, done in Redis when this returns (a PING behind it on its connection
    /// has been answered): changes on different connections are applied in the test's order.
    void step(const std::shared_ptr<RedisPresence>& node, const std::string& user, int delta) {
        node->change(user, delta);
        bool answered = false;
        connectionOf_.at(node.get())->command({"PING"}, [&](boost::system::result<cluster::RedisReply>) {
            answered = true;
        });
        ASSERT_TRUE(runUntil([&] { return answered; }));
    }
    /// The broadcasts told so far, as "node:user:online|offline".
    std::vector<std::string> broadcasts() const {
        std::vector<std::string> out;
        for (const auto& t : told_)
            if (!t.d.check) out.push_back(t.node + ":" + t.user + ":" + (t.d.online ? "online" : "offline"));
        return out;
    }
    void settle(std::chrono::milliseconds d) {
        io_.restart();
        io_.run_for(d);
    }
    void TearDown() override {
        for (auto& n : nodes_) n->close();
        ChatState::TearDown();
    }
    std::vector<std::shared_ptr<RedisPresence>> nodes_;
    std::map<RedisPresence*, std::shared_ptr<RedisConnection>> connectionOf_;
    std::vector<Told> told_;
};

TEST_F(ChatStatePresence, OnlineWhileAnySocketOnAnyNodeIsConnected) {
    auto a = node("nodeA");
    auto b = node("nodeB");
    step(a, "u", +1);
    ASSERT_TRUE(runUntil([&] { return broadcasts().size() == 1; }));
    EXPECT_EQ(broadcasts()[0], "nodeA:u:online");
    step(b, "u", +1);
    settle(600ms); // past the window: a change would now be told at once
    step(a, "u", -1);
    settle(200ms);
    EXPECT_EQ(broadcasts().size(), 1u) << "offline while a socket on B is connected";
    step(b, "u", -1);
    ASSERT_TRUE(runUntil([&] { return broadcasts().size() == 2; }));
    EXPECT_EQ(broadcasts()[1], "nodeB:u:offline");
    EXPECT_EQ(command({"HGET", "parley:presence:u", "total"}).str, "0");
}

TEST_F(ChatStatePresence, OneLeadingAndExactlyOneTrailingUpdateAcrossNodes) {
    auto a = node("nodeA");
    auto b = node("nodeB");
    step(a, "u", +1); // leading: online
    step(b, "u", +1);
    step(a, "u", -1);
    step(b, "u", -1); // offline inside the window: one node holds the trailing check
    step(a, "u", +1);
    step(b, "u", +1);
    step(b, "u", -1);
    step(a, "u", -1); // final: offline
    ASSERT_TRUE(runUntil([&] { return broadcasts().size() == 2; }, 3s));
    settle(900ms); // two more windows: nothing else may come
    const auto sent = broadcasts();
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_EQ(sent[0], "nodeA:u:online");
    EXPECT_EQ(sent[1], "nodeB:u:offline"); // the holder: the node whose change came inside the window
    int checks = 0;
    for (const auto& t : told_) checks += t.d.check ? 1 : 0;
    EXPECT_EQ(checks, 1);
}

TEST_F(ChatStatePresence, FlappingThatEndsInTheStateToldSendsNoTrailingUpdate) {
    auto a = node("nodeA");
    auto b = node("nodeB");
    step(a, "u", +1);
    step(a, "u", -1);
    step(b, "u", +1); // back online, on another node
    settle(900ms);
    EXPECT_EQ(broadcasts(), std::vector<std::string>{"nodeA:u:online"});
}

TEST_F(ChatStatePresence, ADeadNodesUsersGoOfflineThroughAnotherNodesSweepExactlyOnce) {
    auto a = node("nodeA");
    auto b = node("nodeB");
    auto c = node("nodeC");
    step(a, "u", +1);
    step(a, "v", +1);
    step(b, "v", +1); // v stays online on B
    ASSERT_TRUE(runUntil([&] { return broadcasts().size() == 2; }));
    settle(500ms);
    a->close(); // its heartbeat lapses: nodeTtl later it is dead
    ASSERT_TRUE(runUntil([&] { return broadcasts().size() == 3; }, 3s));
    settle(600ms);
    const auto sent = broadcasts();
    ASSERT_EQ(sent.size(), 3u);
    EXPECT_TRUE(sent[2] == "nodeB:u:offline" || sent[2] == "nodeC:u:offline") << sent[2];
    EXPECT_EQ(command({"EXISTS", "parley:node:nodeA:users"}).integer, 0);
    EXPECT_EQ(command({"SISMEMBER", "parley:nodes", "nodeA"}).integer, 0);
}

TEST_F(ChatStatePresence, ANodeDeclaredDeadWhileAliveRegistersItsSocketsAgain) {
    auto a = node("nodeA");
    step(a, "u", +1);
    ASSERT_TRUE(runUntil([&] { return broadcasts().size() == 1; }));
    const auto before = a->reregistrations();
    command({"FLUSHALL"}); // as a Redis that lost everything
    ASSERT_TRUE(runUntil([&] { return a->reregistrations() > before; }));
    ASSERT_TRUE(runUntil([&] { return command({"HGET", "parley:presence:u", "n:nodeA"}).str == "1"; }));
    // Redis knew nothing any more: the user is told online again, once.
    ASSERT_TRUE(runUntil([&] { return broadcasts().size() == 2; }));
    EXPECT_EQ(broadcasts()[1], "nodeA:u:online");
}

TEST_F(ChatStatePresence, RedisAwayAnswersFalseAndTheNodeResyncsWhenBack) {
    auto a = node("nodeA");
    step(a, "u", +1);
    ASSERT_TRUE(runUntil([&] { return broadcasts().size() == 1; }));
    server->kill();
    ASSERT_TRUE(runUntil([&] { return !a->available(); }));
    EXPECT_FALSE(a->change("w", +1)); // the caller decides alone
    server->restart();
    admin_.reset();
    ASSERT_TRUE(runUntil([&] { return a->available(); }, 10s));
    ASSERT_TRUE(runUntil([&] { return command({"HGET", "parley:presence:w", "n:nodeA"}).str == "1"; }));
    EXPECT_EQ(command({"HGET", "parley:presence:u", "n:nodeA"}).str, "1");
}

} // namespace
