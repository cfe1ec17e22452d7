#pragma once

#include "Transport.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

namespace parley::bench {

/// What a Socket.IO client reports to the simulated user behind it (on its io thread).
class SioHandler {
public:
    virtual ~SioHandler() = default;
    /// `40{"sid":...}` arrived: the namespace accepted the token.
    virtual void onConnect() = 0;
    /// `44{...}`: refused; `message` is the refusal's message field.
    virtual void onConnectError(std::string_view message) = 0;
    /// A server event; `args[0]` is the event name, the payload follows. Both live only for the
    /// call (message:new is parsed into a stack arena).
    virtual void onEvent(std::string_view name, const boost::json::array& args) = 0;
    /// The connection ended; `ec` is empty when close() asked for it.
    virtual void onClose(boost::system::error_code ec) = 0;
};

/// The client side of Socket.IO v5 on the main namespace, over one Engine.IO transport at a time,
/// built on the project's codecs: sends `40{"token":...}` (and `"presence":"batch"` when asked) on the open packet,
/// answers the server's pings ("2" -> "3"), matches acks to emits. connect() again starts a fresh transport (the old
/// one is detached and dropped), so one client object serves every reconnection.
class SioClient final : public TransportListener {
public:
    /// Receives the ack's argument array.
    using AckFn = std::function<void(const boost::json::array& args)>;

    SioClient(boost::asio::io_context& ctx, const boost::asio::ip::tcp::endpoint& endpoint, std::string hostHeader,
              TransportKind kind, SioHandler& handler);
    ~SioClient() override;
    SioClient(const SioClient&) = delete;
    SioClient& operator=(const SioClient&) = delete;

    /// `presenceBatch`: the CONNECT's auth also carries `presence: "batch"` (a server's opt-in to
    /// presence:batch instead of one presence:update per change).
    void connect(std::string_view token, bool presenceBatch = false);
    bool connected() const noexcept { return state_ == State::Connected; }

    /// Emits `42<id>["event",arg]`; `ack` (if any) runs when `43<id>[...]` comes back.
    void emit(std::string_view event, const boost::json::value& arg, AckFn ack = {});
    /// Emits a pre-serialized argument (JSON text): the hot path of message:send.
    void emitRaw(std::string_view event, std::string_view argJson, AckFn ack = {});

    /// graceful: `41` (namespace disconnect) then the transport's close handshake; otherwise the
    /// sockets are closed at once. onClose follows either way.
    void close(bool graceful);

    std::size_t pendingAcks() const noexcept { return acks_.size(); }

private:
    enum class State { Idle, Opening, Connecting, Connected, Closing };

    void onPacket(std::string_view text) override;
    void onTransportClosed(boost::system::error_code ec) override;
    void onSocketPacket(std::string_view text);

    boost::asio::io_context& ctx_;
    boost::asio::ip::tcp::endpoint endpoint_;
    std::string hostHeader_;
    TransportKind kind_;
    SioHandler& handler_;
    std::shared_ptr<Transport> transport_;
    std::string token_;
    bool presenceBatch_ = false;
    State state_ = State::Idle;
    std::uint64_t nextAckId_ = 0;
    std::unordered_map<std::uint64_t, AckFn> acks_;
};

} // namespace parley::bench
