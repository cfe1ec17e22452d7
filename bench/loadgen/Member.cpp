#include "Member.hpp"

#include "Clock.hpp"

#include <boost/json/object.hpp>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace parley::bench {

namespace {

const boost::json::object* firstObject(const boost::json::array& args, std::size_t at) {
    return args.size() > at ? args[at].if_object() : nullptr;
}

std::string_view stringAt(const boost::json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    if (!v || !v->is_string()) return {};
    const auto& s = v->get_string();
    return {s.data(), s.size()};
}

bool okOf(const boost::json::object& o) {
    const auto* ok = o.if_contains("ok");
    return ok && ok->is_bool() && ok->get_bool();
}

void copyId(std::array<char, 24>& to, std::string_view from) {
    if (from.size() == to.size()) std::memcpy(to.data(), from.data(), to.size());
}

// Consecutive members (a chat's) go to different server processes of a cluster.
const Target& targetOf(const Options& o, std::size_t index) { return o.targets[index % o.targets.size()]; }

} // namespace

bool parseClientId(std::string_view clientId, std::string_view runTag, std::uint32_t& sender, std::uint32_t& seq) {
    if (clientId.size() < runTag.size() + 4 || clientId.substr(0, runTag.size()) != runTag ||
        clientId[runTag.size()] != '-')
        return false;
    const char* p = clientId.data() + runTag.size() + 1;
    const char* end = clientId.data() + clientId.size();
    auto [afterSender, ec1] = std::from_chars(p, end, sender);
    if (ec1 != std::errc{} || afterSender == end || *afterSender != '-') return false;
    auto [afterSeq, ec2] = std::from_chars(afterSender + 1, end, seq);
    return ec2 == std::errc{} && afterSeq == end;
}

Member::Member(std::size_t index, boost::asio::io_context& ctx, RunShared& shared)
    : index_(index), shared_(shared), chats_(shared.roster.chatsOf[index]),
      client_(ctx, targetOf(shared.options, index).endpoint, targetOf(shared.options, index).hostHeader, shared.kind,
              *this) {}

// ---------------------------------------------------------------------------------------------
// Connect, authenticate, join
// ---------------------------------------------------------------------------------------------

void Member::start(std::function<void()> settled) {
    if (!open_) {
        open_ = true;
        ++shared_.progress.open;
    }
    // Sends of a dropped connection will never be acked: stop waiting for them.
    shared_.progress.acksOutstanding -= inFlight_;
    inFlight_ = 0;
    settled_ = std::move(settled);
    phase_ = Phase::Connecting;
    startNs_ = nowNs();
    client_.connect(shared_.roster.users[index_].token, shared_.options.presenceBatch);
}

void Member::onConnect() {
    if (chats_.empty()) return settle(true);
    phase_ = Phase::Joining;
    joinsPending_ = chats_.size();
    for (const auto chat : chats_)
        client_.emit("room:join", boost::json::object{{"chatId", shared_.roster.chats[chat].id}},
                     [this](const boost::json::array& args) { onJoinAck(args); });
}

void Member::onJoinAck(const boost::json::array& args) {
    if (phase_ != Phase::Joining) return;
    const auto* o = firstObject(args, 0);
    if (o && okOf(*o)) {
        if (--joinsPending_ == 0) settle(true);
        return;
    }
    lastError = o ? "room:join: " + std::string(stringAt(*o, "error")) : "room:join: bad ack";
    settle(false);
    client_.close(false);
}

void Member::onConnectError(std::string_view message) {
    lastError = "connect: " + std::string(message);
    settle(false);
}

void Member::settle(bool ok) {
    if (ok) {
        phase_ = Phase::Ready;
        readyNs_ = nowNs();
        auto& last = shared_.progress.lastReadyNs;
        for (auto seen = last.load(); seen < readyNs_ && !last.compare_exchange_weak(seen, readyNs_);) {}
        ++shared_.progress.ready;
    } else {
        phase_ = Phase::Failed;
        ++shared_.progress.failed;
    }
    if (auto fn = std::move(settled_)) {
        settled_ = nullptr;
        fn();
    }
}

void Member::close() {
    if (!open_) return;
    phase_ = Phase::Closing;
    client_.close(true);
}

void Member::abort() {
    if (!open_) return;
    phase_ = Phase::Closing;
    client_.close(false);
}

void Member::onClose(boost::system::error_code ec) {
    if (phase_ == Phase::Ready) {
        ++drops;
        ++shared_.progress.dropped;
        lastError = "dropped: " + ec.message();
    } else if (phase_ == Phase::Connecting || phase_ == Phase::Joining) {
        lastError = "connect: " + ec.message();
        settle(false);
    }
    if (phase_ != Phase::Failed) phase_ = Phase::Idle;
    shared_.progress.acksOutstanding -= inFlight_;
    inFlight_ = 0;
    if (open_) {
        open_ = false;
        --shared_.progress.open;
    }
}

// ---------------------------------------------------------------------------------------------
// message:send and its ack
// ---------------------------------------------------------------------------------------------

void Member::sendMessage(std::size_t chat) {
    if (phase_ != Phase::Ready || chats_.empty()) {
        ++skippedSends;
        return;
    }
    const auto seq = static_cast<std::uint32_t>(sent.size());
    if (chat == Roster::kNoChat) chat = chats_[seq % chats_.size()];
    std::string clientId = shared_.runTag;
    clientId += '-';
    clientId += std::to_string(index_);
    clientId += '-';
    clientId += std::to_string(seq);
    // Every character is plain ASCII: the JSON needs no escaping.
    std::string body = "parley-bench " + clientId + ' ';
    body.resize(std::max(body.size(), shared_.options.bodyBytes), 'x');
    std::string json = "{\"chatId\":\"";
    json += shared_.roster.chats[chat].id;
    json += "\",\"body\":\"";
    json += body;
    json += "\",\"clientId\":\"";
    json += clientId;
    json += "\"}";

    sent.push_back(SentRecord{nowNs(), 0, SendStatus::Pending, static_cast<std::uint32_t>(chat), {}});
    ++inFlight_;
    ++shared_.progress.acksOutstanding;
    client_.emitRaw("message:send", json, [this, seq](const boost::json::array& args) { onSendAck(seq, args); });
}

void Member::onSendAck(std::uint32_t seq, const boost::json::array& args) {
    SentRecord& rec = sent[seq];
    rec.ackNs = nowNs();
    --inFlight_;
    --shared_.progress.acksOutstanding;
    if (static_cast<std::int64_t>(seq) < lastAckedSeq_) ++ackOutOfOrder;
    lastAckedSeq_ = std::max<std::int64_t>(lastAckedSeq_, seq);

    const auto* o = firstObject(args, 0);
    if (!o) {
        rec.status = SendStatus::Refused;
        ++refusals["(no ack object)"];
        return;
    }
    if (!okOf(*o)) {
        const std::string code(stringAt(*o, "error"));
        rec.status = code == "RATE_LIMITED" ? SendStatus::RateLimited : SendStatus::Refused;
        ++refusals[code.empty() ? "(no error code)" : code];
        return;
    }
    rec.status = SendStatus::Acked;
    const auto* data = o->if_contains("data");
    const auto* d = data ? data->if_object() : nullptr;
    const std::string_view serverId = d ? stringAt(*d, "serverId") : std::string_view{};
    std::uint32_t s = 0, q = 0;
    if (serverId.size() != 24 || !d || !parseClientId(stringAt(*d, "clientId"), shared_.runTag, s, q) || s != index_ ||
        q != seq)
        ++ackMismatch;
    copyId(rec.serverId, serverId);
    shared_.progress.deliveriesExpected += shared_.roster.chats[rec.chat].members.size();
}

// ---------------------------------------------------------------------------------------------
// Server events
// ---------------------------------------------------------------------------------------------

void Member::onEvent(std::string_view name, const boost::json::array& args) {
    if (name == "message:new") return onMessageNew(args);
    if (name.starts_with("presence:")) return onPresence(name, args);
    ++otherEvents;
}

// presence:update {userId,status,timestamp}; presence:batch {updates:[{userId,status,timestamp},...]};
// presence:snapshot {users:[{userId,status,timestamp,lastSeenAt},...]}, in the batched form one per
// chat with its chatId and every member. Counted; with a view,
// each user's newest state by timestamp is kept (an update may overtake the snapshot across a
// cluster; no timestamp is older than any), until Progress::presenceFrozen.
void Member::onPresence(std::string_view name, const boost::json::array& args) {
    // The run's closes tell everyone offline: not part of what is measured.
    if (shared_.progress.presenceFrozen.load(std::memory_order_acquire)) return;
    shared_.progress.lastPresenceNs.store(nowNs(), std::memory_order_relaxed);
    const auto* o = firstObject(args, 1);
    const boost::json::array* entries = nullptr;
    if (name == "presence:update") {
        ++presenceUpdates;
        if (o) seePresence(args[1]);
        return;
    }
    if (name == "presence:batch") {
        ++presenceBatches;
        const auto* v = o ? o->if_contains("updates") : nullptr;
        entries = v ? v->if_array() : nullptr;
        if (entries) presenceBatchEntries += entries->size();
    } else if (name == "presence:snapshot") {
        ++presenceSnapshots;
        if (o && o->contains("chatId")) ++presenceChatSnapshots;
        const auto* v = o ? o->if_contains("users") : nullptr;
        entries = v ? v->if_array() : nullptr;
    } else {
        ++otherEvents;
        return;
    }
    if (entries)
        for (const auto& e : *entries) seePresence(e);
}

void Member::seePresence(const boost::json::value& entry) {
    if (!shared_.userIndex) return;
    const auto* o = entry.if_object();
    if (!o) return;
    const auto it = shared_.userIndex->find(stringAt(*o, "userId"));
    if (it == shared_.userIndex->end()) {
        ++presenceUnknownUsers;
        return;
    }
    if (presenceView.empty()) {
        presenceView.assign(shared_.roster.users.size(), PresenceSeen::Unknown);
        presenceAt.assign(shared_.roster.users.size(), 0);
    }
    // An ISO time of fixed layout (YYYY-MM-DDTHH:MM:SS.mmmZ) orders as the number its digits make.
    std::int64_t at = 0;
    for (char c : stringAt(*o, "timestamp"))
        if (c >= '0' && c <= '9') at = at * 10 + (c - '0');
    if (presenceView[it->second] != PresenceSeen::Unknown && at < presenceAt[it->second]) return;
    presenceAt[it->second] = at;
    const std::string_view status = stringAt(*o, "status");
    presenceView[it->second] = status == "online"    ? PresenceSeen::Online
                               : status == "offline" ? PresenceSeen::Offline
                                                     : PresenceSeen::Other;
}

void Member::onMessageNew(const boost::json::array& args) {
    const std::int64_t now = nowNs();
    const auto* o = firstObject(args, 1);
    Delivery d;
    if (!o || !parseClientId(stringAt(*o, "clientId"), shared_.runTag, d.sender, d.seq)) {
        ++foreign;
        return;
    }
    const Roster& roster = shared_.roster;
    // The chat it names must be one of this member's and of its sender's (whether the sender sent
    // it to that chat is DeliveryCheck's to say: the sender's ledger is another thread's).
    const std::size_t chat = roster.chatNamed(stringAt(*o, "chatId"));
    if (d.sender >= roster.users.size() || chat == Roster::kNoChat || !roster.inChat(index_, chat) ||
        !roster.inChat(d.sender, chat)) {
        ++misrouted;
        return;
    }
    d.chat = static_cast<std::uint32_t>(chat);
    const std::string_view id = stringAt(*o, "_id");
    if (stringAt(*o, "senderId") != roster.users[d.sender].id || id.size() != 24) ++wrongFields;
    copyId(d.serverId, id);
    d.receivedNs = now;
    deliveries.push_back(d);
    ++shared_.progress.deliveriesReceived;
    if (now >= shared_.progress.windowStartNs.load(std::memory_order_relaxed) &&
        now < shared_.progress.windowEndNs.load(std::memory_order_relaxed))
        ++windowDeliveries;
}

} // namespace parley::bench
