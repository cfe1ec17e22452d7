#pragma once

#include "net/HttpConnection.hpp"
#include "net/SharedBuffer.hpp"
#include "net/WsFrame.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace parley::net {

/// The send-queue bound of a connection whose owner sets none (the --max-outbound-bytes
/// default): no connection is unbounded, from its upgrade on.
inline constexpr std::uint64_t kDefaultMaxQueuedBytes = 8 * 1024 * 1024;

/// One WebSocket connection (RFC 6455, server side, framed by ws::*): a read loop delivering
/// whole messages in order, and a send queue flushed once per loop turn, so that every frame
/// queued for the connection during that turn leaves in one writev.
///
/// Memory: an idle connection holds no buffer. Reads go through one scratch buffer per
/// thread; only an incomplete frame is copied into the connection.
class WsConnection : public std::enable_shared_from_this<WsConnection>, private ws::ReaderSink {
public:
    /// Where the connection is in its life, which is mostly its close handshake (RFC 6455
    /// section 7). Every change goes through one function that asserts it is one of:
    ///   Open       -> Refusing | Closing | PeerClosed | Dropping | Finished
    ///   Closing    -> CloseSent | PeerClosed | Finished
    ///   Refusing, CloseSent, PeerClosed, Dropping -> Finished
    /// Only Open sends and delivers messages; nothing is queued after a close frame.
    enum class State : std::uint8_t {
        Open,
        Refusing,   ///< the upgrade was refused: its HTTP error is queued; the TCP close follows its write
        Closing,    ///< our close frame is queued, behind the data queued before it
        CloseSent,  ///< our close frame is written; the peer's is awaited, for kCloseTimeout at most
        PeerClosed, ///< the peer's close frame arrived; our reply is queued; the TCP close follows its write
        Dropping,   ///< over the send-queue bound: finished in the next loop turn, no close frame
        Finished,   ///< the socket is closed; nothing more is reported
    };

    /// Whether `to` may follow `from` (the table above).
    static constexpr bool isLegal(State from, State to) noexcept {
        switch (from) {
        case State::Open: return to != State::Open && to != State::CloseSent;
        case State::Closing: return to == State::CloseSent || to == State::PeerClosed || to == State::Finished;
        case State::Refusing:
        case State::CloseSent:
        case State::PeerClosed:
        case State::Dropping: return to == State::Finished;
        case State::Finished: return false;
        }
        return false;
    }

    /// A whole message; `data` is valid only during the call.
    using MessageFn = std::function<void(std::string_view data, bool binary)>;
    /// The connection is gone (peer close, error, or our own close). Called once.
    using CloseFn = std::function<void(boost::system::error_code)>;

    WsConnection(boost::beast::tcp_stream&& stream, boost::beast::flat_buffer&& buffer, PeerSlot slot = {});

    /// Answers the upgrade request `req` (101, or an HTTP error for a bad key or version);
    /// messages over `maxMessage` bytes close the connection with 1009. `done` gets the result
    /// before this returns; frames sent from it follow the 101 in the same write.
    void accept(Request req, std::uint64_t maxMessage, std::function<void(boost::system::error_code)> done);

    /// Installs the callbacks and starts reading.
    void start(MessageFn onMessage, CloseFn onClose);

    /// Queues one message. Ignored once the connection is closing.
    void send(Frame frame);

    /// Reads and delivers, now, whatever the peer has already sent (after start()): for an owner
    /// that must see this connection's messages before it acts on a request that came another
    /// way (the upgrade probe's "5" before the same client's next polling request).
    void readPending();
    /// Queues one message and writes the queue at once rather than at the end of the loop turn:
    /// for an answer that must reach the peer before anything this turn sends elsewhere (the
    /// upgrade probe's reply, ahead of the HTTP answers of the same client's other requests).
    void sendNow(Frame frame);

    /// Sends what is queued, then a close frame with `code`.
    void close(ws::CloseCode code = ws::CloseCode::Normal);

    /// Bytes that may wait in the send queue, control frames included; beyond that the
    /// connection is dropped at once and onClose gets boost::asio::error::no_buffer_space.
    /// 0 selects kDefaultMaxQueuedBytes.
    void setMaxQueuedBytes(std::uint64_t limit) noexcept { maxQueuedBytes_ = limit ? limit : kDefaultMaxQueuedBytes; }

    /// Drops the callbacks, so that nothing is reported to the previous owner any more.
    void detach();

    bool isOpen() const noexcept { return state_ == State::Open; }
    State state() const noexcept { return state_; }

    /// Bytes waiting in the send queue, a partly written frame included.
    std::uint64_t queuedBytes() const noexcept { return queuedBytes_; }

private:
    // One queued frame. Raw entries (the handshake response) go out without a frame header.
    struct Outgoing {
        SharedBuffer bytes;
        ws::Opcode opcode = ws::Opcode::Text;
        bool raw = false;
    };

    void waitReadable();
    void onReadable(boost::system::error_code ec);
    bool readAvailable(); ///< false once nothing more is to be read (finished, or the peer closed)
    // ws::ReaderSink
    void onMessage(std::string_view data, bool binary) override;
    void onPing(std::string_view payload) override;
    void onPeerClose(std::uint16_t code) override;
    void onReadError(ws::ReadError error) override;

    void moveTo(State next) noexcept;
    bool reading() const noexcept { return state_ != State::PeerClosed && state_ != State::Finished; }
    void queueClose(State next, SharedBuffer payload);
    void enqueue(Outgoing out);
    bool pongPending() const noexcept;
    void dropIfOverBound();
    void scheduleFlush();
    void flush();
    void waitWritable();
    void onQueueWritten();
    void armCloseTimer();
    void finish(boost::system::error_code ec);

    static void flushThreadList();

    boost::asio::ip::tcp::socket socket_;
    ws::Reader reader_;
    std::unique_ptr<std::string> early_; ///< bytes that came with the upgrade request

    std::vector<Outgoing> queue_;
    std::size_t head_ = 0;        ///< queue_[head_] is the first frame not fully written
    std::size_t headWritten_ = 0; ///< bytes of queue_[head_] (header included) already written
    std::uint64_t queuedBytes_ = 0;
    std::uint64_t maxQueuedBytes_ = kDefaultMaxQueuedBytes;
    /// Wire bytes of the pongs a later ping's pong took over since the queue was last written
    /// out: they count against the bound as if queued.
    std::uint64_t coalescedBytes_ = 0;
    std::size_t lastPong_ = SIZE_MAX;                       ///< queue_[lastPong_] is the pong queued last, if any
    std::unique_ptr<boost::asio::steady_timer> closeTimer_; ///< only while closing

    PeerSlot slot_; ///< this connection's place in its address's count
    MessageFn onMessage_;
    CloseFn onClose_;
    State state_ = State::Open;
    // The write loop, apart from the close handshake: both may hold at once (sendNow() writes
    // while a flush is scheduled, and may block).
    bool flushScheduled_ = false; ///< in this thread's flush list for the end of the loop turn
    bool writeBlocked_ = false;   ///< the kernel's buffer is full: waiting until writable
};

} // namespace parley::net
