// Presence: online while any socket of the user is connected, told to its contacts at most once
// per window (PresenceState: this process's PresenceTracker or the cluster's, on io thread 0).
// A socket that connects is first told where its contacts stand (presence:snapshot); the
// presence:update events after it tell the changes.

#include "chat/ChatService.hpp"

#include "core/Time.hpp"

#include <boost/asio/post.hpp>
#include <boost/json/array.hpp>
#include <spdlog/spdlog.h>

namespace parley::chat {

void ChatService::onPresenceChange(const std::string& userId, bool connected) {
    // lastSeenAt is best effort: nothing waits for the disk.
    store_.touchLastSeen(threads_.context(0), userId, core::nowMs(), [](store::Result<void>) {});
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

namespace {

boost::json::array snapshotArgs(const std::vector<store::ContactSeen>& contacts, const std::vector<bool>& online) {
    boost::json::array users;
    users.reserve(contacts.size());
    for (std::size_t i = 0; i < contacts.size(); ++i) {
        const auto& c = contacts[i];
        boost::json::object u{{"userId", c.userId}, {"status", online[i] ? "online" : "offline"}};
        u["lastSeenAt"] = c.lastSeenAt ? boost::json::value(core::isoTime(*c.lastSeenAt)) : boost::json::value(nullptr);
        users.emplace_back(std::move(u));
    }
    return boost::json::array{boost::json::object{{"users", std::move(users)}}};
}

} // namespace

// One store read (the contacts with their lastSeenAt) and one presence read (who of them is
// online: memory, or one Redis script in a cluster), then the event on the socket's own thread.
void ChatService::sendPresenceSnapshot(const SocketPtr& s, const std::string& userId) {
    store_.contactsSeen(
        threads_.context(0), userId,
        [this, weak = std::weak_ptr<socketio::Socket>(s),
         userId](store::Result<std::vector<store::ContactSeen>> contacts) {
            if (!contacts) {
                spdlog::error("presence: snapshot for {}: {}", userId, contacts.error().message());
                return;
            }
            std::vector<std::string> ids;
            ids.reserve(contacts->size());
            for (const auto& c : *contacts) ids.push_back(c.userId);
            presence_.onlineOf(ids, [weak, contacts = std::move(*contacts)](std::vector<bool> online) mutable {
                auto socket = weak.lock();
                if (!socket) return;
                auto& ctx = socket->context();
                boost::asio::post(
                    ctx, [socket = std::move(socket), contacts = std::move(contacts), online = std::move(online)] {
                        if (socket->connected()) socket->emit("presence:snapshot", snapshotArgs(contacts, online));
                    });
            });
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
