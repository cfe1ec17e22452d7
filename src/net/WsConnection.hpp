#pragma once

#include "net/HttpConnection.hpp"
#include "net/SharedBuffer.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <vector>
#include <functional>
#include <memory>
#include <string_view>

namespace parley::net {

/// One WebSocket connection: a read loop delivering whole messages in order, and a
/// single-writer queue of shared frames (one write in flight, as Beast requires).
class WsConnection : public std::enable_shared_from_this<WsConnection> {
public:
    /// A whole message; `data` is valid only during the call.
    using MessageFn = std::function<void(std::string_view data, bool binary)>;
    /// The connection is gone (peer close, error, or our own close). Called once.
    using CloseFn = std::function<void(boost::system::error_code)>;

    WsConnection(boost::beast::tcp_stream&& stream, boost::beast::flat_buffer&& buffer, PeerSlot slot = {});

    /// Completes the upgrade handshake for `req`; messages over `maxMessage` bytes close the
    /// connection with 1009. `done` gets the handshake's result.
    void accept(Request req, std::uint64_t maxMessage, std::function<void(boost::system::error_code)> done);

    /// Installs the callbacks and starts reading.
    void start(MessageFn onMessage, CloseFn onClose);

    /// Queues one message. Ignored once the connection is closing.
    void send(Frame frame);

    /// Sends what is queued, then a close frame with `code`.
    void close(boost::beast::websocket::close_code code = boost::beast::websocket::close_code::normal);

    /// Bytes that may wait in the send queue; beyond that the connection is dropped at once
    /// and onClose gets boost::asio::error::no_buffer_space (0: no limit).
    void setMaxQueuedBytes(std::uint64_t limit) noexcept { maxQueuedBytes_ = limit; }

    /// Drops the callbacks, so that nothing is reported to the previous owner any more.
    void detach();

    bool isOpen() const noexcept { return !closing_ && ws_.is_open(); }

    /// Bytes waiting in the send queue, the frame being written included.
    std::uint64_t queuedBytes() const noexcept { return queuedBytes_; }

private:
    void doRead();
    void onRead(boost::system::error_code ec, std::size_t bytes);
    void doWrite();
    void onWrite(boost::system::error_code ec);
    void doClose();
    void finish(boost::system::error_code ec);

    // Bytes asked of the socket per read: large messages arrive in a few steps, small ones in one.
    static constexpr std::size_t kReadChunk = 64 * 1024;
    // Read capacity an idle connection may keep: Beast asks for 512 bytes per read anyway.
    static constexpr std::size_t kIdleReadCapacity = 1024;

    boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
    std::uint64_t maxMessage_ = 1'000'000;
    boost::beast::flat_buffer readBuffer_;
    // A vector and a read index rather than a deque: libstdc++'s deque allocates half a
    // kilobyte even when empty, for every idle connection.
    std::vector<Frame> queue_;
    std::size_t head_ = 0; ///< queue_[head_] is the frame being written
    std::uint64_t queuedBytes_ = 0;
    std::uint64_t maxQueuedBytes_ = 0;
    PeerSlot slot_; ///< this connection's place in its address's count
    MessageFn onMessage_;
    CloseFn onClose_;
    boost::beast::websocket::close_code closeCode_ = boost::beast::websocket::close_code::normal;
    bool writing_ = false;
    bool closing_ = false;
    bool closeSent_ = false;
    bool finished_ = false;
};

} // namespace parley::net
