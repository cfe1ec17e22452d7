#include "app/Conformance.hpp"

#include "engineio/Session.hpp"

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <memory>

namespace parley::app {

namespace {

constexpr std::chrono::milliseconds kAuthEventDelay{15};

// /engine.io/: every message goes back to its sender unchanged, text as text, binary as binary.
class EchoSession final : public engineio::SessionHandler {
public:
    explicit EchoSession(std::shared_ptr<engineio::Session> session) : session_(std::move(session)) {}
    void onMessage(std::string_view text) override {
        std::string packet = "4";
        packet.append(text);
        session_->send(net::Frame{net::makeSharedBuffer(std::move(packet)), false});
    }
    void onBinary(std::string_view bytes) override {
        session_->send(net::Frame{net::makeSharedBuffer(std::string(bytes)), true});
    }
    void onClose(engineio::CloseReason) override { session_.reset(); }

private:
    std::shared_ptr<engineio::Session> session_;
};

class EchoEngine final : public engineio::Handler {
public:
    std::shared_ptr<engineio::SessionHandler> onOpen(const std::shared_ptr<engineio::Session>& session) override {
        return std::make_shared<EchoSession>(session);
    }
};

void installEchoNamespace(socketio::Namespace& nsp) {
    nsp.onConnection([](const std::shared_ptr<socketio::Socket>& socket) {
        // The official suite reads the CONNECT reply and then, once that promise has resolved,
        // listens for the "auth" event; its WebSocket client (ws 8.5) delivers every frame of
        // one read at once, so an event that shares the reply's write (or arrives before the
        // suite's next read) is missed. It leaves in a write of its own, a moment later, as
        // it does from the reference server (whose transport sends one write at a time).
        auto timer = std::make_shared<boost::asio::steady_timer>(socket->context(), kAuthEventDelay);
        timer->async_wait([timer, socket](boost::system::error_code ec) {
            if (!ec && socket->connected()) socket->emitRaw("auth", socket->authText());
        });
    });
    nsp.on("message", [](const std::shared_ptr<socketio::Socket>& socket, const socketio::Event& event, socketio::Ack) {
        socket->emitRaw("message-back", event.rawArgs, event.buffers);
    });
    nsp.on("message-with-ack", [](const std::shared_ptr<socketio::Socket>&, const socketio::Event& event,
                                  socketio::Ack ack) { ack.sendRaw(event.rawArgs, event.buffers); });
}

} // namespace

void installConformance(Runtime& runtime) {
    installEchoNamespace(runtime.io().of("/"));
    installEchoNamespace(runtime.io().of("/custom"));
    static EchoEngine echo;
    runtime.mountEngine(runtime.engineConfig("/engine.io/"), echo);
}

} // namespace parley::app
