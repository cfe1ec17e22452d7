#pragma once

#include "engineio/Handler.hpp"
#include "net/IoThreads.hpp"
#include "socketio/Metrics.hpp"
#include "socketio/Namespace.hpp"
#include "socketio/Observer.hpp"
#include "socketio/Types.hpp"

#include <atomic>
#include <cstdint>
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

    /// Names every namespace (for a dashboard; after serving has begun the list is fixed).
    template <class Fn>
    void forEachNamespace(Fn fn) {
        for (auto& [name, nsp] : namespaces_) fn(*nsp);
    }

    /// The observer to tell of every connection, socket and packet (set before serving), and
    /// whether it is told: the observer, while watched, else nullptr. Any thread.
    void setObserver(Observer* observer) noexcept { observer_ = observer; }
    void setWatched(bool watched) noexcept { watched_.store(watched, std::memory_order_relaxed); }
    Observer* watcher() const noexcept { return watched_.load(std::memory_order_relaxed) ? observer_ : nullptr; }

    /// Engine.IO sessions open now, and those of them still on HTTP long-polling.
    std::int64_t clientsCount() const noexcept { return clients_.load(std::memory_order_relaxed); }
    std::int64_t pollingClientsCount() const noexcept { return pollingClients_.load(std::memory_order_relaxed); }
    // For Client: counts its session in (and out of) the figures above.
    void countClient(int delta, bool polling) noexcept {
        clients_.fetch_add(delta, std::memory_order_relaxed);
        if (polling) pollingClients_.fetch_add(delta, std::memory_order_relaxed);
    }
    void countUpgrade() noexcept { pollingClients_.fetch_sub(1, std::memory_order_relaxed); }

    std::shared_ptr<engineio::SessionHandler> onOpen(const std::shared_ptr<engineio::Session>& session) override;

private:
    net::IoThreads& threads_;
    Config config_;
    AdapterFactory adapterFactory_;
    std::map<std::string, std::unique_ptr<Namespace>, std::less<>> namespaces_;
    Metrics* metrics_ = nullptr;
    Observer* observer_ = nullptr;
    std::atomic<bool> watched_{false};
    std::atomic<std::int64_t> clients_{0};
    std::atomic<std::int64_t> pollingClients_{0};
};

/// A new random socket id (20 URL-safe characters).
std::string newSocketId();

} // namespace parley::socketio
