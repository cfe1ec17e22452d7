#pragma once

#include "engineio/Handler.hpp"
#include "engineio/Session.hpp"
#include "socketio/Types.hpp"
#include "socketio/codec/Packet.hpp"

#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace parley::socketio {

class Server;
class Socket;

/// One Engine.IO session seen from Socket.IO: decodes its packets and routes them to the
/// socket of each namespace it joined.
class Client : public engineio::SessionHandler, public std::enable_shared_from_this<Client> {
public:
    Client(Server& server, std::shared_ptr<engineio::Session> session);

    void start();
    const engineio::Handshake& handshake() const { return *handshake_; }
    boost::asio::io_context& context() { return context_; }
    Server& server() noexcept { return server_; }
    /// The Engine.IO session id ("" once closed).
    std::string_view sessionId() const;
    /// "polling" or "websocket": the transport the session is on now.
    std::string_view transportName() const;

    /// Sends an encoded packet (text, then its attachments). A volatile one is dropped if the
    /// client is behind.
    void send(const EncodedPacket& packet, bool isVolatile = false);
    /// Closes the whole connection.
    void close();
    /// Forgets the socket of `nsp` (after it disconnected).
    void removeSocket(const std::string& nsp);

    void onMessage(std::string_view text) override;
    void onBinary(std::string_view bytes) override;
    void onUpgrade() override;
    void onClose(engineio::CloseReason reason) override;

private:
    void onPacket(codec::Packet&& packet);
    void onConnect(codec::Packet&& packet);
    std::shared_ptr<Socket> find(std::string_view nsp) const;

    Server& server_;
    std::shared_ptr<engineio::Session> session_;
    std::shared_ptr<const engineio::Handshake> handshake_; // shared with the session, outlives it
    boost::asio::io_context& context_;
    // A connection rarely joins more than two or three namespaces: a vector beats a map.
    std::vector<std::pair<std::string, std::shared_ptr<Socket>>> sockets_;
    // Both only while needed: most connections send no attachments, and the timer ends at
    // the first CONNECT. Each is over a hundred bytes per idle connection otherwise.
    std::unique_ptr<codec::BinaryReassembler> reassembler_;
    std::unique_ptr<boost::asio::steady_timer> connectTimer_;
    std::size_t connecting_ = 0; ///< CONNECTs whose middlewares have not answered yet
    bool closed_ = false;
    bool polling_ = false; ///< counted in Server::pollingClientsCount()
};

} // namespace parley::socketio
