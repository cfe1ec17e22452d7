#pragma once

#include "support/Mailbox.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace parley::testsupport {

/// An Engine.IO v4 client over WebSocket only, run by a thread of its own: what a
/// socket.io-client puts on the wire, written out packet by packet so that a test can send
/// anything, malformed included. Pings are answered at once; every other message is queued
/// for next().
class EioClient {
public:
    struct Message {
        bool binary = false;
        std::string data; ///< a text message is a whole Engine.IO packet: "42[\"event\"]"
    };

    /// Connects to ws://127.0.0.1:`port``path`?EIO=4&transport=websocket and reads the OPEN
    /// packet; ok() tells whether that happened within kDeadline.
    explicit EioClient(unsigned short port, std::string_view path = "/socket.io/");
    /// Drops the connection (a TCP close, no close frame) if it is still open.
    ~EioClient();
    EioClient(const EioClient&) = delete;
    EioClient& operator=(const EioClient&) = delete;

    bool ok() const noexcept { return !sid_.empty(); }
    /// The Engine.IO session id of the OPEN packet.
    const std::string& sid() const noexcept { return sid_; }

    /// Sends one text message: a whole Engine.IO packet, e.g. "40" (MESSAGE + Socket.IO CONNECT).
    void send(std::string text);
    /// Sends one binary message (an attachment of the last BINARY_EVENT or BINARY_ACK).
    void sendBinary(std::string bytes);

    /// The next message that is not a ping, or nullopt if none came within `timeout` (or the
    /// connection closed and everything before the close was read).
    std::optional<Message> next(std::chrono::milliseconds timeout = kDeadline);
    /// The next message's text, or "" (with a gtest failure) if it is binary or none came.
    std::string nextText(std::chrono::milliseconds timeout = kDeadline);
    /// True once the server has closed the connection, within `timeout`.
    bool waitClosed(std::chrono::milliseconds timeout = kDeadline);
    /// Closes from this side with a WebSocket close frame (the server sees "transport close").
    void close();

    /// The Socket.IO CONNECT packet for `nsp` ("/" or "/chat") with an optional auth object.
    static std::string connectPacket(std::string_view nsp, std::string_view authJson = {});

private:
    struct State;
    std::shared_ptr<State> state_;
    std::string sid_;
};

} // namespace parley::testsupport
