#include "chat/TypingTracker.hpp"

namespace parley::chat {

namespace {
constexpr std::string_view kChatRoomPrefix = "chat:";
} // namespace

TypingTracker::TypingTracker(net::IoThreads& threads, std::chrono::milliseconds timeout, StopFn stop)
    : threads_(threads), timeoutMs_(timeout.count()), stop_(std::move(stop)), tables_(threads.size()) {}

// The steady clock, so that a change of the wall clock never ends or stretches an episode.
std::int64_t TypingTracker::nowMs() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

void TypingTracker::start(socketio::Socket& socket, const std::string& userId, std::string_view chatId) {
    auto& entry = table()[&socket];
    if (!entry) entry = std::make_shared<Typist>(socket.context(), userId);
    entry->chats.start(chatId, timeoutMs_ > 0 ? nowMs() + timeoutMs_ : TypingSet::kNever);
    arm(&socket, entry);
}

bool TypingTracker::stop(const socketio::Socket& socket, std::string_view chatId) {
    auto& sockets = table();
    auto it = sockets.find(&socket);
    if (it == sockets.end() || !it->second->chats.stop(chatId)) return false;
    if (it->second->chats.empty()) sockets.erase(it); // its timer goes with it
    return true;
}

void TypingTracker::left(const socketio::Socket& socket, std::string_view room) {
    if (!room.starts_with(kChatRoomPrefix)) return;
    auto& sockets = table();
    auto it = sockets.find(&socket);
    if (it == sockets.end()) return;
    const auto chatId = room.substr(kChatRoomPrefix.size());
    if (!it->second->chats.stop(chatId)) return;
    const auto typist = it->second; // its user id outlives the erase
    if (typist->chats.empty()) sockets.erase(it);
    stop_(typist->userId, std::string(chatId));
}

void TypingTracker::gone(const socketio::Socket& socket) {
    auto& sockets = table();
    auto it = sockets.find(&socket);
    if (it == sockets.end()) return;
    const auto typist = std::move(it->second);
    sockets.erase(it);
    typist->chats.clear([&](const std::string& chatId) { stop_(typist->userId, chatId); });
}

void TypingTracker::arm(const socketio::Socket* key, const std::shared_ptr<Typist>& typist) {
    const std::int64_t due = typist->chats.nextDue();
    // Waiting already for this deadline or an earlier one: that wake-up arms it again if needed.
    if (due == TypingSet::kNever || typist->armedFor <= due) return;
    typist->armedFor = due;
    typist->timer.expires_at(std::chrono::steady_clock::time_point(std::chrono::milliseconds(due)));
    // The entry may be gone (and the key reused by a new socket) when the wait completes: the
    // weak pointer tells.
    typist->timer.async_wait([this, key, weak = std::weak_ptr<Typist>(typist)](boost::system::error_code ec) {
        if (ec) return;
        if (auto t = weak.lock()) onTimer(key, *t);
    });
}

void TypingTracker::onTimer(const socketio::Socket* key, Typist& typist) {
    typist.armedFor = TypingSet::kNever;
    const auto entry = table().at(key); // alive (the weak pointer locked), so still in the table
    typist.chats.expire(nowMs(), [&](const std::string& chatId) { stop_(typist.userId, chatId); });
    if (typist.chats.empty())
        table().erase(key);
    else
        arm(key, entry);
}

std::size_t TypingTracker::typingSockets() const { return tables_[net::IoThreads::ownIndex(threads_)].sockets.size(); }

} // namespace parley::chat
