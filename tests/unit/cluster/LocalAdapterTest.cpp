#include "cluster/LocalAdapter.hpp"

#include "socketio/Server.hpp"
#include "support/EioClient.hpp"
#include "support/LoopbackServer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

// cluster::LocalAdapter behind a real socketio::Server with two io threads: the Listener
// hands connections to the threads in turn, so consecutive clients live on different
// threads, and a broadcast from one thread reaches the others through postTo.
//
// A message that must NOT arrive is checked without waiting for nothing: every broadcast
// under test is followed, from the same handler, by a "marker" to the whole namespace. A
// socket's packets from one thread arrive in order, so the marker must be the next thing an
// excluded client reads.

namespace {

using namespace parley;
using testsupport::EioClient;
using testsupport::LoopbackServer;
using testsupport::Mailbox;
using SocketPtr = std::shared_ptr<socketio::Socket>;

constexpr const char* kMarker = R"(42["marker"])";

std::string stringArg(const socketio::Event& e, std::size_t i) {
    return i < e.args.size() && e.args[i].is_string() ? std::string(e.args[i].get_string()) : std::string();
}

// One namespace "/" with handlers that drive the adapter, on a server of two io threads.
class LocalAdapterTest : public ::testing::Test {
protected:
    struct Connected {
        std::string id;
        std::size_t thread;
    };

    LocalAdapterTest() : server_(twoThreads()) {
        auto& nsp = server_.io().of("/");
        nsp.onConnection([this](const SocketPtr& s) {
            connected_.push(Connected{s->id(), net::IoThreads::currentIndex()});
        });
        nsp.onDisconnect([this](const SocketPtr& s, std::string_view reason) {
            disconnected_.push(s->id() + " " + std::string(reason));
        });
        nsp.on("join", [](const SocketPtr& s, const socketio::Event& e, socketio::Ack ack) {
            s->join(stringArg(e, 0));
            ack.send({});
        });
        nsp.on("leave", [](const SocketPtr& s, const socketio::Event& e, socketio::Ack ack) {
            s->leave(stringArg(e, 0));
            ack.send({});
        });
        nsp.on("to", [](const SocketPtr& s, const socketio::Event& e, socketio::Ack) {
            auto op = s->nsp().to(stringArg(e, 0));
            if (const auto except = stringArg(e, 1); !except.empty()) op.except(except);
            op.emit("news", {"to " + stringArg(e, 0)});
            s->nsp().emit("marker");
        });
        nsp.on("to-others", [](const SocketPtr& s, const socketio::Event& e, socketio::Ack) {
            s->to(stringArg(e, 0)).emit("news", {"from a member"});
            s->nsp().emit("marker");
        });
        nsp.on("broadcast", [](const SocketPtr& s, const socketio::Event&, socketio::Ack) {
            s->broadcast().emit("news", {"to everyone else"});
            s->nsp().emit("marker");
        });
        nsp.on("move", [](const SocketPtr& s, const socketio::Event& e, socketio::Ack) {
            s->nsp().to(stringArg(e, 0)).socketsJoin({stringArg(e, 1)});
        });
        nsp.on("kick", [](const SocketPtr& s, const socketio::Event& e, socketio::Ack) {
            s->nsp().to(stringArg(e, 0)).disconnectSockets();
        });
        server_.start();
    }

    static LoopbackServer::Options twoThreads() {
        LoopbackServer::Options options;
        options.threads = 2;
        return options;
    }

    /// A client connected to "/", and the io thread its socket lives on.
    std::pair<std::unique_ptr<EioClient>, Connected> connect() {
        auto client = std::make_unique<EioClient>(server_.port());
        client->send(EioClient::connectPacket("/"));
        const std::string reply = client->nextText();
        EXPECT_TRUE(reply.starts_with(R"(40{"sid":")")) << reply;
        auto seen = connected_.pop();
        EXPECT_TRUE(seen);
        return {std::move(client), seen.value_or(Connected{"", net::IoThreads::kNotAnIoThread})};
    }

    /// Three clients: a and c on one io thread, b on the other.
    void connectThree() {
        for (auto* slot : {&a_, &b_, &c_}) {
            auto [client, seen] = connect();
            *slot = std::move(client);
            ids_.push_back(seen.id);
            threads_.push_back(seen.thread);
        }
        ASSERT_EQ(threads_.size(), 3u);
        EXPECT_NE(threads_[0], threads_[1]) << "the listener alternates between the two threads";
        EXPECT_EQ(threads_[0], threads_[2]);
    }

    /// Joins `room` and waits for the ack, so that the room is in the index after this.
    static void joinRoom(EioClient& client, const std::string& room) {
        client.send(R"(420["join",")" + room + "\"]");
        EXPECT_EQ(client.nextText(), "430[]");
    }

    /// What each shard indexes, read on its own thread.
    std::vector<cluster::LocalAdapter::ShardSize> shardSizes() {
        auto& adapter = server_.adapter("/");
        std::vector<cluster::LocalAdapter::ShardSize> sizes;
        for (std::size_t i = 0; i < server_.threads().size(); ++i) {
            auto size = server_.onThread(i, [&adapter] { return adapter.localSize(); });
            EXPECT_TRUE(size) << "io thread " << i << " did not answer";
            sizes.push_back(size.value_or(cluster::LocalAdapter::ShardSize{99, 99}));
        }
        return sizes;
    }

    // Declared before the server: its handlers push into them until it is gone.
    Mailbox<Connected> connected_;
    Mailbox<std::string> disconnected_;
    LoopbackServer server_;
    std::unique_ptr<EioClient> a_, b_, c_;
    std::vector<std::string> ids_;
    std::vector<std::size_t> threads_;
};

TEST_F(LocalAdapterTest, ABroadcastToARoomReachesItsMembersOnEveryThread) {
    connectThree();
    joinRoom(*a_, "r");
    joinRoom(*b_, "r");

    a_->send(R"(42["to","r"])");
    for (EioClient* member : {a_.get(), b_.get()}) {
        EXPECT_EQ(member->nextText(), R"(42["news","to r"])");
        EXPECT_EQ(member->nextText(), kMarker);
    }
    EXPECT_EQ(c_->nextText(), kMarker) << "c is not in r";

    // The same from the other thread.
    b_->send(R"(42["to","r"])");
    for (EioClient* member : {a_.get(), b_.get()}) {
        EXPECT_EQ(member->nextText(), R"(42["news","to r"])");
        EXPECT_EQ(member->nextText(), kMarker);
    }
    EXPECT_EQ(c_->nextText(), kMarker);
}

TEST_F(LocalAdapterTest, ABroadcastToASocketIdReachesThatSocketWherever) {
    connectThree();
    a_->send(R"(42["to",")" + ids_[1] + "\"]");
    EXPECT_EQ(b_->nextText(), R"(42["news","to )" + ids_[1] + "\"]");
    for (EioClient* client : {a_.get(), b_.get(), c_.get()}) EXPECT_EQ(client->nextText(), kMarker);
}

TEST_F(LocalAdapterTest, ExceptLeavesOutTheMembersOfAnotherRoom) {
    connectThree();
    for (EioClient* client : {a_.get(), b_.get(), c_.get()}) joinRoom(*client, "r");
    joinRoom(*b_, "muted");
    joinRoom(*c_, "muted");

    a_->send(R"(42["to","r","muted"])");
    EXPECT_EQ(a_->nextText(), R"(42["news","to r"])");
    for (EioClient* client : {a_.get(), b_.get(), c_.get()}) EXPECT_EQ(client->nextText(), kMarker);
}

// A socket's id names the room that only it is in: excepting it leaves that socket out, as a
// broadcast from another node of a cluster excepts its sender.
TEST_F(LocalAdapterTest, ExceptASocketIdLeavesOutThatSocketOnly) {
    connectThree();
    for (EioClient* client : {a_.get(), b_.get(), c_.get()}) joinRoom(*client, "r");

    a_->send(R"(42["to","r",")" + ids_[1] + "\"]");
    for (EioClient* member : {a_.get(), c_.get()}) EXPECT_EQ(member->nextText(), R"(42["news","to r"])");
    for (EioClient* client : {a_.get(), b_.get(), c_.get()}) EXPECT_EQ(client->nextText(), kMarker);
}

TEST_F(LocalAdapterTest, ASocketsOwnBroadcastLeavesOutTheSender) {
    connectThree();
    for (EioClient* client : {a_.get(), b_.get(), c_.get()}) joinRoom(*client, "r");

    c_->send(R"(42["to-others","r"])");
    for (EioClient* other : {a_.get(), b_.get()}) EXPECT_EQ(other->nextText(), R"(42["news","from a member"])");
    for (EioClient* client : {a_.get(), b_.get(), c_.get()}) EXPECT_EQ(client->nextText(), kMarker);

    b_->send(R"(42["broadcast"])");
    for (EioClient* other : {a_.get(), c_.get()}) EXPECT_EQ(other->nextText(), R"(42["news","to everyone else"])");
    for (EioClient* client : {a_.get(), b_.get(), c_.get()}) EXPECT_EQ(client->nextText(), kMarker);
}

TEST_F(LocalAdapterTest, ALeftRoomNoLongerReceives) {
    connectThree();
    joinRoom(*a_, "r");
    joinRoom(*b_, "r");
    b_->send(R"(420["leave","r"])");
    EXPECT_EQ(b_->nextText(), "430[]");

    c_->send(R"(42["to","r"])");
    EXPECT_EQ(a_->nextText(), R"(42["news","to r"])");
    for (EioClient* client : {a_.get(), b_.get(), c_.get()}) EXPECT_EQ(client->nextText(), kMarker);
}

TEST_F(LocalAdapterTest, SocketsJoinAndDisconnectSocketsReachEveryThread) {
    connectThree();
    joinRoom(*a_, "r");
    joinRoom(*b_, "r");

    // Every member of r, on both threads, joins s; then a broadcast to s finds them there.
    c_->send(R"(42["move","r","s"])");
    c_->send(R"(42["to","s"])");
    for (EioClient* member : {a_.get(), b_.get()}) {
        EXPECT_EQ(member->nextText(), R"(42["news","to s"])");
        EXPECT_EQ(member->nextText(), kMarker);
    }
    EXPECT_EQ(c_->nextText(), kMarker);

    c_->send(R"(42["kick","s"])");
    for (EioClient* member : {a_.get(), b_.get()}) EXPECT_EQ(member->nextText(), "41");
    std::vector<std::string> gone;
    for (int i = 0; i < 2; ++i) gone.push_back(disconnected_.pop().value_or("none"));
    std::sort(gone.begin(), gone.end());
    std::vector<std::string> expected{ids_[0] + " server namespace disconnect",
                                      ids_[1] + " server namespace disconnect"};
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(gone, expected);
}

TEST_F(LocalAdapterTest, TheRoomIndexesAreEmptyOnceEverySocketLeft) {
    connectThree();
    for (EioClient* client : {a_.get(), b_.get(), c_.get()}) {
        joinRoom(*client, "r");
        joinRoom(*client, "s");
    }
    joinRoom(*c_, "only-c");
    auto sizes = shardSizes();
    ASSERT_EQ(sizes.size(), 2u);
    const std::size_t ac = threads_[0];
    const std::size_t b = threads_[1];
    ASSERT_TRUE(ac < 2 && b < 2 && ac != b);
    EXPECT_EQ(sizes[ac].sockets, 2u);
    EXPECT_EQ(sizes[ac].rooms, 3u);
    EXPECT_EQ(sizes[b].sockets, 1u);
    EXPECT_EQ(sizes[b].rooms, 2u);

    // Each leaves its own way: rooms left one by one, a DISCONNECT packet, a closed transport.
    for (const char* room : {"r", "s"}) {
        a_->send(std::string(R"(420["leave",")") + room + "\"]");
        EXPECT_EQ(a_->nextText(), "430[]");
    }
    b_->send("41");
    c_->close();
    std::vector<std::string> gone;
    for (int i = 0; i < 2; ++i) gone.push_back(disconnected_.pop().value_or("none"));
    std::sort(gone.begin(), gone.end());
    std::vector<std::string> expected{ids_[1] + " client namespace disconnect", ids_[2] + " transport close"};
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(gone, expected);

    sizes = shardSizes();
    EXPECT_EQ(sizes[ac].sockets, 1u) << "a is still connected";
    EXPECT_EQ(sizes[ac].rooms, 0u);
    EXPECT_EQ(sizes[b].sockets, 0u);
    EXPECT_EQ(sizes[b].rooms, 0u);

    a_->close();
    EXPECT_EQ(disconnected_.pop(), ids_[0] + " transport close");
    sizes = shardSizes();
    for (const auto& size : sizes) {
        EXPECT_EQ(size.sockets, 0u);
        EXPECT_EQ(size.rooms, 0u);
    }
}

} // namespace
