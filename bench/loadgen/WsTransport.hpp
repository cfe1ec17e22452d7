#pragma once

#include "Transport.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

namespace parley::bench {

/// Engine.IO over one WebSocket (`/socket.io/?EIO=4&transport=websocket`), client side, framed
/// by hand on the TCP socket. The capacity scenario asks one generator core to take in over 100k
/// frames/s, and Beast's websocket stream costs per frame what this does not: layers of composed
/// operations, a copy out of its 1.5 KB read buffer, a UTF-8 check. Here one read takes in
/// whatever has arrived and each text frame goes to the listener in place. At most one write in
/// flight; packets queued meanwhile go out in order.
class WsTransport final : public Transport, public std::enable_shared_from_this<WsTransport> {
public:
    WsTransport(boost::asio::io_context& ctx, const boost::asio::ip::tcp::endpoint& endpoint, std::string hostHeader);

    void open(TransportListener& listener) override;
    void send(std::string packet) override;
    void close(bool graceful) override;
    void detach() override { listener_ = nullptr; }

private:
    void onConnect(boost::system::error_code ec);
    void onUpgradeSent(boost::system::error_code ec);
    void onUpgrade(boost::system::error_code ec, std::size_t headerBytes);
    void doRead();
    void onRead(boost::system::error_code ec, std::size_t bytes);
    void consumeFrames();
    void onFrame(bool fin, unsigned opcode, std::string_view payload);
    void queueFrame(unsigned opcode, std::string_view payload);
    void doWrite();
    void onWrite(boost::system::error_code ec, std::size_t bytes);
    void closeIfDone();
    void abort();
    void closeSocket();
    void fail(boost::system::error_code ec);
    void finish(boost::system::error_code ec);

    boost::asio::ip::tcp::socket socket_;
    boost::asio::ip::tcp::endpoint endpoint_;
    std::string hostHeader_;
    std::string upgrade_;  ///< the upgrade request, then the response as it is read
    std::vector<char> in_; ///< received bytes; [0, inSize_) not yet taken as frames
    std::size_t inSize_ = 0;
    std::string fragments_;         ///< a fragmented text message so far (servers rarely fragment)
    bool inText_ = false;           ///< continuation frames belong to a text message
    std::deque<std::string> queue_; ///< framed, masked, waiting to be written
    TransportListener* listener_ = nullptr;
    std::uint32_t maskState_;
    bool open_ = false; ///< upgraded, reading
    bool writing_ = false;
    bool closeRequested_ = false; ///< by us: the end is not an error
    bool aborted_ = false;        ///< by us, without a handshake: deliver nothing more
    bool closeQueued_ = false;    ///< our close frame is queued or written
    bool peerClosed_ = false;     ///< the server's close frame arrived
    bool finished_ = false;
    boost::system::error_code error_; ///< why the server's close ended a session we did not close
};

} // namespace parley::bench
