#pragma once

#include "Transport.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <memory>
#include <string>

namespace parley::bench {

/// Engine.IO over HTTP long-polling, as a browser does it: a handshake GET, then one GET held
/// open at a time for server packets and one POST at a time for client packets, each on its own
/// keep-alive connection. Packets queued while a POST is in flight go out together in the next
/// one, separated by \x1e.
class PollingTransport final : public Transport, public std::enable_shared_from_this<PollingTransport> {
public:
    PollingTransport(boost::asio::io_context& ctx, const boost::asio::ip::tcp::endpoint& endpoint,
                     std::string hostHeader);

    void open(TransportListener& listener) override;
    void send(std::string packet) override;
    void close(bool graceful) override;
    void detach() override { listener_ = nullptr; }

private:
    /// One keep-alive HTTP connection with one request in flight at most.
    struct Channel {
        explicit Channel(boost::asio::io_context& ctx) : stream(ctx) {}
        boost::beast::tcp_stream stream;
        boost::beast::flat_buffer buffer;
        boost::beast::http::request<boost::beast::http::string_body> req;
        boost::beast::http::response<boost::beast::http::string_body> res;
        bool connected = false;
        bool busy = false;
        bool reused = false; ///< the request went out on a kept-alive connection
    };
    using Step = void (PollingTransport::*)(boost::system::error_code);

    void exchange(Channel& ch, boost::beast::http::verb method, std::string target, std::string body, Step next);
    void doConnect(Channel& ch, Step next);
    void doWriteRequest(Channel& ch, Step next);
    void onExchanged(Channel& ch, Step next, boost::system::error_code ec);
    void onHandshake(boost::system::error_code ec);
    void doPoll();
    void onPoll(boost::system::error_code ec);
    void doPost();
    void onPost(boost::system::error_code ec);
    bool deliver(const std::string& body); ///< false when the server sent a close packet
    void closeSockets();
    void finish(boost::system::error_code ec);

    boost::asio::ip::tcp::endpoint endpoint_;
    std::string hostHeader_;
    Channel get_;
    Channel post_;
    std::string sid_;
    std::string outbox_; ///< payload of the next POST
    TransportListener* listener_ = nullptr;
    bool closeRequested_ = false;
    bool finished_ = false;
};

} // namespace parley::bench
