#pragma once

#include <memory>
#include <string_view>

namespace parley::engineio {

class Session;

/// Why a session ended.
enum class CloseReason {
    TransportClose,  ///< the peer closed the connection or stopped polling
    TransportError,  ///< a transport failed (write error, overlapping GETs, ...)
    PingTimeout,     ///< no pong within pingTimeout after a ping was queued
    ClientClose,     ///< the client sent a close packet
    ServerClose,     ///< the application closed it
    ParseError,      ///< the client sent bytes that are not Engine.IO packets
    PayloadTooLarge, ///< a message or polling body over maxPayload
    SlowConsumer,    ///< more than maxOutboundBytes queued for a client that does not read
    Shutdown,        ///< the server is stopping
};

/// Lower-case words, as the reference names them ("ping timeout", "transport close", ...).
std::string_view toString(CloseReason reason) noexcept;

/// Receives one session's messages. Every call comes on the session's owner thread.
class SessionHandler {
public:
    virtual ~SessionHandler() = default;
    /// A text message: the data of a `4...` packet, without the '4'. Valid only during the call.
    virtual void onMessage(std::string_view text) = 0;
    /// A binary message's raw bytes. Valid only during the call.
    virtual void onBinary(std::string_view bytes) = 0;
    /// The session moved from polling to WebSocket.
    virtual void onUpgrade() {}
    /// The session is gone; this is the last call.
    virtual void onClose(CloseReason reason) = 0;
};

/// The seam between Engine.IO and the layer above it.
class Handler {
public:
    virtual ~Handler() = default;
    /// A session finished its handshake; the returned handler gets its messages.
    virtual std::shared_ptr<SessionHandler> onOpen(const std::shared_ptr<Session>& session) = 0;
};

} // namespace parley::engineio
