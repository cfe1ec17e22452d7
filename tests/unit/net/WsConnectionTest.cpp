#include "net/WsConnection.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <gtest/gtest.h>

#include <memory>
#include <string>
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
