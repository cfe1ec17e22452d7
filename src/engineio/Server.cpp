#include "engineio/Server.hpp"

#include "engineio/codec/OpenPacket.hpp"
#include "net/WsConnection.hpp"

#include <boost/beast/websocket/rfc6455.hpp>
#include <sodium.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace parley::engineio {

namespace http = boost::beast::http;

namespace {
constexpr std::size_t kSidRandomChars = 20; // 15 random bytes in URL-safe base64
constexpr std::string_view kSidAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

class ErrorCategory final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "engineio"; }
    std::string message(int ev) const override {
        switch (static_cast<Errc>(ev)) {
        case Errc::UnknownTransport: return "Transport unknown";
        case Errc::UnknownSid: return "Session ID unknown";
        case Errc::BadHandshakeMethod: return "Bad handshake method";
        case Errc::BadRequest: return "Bad request";
        case Errc::Forbidden: return "Forbidden";
        case Errc::UnsupportedProtocolVersion: return "Unsupported protocol version";
        }
        return "Unknown error";
    }
};
} // namespace

const boost::system::error_category& errorCategory() noexcept {
    static const ErrorCategory category;
    return category;
}

net::Response toHttpResponse(Errc e) {
    net::Response res{e == Errc::Forbidden ? http::status::forbidden : http::status::bad_request, 11};
    res.set(http::field::content_type, "application/json");
    res.body() =
        "{\"code\":" + std::to_string(static_cast<int>(e)) + ",\"message\":\"" + make_error_code(e).message() + "\"}";
    return res;
}

Server::Server(Config config, Handler& handler, net::IoThreads& threads)
    : config_(std::move(config)), handler_(handler), threads_(threads), shards_(threads.size()) {}

net::Response Server::errorResponse(Errc e, net::Response&& templ) const {
    net::Response res = toHttpResponse(e);
    for (const auto& field : templ) res.set(field.name_string(), field.value());
    return res;
}

// CORS: any origin by default ("*"); with an allow-list, only listed origins are echoed back.
net::Response Server::responseTemplate(const net::Request& req) const {
    net::Response res{http::status::ok, req.version()};
    if (config_.corsOrigins.empty()) {
        res.set(http::field::access_control_allow_origin, "*");
    } else {
        res.set(http::field::vary, "Origin"); // the answer depends on it, allowed or not (caches)
        if (auto origin = req.find(http::field::origin); origin != req.end()) {
            const auto value = origin->value();
            if (std::find(config_.corsOrigins.begin(), config_.corsOrigins.end(), value) != config_.corsOrigins.end()) {
                res.set(http::field::access_control_allow_origin, value);
                res.set(http::field::access_control_allow_credentials, "true");
            }
        }
    }
    return res;
}

bool Server::originAllowed(const net::Request& req) const {
    if (config_.corsOrigins.empty()) return true;
    const auto origin = req.find(http::field::origin);
    // No Origin: not a browser (browsers send it on every WebSocket and cross-site request).
    if (origin == req.end()) return true;
    return std::find(config_.corsOrigins.begin(), config_.corsOrigins.end(), origin->value()) !=
           config_.corsOrigins.end();
}

boost::asio::ip::address Server::clientIp(const net::Request& req,
                                          const std::shared_ptr<net::HttpConnection>& conn) const {
    return net::clientAddress(peers_, conn->remoteIp(), req);
}

void Server::preflight(const std::shared_ptr<net::HttpConnection>& conn, const net::Request& req) {
    net::Response res = responseTemplate(req);
    res.result(http::status::no_content);
    res.set(http::field::access_control_allow_methods, "GET,POST,OPTIONS");
    if (auto h = req.find(http::field::access_control_request_headers); h != req.end())
        res.set(http::field::access_control_allow_headers, h->value());
    res.set(http::field::access_control_max_age, "86400");
    conn->respond(std::move(res));
}

std::string Server::newSid(std::size_t thread) const {
    unsigned char bytes[15];
    randombytes_buf(bytes, sizeof bytes);
    std::string sid(kSidRandomChars, '\0');
    sodium_bin2base64(sid.data(), kSidRandomChars + 1, bytes, sizeof bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sid.resize(kSidRandomChars);
    // The first character names the owner thread, so any thread can route a request to it.
    sid[0] = kSidAlphabet[thread % kSidAlphabet.size()];
    // And the suffix names the owner process: any node of a cluster can forward to it.
    sid += sidSuffix_;
    return sid;
}

bool Server::ownsSid(const std::string& sid) const noexcept {
    return sidSuffix_.empty() || (sid.size() == kSidRandomChars + sidSuffix_.size() && sid.ends_with(sidSuffix_));
}

std::size_t Server::ownerOf(const std::string& sid) const {
    const auto pos = kSidAlphabet.find(sid.front());
    return pos == std::string_view::npos || pos >= threads_.size() ? net::IoThreads::kNotAnIoThread : pos;
}

std::shared_ptr<const Handshake> Server::makeHandshake(const net::Request& req,
                                                       const std::shared_ptr<net::HttpConnection>& conn,
                                                       const boost::asio::ip::address& client) const {
    auto h = std::make_shared<Handshake>();
    h->url = std::string(req.target());
    // A forwarded client's port is the proxy's business: its address alone.
    h->remoteAddress = client == conn->remoteIp() ? conn->remoteAddress() : client.to_string();
    h->issued = std::chrono::system_clock::now();
    return h;
}

void Server::handle(const std::shared_ptr<net::HttpConnection>& conn, net::Request&& req) {
    if (req.method() == http::verb::options) return preflight(conn, req);

    const bool isUpgrade = boost::beast::websocket::is_upgrade(req);
    auto info = RequestInfo::parse(req.target(), req.method(), isUpgrade);
    if (!info) return conn->respond(errorResponse(static_cast<Errc>(info.error().value()), responseTemplate(req)));

    // A browser page from an origin not allowed may not open a session, nor take one over by
    // upgrading it (cross-site WebSocket hijacking: WebSockets are not subject to CORS).
    if ((info->sid.empty() || isUpgrade) && !originAllowed(req))
        return conn->respond(errorResponse(Errc::Forbidden, responseTemplate(req)));

    if (info->sid.empty()) return handshake(conn, std::move(req), *info, responseTemplate(req));
    if (forwarder_ && !ownsSid(info->sid)) return forward(conn, std::move(req), *info);

    const std::size_t owner = ownerOf(info->sid);
    if (owner == net::IoThreads::kNotAnIoThread)
        return conn->respond(errorResponse(Errc::UnknownSid, responseTemplate(req)));
    const std::size_t here = net::IoThreads::ownIndex(threads_);
    if (owner != here) return conn->migrate(threads_, owner, std::move(req));

    auto& sessions = shards_[here].sessions;
    auto it = sessions.find(info->sid);
    if (it == sessions.end()) return conn->respond(errorResponse(Errc::UnknownSid, responseTemplate(req)));
    auto session = it->second; // the request may close it, which takes it out of the map

    if (info->transport == TransportType::WebSocket)
        return session->onUpgradeRequest(conn, std::move(req), responseTemplate(req));
    if (session->transport() != TransportType::Polling)
        return conn->respond(errorResponse(Errc::BadRequest, responseTemplate(req)));
    session->onPollingRequest(conn, req, responseTemplate(req));
}

// The answer comes back on this thread, and goes out on the client's own connection.
void Server::forward(const std::shared_ptr<net::HttpConnection>& conn, net::Request&& req, const RequestInfo& info) {
    if (info.transport == TransportType::WebSocket) return conn->respond(notHere(responseTemplate(req)));
    const auto client = clientIp(req, conn);
    auto reply = [this, conn, templ = responseTemplate(req)](std::optional<net::Response> res) mutable {
        // No answer: the session is as good as unknown, and the client reconnects.
        conn->respond(res ? std::move(*res) : errorResponse(Errc::UnknownSid, std::move(templ)));
    };
    const auto handle = forwarder_->forward(info.sid, std::move(req), client.to_string(), std::move(reply));
    conn->onAbort([forwarder = forwarder_, handle] { forwarder->cancel(handle); });
}

// A WebSocket cannot travel over the bus: its upgrade has to reach the session's owner. The
// answer is the protocol's unknown-session body with status 503, which a load balancer that
// retries on 503 (nginx: `proxy_next_upstream ... http_503`) takes as "try the next node", until
// the owner takes the upgrade. A client whose upgrade is refused everywhere stays on polling.
net::Response Server::notHere(net::Response&& templ) const {
    net::Response res = errorResponse(Errc::UnknownSid, std::move(templ));
    res.result(http::status::service_unavailable);
    return res;
}

void Server::handleForwarded(std::shared_ptr<net::Responder> responder, net::Request&& req) {
    auto info = RequestInfo::parse(req.target(), req.method(), false);
    if (!info) return responder->respond(errorResponse(static_cast<Errc>(info.error().value()), responseTemplate(req)));
    const std::size_t owner = info->sid.empty() || info->transport != TransportType::Polling || !ownsSid(info->sid)
                                  ? net::IoThreads::kNotAnIoThread
                                  : ownerOf(info->sid);
    if (owner == net::IoThreads::kNotAnIoThread)
        return responder->respond(errorResponse(Errc::UnknownSid, responseTemplate(req)));
    threads_.postTo(owner, [this, responder = std::move(responder), req = std::move(req),
                            sid = std::move(info->sid)]() mutable { poll(responder, req, sid); });
}

void Server::poll(const std::shared_ptr<net::Responder>& responder, const net::Request& req, const std::string& sid) {
    auto& sessions = shards_[net::IoThreads::ownIndex(threads_)].sessions;
    auto it = sessions.find(sid);
    if (it == sessions.end()) return responder->respond(errorResponse(Errc::UnknownSid, responseTemplate(req)));
    auto session = it->second; // the request may close it, which takes it out of the map
    if (session->transport() != TransportType::Polling)
        return responder->respond(errorResponse(Errc::BadRequest, responseTemplate(req)));
    session->onPollingRequest(responder, req, responseTemplate(req));
}

void Server::onOversized(const net::Request& header) {
    auto info = RequestInfo::parse(header.target(), header.method(), false);
    if (!info || info->sid.empty()) return;
    const std::size_t owner = ownerOf(info->sid);
    if (owner == net::IoThreads::kNotAnIoThread) return;
    threads_.postTo(owner, [this, owner, sid = info->sid] {
        auto& sessions = shards_[owner].sessions;
        if (auto it = sessions.find(sid); it != sessions.end()) it->second->close(CloseReason::PayloadTooLarge);
    });
}

void Server::handshake(const std::shared_ptr<net::HttpConnection>& conn, net::Request&& req, const RequestInfo& info,
                       net::Response&& templ) {
    const auto client = clientIp(req, conn);
    if (peers_ && !peers_->allowHandshake(client)) {
        // Code 4 is the protocol's "refused by the server"; 429 and Retry-After say why and when.
        if (metrics_) metrics_->handshakesRefused.fetch_add(1, std::memory_order_relaxed);
        templ.result(http::status::too_many_requests);
        templ.set(http::field::content_type, "application/json");
        templ.set(http::field::retry_after, "1");
        templ.body() = R"({"code":4,"message":"Too many handshakes from this address"})";
        return conn->respond(std::move(templ));
    }
    const std::size_t here = net::IoThreads::ownIndex(threads_);
    codec::OpenPacket open;
    open.sid = newSid(here);
    open.pingInterval = static_cast<std::uint32_t>(config_.pingInterval.count());
    open.pingTimeout = static_cast<std::uint32_t>(config_.pingTimeout.count());
    open.maxPayload = config_.maxPayload;

    if (info.transport == TransportType::Polling) {
        auto session = std::make_shared<Session>(*this, open.sid, TransportType::Polling,
                                                 makeHandshake(req, conn, client), threads_.context(here));
        shards_[here].sessions.emplace(open.sid, session);
        counted(true);
        templ.result(http::status::ok);
        templ.set(http::field::content_type, "text/plain; charset=UTF-8");
        open.upgradeToWebSocket = true;
        templ.body() = open.serialize();
        conn->respond(std::move(templ));
        session->start(handler_.onOpen(session));
        return;
    }

    auto handshakeInfo = makeHandshake(req, conn, client);
    auto ws = conn->upgrade();
    ws->accept(std::move(req), config_.maxPayload,
               [this, ws, here, open, handshakeInfo = std::move(handshakeInfo)](boost::system::error_code ec) mutable {
                   if (ec) return;
                   auto session = std::make_shared<Session>(*this, open.sid, TransportType::WebSocket,
                                                            std::move(handshakeInfo), threads_.context(here));
                   shards_[here].sessions.emplace(open.sid, session);
                   counted(true);
                   session->attachWebSocket(ws);
                   open.upgradeToWebSocket = false;
                   ws->send(net::Frame{net::makeSharedBuffer(open.serialize()), false});
                   session->start(handler_.onOpen(session));
               });
}

void Server::remove(const std::string& sid) {
    const std::size_t here = net::IoThreads::currentIndex();
    if (here < shards_.size() && shards_[here].sessions.erase(sid)) counted(false);
}

void Server::counted(bool opened) {
    if (!metrics_) return;
    if (opened) {
        metrics_->sessionsOpen.fetch_add(1, std::memory_order_relaxed);
        metrics_->sessionsOpened.fetch_add(1, std::memory_order_relaxed);
    } else {
        metrics_->sessionsOpen.fetch_sub(1, std::memory_order_relaxed);
    }
}

void Server::closeAll() {
    for (std::size_t i = 0; i < threads_.size(); ++i) {
        threads_.postTo(i, [this, i] {
            auto sessions = shards_[i].sessions; // close() erases from the map
            for (auto& [sid, session] : sessions) session->close(CloseReason::Shutdown);
        });
    }
}

} // namespace parley::engineio
