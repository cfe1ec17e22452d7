#include "socketio/Socket.hpp"

#include "socketio/Server.hpp"
#include "support/EioClient.hpp"
#include "support/LoopbackServer.hpp"

#include <boost/asio/error.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

// socketio::Socket in the test process: events reach the namespace's handler with their
// arguments, acks go both ways (and time out), rooms, and disconnects from either side. The
// server is real (loopback port); the client writes Socket.IO packets by hand.

namespace {

using namespace parley;
using testsupport::EioClient;
using testsupport::LoopbackServer;
using testsupport::Mailbox;
using SocketPtr = std::shared_ptr<socketio::Socket>;
using namespace std::chrono_literals;

// Mailboxes are declared before the server in every test: the server's destructor closes the
// sessions still open, and their disconnect handlers still push.

struct Received {
    std::string name;
    std::vector<std::string> args; ///< each argument serialized
    std::string rawArgs;
    bool ackRequested = false;
};

struct AckResult {
    boost::system::error_code ec;
    std::string args;
};

/// A client connected to `nsp`; false (with a gtest failure) if the CONNECT was not answered.
bool join(EioClient& client, std::string_view nsp) {
    if (!client.ok()) return false;
    client.send(EioClient::connectPacket(nsp));
    std::string expected = "40";
    if (nsp != "/") expected.append(nsp).push_back(',');
    const std::string reply = client.nextText();
    EXPECT_TRUE(reply.starts_with(expected + R"({"sid":")")) << reply;
    return reply.starts_with(expected);
}

TEST(SocketTest, AnEventReachesItsNamespaceHandlerWithItsArguments) {
    Mailbox<Received> received;
    LoopbackServer server;
    auto record = [&](const SocketPtr& s, const socketio::Event& e, const socketio::Ack& ack) {
        Received r{s->nsp().name() + " " + std::string(e.name), {}, std::string(e.rawArgs), ack.requested()};
        for (const auto& arg : e.args) r.args.push_back(boost::json::serialize(arg));
        received.push(std::move(r));
    };
    server.io().of("/").on("greet", record);
    server.io().of("/chat").on("greet", record);
    EioClient client(server.start());
    ASSERT_TRUE(join(client, "/chat"));

    client.send(R"(42/chat,["unhandled",0])");
    client.send(R"(42/chat,["greet",1,"two",{"three":[3]}])");
    auto r = received.pop();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->name, "/chat greet") << "an event without a handler is dropped; the namespace's own handler runs";
    EXPECT_EQ(r->args, (std::vector<std::string>{"1", R"("two")", R"({"three":[3]})"}));
    EXPECT_EQ(r->rawArgs, R"(1,"two",{"three":[3]})");
    EXPECT_FALSE(r->ackRequested);

    // "/" was never joined: its handler does not hear this connection.
    client.send(R"(42["greet"])");
    client.send(R"(42/chat,["greet"])");
    r = received.pop();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->name, "/chat greet");
    EXPECT_TRUE(r->args.empty());
}

TEST(SocketTest, AClientEventWithAnIdGetsTheHandlersAck) {
    LoopbackServer server;
    server.io().of("/chat").on("sum", [](const SocketPtr&, const socketio::Event& e, socketio::Ack ack) {
        ASSERT_TRUE(ack.requested());
        ack.send(boost::json::array{e.args[0].as_int64() + e.args[1].as_int64(), "done"});
    });
    EioClient client(server.start());
    ASSERT_TRUE(join(client, "/chat"));

    client.send(R"(42/chat,7["sum",2,3])");
    EXPECT_EQ(client.nextText(), R"(43/chat,7[5,"done"])");
    client.send(R"(42/chat,8["sum",20,30])");
    EXPECT_EQ(client.nextText(), R"(43/chat,8[50,"done"])");
}

TEST(SocketTest, AServerEmitWithAckGetsTheClientsAnswer) {
    Mailbox<AckResult> answers;
    LoopbackServer server;
    server.io().of("/").onConnection([&](const SocketPtr& s) {
        s->emitWithAck(
            "question", {"how many?"}, 5s,
            [&](boost::system::error_code ec, const boost::json::array& args, const std::vector<std::string>&) {
                answers.push(AckResult{ec, boost::json::serialize(args)});
            });
    });
    EioClient client(server.start());
    ASSERT_TRUE(join(client, "/"));

    EXPECT_EQ(client.nextText(), R"(420["question","how many?"])");
    client.send(R"(430[42,"answer"])");
    auto answer = answers.pop();
    ASSERT_TRUE(answer);
    EXPECT_FALSE(answer->ec) << answer->ec.message();
    EXPECT_EQ(answer->args, R"([42,"answer"])");
}

TEST(SocketTest, AServerEmitWithAckTimesOutAndALateAnswerIsIgnored) {
    Mailbox<AckResult> answers;
    LoopbackServer server;
    auto& nsp = server.io().of("/");
    nsp.onConnection([&](const SocketPtr& s) {
        s->emitWithAck(
            "question", {}, 50ms,
            [&](boost::system::error_code ec, const boost::json::array& args, const std::vector<std::string>&) {
                answers.push(AckResult{ec, boost::json::serialize(args)});
            });
    });
    nsp.on("sync", [](const SocketPtr&, const socketio::Event&, socketio::Ack ack) { ack.send({}); });
    EioClient client(server.start());
    ASSERT_TRUE(join(client, "/"));
    EXPECT_EQ(client.nextText(), R"(420["question"])");

    auto answer = answers.pop();
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->ec, boost::asio::error::timed_out);
    EXPECT_EQ(answer->args, "[]");

    // The answer after the timeout calls nothing; the round trip after it proves it was read.
    client.send(R"(430["too late"])");
    client.send(R"(421["sync"])");
    EXPECT_EQ(client.nextText(), "431[]");
    EXPECT_EQ(answers.size(), 0u);
}

TEST(SocketTest, AnAckPendingAtDisconnectFailsAtOnce) {
    Mailbox<AckResult> answers;
    LoopbackServer server;
    server.io().of("/").onConnection([&](const SocketPtr& s) {
        s->emitWithAck("question", {}, 60s,
                       [&](boost::system::error_code ec, const boost::json::array&, const std::vector<std::string>&) {
                           answers.push(AckResult{ec, {}});
                       });
    });
    EioClient client(server.start());
    ASSERT_TRUE(join(client, "/"));
    EXPECT_EQ(client.nextText(), R"(420["question"])");

    client.send("41");
    auto answer = answers.pop();
    ASSERT_TRUE(answer) << "not at the 60 s timeout";
    EXPECT_EQ(answer->ec, boost::asio::error::connection_aborted);
}

TEST(SocketTest, JoinAndLeaveChangeTheSocketsRooms) {
    Mailbox<std::string> rooms;
    LoopbackServer server;
    auto& nsp = server.io().of("/");
    auto report = [&](const SocketPtr& s) {
        std::string text;
        for (const auto& room : s->rooms()) text += room + ";";
        text += s->inRoom(s->id()) ? "own" : "no-own";
        rooms.push(std::move(text));
    };
    nsp.on("join", [&](const SocketPtr& s, const socketio::Event& e, socketio::Ack) {
        s->join(std::string(e.args[0].as_string()));
        report(s);
    });
    nsp.on("leave", [&](const SocketPtr& s, const socketio::Event& e, socketio::Ack) {
        s->leave(std::string(e.args[0].as_string()));
        report(s);
    });
    EioClient client(server.start());
    ASSERT_TRUE(join(client, "/"));

    client.send(R"(42["join","a"])");
    EXPECT_EQ(rooms.pop(), "a;own");
    client.send(R"(42["join","b"])");
    EXPECT_EQ(rooms.pop(), "a;b;own");
    client.send(R"(42["join","a"])");
    EXPECT_EQ(rooms.pop(), "a;b;own") << "a room is joined once";
    client.send(R"(42["leave","a"])");
    EXPECT_EQ(rooms.pop(), "b;own");
    client.send(R"(42["leave","nowhere"])");
    EXPECT_EQ(rooms.pop(), "b;own");
}

TEST(SocketTest, JoinsPastTheLimitAreRefused) {
    Mailbox<bool> joined;
    LoopbackServer::Options options;
    options.socketio.maxRoomsPerSocket = 2;
    LoopbackServer server(options);
    server.io().of("/").on("join", [&](const SocketPtr& s, const socketio::Event& e, socketio::Ack) {
        joined.push(s->join(std::string(e.args[0].as_string())));
    });
    EioClient client(server.start());
    ASSERT_TRUE(join(client, "/"));
    for (const char* room : {"a", "b", "c", "a"}) client.send(std::string(R"(42["join",")") + room + "\"]");
    EXPECT_EQ(joined.pop(), true);
    EXPECT_EQ(joined.pop(), true);
    EXPECT_EQ(joined.pop(), false) << "a third room is one too many";
    EXPECT_EQ(joined.pop(), true) << "a room it is already in costs nothing";
}

TEST(SocketTest, TheServersOwnJoinsAreNotCountedAgainstTheLimit) {
    Mailbox<bool> joined;
    LoopbackServer::Options options;
    options.socketio.maxRoomsPerSocket = 1;
    LoopbackServer server(options);
    auto& nsp = server.io().of("/");
    nsp.onConnection([](const SocketPtr& s) {
        for (const char* room : {"user:1", "presence:a", "presence:b"}) EXPECT_TRUE(s->joinUncounted(room));
    });
    nsp.on("join", [&](const SocketPtr& s, const socketio::Event& e, socketio::Ack) {
        joined.push(s->join(std::string(e.args[0].as_string())));
    });
    nsp.on("leave", [&](const SocketPtr& s, const socketio::Event& e, socketio::Ack) {
        s->leave(std::string(e.args[0].as_string()));
        joined.push(s->inRoom(std::string(e.args[0].as_string())));
    });
    EioClient client(server.start());
    ASSERT_TRUE(join(client, "/"));
    client.send(R"(42["join","chat:1"])");
    EXPECT_EQ(joined.pop(), true) << "the server's three rooms leave the client its one";
    client.send(R"(42["join","chat:2"])");
    EXPECT_EQ(joined.pop(), false);
    client.send(R"(42["leave","presence:a"])");
    EXPECT_EQ(joined.pop(), false);
    client.send(R"(42["join","chat:2"])");
    EXPECT_EQ(joined.pop(), false) << "leaving one of the server's rooms frees nothing for the client";
    client.send(R"(42["leave","chat:1"])");
    EXPECT_EQ(joined.pop(), false);
    client.send(R"(42["join","chat:2"])");
    EXPECT_EQ(joined.pop(), true);
}

TEST(SocketTest, AServerDisconnectSendsDisconnectAndKeepsTheConnection) {
    Mailbox<std::string> reasons;
    LoopbackServer server;
    for (const char* name : {"/", "/chat"}) {
        auto& nsp = server.io().of(name);
        nsp.on("kick", [](const SocketPtr& s, const socketio::Event&, socketio::Ack) { s->disconnect(); });
        nsp.on("echo",
               [](const SocketPtr& s, const socketio::Event& e, socketio::Ack) { s->emitRaw("echo", e.rawArgs); });
        nsp.onDisconnect([&](const SocketPtr& s, std::string_view reason) {
            reasons.push(s->nsp().name() + " " + std::string(reason) + (s->connected() ? " connected" : ""));
        });
    }
    EioClient client(server.start());
    ASSERT_TRUE(join(client, "/chat"));
    ASSERT_TRUE(join(client, "/"));

    client.send(R"(42/chat,["kick"])");
    EXPECT_EQ(client.nextText(), "41/chat,");
    EXPECT_EQ(reasons.pop(), "/chat server namespace disconnect");
    // The connection and its "/" socket go on.
    client.send(R"(42["echo",1])");
    EXPECT_EQ(client.nextText(), R"(42["echo",1])");
    EXPECT_FALSE(client.waitClosed(0ms));
}

TEST(SocketTest, AServerDisconnectWithCloseEndsTheConnection) {
    Mailbox<std::string> reasons;
    LoopbackServer server;
    auto& nsp = server.io().of("/");
    nsp.on("close-me", [](const SocketPtr& s, const socketio::Event&, socketio::Ack) { s->disconnect(true); });
    nsp.onDisconnect([&](const SocketPtr&, std::string_view reason) { reasons.push(std::string(reason)); });
    EioClient client(server.start());
    ASSERT_TRUE(join(client, "/"));

    client.send(R"(42["close-me"])");
    EXPECT_EQ(client.nextText(), "41");
    EXPECT_TRUE(client.waitClosed());
    EXPECT_EQ(reasons.pop(), "server namespace disconnect");
    EXPECT_EQ(reasons.size(), 0u) << "one disconnect per socket";
}

TEST(SocketTest, ADisconnectPacketFromTheClientGivesItsReason) {
    Mailbox<std::string> reasons;
    LoopbackServer server;
    server.io().of("/").onDisconnect(
        [&](const SocketPtr& s, std::string_view reason) { reasons.push(s->id() + " " + std::string(reason)); });
    EioClient client(server.start());
    client.send(EioClient::connectPacket("/"));
    const std::string reply = client.nextText();
    ASSERT_TRUE(reply.starts_with(R"(40{"sid":")"));
    const std::string id = reply.substr(10, reply.size() - 12);

    client.send("41");
    EXPECT_EQ(reasons.pop(), id + " client namespace disconnect");
    EXPECT_FALSE(client.waitClosed(0ms));
}

} // namespace
