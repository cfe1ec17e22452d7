#include "chat/ContactDirectory.hpp"

#include <algorithm>
#include <optional>

namespace parley::chat {

ContactDirectory::ContactDirectory(store::ChatStore& store, boost::asio::io_context& home, std::int64_t membersFreshMs,
                                   std::int64_t chatsFreshMs)
    : store_(store), home_(home), membersFreshMs_(membersFreshMs), chatsFreshMs_(chatsFreshMs) {}

void ContactDirectory::chatsOf(const std::string& userId, std::int64_t nowMs, ChatsDone done) {
    if (auto it = chats_.find(userId); it != chats_.end() && nowMs - it->second.readAt < chatsFreshMs_)
        return done(it->second.chatIds);
    store_.chatIdsOf(home_, userId,
                     [this, userId, nowMs, done = std::move(done)](store::Result<std::vector<std::string>> ids) {
                         if (ids) setChatsOf(userId, *ids, nowMs);
                         done(std::move(ids));
                     });
}

void ContactDirectory::setChatsOf(const std::string& userId, std::vector<std::string> chatIds, std::int64_t nowMs) {
    if (chatsFreshMs_ <= 0) return; // nothing is kept
    auto& entry = chats_[userId];
    entry.chatIds = std::move(chatIds);
    entry.readAt = nowMs;
}

void ContactDirectory::membersOf(const std::string& chatId, std::int64_t nowMs, MembersDone done) {
    auto& entry = members_[chatId];
    if (entry.members && !entry.reading && nowMs - entry.readAt < membersFreshMs_) return done(entry.members);
    entry.waiting.push_back(std::move(done));
    if (entry.reading) return;
    entry.reading = true;
    entry.changedWhileReading = false;
    ++memberReads_;
    store_.membersSeen(home_, chatId, [this, chatId, nowMs](store::Result<std::vector<store::ContactSeen>> read) {
        auto it = members_.find(chatId);
        if (it == members_.end()) return; // cannot happen: an entry being read is never pruned
        auto& e = it->second;
        auto waiting = std::move(e.waiting);
        e.waiting.clear();
        e.reading = false;
        if (!read) {
            e.members.reset();
            for (auto& w : waiting) w(read.error());
            return;
        }
        auto members = std::make_shared<const std::vector<store::ContactSeen>>(std::move(*read));
        if (e.changedWhileReading) {
            e.members.reset(); // read again next time: this read may predate the change
        } else {
            e.members = members;
            e.readAt = nowMs;
        }
        for (auto& w : waiting) w(members);
    });
}

namespace {

// Collects the members of several chats, then answers once.
struct Gathering {
    std::string userId;
    std::size_t remaining = 0;
    std::vector<ContactDirectory::Members> parts;
    std::optional<boost::system::error_code> failed;
    ContactDirectory::ContactsDone done;
};

void finish(Gathering& g) {
    if (g.failed) return g.done(*g.failed);
    ContactDirectory::Contacts out;
    out.parts = std::move(g.parts);
    std::size_t total = 0;
    for (const auto& p : out.parts) total += p->size();
    out.list.reserve(total);
    for (const auto& p : out.parts)
        for (const auto& c : *p)
            if (c.userId != g.userId) out.list.push_back(&c);
    auto byId = [](const store::ContactSeen* a, const store::ContactSeen* b) { return a->userId < b->userId; };
    // One chat's members come sorted and distinct (the store's order, checked: a collation may
    // differ from byte order); several chats' are merged.
    if (out.parts.size() > 1 || !std::is_sorted(out.list.begin(), out.list.end(), byId)) {
        std::sort(out.list.begin(), out.list.end(), byId);
        out.list.erase(std::unique(out.list.begin(), out.list.end(),
                                   [](const auto* a, const auto* b) { return a->userId == b->userId; }),
                       out.list.end());
    }
    g.done(std::move(out));
}

} // namespace

void ContactDirectory::contactsIn(const std::string& userId, const std::vector<std::string>& chatIds,
                                  std::int64_t nowMs, ContactsDone done) {
    auto g = std::make_shared<Gathering>();
    g->userId = userId;
    g->remaining = chatIds.size();
    g->done = std::move(done);
    if (chatIds.empty()) return finish(*g);
    for (const auto& chatId : chatIds) {
        membersOf(chatId, nowMs, [g](store::Result<Members> members) {
            if (members)
                g->parts.push_back(std::move(*members));
            else if (!g->failed)
                g->failed = members.error();
            if (--g->remaining == 0) finish(*g);
        });
    }
}

void ContactDirectory::chatChanged(const std::string& chatId, const std::vector<std::string>& memberIds,
                                   const std::vector<std::string>& removed) {
    if (auto it = members_.find(chatId); it != members_.end()) {
        if (it->second.reading)
            it->second.changedWhileReading = true;
        else
            members_.erase(it);
    }
    for (const auto& m : memberIds) {
        auto it = chats_.find(m);
        if (it == chats_.end()) continue;
        auto& ids = it->second.chatIds;
        if (std::find(ids.begin(), ids.end(), chatId) == ids.end()) ids.push_back(chatId);
    }
    for (const auto& r : removed) {
        auto it = chats_.find(r);
        if (it == chats_.end()) continue;
        auto& ids = it->second.chatIds;
        ids.erase(std::remove(ids.begin(), ids.end(), chatId), ids.end());
    }
}

void ContactDirectory::prune(std::int64_t nowMs) {
    std::erase_if(chats_, [&](const auto& kv) { return nowMs - kv.second.readAt >= chatsFreshMs_; });
    std::erase_if(members_, [&](const auto& kv) {
        return !kv.second.reading && kv.second.waiting.empty() && nowMs - kv.second.readAt >= membersFreshMs_;
    });
}

} // namespace parley::chat
