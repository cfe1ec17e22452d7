#pragma once

#include "engineio/Handler.hpp"
#include "net/IoThreads.hpp"
#include "socketio/Metrics.hpp"
#include "socketio/Namespace.hpp"
#include "socketio/Types.hpp"

#include <functional>
#include <map>
#include <memory>
#include <string>

namespace parley::socketio {

/// Makes the adapter of a new namespace (LocalAdapter for one process, RedisAdapter for many).
using AdapterFactory = std::function<std::unique_ptr<Adapter>(const std::string& nsp, net::IoThreads& threads)>;

/// The Socket.IO server: the namespaces, and a Client per Engine.IO session.
class Server : public engineio::Handler {
public:
    Server(net::IoThreads& threads, Config config, AdapterFactory adapterFactory);

    /// The namespace `name` ("/" or "/chat"), created on first use. Call before serving.
    Namespace& of(const std::string& name);
    /// The namespace `name`, or nullptr.
    Namespace* find(std::string_view name);

    const Config& config() const noexcept { return config_; }
    /// Counts sockets into `metrics` (optional; set before serving).
    void setMetrics(Metrics* metrics) noexcept { metrics_ = metrics; }
    Metrics* metrics() const noexcept { return metrics_; }
    net::IoThreads& threads() noexcept { return threads_; }

    std::shared_ptr<engineio::SessionHandler> onOpen(const std::shared_ptr<engineio::Session>& session) override;

private:
    net::IoThreads& threads_;
    Config config_;
    AdapterFactory adapterFactory_;
    std::map<std::string, std::unique_ptr<Namespace>, std::less<>> namespaces_;
    Metrics* metrics_ = nullptr;
};

/// A new random socket id (20 URL-safe characters).
std::string newSocketId();

} // namespace parley::socketio
