#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace parley::chat {

/// The chats one socket is typing in, each with the time its episode ends unless renewed. An
/// episode starts with the first typing:start in a chat and ends exactly once: by the client's
/// typing:stop, by the server (timeout, leaving the room, disconnect), whichever comes first.
/// Pure logic, no clock and no timer: the owner passes times and arms its timer on nextDue().
/// Not thread-safe: one owner.
class TypingSet {
public:
    /// The untilMs of an episode that never times out.
    static constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

    /// typing:start in `chatId`: typing until `untilMs`. True when this starts an episode; false
    /// for a renewal (the deadline moves to `untilMs`).
    bool start(std::string_view chatId, std::int64_t untilMs);
    /// Ends the episode in `chatId`; false when there was none (nothing to tell).
    bool stop(std::string_view chatId);
    /// Ends every episode due at `nowMs` (untilMs <= nowMs), handing each chat id to `fn`.
    template <class Fn>
    void expire(std::int64_t nowMs, Fn&& fn) {
        std::erase_if(episodes_, [&](const Episode& e) {
            if (e.untilMs > nowMs) return false;
            fn(e.chatId);
            return true;
        });
    }
    /// Ends every episode, handing each chat id to `fn`.
    template <class Fn>
    void clear(Fn&& fn) {
        for (const auto& e : episodes_) fn(e.chatId);
        episodes_.clear();
    }

    /// The earliest untilMs of the episodes; kNever when none times out.
    std::int64_t nextDue() const noexcept;
    bool empty() const noexcept { return episodes_.empty(); }
    std::size_t size() const noexcept { return episodes_.size(); }

private:
    struct Episode {
        std::string chatId;
        std::int64_t untilMs;
    };
    // A socket types in one chat, rarely a few: a scan of a small vector beats any index.
    std::vector<Episode> episodes_;
};

} // namespace parley::chat
