// Presence: online while any socket of the user is connected, told to its contacts at most once
// per window (PresenceState: this process's PresenceTracker or the cluster's, on io thread 0).

#include "chat/ChatService.hpp"

#include "core/Time.hpp"

#include <boost/json/array.hpp>
#include <spdlog/spdlog.h>

namespace parley::chat {

void ChatService::onPresenceChange(const std::string& userId, bool connected) {
    threads_.postTo(0, [this, userId, connected] {
        const auto now = core::nowMs();
        if (connected)
            presence_.connect(userId, now);
        else
            presence_.disconnect(userId, now);
    });
}

void ChatService::applyPresence(const std::string& userId, const PresenceState::Decision& d) {
    if (d.broadcastNow) broadcastPresence(userId, *d.broadcastNow);
    if (d.checkAtMs) {
        auto timer = std::make_shared<boost::asio::steady_timer>(threads_.context(0));
        timer->expires_after(std::chrono::milliseconds(std::max<std::int64_t>(0, *d.checkAtMs - core::nowMs())));
        timer->async_wait([this, timer, userId](boost::system::error_code ec) {
            if (ec) return;
            presence_.onTimer(userId, core::nowMs());
        });
    }
}

void ChatService::broadcastPresence(const std::string& userId, Presence status) {
    const std::string timestamp = core::isoTime(core::nowMs());
    store_.contactsOf(threads_.context(0), userId,
                      [this, userId, status, timestamp](store::Result<std::vector<std::string>> contacts) {
                          if (!contacts) {
                              spdlog::error("presence: contacts of {}: {}", userId, contacts.error().message());
                              return;
                          }
                          if (contacts->empty()) return;
                          socketio::BroadcastOptions opts;
                          for (const auto& c : *contacts) opts.rooms.push_back("user:" + c);
                          socketio::BroadcastOperator(nsp_, std::move(opts))
                              .emit("presence:update",
                                    boost::json::array{boost::json::object{
                                        {"userId", userId},
                                        {"status", status == Presence::Online ? "online" : "offline"},
                                        {"timestamp", timestamp}}});
                      });
}

void ChatService::schedulePrune() {
    pruneTimer_->expires_after(std::chrono::seconds(30));
    pruneTimer_->async_wait([this](boost::system::error_code ec) {
        if (ec) return;
        presence_.prune(core::nowMs());
        if (recovery_) recovery_->prune(threads_.context(0));
        schedulePrune();
    });
    limit_.prune(core::nowMs());
}

} // namespace parley::chat
