#include "socketio/Client.hpp"

#include "socketio/Server.hpp"
#include "support/EioClient.hpp"
#include "support/LoopbackServer.hpp"

#include <boost/asio/post.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

// socketio::Client, Server and Namespace in the test process: a real engineio::Server on a
// loopback port, driven by an Engine.IO WebSocket client that writes Socket.IO packets by hand.
// What Client routes where: CONNECT (middlewares, refusals), packets to their namespace, and
// the end of a connection that sends what is not Socket.IO.

namespace {

using namespace parley;
using testsupport::EioClient;
using testsupport::LoopbackServer;
using testsupport::Mailbox;
using SocketPtr = std::shared_ptr<socketio::Socket>;

// Mailboxes are declared before the server in every test: the server's destructor closes the
// sessions still open, and their disconnect handlers still push.

// What a namespace saw of one socket, as the test reads it.
struct Seen {
    std::string nsp;
    std::string id;
    std::string authText;
    std::string detail; ///< a disconnect reason, a value from data(), ...
};

Seen seen(const SocketPtr& s, std::string detail = {}) {
    return Seen{s->nsp().name(), s->id(), s->authText(), std::move(detail)};
}

struct Upload {
    std::string args;
    std::vector<std::string> buffers;
};

// `40{"sid":"X"}` or `40/chat,{"sid":"X"}`: X, or "" if `reply` is not a CONNECT reply of `nsp`.
std::string connectedSid(std::string_view reply, std::string_view nsp) {
    std::string prefix = "40";
    if (nsp != "/") prefix.append(nsp).push_back(',');
    prefix += R"({"sid":")";
    if (!reply.starts_with(prefix) || !reply.ends_with("\"}")) return {};
    return std::string(reply.substr(prefix.size(), reply.size() - prefix.size() - 2));
}

TEST(ClientTest, ConnectsToTheMainNamespaceWithItsAuthPayload) {
    Mailbox<Seen> connections;
    LoopbackServer server;
    server.io().of("/").onConnection(
        [&](const SocketPtr& s) { connections.push(seen(s, std::string(s->auth().at("token").as_string()))); });
    EioClient client(server.start());
    ASSERT_TRUE(client.ok());

    client.send(EioClient::connectPacket("/", R"({"token":"abc"})"));
    const std::string sid = connectedSid(client.nextText(), "/");
    ASSERT_FALSE(sid.empty());
    auto s = connections.pop();
    ASSERT_TRUE(s);
    EXPECT_EQ(s->nsp, "/");
    EXPECT_EQ(s->id, sid);
    EXPECT_EQ(s->authText, R"({"token":"abc"})");
    EXPECT_EQ(s->detail, "abc");
    // A Socket.IO socket id is not the Engine.IO session id.
    EXPECT_NE(s->id, client.sid());
}

TEST(ClientTest, ConnectsToACustomNamespaceApartFromTheMainOne) {
    Mailbox<Seen> connections;
    LoopbackServer server;
    for (const char* name : {"/", "/chat"})
        server.io().of(name).onConnection([&](const SocketPtr& s) { connections.push(seen(s)); });
    EioClient client(server.start());
    ASSERT_TRUE(client.ok());

    client.send(EioClient::connectPacket("/chat", R"({"room":"lobby"})"));
    const std::string chatSid = connectedSid(client.nextText(), "/chat");
    ASSERT_FALSE(chatSid.empty());
    auto chat = connections.pop();
    ASSERT_TRUE(chat);
    EXPECT_EQ(chat->nsp, "/chat");
    EXPECT_EQ(chat->authText, R"({"room":"lobby"})");

    // The same connection then joins "/" too, with no auth: a socket of its own.
    client.send(EioClient::connectPacket("/"));
    const std::string mainSid = connectedSid(client.nextText(), "/");
    ASSERT_FALSE(mainSid.empty());
    auto main = connections.pop();
    ASSERT_TRUE(main);
    EXPECT_EQ(main->nsp, "/");
    EXPECT_EQ(main->authText, "{}");
    EXPECT_NE(mainSid, chatSid);
}

TEST(ClientTest, AMiddlewareRefusalIsAConnectErrorAndTheConnectionStays) {
    Mailbox<Seen> connections;
    LoopbackServer server;
    auto& chat = server.io().of("/chat");
    // The first middleware answers later, from the socket's thread, as a store lookup would.
    chat.use([](const SocketPtr& s, socketio::Next next) {
        boost::asio::post(s->context(), [s, next = std::move(next)] {
            const auto* token = s->auth().if_contains("token");
            if (!token || *token != "good")
                return next(socketio::ConnectError{"unauthorized", boost::json::object{{"reason", "bad token"}}});
            s->data()["user"] = "alice";
            next(std::nullopt);
        });
    });
    // The second runs only after the first let the socket through.
    chat.use([](const SocketPtr& s, socketio::Next next) {
        s->data()["checked"] = true;
        next(std::nullopt);
    });
    chat.onConnection([&](const SocketPtr& s) { connections.push(seen(s, boost::json::serialize(s->data()))); });
    EioClient client(server.start());
    ASSERT_TRUE(client.ok());

    client.send(EioClient::connectPacket("/chat", R"({"token":"bad"})"));
    EXPECT_EQ(client.nextText(), R"(44/chat,{"message":"unauthorized","data":{"reason":"bad token"}})");

    client.send(EioClient::connectPacket("/chat", R"({"token":"good"})"));
    EXPECT_FALSE(connectedSid(client.nextText(), "/chat").empty());
    auto s = connections.pop();
    ASSERT_TRUE(s);
    EXPECT_EQ(s->authText, R"({"token":"good"})") << "the refused socket never reached onConnection";
    EXPECT_EQ(s->detail, R"({"user":"alice","checked":true})");
    EXPECT_EQ(connections.size(), 0u);
}

TEST(ClientTest, AnUnknownNamespaceIsRefused) {
    LoopbackServer server;
    server.io().of("/");
    EioClient client(server.start());
    ASSERT_TRUE(client.ok());

    client.send(EioClient::connectPacket("/nope"));
    EXPECT_EQ(client.nextText(), R"(44/nope,{"message":"Invalid namespace"})");
    // Refused there, the connection still serves the namespaces that exist.
    client.send(EioClient::connectPacket("/"));
    EXPECT_FALSE(connectedSid(client.nextText(), "/").empty());
}

TEST(ClientTest, AClientNamespaceDisconnectEndsThatSocketOnly) {
    Mailbox<Seen> events;
    LoopbackServer server;
    for (const char* name : {"/", "/chat"}) {
        auto& nsp = server.io().of(name);
        nsp.onDisconnect(
            [&](const SocketPtr& s, std::string_view reason) { events.push(seen(s, std::string(reason))); });
        nsp.on("ping",
               [&](const SocketPtr& s, const socketio::Event&, socketio::Ack) { events.push(seen(s, "ping")); });
    }
    EioClient client(server.start());
    ASSERT_TRUE(client.ok());
    client.send(EioClient::connectPacket("/chat"));
    ASSERT_FALSE(connectedSid(client.nextText(), "/chat").empty());
    client.send(EioClient::connectPacket("/"));
    ASSERT_FALSE(connectedSid(client.nextText(), "/").empty());

    client.send("41/chat,");
    auto gone = events.pop();
    ASSERT_TRUE(gone);
    EXPECT_EQ(gone->nsp, "/chat");
    EXPECT_EQ(gone->detail, "client namespace disconnect");

    // An event for the namespace it left goes nowhere; "/" still hears it.
    client.send(R"(42/chat,["ping"])");
    client.send(R"(42["ping"])");
    auto next = events.pop();
    ASSERT_TRUE(next);
    EXPECT_EQ(next->nsp, "/");
    EXPECT_EQ(next->detail, "ping");
    EXPECT_FALSE(client.waitClosed(std::chrono::milliseconds(0)));
}

TEST(ClientTest, ClosingTheTransportDisconnectsEverySocketOfTheConnection) {
    Mailbox<Seen> gone;
    LoopbackServer server;
    for (const char* name : {"/", "/chat"})
        server.io().of(name).onDisconnect(
            [&](const SocketPtr& s, std::string_view reason) { gone.push(seen(s, std::string(reason))); });
    EioClient client(server.start());
    ASSERT_TRUE(client.ok());
    client.send(EioClient::connectPacket("/"));
    ASSERT_FALSE(connectedSid(client.nextText(), "/").empty());
    client.send(EioClient::connectPacket("/chat"));
    ASSERT_FALSE(connectedSid(client.nextText(), "/chat").empty());

    client.close();
    std::vector<std::string> namespaces;
    for (int i = 0; i < 2; ++i) {
        auto s = gone.pop();
        ASSERT_TRUE(s) << "disconnect " << i;
        EXPECT_EQ(s->detail, "transport close");
        namespaces.push_back(s->nsp);
    }
    std::sort(namespaces.begin(), namespaces.end());
    EXPECT_EQ(namespaces, (std::vector<std::string>{"/", "/chat"}));
}

TEST(ClientTest, AMalformedPacketClosesThatClientOnly) {
    Mailbox<Seen> events;
    LoopbackServer server;
    auto& nsp = server.io().of("/");
    nsp.onDisconnect([&](const SocketPtr& s, std::string_view reason) { events.push(seen(s, std::string(reason))); });
    nsp.on("echo", [](const SocketPtr& s, const socketio::Event& e, socketio::Ack) { s->emitRaw("echo", e.rawArgs); });
    server.start();
    EioClient broken(server.port());
    EioClient healthy(server.port());
    ASSERT_TRUE(broken.ok() && healthy.ok());
    for (EioClient* c : {&broken, &healthy}) {
        c->send(EioClient::connectPacket("/"));
        ASSERT_FALSE(connectedSid(c->nextText(), "/").empty());
    }

    // Packet type 9 does not exist in Socket.IO v5.
    broken.send(R"(49["oops"])");
    EXPECT_TRUE(broken.waitClosed());
    auto s = events.pop();
    ASSERT_TRUE(s);
    EXPECT_EQ(s->detail, "parse error");

    healthy.send(R"(42["echo","still here"])");
    EXPECT_EQ(healthy.nextText(), R"(42["echo","still here"])");
    EXPECT_EQ(events.size(), 0u);
}

TEST(ClientTest, ABinaryFrameNoPacketAnnouncedClosesTheClient) {
    Mailbox<Seen> gone;
    LoopbackServer server;
    server.io().of("/").onDisconnect(
        [&](const SocketPtr& s, std::string_view reason) { gone.push(seen(s, std::string(reason))); });
    EioClient client(server.start());
    ASSERT_TRUE(client.ok());
    client.send(EioClient::connectPacket("/"));
    ASSERT_FALSE(connectedSid(client.nextText(), "/").empty());

    client.sendBinary(std::string("\x01\x02", 2));
    EXPECT_TRUE(client.waitClosed());
    auto s = gone.pop();
    ASSERT_TRUE(s);
    EXPECT_EQ(s->detail, "parse error");
}

TEST(ClientTest, BinaryAttachmentsAreReassembledBeforeTheHandlerRuns) {
    Mailbox<Upload> uploads;
    LoopbackServer server;
    server.io().of("/").on("upload", [&](const SocketPtr& s, const socketio::Event& e, socketio::Ack ack) {
        uploads.push(Upload{std::string(e.rawArgs), e.buffers});
        // Both back: the attachments as an event, and as the ack.
        s->emitRaw("stored", e.rawArgs, e.buffers);
        ack.sendRaw(R"({"_placeholder":true,"num":1})", {"ack-0", std::string("\0\xff", 2)});
    });
    EioClient client(server.start());
    ASSERT_TRUE(client.ok());
    client.send(EioClient::connectPacket("/"));
    ASSERT_FALSE(connectedSid(client.nextText(), "/").empty());

    const std::string first("\x00\x01\x02\x03", 4);
    const std::string second = "second attachment";
    client.send(R"(452-3["upload","meta",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])");
    client.sendBinary(first);
    client.sendBinary(second);

    auto upload = uploads.pop();
    ASSERT_TRUE(upload);
    EXPECT_EQ(upload->args, R"("meta",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1})");
    EXPECT_EQ(upload->buffers, (std::vector<std::string>{first, second}));

    EXPECT_EQ(client.nextText(),
              R"(452-["stored","meta",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])");
    for (const std::string& bytes : {first, second}) {
        auto m = client.next();
        ASSERT_TRUE(m && m->binary);
        EXPECT_EQ(m->data, bytes);
    }
    EXPECT_EQ(client.nextText(), R"(462-3[{"_placeholder":true,"num":1}])");
    for (const std::string& bytes : {std::string("ack-0"), std::string("\0\xff", 2)}) {
        auto m = client.next();
        ASSERT_TRUE(m && m->binary);
        EXPECT_EQ(m->data, bytes);
    }
}

} // namespace
