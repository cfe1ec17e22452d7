// Presence: online while any socket of the user is connected, told to its contacts at most once
// per window (PresenceState: this process's PresenceTracker or the cluster's, on io thread 0).
// A socket that connects is first told where its contacts stand (presence:snapshot); the
// presence:update events after it tell the changes.
//
// A user's contacts are the members of its chats, and each socket joins one presence room per
// chat it is in, so telling a user's contacts is one broadcast to the rooms of its chats: no
// store read, and the adapter gives each socket the update once however many of the rooms it is
// in. The chats and members come from memory (ContactDirectory).
//
// Two forms. By default a socket gets one presence:update per change, as the contract says. A
// socket that asks for it in its handshake (auth {presence: "batch"}) gets presence:batch
// instead: every change among a chat's members within presenceBatchMs, in one event per chat,
// so a reconnect storm of a 5,000-member chat is a few frames a second to each member rather
// than 5,000. The two forms have their own presence rooms ("presence:<chatId>" and
// "presence-batch:<chatId>"), so a change costs work for the sockets that take its form only, and
// each socket is also in one of two rooms that say which form it takes. Its snapshot takes
// the same shape: one presence:snapshot {chatId, users} per chat, every member listed (the reader
// too), written once for all the sockets that ask for it within snapshotShareMs.

#include "chat/ChatService.hpp"

#include "core/Log.hpp"
#include "core/Time.hpp"
#include "socketio/Encode.hpp"

#include <boost/asio/post.hpp>
#include <boost/json/array.hpp>
#include <spdlog/spdlog.h>

#include <string_view>

namespace parley::chat {

void ChatService::onPresenceChange(const std::string& userId, bool connected) {
    threads_.postTo(0, [this, userId, connected] {
        const auto now = core::nowMs();
        if (connected) {
            presence_.connect(userId, now);
            seenAtConnect(userId, now);
        } else {
            // lastSeenAt is best effort: nothing waits for the disk. A disconnect's is written at
            // once: it is what every contact's snapshot shows of the user from now on.
            store_.touchLastSeen(threads_.context(0), {{userId, now}}, [](store::Result<void>) {});
            presence_.disconnect(userId, now);
        }
    });
}

// A connect's lastSeenAt matters only if the user's disconnect is never written (the process
// dies): the user is online until then, and its snapshot entry says so. So connects' are
// gathered and written together, one store write for a storm's connects each connectSeenMs
// rather than one each. The store keeps the latest time, so one written after the user's
// disconnect changes nothing.
void ChatService::seenAtConnect(const std::string& userId, std::int64_t at) {
    const bool armed = !connectSeen_.empty();
    auto [it, added] = connectSeen_.try_emplace(userId, at);
    if (!added) it->second = std::max(it->second, at);
    if (armed) return;
    connectSeenTimer_->expires_after(std::chrono::milliseconds(config_.connectSeenMs));
    connectSeenTimer_->async_wait([this](boost::system::error_code ec) {
        if (ec) return;
        std::vector<store::LastSeen> seen;
        seen.reserve(connectSeen_.size());
        for (auto& [user, when] : connectSeen_) seen.push_back({user, when});
        connectSeen_.clear();
        store_.touchLastSeen(threads_.context(0), std::move(seen), [](store::Result<void> r) {
            if (!r) spdlog::warn("presence: could not write connects' lastSeenAt: {}", r.error().message());
        });
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

namespace {

constexpr std::string_view kSingleForm = "presence-form:single";
constexpr std::string_view kBatchForm = "presence-form:batch";

// The room of a chat's members whose sockets take the batched form, or the single form.
std::string presenceRoom(std::string_view chatId, bool batch) {
    std::string room(batch ? "presence-batch:" : "presence:");
    room += chatId;
    return room;
}

bool wantsBatch(const socketio::Socket& s) {
    const auto* form = s.auth().if_contains("presence");
    return form && form->is_string() && form->get_string() == "batch";
}

void appendIsoOrNull(std::string& out, std::int64_t ms) {
    if (!ms) {
        out += "null";
        return;
    }
    out += '"';
    core::appendIsoTime(out, ms);
    out += '"';
}

void appendSnapshotEntry(std::string& out, const store::ContactSeen& c, const ToldPresence& told) {
    out += R"({"userId":")";
    core::appendJsonEscaped(out, c.userId);
    out += told.online ? R"(","status":"online","timestamp":)" : R"(","status":"offline","timestamp":)";
    appendIsoOrNull(out, told.atMs);
    out += R"(,"lastSeenAt":)";
    appendIsoOrNull(out, c.lastSeenAt.value_or(0));
    out += '}';
}

// The snapshot's arguments as JSON text, written straight into one string: a member of a
// 5,000-member chat gets 5,000 entries, and a DOM of them per connect costs more than the rest
// of the connect together.
std::string snapshotText(const std::vector<const store::ContactSeen*>& contacts,
                         const std::vector<ToldPresence>& told) {
    std::string out;
    out.reserve(16 + contacts.size() * 120);
    out += R"({"users":[)";
    for (std::size_t i = 0; i < contacts.size(); ++i) {
        if (i) out += ',';
        appendSnapshotEntry(out, *contacts[i], told[i]);
    }
    out += "]}";
    return out;
}

// The batched form's snapshot of one chat: {chatId, users} with every member, the reader too.
std::string chatSnapshotText(std::string_view chatId, const std::vector<store::ContactSeen>& members,
                             const std::vector<ToldPresence>& told) {
    std::string out;
    out.reserve(48 + members.size() * 120);
    out += R"({"chatId":")";
    core::appendJsonEscaped(out, chatId);
    out += R"(","users":[)";
    for (std::size_t i = 0; i < members.size(); ++i) {
        if (i) out += ',';
        appendSnapshotEntry(out, members[i], told[i]);
    }
    out += "]}";
    return out;
}

} // namespace

void ChatService::broadcastPresence(const std::string& userId, Presence status) {
    const auto now = core::nowMs();
    boost::json::object update{{"userId", userId},
                               {"status", status == Presence::Online ? "online" : "offline"},
                               {"timestamp", core::isoTime(now)}};
    directory_.chatsOf(
        userId, now, [this, userId, update = std::move(update)](store::Result<std::vector<std::string>> chats) {
            if (!chats) {
                spdlog::error("presence: chats of {}: {}", userId, chats.error().message());
                return;
            }
            if (chats->empty()) return;
            socketio::BroadcastOptions single;
            for (const auto& c : *chats) {
                single.rooms.push_back(presenceRoom(c, false));
                presenceBatches_[c].push_back(update);
            }
            single.except = {"user:" + userId};
            socketio::BroadcastOperator(nsp_, std::move(single)).emit("presence:update", boost::json::array{update});
            if (!presenceFlushArmed_) {
                presenceFlushArmed_ = true;
                presenceBatchTimer_->expires_after(std::chrono::milliseconds(config_.presenceBatchMs));
                presenceBatchTimer_->async_wait([this](boost::system::error_code ec) {
                    presenceFlushArmed_ = false;
                    if (!ec) flushPresenceBatches();
                });
            }
        });
}

// One presence:batch per chat with changes, to the sockets of its members that take the batched
// form. A member of several of the chats gets a change in each chat's batch (the same change:
// the same userId, status and timestamp).
void ChatService::flushPresenceBatches() {
    auto batches = std::move(presenceBatches_);
    presenceBatches_.clear();
    for (auto& [chatId, updates] : batches) {
        socketio::BroadcastOptions opts;
        opts.rooms.push_back(presenceRoom(chatId, true));
        socketio::BroadcastOperator(nsp_, std::move(opts))
            .emit("presence:batch",
                  boost::json::array{boost::json::object{{"chatId", chatId}, {"updates", std::move(updates)}}});
    }
}

void ChatService::joinPresence(const SocketPtr& s, const std::string& userId) {
    s->joinUncounted(std::string(wantsBatch(*s) ? kBatchForm : kSingleForm));
    threads_.postTo(0, [this, weak = std::weak_ptr<socketio::Socket>(s), userId] {
        directory_.chatsOf(userId, core::nowMs(), [this, weak, userId](store::Result<std::vector<std::string>> chats) {
            if (!chats) {
                spdlog::error("presence: chats of {}: {}", userId, chats.error().message());
                return;
            }
            auto socket = weak.lock();
            if (!socket) return;
            auto& ctx = socket->context();
            boost::asio::post(ctx, [this, socket = std::move(socket), userId, chats = std::move(*chats)] {
                if (!socket->connected()) return;
                const bool batch = wantsBatch(*socket);
                for (const auto& c : chats) socket->joinUncounted(presenceRoom(c, batch));
                // Told after joining: a change from here on reaches the socket as an update, one
                // before is in the snapshot.
                threads_.postTo(0, [this, weak = std::weak_ptr<socketio::Socket>(socket), userId, chats] {
                    auto live = weak.lock();
                    if (!live) return;
                    if (!wantsBatch(*live)) return sendPresenceSnapshot(live, userId, chats);
                    for (const auto& c : chats) requestChatSnapshot(live, c);
                });
            });
        });
    });
}

// The contacts (memory, or one store read per chat shared by every connect for a moment) and who
// of them is online (memory, or one Redis script in a cluster), then the event on the socket's
// own thread. Runs on io thread 0.
void ChatService::sendPresenceSnapshot(const SocketPtr& s, const std::string& userId,
                                       const std::vector<std::string>& chatIds) {
    directory_.contactsIn(
        userId, chatIds, core::nowMs(),
        [this, weak = std::weak_ptr<socketio::Socket>(s), userId](store::Result<ContactDirectory::Contacts> contacts) {
            if (!contacts) {
                spdlog::error("presence: snapshot for {}: {}", userId, contacts.error().message());
                return;
            }
            std::vector<std::string_view> ids;
            ids.reserve(contacts->list.size());
            for (const auto* c : contacts->list) ids.push_back(c->userId);
            presence_.toldOf(ids, [weak, contacts = std::move(*contacts)](std::vector<ToldPresence> told) mutable {
                auto socket = weak.lock();
                if (!socket) return;
                auto& ctx = socket->context();
                // Written on the socket's own thread: with several io threads, thread 0 only gathers.
                boost::asio::post(ctx,
                                  [socket = std::move(socket), contacts = std::move(contacts), told = std::move(told)] {
                                      if (socket->connected())
                                          socket->emitRaw("presence:snapshot", snapshotText(contacts.list, told));
                                  });
            });
        });
}

// A chat's snapshot is built once for the batch-form sockets whose requests came within
// snapshotShareMs: in a connect storm of a 5,000-member chat, one build and one encoded packet
// serve dozens of connects instead of each writing 5,000 entries. A request made while a build is
// under way waits for the next one: every socket that shares a build had joined the chat's
// presence room before the build read who was told what, so no change falls between the two.
void ChatService::requestChatSnapshot(const SocketPtr& s, const std::string& chatId) {
    auto& wait = chatSnapshots_[chatId];
    wait.sockets.push_back(s);
    if (wait.timer) return;
    wait.timer = std::make_unique<boost::asio::steady_timer>(threads_.context(0));
    wait.timer->expires_after(std::chrono::milliseconds(config_.snapshotShareMs));
    wait.timer->async_wait([this, chatId](boost::system::error_code ec) {
        if (!ec) buildChatSnapshot(chatId);
    });
}

void ChatService::buildChatSnapshot(const std::string& chatId) {
    auto it = chatSnapshots_.find(chatId);
    if (it == chatSnapshots_.end()) return;
    auto sockets = std::move(it->second.sockets);
    chatSnapshots_.erase(it);
    directory_.membersOf(
        chatId, core::nowMs(),
        [this, chatId, sockets = std::move(sockets)](store::Result<ContactDirectory::Members> members) mutable {
            if (!members) {
                spdlog::error("presence: snapshot of chat {}: {}", chatId, members.error().message());
                return;
            }
            std::vector<std::string_view> ids;
            ids.reserve((*members)->size());
            for (const auto& m : **members) ids.push_back(m.userId);
            presence_.toldOf(ids, [this, chatId, sockets = std::move(sockets),
                                   members = std::move(*members)](std::vector<ToldPresence> told) {
                auto packet =
                    socketio::encodeEvent(nsp_.name(), "presence:snapshot", chatSnapshotText(chatId, *members, told));
                for (const auto& weak : sockets) {
                    auto socket = weak.lock();
                    if (!socket) continue;
                    auto& ctx = socket->context();
                    boost::asio::post(ctx, [socket = std::move(socket), packet] {
                        if (socket->connected()) socket->send(packet);
                    });
                }
            });
        });
}

void ChatService::presenceMembersChanged(const store::Chat& chat, const std::vector<std::string>& joined,
                                         const std::vector<std::string>& left) {
    directory_.chatChanged(chat.id, chat.memberIds, left);
    if (!joined.empty()) {
        // Each socket joins the room of its form.
        for (const bool batch : {false, true}) {
            socketio::BroadcastOptions opts;
            for (const auto& id : joined) opts.rooms.push_back("user:" + id);
            opts.except.emplace_back(batch ? kSingleForm : kBatchForm);
            socketio::BroadcastOperator(nsp_, std::move(opts)).socketsJoin({presenceRoom(chat.id, batch)});
        }
    }
    if (!left.empty()) {
        socketio::BroadcastOptions opts;
        for (const auto& id : left) opts.rooms.push_back("user:" + id);
        socketio::BroadcastOperator(nsp_, std::move(opts))
            .socketsLeave({presenceRoom(chat.id, false), presenceRoom(chat.id, true)});
    }
}

void ChatService::schedulePrune() {
    pruneTimer_->expires_after(std::chrono::seconds(30));
    pruneTimer_->async_wait([this](boost::system::error_code ec) {
        if (ec) return;
        presence_.prune(core::nowMs());
        directory_.prune(core::nowMs());
        if (recovery_) recovery_->prune(threads_.context(0));
        schedulePrune();
    });
    limit_.prune(core::nowMs());
}

} // namespace parley::chat
