#pragma once

#include "cluster/ForwardMessages.hpp"
#include "cluster/RedisBus.hpp"
#include "engineio/Forwarder.hpp"
#include "engineio/Server.hpp"

#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>

namespace parley::cluster {

class RemoteResponder;

/// Long-polling without sticky sessions. A node's Engine.IO sids end with its bus uid; a polling
/// request that reaches another node is published to the owner on parley-engine#<owner uid>
/// (ForwardMessages), which serves it with its own engineio::Server, as if it had arrived there,
/// and publishes the response to parley-engine#<requester uid>; the requester writes it on the
/// client's connection. No answer in time, or nobody subscribed to the owner's channel (the node
/// is gone): the client is told its session is unknown, and reconnects.
///
/// Its state lives on the bus's home thread; forward() and cancel() may be called on any io
/// thread, and each reply comes back on the thread that forwarded.
class PollingForwarder final : public engineio::Forwarder {
public:
    /// `timeout`: how long a forwarded request may wait for its answer; longer than a held GET
    /// may legitimately be held (the ping interval) plus the ping timeout.
    PollingForwarder(RedisBus& bus, engineio::Server& engine, std::chrono::milliseconds timeout);
    ~PollingForwarder() override;
    PollingForwarder(const PollingForwarder&) = delete;
    PollingForwarder& operator=(const PollingForwarder&) = delete;

    /// Sets the engine's sid suffix and forwarder, subscribes to our channel, starts the timer
    /// that expires unanswered requests. Before the bus starts.
    void start();
    /// Stops the timer (posted to the home thread). Before the io threads stop.
    void stop();

    std::uint64_t forward(const std::string& sid, net::Request&& req, std::string clientAddress, Reply reply) override;
    void cancel(std::uint64_t handle) override;

    /// A message on our channel; on the home thread.
    void onMessage(std::string_view payload);

    /// Requests waiting for an owner's answer (home thread; for tests).
    std::size_t pending() const noexcept { return pending_.size(); }

private:
    friend class RemoteResponder;

    struct Pending {
        std::string owner; ///< the owner's uid, for an abort
        std::size_t thread = 0;
        Reply reply;
    };

    void send(std::uint64_t id, std::string owner, std::string message, Pending pending);
    void settle(std::uint64_t id, std::optional<net::Response> res);
    void serve(const forward::RequestMessage& m);
    void abortServed(const forward::AbortMessage& m);
    void respondTo(const std::string& node, std::uint64_t id, const net::Response& res);
    void armSweep();
    void sweep();
    static std::string servedKey(std::string_view from, std::uint64_t id);

    RedisBus& bus_;
    engineio::Server& engine_;
    std::chrono::milliseconds timeout_;
    std::atomic<std::uint64_t> nextId_{1};
    // Home thread only:
    std::unordered_map<std::uint64_t, Pending> pending_;
    std::deque<std::pair<std::chrono::steady_clock::time_point, std::uint64_t>> deadlines_; // in order
    std::unordered_map<std::string, std::weak_ptr<RemoteResponder>> served_; ///< requests of others, by from#id
    boost::asio::steady_timer sweepTimer_;
};

} // namespace parley::cluster
