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
    add(out, "parley_connections_refused_total", "counter", "TCP connections refused: too many from one address.",
        connectionsRefused);
    add(out, "parley_handshakes_refused_total", "counter", "Handshakes refused: too many per second from one address.",
        handshakesRefused);
    add(out, "parley_slow_consumers_closed_total", "counter", "Sessions closed because the client stopped reading.",
        slowConsumersClosed);
    add(out, "parley_volatile_dropped_total", "counter", "Volatile packets (typing) dropped for a backed-up client.",
        volatileDropped);
    add(out, "parley_store_commits_total", "counter", "Store transactions committed (each one sync of the WAL).",
        storeCommits);
    add(out, "parley_store_committed_writes_total", "counter",
        "Writes carried by those commits; divided by the commits, the mean group-commit size.", storeCommittedWrites);
    return out;
}

} // namespace parley::core
