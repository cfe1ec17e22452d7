// parley-testbed: the Parley libraries with the handlers tests/e2e/protocol exercises.
// Flags are those of `parley serve`.
#include "app/Config.hpp"
#include "app/Runtime.hpp"
#include "socketio/Encode.hpp"

#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <exception>
#include <memory>
#include <vector>

namespace {

using namespace parley;
using socketio::Ack;
using socketio::Event;
using SocketPtr = std::shared_ptr<socketio::Socket>;

std::string stringArg(const Event& e, std::size_t i) {
    if (i < e.args.size() && e.args[i].is_string()) return std::string(e.args[i].get_string());
    return {};
}

// The raw JSON text of argument i, so that payloads (numbers, key order) go back unchanged.
std::string rawArg(const Event& e, std::size_t i) {
    return i < e.args.size() ? boost::json::serialize(e.args[i]) : "null";
}

void ackTrue(Ack& ack) { ack.sendRaw("true"); }

void installRoot(socketio::Namespace& nsp) {
    nsp.on("echo", [](const SocketPtr& s, const Event& e, Ack ack) {
        s->emitRaw("echo-back", e.rawArgs, e.buffers);
        ack.sendRaw(e.rawArgs, e.buffers);
    });
    nsp.on("join", [](const SocketPtr& s, const Event& e, Ack ack) {
        // false: the socket is at --max-rooms-per-socket.
        ack.sendRaw(s->join(stringArg(e, 0)) ? "true" : "false");
    });
    nsp.on("leave", [](const SocketPtr& s, const Event& e, Ack ack) {
        s->leave(stringArg(e, 0));
        ackTrue(ack);
    });
    nsp.on("to-room", [](const SocketPtr& s, const Event& e, Ack ack) {
        s->nsp().to(stringArg(e, 0)).emitRaw("room-message", rawArg(e, 1));
        ackTrue(ack);
    });
    nsp.on("to-room-except-sender", [](const SocketPtr& s, const Event& e, Ack ack) {
        s->to(stringArg(e, 0)).emitRaw("room-message", rawArg(e, 1));
        ackTrue(ack);
    });
    nsp.on("broadcast-all", [](const SocketPtr& s, const Event& e, Ack ack) {
        s->broadcast().emitRaw("broadcast-message", rawArg(e, 0));
        ackTrue(ack);
    });
    nsp.on("to-room-except-room", [](const SocketPtr& s, const Event& e, Ack ack) {
        s->nsp().to(stringArg(e, 0)).except(stringArg(e, 1)).emitRaw("room-message", rawArg(e, 2));
        ackTrue(ack);
    });
    nsp.on("ask", [](const SocketPtr& s, const Event& e, Ack) {
        s->emitRawWithAck("question", e.rawArgs, e.buffers, std::chrono::milliseconds(2000),
                          [weak = std::weak_ptr<socketio::Socket>(s)](boost::system::error_code ec,
                                                                      const boost::json::array& args,
                                                                      const std::vector<std::string>& buffers) {
                              auto socket = weak.lock();
                              if (!socket) return;
                              if (ec) return socket->emit("answer-timeout");
                              socket->emitRaw("answer", socketio::argsText(args), buffers);
                          });
    });
    nsp.on("disconnect-me", [](const SocketPtr& s, const Event&, Ack) { s->disconnect(false); });
    nsp.on("drop-transport", [](const SocketPtr& s, const Event&, Ack) { s->closeConnection(); });
    nsp.on("close-me", [](const SocketPtr& s, const Event&, Ack) { s->disconnect(true); });
}

// "hold" keeps its ack unanswered until "release": requests pending on the server, on demand.
// Held per io thread, which is where a client's events all arrive.
thread_local std::vector<Ack> held;

void installHold(socketio::Namespace& nsp) {
    nsp.on("hold", [](const SocketPtr&, const Event&, Ack ack) { held.push_back(std::move(ack)); });
    nsp.on("release", [](const SocketPtr&, const Event&, Ack ack) {
        auto acks = std::move(held);
        held.clear();
        for (auto& h : acks) h.sendRaw(R"("released")");
        ack.sendRaw(std::to_string(acks.size()));
    });
}

void installAdmin(socketio::Namespace& nsp) {
    nsp.use([](const SocketPtr& s, socketio::Next next) {
        const auto* token = s->auth().if_contains("token");
        if (token && token->is_string() && token->get_string() == "secret") return next(std::nullopt);
        next(
            socketio::ConnectError{"not authorized", boost::json::object{{"code", "E_AUTH"}, {"reason", "bad token"}}});
    });
    nsp.on("whoami", [](const SocketPtr& s, const Event&, Ack ack) { ack.sendRaw(s->authText()); });
}

} // namespace

int main(int argc, char** argv) {
    try {
        app::Config config = app::parseConfig(argc - 1, argv + 1);
        app::initLogging(config.logLevel);
        app::Runtime runtime(config);
        installRoot(runtime.io().of("/"));
        installHold(runtime.io().of("/"));
        installAdmin(runtime.io().of("/admin"));
        installRoot(runtime.io().of("/extra"));
        return runtime.run();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "parley-testbed: %s\n", e.what());
        return 1;
    }
}
