#include "core/Metrics.hpp"

namespace parley::core {

namespace {
template <class T>
void add(std::string& out, const char* name, const char* type, const char* help, const std::atomic<T>& value) {
    out += "# HELP ";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
    out += name;
    out += ' ';
    out += std::to_string(value.load(std::memory_order_relaxed));
    out += '\n';
}
} // namespace

std::string Metrics::render() const {
    std::string out;
    add(out, "parley_engineio_sessions", "gauge", "Engine.IO sessions open now.", sessionsOpen);
    add(out, "parley_engineio_sessions_opened_total", "counter", "Engine.IO sessions opened since start.",
        sessionsOpened);
    add(out, "parley_socketio_sockets", "gauge", "Socket.IO sockets connected now, all namespaces.",
        socketsConnected);
    add(out, "parley_chat_messages_stored_total", "counter", "Chat messages stored (retries not counted).",
        messagesStored);
    return out;
}

} // namespace parley::core
