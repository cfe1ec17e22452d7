#pragma once

#include "Transport.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <deque>
#include <memory>

namespace parley::bench {

/// Engine.IO over one WebSocket (`/socket.io/?EIO=4&transport=websocket`), Beast client side.
/// At most one write in flight; packets queued meanwhile go out in order.
class WsTransport final : public Transport, public std::enable_shared_from_this<WsTransport> {
  public:
    WsTransport(boost::asio::io_context& ctx, const boost::asio::ip::tcp::endpoint& endpoint, std::string hostHeader);

    void open(TransportListener& listener) override;
    void send(std::string packet) override;
    void close(bool graceful) override;
    void detach() override { listener_ = nullptr; }

  private:
    void onConnect(boost::system::error_code ec);
    void onHandshake(boost::system::error_code ec);
    void doRead();
    void onRead(boost::system::error_code ec, std::size_t bytes);
    void doWrite();
    void onWrite(boost::system::error_code ec, std::size_t bytes);
    void doClose();
    void onClose(boost::system::error_code ec);
    void abort();
    void closeSocket();
    void finish(boost::system::error_code ec);

    boost::beast::websocket::stream<boost::asio::ip::tcp::socket> ws_;
    boost::asio::ip::tcp::endpoint endpoint_;
    std::string hostHeader_;
    boost::beast::flat_buffer buffer_;
    std::deque<std::string> queue_;
    TransportListener* listener_ = nullptr;
    bool open_ = false; ///< handshake done, reading
    bool writing_ = false;
    bool closeRequested_ = false; ///< by us: the end is not an error
    bool closing_ = false;        ///< async_close in flight
    bool finished_ = false;
    boost::system::error_code error_; ///< first write error, reported instead of the read's abort
};

} // namespace parley::bench
