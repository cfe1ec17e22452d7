#include "net/HttpConnection.hpp"

#include "Loopback.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace parley::net {
// Names in failure messages rather than numbers.
void PrintTo(HttpConnection::Phase phase, std::ostream* os) {
    static constexpr const char* kNames[] = {"Reading", "Refused", "Awaiting", "Writing", "Done"};
    *os << kNames[static_cast<int>(phase)];
}
} // namespace parley::net

namespace {

using namespace parley::net;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Phase = HttpConnection::Phase;
using parley::net::test::runUntil;

Response answer(std::string_view body) {
    Response res{http::status::ok, 11};
    res.body() = std::string(body);
    return res;
}

/// An HttpConnection on a loopback connection, with a raw HTTP client on the other end, all
/// run on this thread. As the handler, it answers each request at once with its target as the
/// body, or holds it (hold = true) to be answered later, counting the aborts it is told of.
class HttpLoopback : private HttpHandler {
public:
    enum class Kind { Accepted, Refused };

    explicit HttpLoopback(Kind kind = Kind::Accepted, HttpLimits limits = {}) {
        auto [client, server] = parley::net::test::connectLoopback(io_);
        client_ = std::move(client);
        server_ = kind == Kind::Refused ? HttpConnection::refused(std::move(server), handler(), limits)
                                        : std::make_shared<HttpConnection>(std::move(server), handler(), limits);
        server_->start();
    }
    HttpLoopback(const HttpLoopback&) = delete;
    HttpLoopback& operator=(const HttpLoopback&) = delete;
    // A held connection is released first: it must not outlive the io_context its socket
    // belongs to (members are destroyed in reverse order, and io_ is declared after it).
    ~HttpLoopback() override {
        held.reset();
        parley::net::test::settle(io_);
    }

    template <class Done>
    bool run(Done&& done, std::chrono::steady_clock::duration deadline = parley::net::test::kDeadline) {
        return runUntil(io_, std::forward<Done>(done), deadline);
    }
    /// Runs what is ready (what the client wrote has arrived: loopback writes are synchronous).
    void settle() { parley::net::test::settle(io_); }

    HttpConnection& server() { return *server_; }
    tcp::socket& client() { return client_; }
    bool hold = false;
    std::shared_ptr<HttpConnection> held;
    int aborts = 0;
    const std::vector<std::string>& targets() const { return targets_; }

    void write(const std::string& bytes) { asio::write(client_, asio::buffer(bytes)); }

    /// The next response on the client; nullopt if none came (the error is in readEc()).
    std::optional<http::response<http::string_body>> read() {
        http::response<http::string_body> res;
        bool done = false;
        http::async_read(client_, clientBuffer_, res, [&](error_code ec, std::size_t) {
            readEc_ = ec;
            done = true;
        });
        if (!run([&done] { return done; }) || readEc_) return std::nullopt;
        return res;
    }
    error_code readEc() const { return readEc_; }

    /// Whether the server ended the connection: the client reads its end.
    bool serverEnded() {
        read();
        return readEc_ == http::error::end_of_stream;
    }

private:
    HttpHandler& handler() { return *this; }
    void onRequest(const std::shared_ptr<HttpConnection>& conn, Request&& req) override {
        targets_.emplace_back(req.target());
        EXPECT_EQ(conn->phase(), Phase::Awaiting);
        if (hold) {
            held = conn;
            conn->onAbort([this] { ++aborts; });
            return;
        }
        conn->respond(answer(req.target()));
    }

    asio::io_context io_;
    tcp::socket client_{io_};
    beast::flat_buffer clientBuffer_;
    std::shared_ptr<HttpConnection> server_;
    std::vector<std::string> targets_;
    error_code readEc_;
};

std::string get(const std::string& target, const std::string& extra = "") {
    return "GET " + target + " HTTP/1.1\r\nHost: test\r\n" + extra + "\r\n";
}

} // namespace

TEST(HttpPhaseTest, TheTableAllowsExactlyTheRequestCyclesTransitions) {
    const std::vector<Phase> all{Phase::Reading, Phase::Refused, Phase::Awaiting, Phase::Writing, Phase::Done};
    const std::set<std::pair<Phase, Phase>> legal{
        {Phase::Reading, Phase::Awaiting}, {Phase::Reading, Phase::Writing}, {Phase::Reading, Phase::Done},
        {Phase::Refused, Phase::Writing},  {Phase::Refused, Phase::Done},    {Phase::Awaiting, Phase::Writing},
        {Phase::Awaiting, Phase::Done},    {Phase::Writing, Phase::Reading}, {Phase::Writing, Phase::Done},
    };
    for (const Phase from : all) {
        for (const Phase to : all) {
            EXPECT_EQ(HttpConnection::isLegal(from, to), legal.count({from, to}) == 1)
                << ::testing::PrintToString(from) << " -> " << ::testing::PrintToString(to);
        }
    }
}

TEST(HttpConnectionTest, AKeptAliveConnectionServesRequestsOneAfterAnother) {
    HttpLoopback pair;
    for (const std::string target : {"/one", "/two"}) {
        pair.write(get(target));
        auto res = pair.read();
        ASSERT_TRUE(res) << pair.readEc().message();
        EXPECT_EQ(res->result(), http::status::ok);
        EXPECT_EQ(res->body(), target);
        EXPECT_TRUE(res->keep_alive());
        // Reading again once the response is out.
        ASSERT_TRUE(pair.run([&] { return pair.server().phase() == Phase::Reading; }));
    }
    EXPECT_EQ(pair.targets(), (std::vector<std::string>{"/one", "/two"}));
    // The client ends its side: the server ends too.
    pair.client().shutdown(tcp::socket::shutdown_send);
    EXPECT_TRUE(pair.serverEnded());
    EXPECT_EQ(pair.server().phase(), Phase::Done);
}

TEST(HttpConnectionTest, ConnectionCloseEndsTheConnectionAfterTheResponse) {
    HttpLoopback pair;
    pair.write(get("/last", "Connection: close\r\n"));
    auto res = pair.read();
    ASSERT_TRUE(res);
    EXPECT_FALSE(res->keep_alive());
    EXPECT_TRUE(pair.serverEnded());
    EXPECT_EQ(pair.server().phase(), Phase::Done);
}

TEST(HttpConnectionTest, ARefusedConnectionIsAnswered429ThenClosed) {
    HttpLoopback pair(HttpLoopback::Kind::Refused);
    EXPECT_EQ(pair.server().phase(), Phase::Refused);
    pair.write(get("/socket.io/?EIO=4&transport=polling"));
    auto res = pair.read();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result(), http::status::too_many_requests);
    EXPECT_FALSE(res->keep_alive());
    EXPECT_TRUE(pair.serverEnded());
    EXPECT_TRUE(pair.targets().empty()) << "the handler never sees it";
    EXPECT_EQ(pair.server().phase(), Phase::Done);
}

TEST(HttpConnectionTest, APeerLeavingWhileAResponseIsOwedIsNoticed) {
    HttpLoopback pair;
    pair.hold = true;
    pair.write(get("/held"));
    ASSERT_TRUE(pair.run([&] { return pair.held != nullptr; }));
    EXPECT_EQ(pair.server().phase(), Phase::Awaiting);
    pair.client().close();
    ASSERT_TRUE(pair.run([&] { return pair.aborts == 1; }));
    EXPECT_EQ(pair.server().phase(), Phase::Done);
    // An answer after that goes nowhere, and the abort is not reported again.
    pair.held->respond(answer("late"));
    EXPECT_EQ(pair.server().phase(), Phase::Done);
    pair.settle();
    EXPECT_EQ(pair.aborts, 1);
}

TEST(HttpConnectionTest, AHeldRequestAnsweredLaterIsFollowedByTheNextOne) {
    HttpLoopback pair;
    pair.hold = true;
    pair.write(get("/held"));
    ASSERT_TRUE(pair.run([&] { return pair.held != nullptr; }));
    // The next request comes while the first is held: the watch keeps its bytes for later.
    pair.hold = false;
    pair.write(get("/next"));
    pair.settle();
    EXPECT_EQ(pair.targets(), (std::vector<std::string>{"/held"}));
    EXPECT_EQ(pair.server().phase(), Phase::Awaiting);
    pair.held->respond(answer("answered later"));
    auto first = pair.read();
    ASSERT_TRUE(first);
    EXPECT_EQ(first->body(), "answered later");
    auto second = pair.read();
    ASSERT_TRUE(second);
    EXPECT_EQ(second->body(), "/next");
    EXPECT_EQ(pair.aborts, 0);
}

TEST(HttpConnectionTest, AnOversizedBodyIsAnswered413ThenClosed) {
    HttpLimits limits;
    limits.bodyLimit = 16;
    HttpLoopback pair(HttpLoopback::Kind::Accepted, limits);
    pair.write("POST /upload HTTP/1.1\r\nHost: test\r\nContent-Length: 100\r\n\r\n" + std::string(100, 'x'));
    auto res = pair.read();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result(), http::status::payload_too_large);
    EXPECT_TRUE(pair.serverEnded());
    EXPECT_TRUE(pair.targets().empty());
    EXPECT_EQ(pair.server().phase(), Phase::Done);
}

TEST(HttpConnectionTest, AnUnfinishedRequestTimesOut) {
    HttpLimits limits;
    limits.requestTimeout = std::chrono::milliseconds(100);
    HttpLoopback pair(HttpLoopback::Kind::Accepted, limits);
    pair.write("GET /slow HTTP/1.1\r\nHost: te");
    ASSERT_TRUE(pair.run([&] { return pair.server().phase() == Phase::Done; }));
    EXPECT_TRUE(pair.targets().empty());
}
