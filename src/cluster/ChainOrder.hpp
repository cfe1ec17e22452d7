#pragma once

#include "socketio/Adapter.hpp"
#include "socketio/Types.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>

namespace parley::cluster {

/// Delivers each chain's broadcasts (socketio::BroadcastOrder) in seq order on this process,
/// whichever process sent each: the nodes of a cluster publish their commits independently,
/// so the events of one chat can arrive out of commit order. One that arrives ahead of its
/// predecessor is held until the predecessor arrives, then both go out in order.
///
/// A predecessor that never comes (its node died between commit and publish, or Redis lost
/// the message) holds a chain back for at most `gapTimeout`: then what is held goes out in
/// order, past the gap. A chain this process has not seen yet, or has forgotten (idle for
/// `idleAfter`), starts at the first seq it sees. A seq at or before the last delivered (a late
/// one, after its gap was given up) goes out at once: late rather than lost.
///
/// Pure bookkeeping: time is given by the caller, delivery is `sink`. Not thread-safe: one
/// thread calls every method (the bus's home thread).
class ChainOrder {
public:
    using Clock = std::chrono::steady_clock;
    using Sink = std::function<void(const socketio::EncodedPacket&, const socketio::BroadcastOptions&)>;

    struct Options {
        std::chrono::milliseconds gapTimeout{1000};
        std::chrono::milliseconds idleAfter{60000};
    };
    struct Stats {
        std::uint64_t held = 0;    ///< broadcasts that waited for a predecessor
        std::uint64_t skipped = 0; ///< predecessors given up after gapTimeout
        std::uint64_t late = 0;    ///< broadcasts that came after their place was passed
    };

    ChainOrder(Options options, Sink sink);

    /// Delivers `packet` now (with whatever it unblocks), or holds it.
    void submit(socketio::EncodedPacket packet, socketio::BroadcastOptions opts, Clock::time_point now);
    /// Delivers what has waited past gapTimeout for a predecessor; forgets idle chains.
    void expire(Clock::time_point now);
    /// When expire() next has something to deliver; nullopt: nothing is held.
    std::optional<Clock::time_point> nextDeadline() const;

    std::size_t chains() const noexcept { return chains_.size(); }
    std::size_t holding() const noexcept { return holding_; }
    const Stats& stats() const noexcept { return stats_; }
    const Options& options() const noexcept { return options_; }

private:
    struct Held {
        socketio::EncodedPacket packet;
        socketio::BroadcastOptions opts;
    };
    struct Chain {
        std::int64_t last = 0;             ///< the last seq delivered
        std::map<std::int64_t, Held> held; ///< ahead of last + 1
        Clock::time_point waitingSince;    ///< when the current gap was first seen
        Clock::time_point touched;
    };

    /// Delivers the held broadcasts that follow `chain.last` without a gap.
    void drain(Chain& chain);

    Options options_;
    Sink sink_;
    std::unordered_map<std::string, Chain> chains_;
    std::size_t holding_ = 0;
    Clock::time_point lastSweep_{};
    Stats stats_;
};

} // namespace parley::cluster
