#include "SendScheduler.hpp"

#include "Clock.hpp"
#include "Member.hpp"

#include <algorithm>
#include <numeric>

namespace parley::bench {

namespace {
constexpr std::int64_t kTickNs = 1000000;
}

SendScheduler::SendScheduler(boost::asio::io_context& ctx, const std::vector<Member*>& members,
                             std::size_t totalMembers, double rate, std::atomic<std::size_t>& running, bool spread)
    : timer_(ctx), periodNs_(static_cast<std::int64_t>(1e9 / rate)), running_(running) {
    // A stride coprime with the count makes i -> (i x stride) mod N a permutation.
    std::size_t stride = 1;
    if (spread && totalMembers > 2) {
        stride = std::max<std::size_t>(1, static_cast<std::size_t>(0.618 * static_cast<double>(totalMembers)));
        while (std::gcd(stride, totalMembers) != 1) ++stride;
    }
    for (Member* m : members) {
        const std::size_t position = (m->index() * stride) % std::max<std::size_t>(totalMembers, 1);
        const auto phase = static_cast<std::int64_t>(static_cast<double>(periodNs_) * static_cast<double>(position) /
                                                     static_cast<double>(totalMembers));
        slots_.push_back(SendSlot{phase, m, Roster::kNoChat});
    }
    std::sort(slots_.begin(), slots_.end(), [](const SendSlot& a, const SendSlot& b) { return a.phaseNs < b.phaseNs; });
}

SendScheduler::SendScheduler(boost::asio::io_context& ctx, std::vector<SendSlot> slots, std::int64_t periodNs,
                             std::atomic<std::size_t>& running)
    : timer_(ctx), slots_(std::move(slots)), periodNs_(std::max<std::int64_t>(periodNs, 1)), running_(running) {
    std::sort(slots_.begin(), slots_.end(), [](const SendSlot& a, const SendSlot& b) { return a.phaseNs < b.phaseNs; });
}

std::int64_t SendScheduler::dueNs() const noexcept { return startNs_ + round_ * periodNs_ + slots_[cursor_].phaseNs; }

void SendScheduler::start(std::int64_t startNs, std::int64_t endNs) {
    startNs_ = startNs;
    endNs_ = endNs;
    cursor_ = 0;
    round_ = 0;
    if (slots_.empty()) return done();
    arm();
}

void SendScheduler::stop() {
    stopped_ = true;
    timer_.cancel();
    done();
}

void SendScheduler::done() {
    if (done_) return;
    done_ = true;
    --running_;
}

void SendScheduler::arm() {
    if (stopped_ || dueNs() >= endNs_) return done();
    timer_.expires_at(toTimePoint(std::max(dueNs(), lastWakeNs_ + kTickNs)));
    timer_.async_wait([this](boost::system::error_code ec) { onTimer(ec); });
}

void SendScheduler::onTimer(boost::system::error_code ec) {
    if (ec || stopped_) return;
    const std::int64_t now = nowNs();
    lastWakeNs_ = now;
    for (std::int64_t due = dueNs(); due <= now && due < endNs_; due = dueNs()) {
        maxLagNs_ = std::max(maxLagNs_, now - due);
        slots_[cursor_].member->sendMessage(slots_[cursor_].chat);
        ++sends_;
        if (++cursor_ == slots_.size()) {
            cursor_ = 0;
            ++round_;
        }
    }
    arm();
}

} // namespace parley::bench
