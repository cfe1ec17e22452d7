#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <cstdint>
#include <vector>

namespace parley::bench {

class Member;

/// One sender's place in the period: `member` sends to `chat` (a roster index; Roster::kNoChat:
/// its chats in turn) at phaseNs + k x period.
struct SendSlot {
    std::int64_t phaseNs;
    Member* member;
    std::size_t chat;
};

/// Paces the message:send of the members of one io thread. Member i of N sends at
/// t0 + (i / N) / rate + k / rate for k = 0, 1, ... while before the window's end: every member
/// at the same rate, the whole fleet's sends evenly spread over each period (a deterministic
/// phase per member), and one timer per thread however many members it has. Sends are due at
/// absolute times, so a late wake-up sends what is due at once instead of drifting. The timer
/// wakes at most once per millisecond: each re-arm is a timerfd_settime syscall, and one per send
/// took 5 % of the generator's core at 15000 members; the sends due within a millisecond go out
/// together, at most that much late (maxLagNs shows it).
class SendScheduler {
public:
    /// `running` is decremented once, when the last send of this scheduler has gone out.
    /// With `spread`, member i takes the phase of position (i x stride) mod N instead of i, for a
    /// stride coprime with N near 0.618 N: the members of one chat (neighbouring indexes) then
    /// send far apart in the period, as unrelated senders would.
    SendScheduler(boost::asio::io_context& ctx, const std::vector<Member*>& members, std::size_t totalMembers,
                  double rate, std::atomic<std::size_t>& running, bool spread = false);
    /// Explicit slots (phases in [0, periodNs)), e.g. --chat-rate's: each chat's members in turn.
    SendScheduler(boost::asio::io_context& ctx, std::vector<SendSlot> slots, std::int64_t periodNs,
                  std::atomic<std::size_t>& running);

    /// Starts sending at `startNs`; nothing is sent at or after `endNs`. Call on the owner thread.
    void start(std::int64_t startNs, std::int64_t endNs);
    void stop();

    std::uint64_t sends() const noexcept { return sends_; }
    /// How far behind its due time the latest send went out, at worst (generator health).
    std::int64_t maxLagNs() const noexcept { return maxLagNs_; }

private:
    std::int64_t dueNs() const noexcept;
    void arm();
    void onTimer(boost::system::error_code ec);
    void done();

    boost::asio::steady_timer timer_;
    std::vector<SendSlot> slots_; ///< sorted by phase
    std::int64_t periodNs_;
    std::int64_t startNs_ = 0;
    std::int64_t endNs_ = 0;
    std::size_t cursor_ = 0; ///< next slot
    std::int64_t round_ = 0; ///< next k
    std::int64_t lastWakeNs_ = 0;
    std::uint64_t sends_ = 0;
    std::int64_t maxLagNs_ = 0;
    bool stopped_ = false;
    bool done_ = false;
    std::atomic<std::size_t>& running_;
};

} // namespace parley::bench
