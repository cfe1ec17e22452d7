#include "chat/TypingSet.hpp"

#include <algorithm>

namespace parley::chat {

bool TypingSet::start(std::string_view chatId, std::int64_t untilMs) {
    for (auto& e : episodes_)
        if (e.chatId == chatId) {
            e.untilMs = untilMs;
            return false;
        }
    episodes_.push_back(Episode{std::string(chatId), untilMs});
    return true;
}

bool TypingSet::stop(std::string_view chatId) {
    return std::erase_if(episodes_, [&](const Episode& e) { return e.chatId == chatId; }) > 0;
}

std::int64_t TypingSet::nextDue() const noexcept {
    std::int64_t due = kNever;
    for (const auto& e : episodes_) due = std::min(due, e.untilMs);
    return due;
}

} // namespace parley::chat
