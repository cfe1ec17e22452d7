#include "chat/Recovery.hpp"

#include "chat/ChatService.hpp"
#include "chat/SocketUser.hpp"
#include "core/ObjectId.hpp"
#include "core/Time.hpp"
#include "net/SharedBuffer.hpp"
#include "socketio/Encode.hpp"

#include <boost/json/array.hpp>
#include <sodium.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <optional>
#include <unordered_set>
#include <utility>

namespace parley::chat {

namespace {

constexpr std::size_t kPidBytes = 16;
constexpr std::size_t kPidLength = 22; // base64url of 16 bytes, no padding

// A socket's recovery state lives in its data, under this key:
//   owner      this socket's name in the store (ChatStore::saveRecovery)
//   createdAt  when its record was first written (0: it has none yet)
//   rooms      {chatId: joinedAtMs}, the chat rooms its record lists
//   restore    until the connection handler runs, for a recovered socket: what to replay
//              ({rooms, afterAt, afterId} with afterId "" when the client sent no offset)
constexpr std::string_view kState = "recovery";

boost::json::object* stateOf(const SessionRecovery::SocketPtr& socket) {
    auto* v = socket->data().if_contains(kState);
    return v ? v->if_object() : nullptr;
}

boost::json::object roomsJson(const std::vector<store::RecoveryRoom>& rooms) {
    boost::json::object out;
    for (const auto& room : rooms) out[room.chatId] = room.joinedAt;
    return out;
}

std::vector<store::RecoveryRoom> roomsOf(const boost::json::object& json) {
    std::vector<store::RecoveryRoom> rooms;
    rooms.reserve(json.size());
    for (const auto& [chatId, joinedAt] : json)
        if (const auto* at = joinedAt.if_int64()) rooms.push_back(store::RecoveryRoom{std::string(chatId), *at});
    return rooms;
}

// The id of the message a message:new packet carries (its offset, the last argument, names
// it), recognised on the encoded text: `4` `2` [nsp ","] `["message:new",` ... `"<offset>"]`;
// the pattern cannot occur inside a JSON string, where every quote is escaped.
std::optional<std::string_view> messageIdOf(std::string_view text) {
    const auto offset = offsetIn(text);
    if (!parseOffset(offset)) return std::nullopt;
    return offset.substr(offset.find('-') + 1);
}

// An offset's place, (createdAt, id), read without copying; nullopt if it is not one.
std::optional<std::pair<std::int64_t, std::string_view>> placeOf(std::string_view offset) {
    const auto dash = offset.find('-');
    if (dash == std::string_view::npos || dash == 0) return std::nullopt;
    std::int64_t at = 0;
    auto [end, ec] = std::from_chars(offset.data(), offset.data() + dash, at);
    if (ec != std::errc() || end != offset.data() + dash) return std::nullopt;
    return std::pair{at, offset.substr(dash + 1)};
}

// Packets held during a replay are sent after it, but a message:new the replay carried and an
// event of a chat the user has left (every chat event's first object starts with "chatId").
bool superseded(std::string_view text, const std::unordered_set<std::string>& replayed,
                const std::unordered_set<std::string>& left) {
    if (!left.empty()) {
        constexpr std::string_view kChatKey = "\"chatId\":\"";
        if (auto at = text.find(kChatKey); at != std::string_view::npos) {
            const auto id = text.substr(at + kChatKey.size(), 24);
            if (left.contains(std::string(id))) return true;
        }
    }
    if (replayed.empty()) return false;
    const auto id = messageIdOf(text);
    return id && replayed.contains(std::string(*id));
}

// A message of the replay may still be on its way live after the hold ended: its broadcast
// leaves the node that stored it after the commit the replay's read saw, and crosses Redis
// (milliseconds; more while a deploy's clients reconnect all at once). Such a late copy is
// dropped, each at most once, for this long after the replay.
constexpr std::chrono::seconds kLateCopyWindow{10};

} // namespace

// ---------------------------------------------------------------------------------------------
// Offsets and private ids
// ---------------------------------------------------------------------------------------------

// A message:new is `4` `2` [nsp ","] [ack id] `["message:new",` ... `"<offset>"]`: its first '['
// opens the arguments (a namespace or an id has none), and the pattern cannot occur inside a
// JSON string, where every quote is escaped.
std::string_view offsetIn(std::string_view text) {
    constexpr std::string_view kHead = "[\"message:new\",";
    const auto args = text.find('[');
    if (args == std::string_view::npos || text.substr(args, kHead.size()) != kHead) return {};
    if (!text.ends_with("\"]")) return {};
    const auto open = text.rfind('"', text.size() - 3);
    if (open == std::string_view::npos || open < args + kHead.size()) return {};
    return text.substr(open + 1, text.size() - 3 - open);
}

OffsetOrder::OffsetOrder(std::string start) {
    if (const auto place = placeOf(start)) {
        lastAt_ = place->first;
        last_ = std::move(start);
    }
}

namespace {

// A packet's offset and its place, read once per packet rather than once per recipient: a
// message:new to a 1,000-member chat passes through 1,000 sockets' OffsetOrder in a row on each
// io thread. The entry holds the packet's buffer, so while it is there no other packet can have
// that address.
struct ParsedOffset {
    net::SharedBuffer text;
    std::string_view offset;
    std::optional<std::pair<std::int64_t, std::string_view>> place;
};

const ParsedOffset& parsedOffsetOf(const socketio::EncodedPacket& packet) {
    thread_local ParsedOffset last;
    if (last.text != packet.text) {
        last.text = packet.text;
        last.offset = offsetIn(*packet.text);
        last.place = last.offset.empty() ? std::nullopt : placeOf(last.offset);
    }
    return last;
}

} // namespace

std::optional<socketio::EncodedPacket> OffsetOrder::operator()(const socketio::EncodedPacket& packet) {
    const ParsedOffset& parsed = parsedOffsetOf(packet);
    if (!parsed.place) return std::nullopt;
    const auto offset = parsed.offset;
    const auto& place = parsed.place;
    const auto lastId = std::string_view(last_).substr(last_.find('-') + 1);
    if (last_.empty() || std::pair{lastAt_, lastId} < *place) {
        lastAt_ = place->first;
        last_.assign(offset);
        return std::nullopt;
    }
    if (std::pair{lastAt_, lastId} == *place) return std::nullopt;
    // Placed before what this socket was last sent: the same packet with that offset.
    const std::string_view text = *packet.text;
    std::string out;
    out.reserve(text.size() - offset.size() + last_.size());
    out.append(text.substr(0, text.size() - offset.size() - 2));
    out += last_;
    out += "\"]";
    return socketio::EncodedPacket{net::makeSharedBuffer(std::move(out)), packet.binaries};
}

std::string offsetOf(const store::Message& message) {
    std::string out = std::to_string(message.createdAt);
    out += '-';
    out += message.id;
    return out;
}

std::optional<store::Position> parseOffset(std::string_view offset) {
    const auto dash = offset.find('-');
    if (dash == std::string_view::npos || dash == 0 || dash > 19) return std::nullopt;
    store::Position position;
    const char* first = offset.data();
    const char* last = first + dash;
    auto [end, ec] = std::from_chars(first, last, position.createdAt);
    if (ec != std::errc() || end != last || position.createdAt < 0) return std::nullopt;
    const auto id = offset.substr(dash + 1);
    // Lower-case hex only: the store compares ids byte by byte.
    if (!core::ObjectId::isValid(id) || id.find_first_of("ABCDEF") != std::string_view::npos) return std::nullopt;
    position.id = std::string(id);
    return position;
}

std::string newPid() {
    unsigned char bytes[kPidBytes];
    randombytes_buf(bytes, sizeof bytes);
    char text[kPidLength + 1];
    sodium_bin2base64(text, sizeof text, bytes, sizeof bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return std::string(text, kPidLength);
}

bool isPid(std::string_view pid) {
    if (pid.size() != kPidLength) return false;
    for (char c : pid) {
        const bool ok =
            (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
        if (!ok) return false;
    }
    // The last character carries the last 2 of the 128 bits and 4 zero bits: 4 of the 64 letters.
    static constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    return kAlphabet.find(pid.back()) % 16 == 0;
}

// ---------------------------------------------------------------------------------------------
// SessionRecovery
// ---------------------------------------------------------------------------------------------

SessionRecovery::SessionRecovery(socketio::Namespace& nsp, store::ChatStore& store, std::int64_t windowMs,
                                 int maxReplay)
    : nsp_(nsp), store_(store), windowMs_(windowMs), maxReplay_(maxReplay) {}

void SessionRecovery::admit(const SocketPtr& socket, const std::string& userId, socketio::Next next) {
    std::string owner = newPid();
    auto fresh = [socket](std::string name) {
        socket->setIdentity(socket->id(), newPid());
        socket->data()[kState] = boost::json::object{{"owner", std::move(name)}, {"createdAt", 0}, {"rooms", {}}};
    };
    const auto& auth = socket->auth();
    const auto* pid = auth.if_contains("pid");
    const auto* offset = auth.if_contains("offset");
    std::optional<store::Position> after;
    bool valid = pid && pid->is_string() && isPid(pid->get_string());
    if (valid && offset) valid = offset->is_string() && (after = parseOffset(offset->get_string())).has_value();
    if (!valid) {
        fresh(std::move(owner));
        return next(std::nullopt);
    }
    std::string claimed(pid->get_string());
    const auto now = core::nowMs();
    store_.claimRecovery(
        socket->context(), claimed, userId, owner, now, now - windowMs_,
        [this, socket, claimed, owner, after, fresh, next = std::move(next)](store::Result<store::RecoveryRecord> r) {
            if (!r) {
                if (r.error() != store::Errc::NotFound)
                    spdlog::warn("recovery: could not read a session record: {}", r.error().message());
                fresh(owner);
                return next(std::nullopt);
            }
            // A socket with this id whose drop the server has not noticed yet goes first, on
            // whichever process holds it.
            nsp_.to(r->sid).disconnectSockets(true);
            socket->setIdentity(r->sid, claimed);
            boost::json::object restore{{"rooms", roomsJson(r->rooms)},
                                        {"afterAt", after ? after->createdAt : 0},
                                        {"afterId", after ? after->id : std::string()}};
            socket->data()[kState] = boost::json::object{
                {"owner", owner}, {"createdAt", r->createdAt}, {"rooms", {}}, {"restore", std::move(restore)}};
            next(std::nullopt);
        });
}

void SessionRecovery::onConnected(const SocketPtr& socket) {
    auto* state = stateOf(socket);
    if (!state) return;
    auto* pending = state->if_contains("restore");
    if (!pending || !pending->is_object()) {
        socket->setRewrite(OffsetOrder());
        return;
    }
    const auto& restoreJson = pending->get_object();
    if (auto afterId = restoreJson.at("afterId").as_string(); !afterId.empty())
        socket->setRewrite(
            OffsetOrder(std::to_string(restoreJson.at("afterAt").as_int64()) + "-" + std::string(afterId)));
    else
        socket->setRewrite(OffsetOrder());
    store::ReplayRequest request;
    request.userId = userOf(socket);
    request.rooms = roomsOf(restoreJson.at("rooms").as_object());
    if (auto afterId = restoreJson.at("afterId").as_string(); !afterId.empty())
        request.after = store::Position{restoreJson.at("afterAt").as_int64(), std::string(afterId)};
    // Chats and cursors changed after the last message the client received, or after the
    // record was first written when it received none.
    request.since = request.after ? request.after->createdAt : state->at("createdAt").as_int64();
    request.limit = maxReplay_;
    state->erase("restore");
    const std::string userId = request.userId;
    restore(socket, userId, std::move(request));
}

void SessionRecovery::restore(const SocketPtr& socket, const std::string& userId, store::ReplayRequest request) {
    // Joined before the read starts: whatever is committed after the read's snapshot reaches the
    // socket live, and is held until the replay has been sent.
    socket->hold();
    auto& rooms = stateOf(socket)->at("rooms").as_object();
    for (const auto& room : request.rooms)
        if (socket->join("chat:" + room.chatId)) rooms[room.chatId] = room.joinedAt;
    store_.replay(socket->context(), std::move(request), [this, socket, userId](store::Result<store::Replay> r) {
        if (!socket->connected()) return;
        if (!r || r->truncated) {
            // Too much to replay (or the store failed): the client must catch up by itself. The
            // record goes, so the client's next connect is a fresh session.
            if (!r) spdlog::warn("recovery: replay failed for user {}: {}", userId, r.error().message());
            forget(socket);
            socket->endHold();
            return socket->closeConnection();
        }
        sendReplay(socket, *r);
    });
}

void SessionRecovery::sendReplay(const SocketPtr& socket, const store::Replay& replay) {
    auto& rooms = stateOf(socket)->at("rooms").as_object();
    std::unordered_set<std::string> left;
    for (const auto& [chatId, joinedAt] : rooms)
        if (std::find(replay.memberChats.begin(), replay.memberChats.end(), chatId) == replay.memberChats.end())
            left.emplace(chatId);
    for (const auto& chatId : left) {
        socket->leave("chat:" + chatId);
        rooms.erase(chatId);
    }
    if (!left.empty()) save(socket);
    const auto& nsp = socket->nsp().name();
    std::unordered_set<std::string> replayed;
    for (const auto& m : replay.messages) {
        replayed.insert(m.id);
        socket->sendNow(socketio::encodeEvent(
            nsp, "message:new", socketio::argsText(boost::json::array{ChatService::messageJson(m), offsetOf(m)})));
    }
    for (const auto& chat : replay.chats)
        socket->sendNow(socketio::encodeEvent(
            nsp, "chat:update",
            socketio::argsText(boost::json::array{boost::json::object{{"chat", ChatService::chatJson(chat)}}})));
    for (const auto& [chatId, cursor] : replay.cursors)
        socket->sendNow(socketio::encodeEvent(nsp, "receipt:update",
                                              socketio::argsText(boost::json::array{boost::json::object{
                                                  {"chatId", chatId},
                                                  {"messageId", cursor.messageId},
                                                  {"userId", cursor.userId},
                                                  {"readAt", core::isoTime(cursor.readAt)}}})));
    for (const auto& packet : socket->endHold())
        if (!superseded(*packet.text, replayed, left)) socket->sendNow(packet);
    // A message the replay read as committed may still be on its way here (published by another
    // node after its commit): for a while, its live copy is dropped too, each at most once.
    if (!replayed.empty())
        socket->dropUntil(std::chrono::steady_clock::now() + kLateCopyWindow,
                          [late = std::move(replayed)](std::string_view text) mutable {
                              if (late.empty()) return false;
                              const auto id = messageIdOf(text);
                              return id && late.erase(std::string(*id)) > 0;
                          });
}

void SessionRecovery::onJoined(const SocketPtr& socket, const std::string& chatId, std::function<void()> saved) {
    auto* state = stateOf(socket);
    if (!state) return saved();
    auto& rooms = state->at("rooms").as_object();
    if (rooms.contains(chatId)) return saved();
    rooms[chatId] = core::nowMs();
    save(socket, std::move(saved));
}

void SessionRecovery::onLeft(const SocketPtr& socket, const std::string& chatId, std::function<void()> saved) {
    auto* state = stateOf(socket);
    if (!state || state->at("rooms").as_object().erase(chatId) == 0) return saved();
    save(socket, std::move(saved));
}

void SessionRecovery::onDisconnected(const SocketPtr& socket) {
    auto* state = stateOf(socket);
    if (!state || state->at("createdAt").as_int64() == 0) return;
    store_.endRecovery(socket->context(), socket->pid(), std::string(state->at("owner").as_string()), core::nowMs(),
                       [](store::Result<void>) {});
}

void SessionRecovery::save(const SocketPtr& socket, std::function<void()> saved) {
    auto& state = *stateOf(socket);
    const auto now = core::nowMs();
    if (state.at("createdAt").as_int64() == 0) state["createdAt"] = now;
    store::RecoveryRecord record;
    record.pid = socket->pid();
    record.userId = userOf(socket);
    record.sid = socket->id();
    record.owner = std::string(state.at("owner").as_string());
    record.rooms = roomsOf(state.at("rooms").as_object());
    record.createdAt = state.at("createdAt").as_int64();
    record.updatedAt = now;
    store_.saveRecovery(socket->context(), std::move(record), [saved = std::move(saved)](store::Result<void> r) {
        if (!r) spdlog::warn("recovery: could not save a session record: {}", r.error().message());
        if (saved) saved();
    });
}

void SessionRecovery::forget(const SocketPtr& socket) {
    store_.deleteRecovery(socket->context(), socket->pid(), [](store::Result<void>) {});
    socket->data().erase(kState);
}

void SessionRecovery::prune(boost::asio::io_context& ctx) {
    store_.pruneRecovery(ctx, core::nowMs() - windowMs_, [](store::Result<std::int64_t> r) {
        if (r && *r > 0) spdlog::debug("recovery: pruned {} session records", *r);
    });
}

} // namespace parley::chat
