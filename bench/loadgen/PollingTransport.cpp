#include "PollingTransport.hpp"

#include "engineio/codec/Payload.hpp"

#include <boost/asio/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>

namespace parley::bench {

namespace http = boost::beast::http;
namespace eio = parley::engineio::codec;
using tcp = boost::asio::ip::tcp;

namespace {
constexpr std::string_view kBase = "/socket.io/?EIO=4&transport=polling";
// Longer than the server's ping interval (25 s): a held GET always ends before it.
constexpr auto kRequestTimeout = std::chrono::seconds(60);
} // namespace

PollingTransport::PollingTransport(boost::asio::io_context& ctx, const tcp::endpoint& endpoint, std::string hostHeader)
    : endpoint_(endpoint), hostHeader_(std::move(hostHeader)), get_(ctx), post_(ctx) {}

void PollingTransport::open(TransportListener& listener) {
    listener_ = &listener;
    exchange(get_, http::verb::get, std::string(kBase), {}, &PollingTransport::onHandshake);
}

// ---------------------------------------------------------------------------------------------
// One request/response on a channel, connecting first when needed
// ---------------------------------------------------------------------------------------------

void PollingTransport::exchange(Channel& ch, http::verb method, std::string target, std::string body, Step next) {
    ch.busy = true;
    ch.req = {method, target, 11};
    ch.req.set(http::field::host, hostHeader_);
    ch.req.keep_alive(true);
    if (method == http::verb::post) {
        ch.req.set(http::field::content_type, "text/plain;charset=UTF-8");
        ch.req.body() = std::move(body);
    }
    ch.req.prepare_payload();
    ch.reused = ch.connected;
    if (ch.connected) return doWriteRequest(ch, next);
    doConnect(ch, next);
}

void PollingTransport::doConnect(Channel& ch, Step next) {
    ch.stream.expires_after(kRequestTimeout);
    ch.stream.async_connect(endpoint_, [self = shared_from_this(), &ch, next](boost::system::error_code ec) {
        if (ec) return self->onExchanged(ch, next, ec);
        ch.connected = true;
        boost::system::error_code ignored;
        ch.stream.socket().set_option(tcp::no_delay(true), ignored);
        self->doWriteRequest(ch, next);
    });
}

void PollingTransport::doWriteRequest(Channel& ch, Step next) {
    ch.stream.expires_after(kRequestTimeout);
    http::async_write(
        ch.stream, ch.req, [self = shared_from_this(), &ch, next](boost::system::error_code ec, std::size_t) {
            if (ec) return self->onExchanged(ch, next, ec);
            ch.res = {};
            http::async_read(ch.stream, ch.buffer, ch.res, [self, &ch, next](boost::system::error_code e, std::size_t) {
                self->onExchanged(ch, next, e);
            });
        });
}

void PollingTransport::onExchanged(Channel& ch, Step next, boost::system::error_code ec) {
    // A kept-alive connection the server closed while it was idle: once more on a new one.
    const bool idleClose = ec == http::error::end_of_stream || ec == boost::asio::error::eof ||
                           ec == boost::asio::error::connection_reset || ec == boost::asio::error::broken_pipe;
    if (idleClose && ch.reused && !closeRequested_ && !finished_) {
        ch.reused = false;
        ch.connected = false;
        boost::system::error_code ignored;
        ch.stream.socket().close(ignored);
        ch.buffer.clear();
        return doConnect(ch, next);
    }
    ch.busy = false;
    if (!ec && !ch.res.keep_alive()) {
        boost::system::error_code ignored;
        ch.stream.socket().close(ignored);
        ch.connected = false;
    }
    if (!ec && ch.res.result() != http::status::ok) ec = http::error::bad_status;
    (this->*next)(ec);
}

// ---------------------------------------------------------------------------------------------
// Handshake, poll loop, posts
// ---------------------------------------------------------------------------------------------

void PollingTransport::onHandshake(boost::system::error_code ec) {
    if (ec) return finish(ec);
    const std::string& body = get_.res.body();
    // The body is a payload whose first packet is the open packet "0{"sid":...}".
    const auto end = body.find(eio::kRecordSeparator);
    const std::string_view open = std::string_view(body).substr(0, end);
    boost::system::error_code jsonError;
    auto json =
        open.size() > 1 && open[0] == '0' ? boost::json::parse(open.substr(1), jsonError) : boost::json::value();
    const auto* sid = json.is_object() ? json.as_object().if_contains("sid") : nullptr;
    if (jsonError || !sid || !sid->is_string()) return finish(boost::asio::error::invalid_argument);
    sid_ = std::string(sid->get_string());
    if (!deliver(body)) return finish(boost::asio::error::eof);
    if (finished_) return;
    doPoll();
    if (!outbox_.empty() && !post_.busy) doPost();
}

void PollingTransport::doPoll() {
    exchange(get_, http::verb::get, std::string(kBase) + "&sid=" + sid_, {}, &PollingTransport::onPoll);
}

void PollingTransport::onPoll(boost::system::error_code ec) {
    if (ec) return finish(ec);
    if (!deliver(get_.res.body())) return finish(boost::asio::error::eof);
    if (!finished_ && !closeRequested_) doPoll();
}

void PollingTransport::send(std::string packet) {
    if (finished_ || closeRequested_) return;
    eio::appendToPayload(outbox_, packet, false);
    if (!sid_.empty() && !post_.busy) doPost();
}

void PollingTransport::doPost() {
    std::string body = std::move(outbox_);
    outbox_.clear();
    exchange(post_, http::verb::post, std::string(kBase) + "&sid=" + sid_, std::move(body), &PollingTransport::onPost);
}

void PollingTransport::onPost(boost::system::error_code ec) {
    if (ec) return finish(ec);
    if (!outbox_.empty()) return doPost();
    // The close packet has been delivered: nothing more to wait for.
    if (closeRequested_) {
        closeSockets();
        finish({});
    }
}

bool PollingTransport::deliver(const std::string& body) {
    if (body.empty()) return true;
    auto packets = eio::decodePayload(body);
    if (!packets) return false;
    std::string text;
    for (const auto& p : *packets) {
        if (p.binary) continue; // attachments: not part of the chat contract
        if (p.type == eio::PacketType::Close) return false;
        if (!listener_ || finished_) return true;
        text.clear();
        eio::serializeText(text, p.type, p.data);
        listener_->onPacket(text);
    }
    return true;
}

// ---------------------------------------------------------------------------------------------
// Closing
// ---------------------------------------------------------------------------------------------

void PollingTransport::close(bool graceful) {
    if (finished_) return;
    if (closeRequested_ && graceful) return;
    closeRequested_ = true;
    if (!graceful || sid_.empty()) {
        closeSockets();
        // Nothing in flight means no handler will come back to finish.
        if (!get_.busy && !post_.busy) finish({});
        return;
    }
    // A close packet, as socket.io-client sends it; finished when its POST is answered.
    eio::appendToPayload(outbox_, "1", false);
    if (!post_.busy) doPost();
}

void PollingTransport::closeSockets() {
    boost::system::error_code ignored;
    get_.stream.socket().close(ignored);
    post_.stream.socket().close(ignored);
    get_.connected = post_.connected = false;
}

void PollingTransport::finish(boost::system::error_code ec) {
    if (finished_) return;
    finished_ = true;
    closeSockets();
    if (auto* l = listener_) {
        listener_ = nullptr;
        l->onTransportClosed(closeRequested_ ? boost::system::error_code{} : ec);
    }
}

} // namespace parley::bench
