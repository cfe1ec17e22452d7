#pragma once

#include "net/HttpConnection.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace parley::engineio {

/// Carries a long-polling request for a session this process does not own to the process that
/// does (a cluster node: the sid ends with its owner's suffix, Server::setSidSuffix), and the
/// owner's answer back. Lets polling clients work behind a load balancer without sticky sessions.
class Forwarder {
public:
    /// The owner's response, or nullopt when there is none: the owner is gone or did not answer
    /// in time. Called once, on the thread that called forward(), never inside forward().
    using Reply = std::function<void(std::optional<net::Response>)>;

    virtual ~Forwarder() = default;

    /// Sends `req` (a polling GET or POST with sid `sid`, not ours) to the sid's owner.
    /// `clientAddress` is the client as this process sees it. Returns a handle for cancel().
    virtual std::uint64_t forward(const std::string& sid, net::Request&& req, std::string clientAddress,
                                  Reply reply) = 0;
    /// The client left before the answer: the owner is told (its session sees the poll end, as a
    /// local one does), and the reply is dropped. On the thread that called forward().
    virtual void cancel(std::uint64_t handle) = 0;
};

} // namespace parley::engineio
