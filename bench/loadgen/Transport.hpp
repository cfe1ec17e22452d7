#pragma once

#include <boost/system/error_code.hpp>

#include <string>
#include <string_view>

namespace parley::bench {

/// What a client transport reports to its owner. Calls come on the transport's io thread.
class TransportListener {
public:
    virtual ~TransportListener() = default;
    /// One Engine.IO text packet, type digit included ("0{...}" first, then "2", "4...", ...).
    virtual void onPacket(std::string_view text) = 0;
    /// The transport is finished; called once. `ec` is empty when the close was asked for.
    virtual void onTransportClosed(boost::system::error_code ec) = 0;
};

/// The client side of one Engine.IO connection: WebSocket or HTTP long-polling.
class Transport {
public:
    virtual ~Transport() = default;
    /// Connects and starts reading; the first packet reported is the handshake ("0{...}").
    virtual void open(TransportListener& listener) = 0;
    /// Queues one Engine.IO text packet ("40{...}", "3", "42[...]"); sent in order.
    virtual void send(std::string packet) = 0;
    /// graceful: a WebSocket close handshake / a polling close packet; otherwise the sockets are
    /// closed at once (a dropped network, as the server sees it).
    virtual void close(bool graceful) = 0;
    /// No listener calls after this (the owner moved on to a new transport).
    virtual void detach() = 0;
};

enum class TransportKind { WebSocket, Polling };

} // namespace parley::bench
