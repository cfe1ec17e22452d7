#include "cluster/PollingForwarder.hpp"
#include "cluster/ForwardMessages.hpp"
#include "cluster/Redis.hpp"
#include "core/Uuid.hpp"

#include "support/Mailbox.hpp"
#include "support/ScratchRedis.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <variant>

// The forward messages as pure functions, and cluster::PollingForwarder on the run's real
// redis-server: a node (io thread, bus, Engine.IO server, forwarder) against a fake peer, two
// plain Redis connections of the test that play the other node's part byte for byte.

namespace {

using namespace std::chrono_literals;
using namespace parley;
using namespace parley::cluster;
namespace http = boost::beast::http;
using testsupport::Mailbox;

// --- The messages ------------------------------------------------------------------------------

net::Request pollPost() {
    net::Request req{http::verb::post, "/socket.io/?EIO=4&transport=polling&sid=abcABC", 11};
    req.set(http::field::origin, "https://chat.example");
    req.set(http::field::content_type, "text/plain;charset=UTF-8");
    req.set(http::field::cookie, "not forwarded");
    req.body() = "4hello\x1e"
                 "40";
    return req;
}

TEST(ForwardMessages, RequestRoundTrips) {
    const std::string bytes = forward::encodeRequest("NODE01", 42, pollPost(), "10.0.0.7");
    auto message = forward::decode(bytes);
    auto* m = std::get_if<forward::RequestMessage>(&message);
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->from, "NODE01");
    EXPECT_EQ(m->id, 42u);
    EXPECT_EQ(m->method, http::verb::post);
    EXPECT_EQ(m->target, "/socket.io/?EIO=4&transport=polling&sid=abcABC");
    EXPECT_EQ(m->origin, "https://chat.example");
    EXPECT_EQ(m->contentType, "text/plain;charset=UTF-8");
    EXPECT_EQ(m->clientAddress, "10.0.0.7");
    EXPECT_EQ(m->body, "4hello\x1e"
                       "40");
    const net::Request req = forward::toRequest(*m);
    EXPECT_EQ(req[http::field::origin], "https://chat.example");
    EXPECT_EQ(req.count(http::field::cookie), 0u);
}

TEST(ForwardMessages, ResponseCarriesContentAndCorsFieldsOnly) {
    net::Response res{http::status::bad_request, 11};
    res.set(http::field::content_type, "application/json");
    res.set(http::field::access_control_allow_origin, "https://chat.example");
    res.set(http::field::vary, "Origin");
    res.set(http::field::set_cookie, "a=b");
    res.set(http::field::content_length, "999");
    res.body() = R"({"code":1,"message":"Session ID unknown"})";
    const std::string bytes = forward::encodeResponse(7, res); // the message's views point into it
    auto message = forward::decode(bytes);
    auto* m = std::get_if<forward::ResponseMessage>(&message);
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->id, 7u);
    const net::Response back = forward::toResponse(*m);
    EXPECT_EQ(back.result(), http::status::bad_request);
    EXPECT_EQ(back[http::field::content_type], "application/json");
    EXPECT_EQ(back[http::field::access_control_allow_origin], "https://chat.example");
    EXPECT_EQ(back[http::field::vary], "Origin");
    EXPECT_EQ(back.count(http::field::set_cookie), 0u);
    EXPECT_EQ(back.count(http::field::content_length), 0u);
    EXPECT_EQ(back.body(), res.body());
}

TEST(ForwardMessages, AbortRoundTrips) {
    const std::string bytes = forward::encodeAbort("NODE01", 9); // the message's views point into it
    auto message = forward::decode(bytes);
    auto* m = std::get_if<forward::AbortMessage>(&message);
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->from, "NODE01");
    EXPECT_EQ(m->id, 9u);
}

TEST(ForwardMessages, EveryTruncationAndTrailingByteIsRefused) {
    for (const std::string& whole :
         {forward::encodeRequest("NODE01", 1, pollPost(), "10.0.0.7"),
          forward::encodeResponse(1, net::Response{http::status::ok, 11}), forward::encodeAbort("NODE01", 1)}) {
        for (std::size_t n = 0; n < whole.size(); ++n)
            EXPECT_TRUE(std::holds_alternative<forward::Malformed>(forward::decode(whole.substr(0, n)))) << n;
        EXPECT_TRUE(std::holds_alternative<forward::Malformed>(forward::decode(whole + "x")));
    }
}

TEST(ForwardMessages, WhatCouldReachAClientConnectionUnsafelyIsRefused) {
    auto refused = [](const std::string& bytes) {
        return std::holds_alternative<forward::Malformed>(forward::decode(bytes));
    };
    net::Request req = pollPost();
    EXPECT_TRUE(refused(forward::encodeRequest("NODE 1", 1, req, "")));       // not a uid
    EXPECT_TRUE(refused(forward::encodeRequest("", 1, req, "")));             // no uid
    EXPECT_TRUE(refused(forward::encodeRequest("NODE01", 1, req, "a\r\nb"))); // a line break
    // A blank first or last: no request carries one (HTTP parsers trim it), and setting it on
    // one would not keep it.
    EXPECT_TRUE(refused(forward::encodeRequest("NODE01", 1, req, "10.0.0.7\t")));
    EXPECT_TRUE(refused(forward::encodeRequest("NODE01", 1, req, " 10.0.0.7")));
    EXPECT_FALSE(refused(forward::encodeRequest("NODE01", 1, req, "10.0.0.7")));
    req.target("/socket.io/?a b");
    EXPECT_TRUE(refused(forward::encodeRequest("NODE01", 1, req, ""))); // a space in the target
    req.target("socket.io/");
    EXPECT_TRUE(refused(forward::encodeRequest("NODE01", 1, req, ""))); // not origin-form

    net::Response res{http::status::ok, 11};
    res.set(http::field::content_type, "text/plain\r\nSet-Cookie: x=y");
    EXPECT_TRUE(refused(forward::encodeResponse(1, res)));
    std::string bytes = forward::encodeResponse(1, net::Response{http::status::ok, 11});
    bytes[10] = 0; // status 0x00c8 -> 0x0000
    bytes[11] = 0;
    EXPECT_TRUE(refused(bytes));
    EXPECT_TRUE(refused(std::string("\x02\x01", 2)));                 // unknown format
    EXPECT_TRUE(refused(std::string("\x01\x09", 2)));                 // unknown kind
    EXPECT_TRUE(refused(std::string("\x01\x01\xff\xff\xff\xff", 6))); // a length past the end
}

// --- The forwarder on Redis --------------------------------------------------------------------

class NullHandler final : public engineio::Handler {
public:
    std::shared_ptr<engineio::SessionHandler> onOpen(const std::shared_ptr<engineio::Session>&) override {
        return nullptr;
    }
};

/// One node: an io thread, the bus, an Engine.IO server on /socket.io/ and its forwarder.
struct Node {
    explicit Node(std::chrono::milliseconds timeout)
        : bus(threads, RedisBusOptions{RedisAddress::parse(test::scratchRedisUri()).value()}, metrics),
          engine(engineio::Config{}, handler, threads), forwarder(bus, engine, timeout) {
        forwarder.start();
        bus.start();
        threads.start();
        const auto end = std::chrono::steady_clock::now() + testsupport::kDeadline;
        while (!bus.connected() && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(10ms);
        EXPECT_TRUE(bus.connected());
    }
    ~Node() {
        forwarder.stop();
        bus.stop();
        threads.stop();
        threads.join();
    }

    /// forward() on the io thread; the reply goes to `replies`.
    std::uint64_t forward(const std::string& sid, net::Request req) {
        std::promise<std::uint64_t> id;
        threads.postTo(0, [&, req = std::move(req)]() mutable {
            id.set_value(forwarder.forward(sid, std::move(req), "10.0.0.7",
                                           [this](std::optional<net::Response> res) { replies.push(std::move(res)); }));
        });
        return id.get_future().get();
    }
    void cancel(std::uint64_t id) {
        threads.postTo(0, [this, id] { forwarder.cancel(id); });
    }
    std::string channel() const { return std::string(forward::kChannelPrefix) + bus.uid(); }

    net::IoThreads threads{1};
    Metrics metrics;
    RedisBus bus;
    NullHandler handler;
    engineio::Server engine;
    PollingForwarder forwarder;
    Mailbox<std::optional<net::Response>> replies;
};

/// The other node, played by the test: what arrives on its channel, and a connection to publish.
struct FakePeer {
    FakePeer(Node& node, std::string uid) : node(node), uid(std::move(uid)) {
        RedisOptions o;
        o.address = RedisAddress::parse(test::scratchRedisUri()).value();
        auto up = std::make_shared<Mailbox<bool>>();
        node.threads.postTo(0, [this, o, up] {
            auto& ctx = this->node.threads.context(0);
            sub = RedisConnection::create(ctx, o);
            pub = RedisConnection::create(ctx, o);
            sub->onMessage([this](std::string_view, std::string_view payload) { inbox.push(std::string(payload)); });
            sub->subscribe({std::string(forward::kChannelPrefix) + this->uid});
            sub->onState([up, this](bool connected) {
                if (connected && pub->connected()) up->push(true);
            });
            pub->onState([up, this](bool connected) {
                if (connected && sub->connected()) up->push(true);
            });
            sub->start();
            pub->start();
        });
        EXPECT_TRUE(up->pop().has_value()) << "the fake peer did not connect";
    }
    ~FakePeer() {
        std::promise<void> closed;
        node.threads.postTo(0, [&] {
            sub->close();
            pub->close();
            closed.set_value();
        });
        closed.get_future().wait();
    }
    void publish(std::string channel, std::string payload) {
        node.threads.postTo(
            0, [this, channel = std::move(channel), payload = std::move(payload)] { pub->publish(channel, payload); });
    }

    Node& node;
    std::string uid;
    std::shared_ptr<RedisConnection> sub, pub;
    Mailbox<std::string> inbox;
};

std::string sidOf(std::string_view owner) { return "A1234567890123456789" + std::string(owner); }

std::string uniqueUid() { return "T" + core::randomAlnum(5); }

net::Request pollGet(const std::string& sid) {
    return net::Request{http::verb::get, "/socket.io/?EIO=4&transport=polling&sid=" + sid, 11};
}

TEST(PollingForwarder, AnOwnerNobodyListensForIsAnsweredAtOnce) {
    Node node(30s);
    const auto start = std::chrono::steady_clock::now();
    node.forward(sidOf(uniqueUid()), pollGet(sidOf("x")));
    auto reply = node.replies.pop();
    ASSERT_TRUE(reply.has_value());
    EXPECT_FALSE(reply->has_value()) << "no response: the session is as good as unknown";
    EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
    EXPECT_EQ(node.metrics.pollForwardsFailed.load(), 1u);
}

TEST(PollingForwarder, TheOwnersAnswerGoesToTheRequestItAnswers) {
    Node node(30s);
    FakePeer owner(node, uniqueUid());
    net::Request req = pollPost();
    req.target("/socket.io/?EIO=4&transport=polling&sid=" + sidOf(owner.uid));
    const auto id = node.forward(sidOf(owner.uid), std::move(req));

    auto bytes = owner.inbox.pop();
    ASSERT_TRUE(bytes.has_value());
    auto message = forward::decode(*bytes);
    auto* m = std::get_if<forward::RequestMessage>(&message);
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->from, node.bus.uid());
    EXPECT_EQ(m->id, id);
    EXPECT_EQ(m->clientAddress, "10.0.0.7");
    EXPECT_EQ(m->origin, "https://chat.example");
    EXPECT_EQ(m->body, "4hello\x1e"
                       "40");

    net::Response ok{http::status::ok, 11};
    ok.set(http::field::content_type, "text/html");
    ok.body() = "ok";
    owner.publish(node.channel(), "garbage");                              // dropped, counted
    owner.publish(node.channel(), forward::encodeResponse(id + 1000, ok)); // nobody asked: ignored
    owner.publish(node.channel(), forward::encodeResponse(id, ok));
    auto reply = node.replies.pop();
    ASSERT_TRUE(reply.has_value() && reply->has_value());
    EXPECT_EQ((*reply)->body(), "ok");
    EXPECT_EQ((**reply)[http::field::content_type], "text/html");
    EXPECT_FALSE(node.replies.pop(300ms).has_value()) << "one reply per request";
    EXPECT_EQ(node.metrics.dropped.load(), 1u);
    EXPECT_EQ(node.metrics.pollsForwarded.load(), 1u);
    EXPECT_EQ(node.metrics.pollForwardsFailed.load(), 0u);
}

TEST(PollingForwarder, AnUnansweredRequestTimesOut) {
    Node node(1200ms);
    FakePeer owner(node, uniqueUid()); // listens, never answers
    const auto start = std::chrono::steady_clock::now();
    node.forward(sidOf(owner.uid), pollGet(sidOf(owner.uid)));
    ASSERT_TRUE(owner.inbox.pop().has_value());
    auto reply = node.replies.pop();
    ASSERT_TRUE(reply.has_value());
    EXPECT_FALSE(reply->has_value());
    EXPECT_GE(std::chrono::steady_clock::now() - start, 1200ms);
    EXPECT_EQ(node.metrics.pollForwardsFailed.load(), 1u);
}

TEST(PollingForwarder, ACancelledRequestTellsTheOwnerAndGetsNoReply) {
    Node node(30s);
    FakePeer owner(node, uniqueUid());
    const auto id = node.forward(sidOf(owner.uid), pollGet(sidOf(owner.uid)));
    ASSERT_TRUE(owner.inbox.pop().has_value());
    node.cancel(id);
    auto bytes = owner.inbox.pop();
    ASSERT_TRUE(bytes.has_value());
    auto message = forward::decode(*bytes);
    auto* abort = std::get_if<forward::AbortMessage>(&message);
    ASSERT_NE(abort, nullptr);
    EXPECT_EQ(abort->from, node.bus.uid());
    EXPECT_EQ(abort->id, id);
    net::Response late{http::status::ok, 11};
    owner.publish(node.channel(), forward::encodeResponse(id, late));
    EXPECT_FALSE(node.replies.pop(500ms).has_value()) << "a cancelled request is never answered";
}

TEST(PollingForwarder, TheOwnerAnswersARequestForASessionItDoesNotHave) {
    Node node(30s);
    FakePeer requester(node, uniqueUid());
    for (const std::string& sid : {sidOf(node.bus.uid()), sidOf("ZZZZZZ")}) {
        requester.publish(node.channel(), forward::encodeRequest(requester.uid, 5, pollGet(sid), "10.0.0.7"));
        auto bytes = requester.inbox.pop();
        ASSERT_TRUE(bytes.has_value()) << sid;
        auto message = forward::decode(*bytes);
        auto* m = std::get_if<forward::ResponseMessage>(&message);
        ASSERT_NE(m, nullptr);
        EXPECT_EQ(m->id, 5u);
        EXPECT_EQ(m->status, 400u);
        EXPECT_NE(m->body.find("Session ID unknown"), std::string_view::npos) << m->body;
    }
    EXPECT_EQ(node.metrics.pollsServedForPeers.load(), 2u);
}

} // namespace
