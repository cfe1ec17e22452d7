#include "net/WsConnection.hpp"

#include "Loopback.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <gtest/gtest.h>

#include <array>
#include <functional>
#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <utility>
#include <vector>

using namespace parley::net;
namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

/// A client ping with a zero masking key (so the payload reads as is on the wire).
std::string pingFrame(const std::string& payload) {
    std::string frame{static_cast<char>(0x89), static_cast<char>(0x80 | payload.size())};
    frame.append(4, '\0');
    return frame + payload;
}

/// The payload of ping number `i`: 125 bytes, the largest a control frame carries.
std::string pingPayload(int i) {
    std::string payload = "ping-" + std::to_string(i) + "-";
    payload.resize(125, '.');
    return payload;
}

/// A server-side WsConnection over loopback, with small kernel buffers so that a client that
/// does not read blocks the server's writes quickly. Everything runs on this thread: pump()
/// runs what is ready.
class WsPair {
public:
    WsPair() {
        tcp::acceptor acceptor(io_, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
        client_.open(tcp::v4());
        client_.set_option(asio::socket_base::receive_buffer_size(4096));
        client_.connect(acceptor.local_endpoint());
        tcp::socket accepted(io_);
        acceptor.accept(accepted);
        accepted.set_option(asio::socket_base::send_buffer_size(4096));
        client_.non_blocking(true);
        server_ =
            std::make_shared<WsConnection>(boost::beast::tcp_stream(std::move(accepted)), boost::beast::flat_buffer{});
        Request req{http::verb::get, "/", 11};
        req.set(http::field::sec_websocket_version, "13");
        req.set(http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
        error_code acceptEc = asio::error::fault;
        server_->accept(std::move(req), 1'000'000, [&acceptEc](error_code ec) { acceptEc = ec; });
        EXPECT_FALSE(acceptEc);
        server_->start([](std::string_view, bool) {},
                       [this](error_code ec) {
                           closed_ = true;
                           closeEc_ = ec;
                       });
    }

    WsConnection& server() { return *server_; }
    bool closed() const { return closed_; }
    error_code closeEc() const { return closeEc_; }

    /// Runs the handlers that are ready until none is.
    void pump() {
        for (int i = 0; i < 100; ++i) {
            io_.restart();
            if (io_.poll() == 0) return;
        }
    }

    /// Writes `bytes` from the client, pumping the server whenever the client's buffer is full.
    /// False if the connection broke first.
    bool send(const std::string& bytes) {
        std::size_t done = 0;
        for (int spins = 0; done < bytes.size(); ++spins) {
            if (closed_ || spins > 100'000) return false;
            error_code ec;
            done += client_.write_some(asio::buffer(bytes.data() + done, bytes.size() - done), ec);
            if (ec && ec != asio::error::would_block && ec != asio::error::try_again) return false;
            pump();
        }
        return true;
    }

    /// Reads what the server sent so far and returns the payloads of the pongs in it.
    std::vector<std::string> readPongs() {
        std::vector<std::string> pongs;
        for (int idle = 0; idle < 3;) {
            pump();
            std::array<char, 65536> chunk;
            error_code ec;
            const std::size_t n = client_.read_some(asio::buffer(chunk), ec);
            if (ec) {
                ++idle;
                continue;
            }
            idle = 0;
            input_.append(chunk.data(), n);
        }
        if (!headSeen_) {
            const auto end = input_.find("\r\n\r\n");
            if (end == std::string::npos) return pongs;
            input_.erase(0, end + 4);
            headSeen_ = true;
        }
        // Server frames here are all short: a two-byte header, then the payload.
        while (input_.size() >= 2) {
            const auto opcode = static_cast<std::uint8_t>(input_[0]) & 0x0F;
            const std::size_t length = static_cast<std::uint8_t>(input_[1]) & 0x7F;
            if (length >= 126 || input_.size() < 2 + length) break;
            if (opcode == static_cast<std::uint8_t>(ws::Opcode::Pong)) pongs.push_back(input_.substr(2, length));
            input_.erase(0, 2 + length);
        }
        return pongs;
    }

private:
    asio::io_context io_;
    tcp::socket client_{io_};
    std::shared_ptr<WsConnection> server_;
    std::string input_;
    bool headSeen_ = false;
    bool closed_ = false;
    error_code closeEc_;
};

} // namespace

TEST(WsConnectionTest, APingFloodFromAPeerThatDoesNotReadHoldsOnePong) {
    WsPair pair;
    // 190 kB of pongs, far more than the kernel buffers hold: the server's writes block.
    constexpr int kPings = 3000;
    for (int i = 0; i < kPings / 2; ++i) ASSERT_TRUE(pair.send(pingFrame(pingPayload(i)))) << i;
    pair.pump();
    const std::uint64_t queued = pair.server().queuedBytes();
    // Every further ping's pong takes over the one pending: the queue does not grow.
    for (int i = kPings / 2; i < kPings; ++i) ASSERT_TRUE(pair.send(pingFrame(pingPayload(i)))) << i;
    pair.pump();
    EXPECT_FALSE(pair.closed()) << "within the default bound";
    EXPECT_LE(pair.server().queuedBytes(), queued + 125u);
    // Once the peer reads, it gets the pong of its latest ping last.
    std::vector<std::string> pongs;
    for (int i = 0; i < 100 && (pongs.empty() || pongs.back() != pingPayload(kPings - 1)); ++i) {
        auto more = pair.readPongs();
        pongs.insert(pongs.end(), more.begin(), more.end());
    }
    ASSERT_FALSE(pongs.empty());
    EXPECT_EQ(pongs.back(), pingPayload(kPings - 1));
    EXPECT_LT(pongs.size(), static_cast<std::size_t>(kPings));
}

TEST(WsConnectionTest, APeerThatDoesNotReadItsPongsIsCutOffAsASlowConsumer) {
    WsPair pair;
    pair.server().setMaxQueuedBytes(16 * 1024);
    for (int i = 0; i < 5000 && !pair.closed(); ++i) {
        if (!pair.send(pingFrame(pingPayload(i)))) break;
    }
    pair.pump();
    EXPECT_TRUE(pair.closed());
    EXPECT_EQ(pair.closeEc(), asio::error::no_buffer_space);
}

TEST(WsConnectionTest, APeerThatReadsGetsThePongOfEveryRoundsLastPingAndStays) {
    WsPair pair;
    pair.server().setMaxQueuedBytes(16 * 1024);
    // 100 rounds of 20 pings: 250 kB of pongs in all, far over the bound, read as they come.
    for (int round = 0; round < 100; ++round) {
        std::string last;
        for (int i = 0; i < 20; ++i) {
            last = pingPayload(round * 20 + i);
            ASSERT_TRUE(pair.send(pingFrame(last)));
        }
        std::vector<std::string> pongs;
        for (int tries = 0; tries < 100 && (pongs.empty() || pongs.back() != last); ++tries) {
            auto more = pair.readPongs();
            pongs.insert(pongs.end(), more.begin(), more.end());
        }
        ASSERT_FALSE(pongs.empty()) << round;
        EXPECT_EQ(pongs.back(), last) << round;
        ASSERT_FALSE(pair.closed()) << round;
    }
}

TEST(WsConnectionTest, AConnectionWhoseOwnerSetsNoBoundIsStillBounded) {
    // More than the default bound (kDefaultMaxQueuedBytes, 8 MiB) for a peer that does not read.
    const std::size_t kOver = 9 * 1024 * 1024;
    for (const bool setZero : {false, true}) {
        WsPair pair;
        if (setZero) pair.server().setMaxQueuedBytes(0);
        pair.server().send(Frame{makeSharedBuffer(std::string(kOver, 'x')), true});
        pair.pump();
        EXPECT_TRUE(pair.closed()) << setZero;
        EXPECT_EQ(pair.closeEc(), asio::error::no_buffer_space) << setZero;
    }
}

// --- the close handshake, against a Beast client -----------------------------------------

namespace parley::net {
// Names in failure messages rather than numbers.
void PrintTo(WsConnection::State state, std::ostream* os) {
    static constexpr const char* kNames[] = {"Open",       "Refusing", "Closing", "CloseSent",
                                             "PeerClosed", "Dropping", "Finished"};
    *os << kNames[static_cast<int>(state)];
}
} // namespace parley::net

namespace {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
using State = WsConnection::State;
using parley::net::test::runUntil;

struct WsOptions {
    std::uint64_t maxMessage = 1'000'000;
    bool smallBuffers = false;
    /// Changes the client's upgrade request (to have it refused).
    std::function<void(websocket::request_type&)> decorate;
};

/// A WsConnection upgraded from a real HttpConnection, with a Beast WebSocket client on the
/// other end of a loopback connection, all run on this thread. It records the server's states
/// as seen between handlers (trace()), what the server delivered and how often it reported
/// its close.
class WsLoopback : private HttpHandler {
public:
    explicit WsLoopback(WsOptions options = {}) : maxMessage_(options.maxMessage) {
        auto [client, server] = parley::net::test::connectLoopback(io_, options.smallBuffers);
        client_.next_layer().socket() = std::move(client);
        http_ = std::make_shared<HttpConnection>(std::move(server), handler(), HttpLimits{});
        http_->start();
        if (options.decorate) client_.set_option(websocket::stream_base::decorator(options.decorate));
        client_.async_handshake("localhost", "/", [this](error_code ec) {
            handshakeEc_ = ec;
            handshakeDone_ = true;
        });
        EXPECT_TRUE(run([this] { return handshakeDone_; }));
    }
    WsLoopback(const WsLoopback&) = delete;
    WsLoopback& operator=(const WsLoopback&) = delete;

    ~WsLoopback() override {
        // Nothing of this test may stay in the thread's flush list once its io_context is gone.
        parley::net::test::settle(io_);
    }

    /// Runs handlers until `done()` holds, recording each state the server passes through.
    template <class Done>
    bool run(Done&& done, std::chrono::steady_clock::duration deadline = parley::net::test::kDeadline) {
        return runUntil(
            io_,
            [&] {
                observe();
                return done();
            },
            deadline);
    }
    /// Runs what is ready, until nothing is.
    void settle() {
        parley::net::test::settle(io_);
        observe();
    }

    WsConnection& server() { return *server_; }
    const std::vector<State>& trace() const { return trace_; }
    HttpConnection::Phase httpPhaseAfterUpgrade() const { return httpPhaseAfterUpgrade_; }
    error_code handshakeEc() const { return handshakeEc_; }
    error_code acceptEc() const { return acceptEc_; }
    const std::vector<std::string>& delivered() const { return delivered_; }
    int closes() const { return closes_; }
    error_code closeEc() const { return closeEc_; }

    websocket::stream<beast::tcp_stream>& client() { return client_; }
    tcp::socket& clientSocket() { return client_.next_layer().socket(); }

    /// Reads messages on the client until its read fails (closed(), for a completed handshake).
    void startReading() {
        client_.async_read(clientBuffer_, [this](error_code ec, std::size_t) {
            if (ec) {
                clientReadEc_ = ec;
                clientReadDone_ = true;
                return;
            }
            received_.push_back(beast::buffers_to_string(clientBuffer_.data()));
            clientBuffer_.consume(clientBuffer_.size());
            startReading();
        });
    }
    bool clientReadDone() const { return clientReadDone_; }
    error_code clientReadEc() const { return clientReadEc_; }
    const std::vector<std::string>& received() const { return received_; }

    /// Starts the client's close handshake.
    void clientClose(websocket::close_code code) {
        client_.async_close(code, [this](error_code ec) {
            clientCloseEc_ = ec;
            clientCloseDone_ = true;
        });
    }
    bool clientCloseDone() const { return clientCloseDone_; }
    error_code clientCloseEc() const { return clientCloseEc_; }

    /// Writes raw bytes from the client (a frame Beast would not send).
    void writeRaw(const std::string& bytes) { asio::write(clientSocket(), asio::buffer(bytes)); }

    /// Reads `n` raw bytes on the client; "" if they do not come in time.
    std::string readRaw(std::size_t n) {
        std::string out;
        bool done = false;
        asio::async_read(clientSocket(), asio::dynamic_buffer(out), asio::transfer_exactly(n),
                         [&done](error_code, std::size_t) { done = true; });
        if (!run([&done] { return done; })) return "";
        return out;
    }

private:
    HttpHandler& handler() { return *this; }
    void onRequest(const std::shared_ptr<HttpConnection>& conn, Request&& req) override {
        server_ = conn->upgrade();
        httpPhaseAfterUpgrade_ = conn->phase();
        server_->accept(std::move(req), maxMessage_, [this](error_code ec) { acceptEc_ = ec; });
        observe();
        if (acceptEc_) return;
        server_->start([this](std::string_view data, bool) { delivered_.emplace_back(data); },
                       [this](error_code ec) {
                           ++closes_;
                           closeEc_ = ec;
                       });
    }

    void observe() {
        if (server_ && (trace_.empty() || trace_.back() != server_->state())) trace_.push_back(server_->state());
    }

    asio::io_context io_;
    websocket::stream<beast::tcp_stream> client_{io_};
    beast::flat_buffer clientBuffer_;
    std::uint64_t maxMessage_;
    std::shared_ptr<HttpConnection> http_;
    std::shared_ptr<WsConnection> server_;
    HttpConnection::Phase httpPhaseAfterUpgrade_ = HttpConnection::Phase::Reading;
    std::vector<State> trace_;
    error_code handshakeEc_ = asio::error::fault;
    bool handshakeDone_ = false;
    error_code acceptEc_ = asio::error::fault;
    std::vector<std::string> delivered_;
    int closes_ = 0;
    error_code closeEc_;
    std::vector<std::string> received_;
    bool clientReadDone_ = false;
    error_code clientReadEc_;
    bool clientCloseDone_ = false;
    error_code clientCloseEc_;
};

Frame text(const std::string& s) { return Frame{makeSharedBuffer(s), false}; }

/// A client frame (masked, as a client must) with FIN and `opcode` in its first byte `b0`.
std::string rawClientFrame(std::uint8_t b0, const std::string& payload) {
    EXPECT_LT(payload.size(), 126u);
    const std::array<std::uint8_t, 4> mask{0x11, 0x22, 0x33, 0x44};
    std::string frame{static_cast<char>(b0), static_cast<char>(0x80 | payload.size())};
    frame.append(mask.begin(), mask.end());
    for (std::size_t i = 0; i < payload.size(); ++i)
        frame.push_back(static_cast<char>(static_cast<std::uint8_t>(payload[i]) ^ mask[i % 4]));
    return frame;
}

/// The close frame a server sends with `code` (unmasked, code only).
std::string serverCloseFrame(std::uint16_t code) {
    return {static_cast<char>(0x88), 2, static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)};
}

} // namespace

TEST(WsStateTest, TheTableAllowsExactlyTheHandshakesTransitions) {
    const std::vector<State> all{State::Open,       State::Refusing, State::Closing, State::CloseSent,
                                 State::PeerClosed, State::Dropping, State::Finished};
    const std::set<std::pair<State, State>> legal{
        {State::Open, State::Refusing},      {State::Open, State::Closing},        {State::Open, State::PeerClosed},
        {State::Open, State::Dropping},      {State::Open, State::Finished},       {State::Closing, State::CloseSent},
        {State::Closing, State::PeerClosed}, {State::Closing, State::Finished},    {State::Refusing, State::Finished},
        {State::CloseSent, State::Finished}, {State::PeerClosed, State::Finished}, {State::Dropping, State::Finished},
    };
    for (const State from : all) {
        for (const State to : all) {
            EXPECT_EQ(WsConnection::isLegal(from, to), legal.count({from, to}) == 1)
                << ::testing::PrintToString(from) << " -> " << ::testing::PrintToString(to);
        }
    }
}

TEST(WsCloseTest, OurCloseSendsTheQueuedDataThenTheCloseFrameThenEndsTheConnection) {
    WsLoopback pair;
    ASSERT_FALSE(pair.handshakeEc());
    EXPECT_EQ(pair.httpPhaseAfterUpgrade(), HttpConnection::Phase::Done);
    pair.server().send(text("first"));
    pair.server().send(text("second"));
    pair.server().close(ws::CloseCode::GoingAway);
    EXPECT_FALSE(pair.server().isOpen());
    // The client does not read yet: everything is written, and the peer's close awaited.
    ASSERT_TRUE(pair.run([&] { return pair.server().state() == State::CloseSent; }));
    EXPECT_EQ(pair.closes(), 0);
    // The client reads the data, then the close frame; it answers, and its read ends once the
    // server has ended the TCP connection (a Beast client waits for that).
    pair.startReading();
    ASSERT_TRUE(pair.run([&] { return pair.clientReadDone() && pair.closes() == 1; }));
    EXPECT_EQ(pair.received(), (std::vector<std::string>{"first", "second"}));
    EXPECT_EQ(pair.clientReadEc(), websocket::error::closed);
    EXPECT_EQ(pair.client().reason().code, websocket::close_code::going_away);
    EXPECT_EQ(pair.closeEc(), websocket::error::closed);
    EXPECT_EQ(pair.trace(), (std::vector<State>{State::Open, State::Closing, State::CloseSent, State::Finished}));
    pair.settle();
    EXPECT_EQ(pair.closes(), 1);
}

TEST(WsCloseTest, ThePeersCloseIsEchoedThenTheConnectionEnds) {
    WsLoopback pair;
    pair.clientClose(websocket::close_code::going_away);
    ASSERT_TRUE(pair.run([&] { return pair.server().state() == State::PeerClosed; }));
    EXPECT_EQ(pair.closes(), 0) << "reported once the reply is written";
    ASSERT_TRUE(pair.run([&] { return pair.clientCloseDone() && pair.closes() == 1; }));
    EXPECT_FALSE(pair.clientCloseEc());
    EXPECT_EQ(pair.client().reason().code, websocket::close_code::going_away) << "the peer's code, echoed";
    EXPECT_EQ(pair.closeEc(), websocket::error::closed);
    EXPECT_EQ(pair.trace(), (std::vector<State>{State::Open, State::PeerClosed, State::Finished}));
}

TEST(WsCloseTest, BothSidesClosingAtOnceEachTakeTheOthersCloseAsTheReply) {
    WsLoopback pair;
    pair.server().close(ws::CloseCode::Normal);
    pair.clientClose(websocket::close_code::normal);
    ASSERT_TRUE(pair.run([&] { return pair.clientCloseDone() && pair.closes() == 1; }));
    EXPECT_FALSE(pair.clientCloseEc());
    EXPECT_EQ(pair.closeEc(), websocket::error::closed);
    // Whichever the server saw first, its own write or the peer's close, ends in the same place.
    const std::vector<State> oursFirst{State::Open, State::Closing, State::CloseSent, State::Finished};
    const std::vector<State> theirsFirst{State::Open, State::Closing, State::PeerClosed, State::Finished};
    EXPECT_TRUE(pair.trace() == oursFirst || pair.trace() == theirsFirst) << ::testing::PrintToString(pair.trace());
    pair.settle();
    EXPECT_EQ(pair.closes(), 1);
}

TEST(WsCloseTest, ThePeersCloseWhileOursWaitsBehindDataIsTakenAsTheReply) {
    WsLoopback pair(WsOptions{.smallBuffers = true});
    // Far more than the kernel buffers hold: the server's writes block, its close frame waits.
    pair.server().send(Frame{makeSharedBuffer(std::string(1024 * 1024, 'x')), true});
    pair.server().close(ws::CloseCode::Normal);
    pair.settle();
    ASSERT_EQ(pair.server().state(), State::Closing);
    ASSERT_GT(pair.server().queuedBytes(), 0u);
    // The client's close crosses ours; Beast then reads (and drops) the data up to our close.
    pair.clientClose(websocket::close_code::policy_error);
    ASSERT_TRUE(pair.run([&] { return pair.clientCloseDone() && pair.closes() == 1; }));
    EXPECT_FALSE(pair.clientCloseEc());
    EXPECT_EQ(pair.client().reason().code, websocket::close_code::normal) << "ours, not an echo";
    EXPECT_EQ(pair.closeEc(), websocket::error::closed);
    EXPECT_EQ(pair.trace(), (std::vector<State>{State::Open, State::Closing, State::PeerClosed, State::Finished}));
}

TEST(WsCloseTest, APeerThatLeavesAfterOurCloseFrameEndsTheHandshake) {
    WsLoopback pair;
    pair.server().close();
    ASSERT_TRUE(pair.run([&] { return pair.server().state() == State::CloseSent; }));
    pair.clientSocket().close();
    ASSERT_TRUE(pair.run([&] { return pair.closes() == 1; }));
    // Our close was out: its end is the end of the handshake, not an error.
    EXPECT_EQ(pair.closeEc(), websocket::error::closed);
    EXPECT_EQ(pair.trace(), (std::vector<State>{State::Open, State::Closing, State::CloseSent, State::Finished}));
    pair.settle();
    EXPECT_EQ(pair.closes(), 1);
}

TEST(WsCloseTest, APeerThatNeverAnswersOurCloseIsDroppedAfterTheCloseTimeout) {
    WsLoopback pair;
    pair.server().close();
    // The client neither reads nor leaves; the server's close timer (5 s) ends it.
    ASSERT_TRUE(pair.run([&] { return pair.closes() == 1; }, std::chrono::seconds(15)));
    EXPECT_EQ(pair.closeEc(), beast::error::timeout);
    EXPECT_EQ(pair.trace(), (std::vector<State>{State::Open, State::Closing, State::CloseSent, State::Finished}));
    pair.settle();
    EXPECT_EQ(pair.closes(), 1);
}

TEST(WsCloseTest, APeerThatVanishesWhileOurCloseIsQueuedIsReportedOnceWithItsError) {
    WsLoopback pair(WsOptions{.smallBuffers = true});
    pair.server().send(Frame{makeSharedBuffer(std::string(1024 * 1024, 'x')), true});
    pair.server().close();
    pair.settle();
    ASSERT_EQ(pair.server().state(), State::Closing);
    // A reset, not a close: the server's pending write and read both fail.
    pair.clientSocket().set_option(asio::socket_base::linger(true, 0));
    pair.clientSocket().close();
    ASSERT_TRUE(pair.run([&] { return pair.closes() == 1; }));
    EXPECT_TRUE(pair.closeEc());
    EXPECT_NE(pair.closeEc(), websocket::error::closed) << "the handshake did not complete";
    EXPECT_EQ(pair.trace(), (std::vector<State>{State::Open, State::Closing, State::Finished}));
    pair.settle();
    EXPECT_EQ(pair.closes(), 1);
    EXPECT_EQ(pair.server().queuedBytes(), 0u) << "a finished connection holds nothing";
}

TEST(WsCloseTest, APeerThatVanishesWhileOpenIsReportedOnce) {
    WsLoopback pair;
    pair.clientSocket().close();
    ASSERT_TRUE(pair.run([&] { return pair.closes() == 1; }));
    EXPECT_EQ(pair.closeEc(), asio::error::eof);
    EXPECT_EQ(pair.trace(), (std::vector<State>{State::Open, State::Finished}));
}

TEST(WsCloseTest, WritesAfterCloseAreDropped) {
    WsLoopback pair;
    pair.server().send(text("before"));
    pair.server().close();
    const std::uint64_t queued = pair.server().queuedBytes();
    pair.server().send(text("after"));
    pair.server().sendNow(text("after, now"));
    pair.server().close(ws::CloseCode::InternalError); // a second close changes nothing
    EXPECT_EQ(pair.server().queuedBytes(), queued);
    pair.startReading();
    ASSERT_TRUE(pair.run([&] { return pair.clientReadDone() && pair.closes() == 1; }));
    EXPECT_EQ(pair.received(), (std::vector<std::string>{"before"}));
    EXPECT_EQ(pair.client().reason().code, websocket::close_code::normal);
    // Finished: nothing is queued any more.
    pair.server().send(text("late"));
    pair.server().close();
    EXPECT_EQ(pair.server().queuedBytes(), 0u);
    pair.settle();
    EXPECT_EQ(pair.closes(), 1);
}

TEST(WsCloseTest, OverTheQueueBoundTheConnectionIsDroppedNextTurnWithoutACloseFrame) {
    WsLoopback pair;
    pair.server().setMaxQueuedBytes(1024);
    pair.server().send(Frame{makeSharedBuffer(std::string(2048, 'x')), true});
    EXPECT_EQ(pair.server().state(), State::Dropping);
    EXPECT_EQ(pair.closes(), 0) << "not reported from inside send()";
    pair.server().close();
    pair.server().send(text("ignored"));
    EXPECT_EQ(pair.server().state(), State::Dropping);
    pair.startReading();
    ASSERT_TRUE(pair.run([&] { return pair.clientReadDone() && pair.closes() == 1; }));
    EXPECT_EQ(pair.closeEc(), asio::error::no_buffer_space);
    EXPECT_TRUE(pair.clientReadEc());
    EXPECT_NE(pair.clientReadEc(), websocket::error::closed) << "no close frame came";
    EXPECT_EQ(pair.trace(), (std::vector<State>{State::Open, State::Dropping, State::Finished}));
}

TEST(WsCloseTest, ARefusedUpgradeIsAnsweredWithItsHttpErrorThenTheConnectionEnds) {
    struct Case {
        const char* header;
        const char* value;
        error_code acceptEc;
    };
    for (const Case& c : {Case{"Sec-WebSocket-Version", "12", websocket::error::bad_sec_version},
                          Case{"Sec-WebSocket-Key", "not a key", websocket::error::bad_sec_key}}) {
        WsLoopback pair(WsOptions{.decorate = [&c](websocket::request_type& req) { req.set(c.header, c.value); }});
        EXPECT_EQ(pair.handshakeEc(), websocket::error::upgrade_declined) << c.header;
        EXPECT_EQ(pair.acceptEc(), c.acceptEc) << c.header;
        // The TCP connection ends after the response.
        std::array<char, 64> rest;
        error_code readEc;
        bool readDone = false;
        pair.clientSocket().async_read_some(asio::buffer(rest), [&](error_code ec, std::size_t) {
            readEc = ec;
            readDone = true;
        });
        ASSERT_TRUE(pair.run([&] { return readDone; })) << c.header;
        EXPECT_EQ(readEc, asio::error::eof) << c.header;
        EXPECT_EQ(pair.trace(), (std::vector<State>{State::Refusing, State::Finished})) << c.header;
    }
}

TEST(WsCloseTest, APeersProtocolErrorIsReportedOnceAndAnsweredWithItsCloseCode) {
    struct Case {
        std::string frame;
        std::uint16_t closeCode;
        error_code reported;
    };
    const std::string unmaskedText{static_cast<char>(0x81), 2, 'h', 'i'};
    for (const Case& c : {Case{unmaskedText, 1002, websocket::error::bad_opcode},
                          Case{rawClientFrame(0x81, std::string(100, 'x')), 1009, websocket::error::message_too_big},
                          Case{rawClientFrame(0x81, "\xC3\x28"), 1007, websocket::error::bad_frame_payload}}) {
        WsLoopback pair(WsOptions{.maxMessage = 64});
        pair.writeRaw(c.frame);
        ASSERT_TRUE(pair.run([&] { return pair.closes() == 1; })) << c.closeCode;
        EXPECT_EQ(pair.closeEc(), c.reported) << c.closeCode;
        EXPECT_EQ(pair.readRaw(4), serverCloseFrame(c.closeCode));
        // The reader stopped: the peer's bytes are only drained, until it leaves.
        pair.writeRaw(rawClientFrame(0x81, "ignored"));
        pair.clientSocket().close();
        ASSERT_TRUE(pair.run([&] { return pair.server().state() == State::Finished; })) << c.closeCode;
        EXPECT_TRUE(pair.delivered().empty());
        EXPECT_EQ(pair.closes(), 1) << "reported when the error was found, not again";
        EXPECT_EQ(pair.trace(), (std::vector<State>{State::Open, State::Closing, State::CloseSent, State::Finished}));
    }
}

TEST(WsReadTest, AFragmentedMessageIsDeliveredWholeWithAPingBetweenItsFragments) {
    WsLoopback pair;
    int step = 0;
    auto next = [&step](error_code ec, std::size_t = 0) {
        EXPECT_FALSE(ec);
        ++step;
    };
    pair.client().text(true);
    pair.client().async_write_some(false, asio::buffer(std::string_view("frag-1 ")), next);
    ASSERT_TRUE(pair.run([&] { return step == 1; }));
    pair.client().async_ping({}, [&](error_code ec) { next(ec); });
    ASSERT_TRUE(pair.run([&] { return step == 2; }));
    pair.client().async_write_some(false, asio::buffer(std::string_view("frag-2 ")), next);
    ASSERT_TRUE(pair.run([&] { return step == 3; }));
    EXPECT_TRUE(pair.delivered().empty()) << "nothing until the last fragment";
    pair.client().async_write_some(true, asio::buffer(std::string_view("end")), next);
    ASSERT_TRUE(pair.run([&] { return step == 4 && !pair.delivered().empty(); }));
    EXPECT_EQ(pair.delivered(), (std::vector<std::string>{"frag-1 frag-2 end"}));
    EXPECT_EQ(pair.server().state(), State::Open);
}
