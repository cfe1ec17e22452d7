#include "cluster/ChainOrder.hpp"

#include <utility>

namespace parley::cluster {

ChainOrder::ChainOrder(Options options, Sink sink) : options_(options), sink_(std::move(sink)) {}

void ChainOrder::submit(socketio::EncodedPacket packet, socketio::BroadcastOptions opts, Clock::time_point now) {
    if (!opts.order) return sink_(packet, opts);
    if (now - lastSweep_ >= options_.idleAfter) expire(now);
    const std::int64_t seq = opts.order->seq;
    auto [it, fresh] = chains_.try_emplace(opts.order->chain);
    Chain& chain = it->second;
    chain.touched = now;
    if (fresh) chain.last = seq - 1; // a chain starts where it is first seen
    if (seq <= chain.last) {
        ++stats_.late;
        return sink_(packet, opts);
    }
    if (seq == chain.last + 1) {
        chain.last = seq;
        sink_(packet, opts);
        return drain(chain);
    }
    if (chain.held.empty()) chain.waitingSince = now;
    if (chain.held.try_emplace(seq, Held{std::move(packet), std::move(opts)}).second) {
        ++holding_;
        ++stats_.held;
    }
}

void ChainOrder::drain(Chain& chain) {
    while (!chain.held.empty() && chain.held.begin()->first == chain.last + 1) {
        auto node = chain.held.extract(chain.held.begin());
        --holding_;
        chain.last = node.key();
        sink_(node.mapped().packet, node.mapped().opts);
    }
    // What is left waits for a new gap: its wait starts now.
    if (!chain.held.empty()) chain.waitingSince = chain.touched;
}

void ChainOrder::expire(Clock::time_point now) {
    for (auto it = chains_.begin(); it != chains_.end();) {
        Chain& chain = it->second;
        if (!chain.held.empty() && now - chain.waitingSince >= options_.gapTimeout) {
            // Given up: everything held goes out in seq order, across the gaps.
            stats_.skipped += static_cast<std::uint64_t>(chain.held.begin()->first - chain.last - 1);
            chain.last = chain.held.begin()->first - 1;
            while (!chain.held.empty()) {
                auto node = chain.held.extract(chain.held.begin());
                --holding_;
                stats_.skipped += static_cast<std::uint64_t>(node.key() - chain.last - 1);
                chain.last = node.key();
                sink_(node.mapped().packet, node.mapped().opts);
            }
        }
        if (chain.held.empty() && now - chain.touched >= options_.idleAfter)
            it = chains_.erase(it);
        else
            ++it;
    }
    lastSweep_ = now;
}

std::optional<ChainOrder::Clock::time_point> ChainOrder::nextDeadline() const {
    if (holding_ == 0) return std::nullopt;
    std::optional<Clock::time_point> first;
    for (const auto& [name, chain] : chains_)
        if (!chain.held.empty() && (!first || chain.waitingSince < *first)) first = chain.waitingSince;
    return *first + options_.gapTimeout;
}

} // namespace parley::cluster
