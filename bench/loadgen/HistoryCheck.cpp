#include "HistoryCheck.hpp"

#include "RestClient.hpp"

#include <boost/json/array.hpp>

#include <algorithm>
#include <set>
#include <stdexcept>
#include <string>

namespace parley::bench {

namespace http = boost::beast::http;

namespace {

struct Stored {
    std::string id;
    std::string clientId;
    std::string senderId;
    std::string body;
};

constexpr int kPage = 100;

std::string field(const boost::json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

// One page: the messages (oldest first) and hasMore.
std::vector<Stored> page(RestClient& rest, const std::string& target, const std::string& token, bool& hasMore) {
    const RestResponse response = rest.request(http::verb::get, target, token);
    const auto& data = RestClient::dataOf(response, 200, "GET " + target);
    const auto* obj = data.if_object();
    const auto* messages = obj ? obj->if_contains("messages") : nullptr;
    const auto* more = obj ? obj->if_contains("hasMore") : nullptr;
    if (!messages || !messages->is_array() || !more || !more->is_bool())
        throw std::runtime_error("GET " + target + ": not a {messages,hasMore} page");
    hasMore = more->get_bool();
    std::vector<Stored> out;
    for (const auto& m : messages->get_array()) {
        const auto* o = m.if_object();
        if (!o) throw std::runtime_error("GET " + target + ": a message is not an object");
        out.push_back(Stored{field(*o, "_id"), field(*o, "clientId"), field(*o, "senderId"), field(*o, "body")});
    }
    return out;
}

} // namespace

HistoryFigures checkHistory(RestClient& rest, const Roster& roster, const std::vector<std::unique_ptr<Member>>& members,
                            std::string_view runTag) {
    HistoryFigures h;
    for (const auto& chat : roster.chats) {
        const auto chatIndex = static_cast<std::uint32_t>(&chat - roster.chats.data());
        ++h.chats;
        const std::string& token = roster.users[chat.members.front()].token;
        // A bound on the walks: a server that keeps saying hasMore cannot keep us here.
        std::size_t sentInChat = 0;
        for (std::size_t k : chat.members) sentInChat += members[k]->sent.size();
        const std::size_t maxPages = sentInChat / kPage + 3;
        const std::string base = "/v1/chats/" + chat.id + "/messages?limit=" + std::to_string(kPage);

        // Backward from the newest page, prepending each older page.
        std::vector<Stored> backward;
        bool hasMore = false;
        {
            auto p = page(rest, base, token, hasMore);
            ++h.requests;
            backward = std::move(p);
        }
        for (std::size_t pages = 1; hasMore && !backward.empty(); ++pages) {
            if (pages > maxPages) {
                ++h.pagingMismatch;
                break;
            }
            auto p = page(rest, base + "&before=" + backward.front().id, token, hasMore);
            ++h.requests;
            if (p.empty()) break;
            p.insert(p.end(), backward.begin(), backward.end());
            backward = std::move(p);
        }

        // Forward from the oldest: must give back everything after it, in the same order.
        if (!backward.empty()) {
            std::vector<Stored> forward{backward.front()};
            bool more = true;
            for (std::size_t pages = 0; more; ++pages) {
                if (pages > maxPages) {
                    ++h.pagingMismatch;
                    break;
                }
                auto p = page(rest, base + "&after=" + forward.back().id, token, more);
                ++h.requests;
                if (p.empty()) break;
                forward.insert(forward.end(), p.begin(), p.end());
            }
            if (forward.size() != backward.size()) {
                h.pagingMismatch += forward.size() > backward.size() ? forward.size() - backward.size()
                                                                     : backward.size() - forward.size();
            } else {
                for (std::size_t i = 0; i < forward.size(); ++i)
                    if (forward[i].id != backward[i].id) ++h.pagingMismatch;
            }
        }
        h.messages += backward.size();

        // Every stored message against the sender's ledger.
        std::set<std::string> seenIds, seenClientIds;
        std::vector<std::int64_t> lastSeq(roster.users.size(), -1);
        std::uint64_t matchedAcked = 0;
        for (const Stored& s : backward) {
            if (!seenIds.insert(s.id).second || !seenClientIds.insert(s.clientId).second) {
                ++h.duplicates;
                continue;
            }
            std::uint32_t sender = 0, seq = 0;
            if (!parseClientId(s.clientId, runTag, sender, seq) || sender >= members.size() ||
                seq >= members[sender]->sent.size() || members[sender]->sent[seq].chat != chatIndex) {
                ++h.extra;
                continue;
            }
            const SentRecord& rec = members[sender]->sent[seq];
            if (rec.status == SendStatus::Pending) {
                ++h.unackedStored;
            } else if (rec.status != SendStatus::Acked) {
                ++h.extra;
                continue;
            } else {
                ++matchedAcked;
                if (std::string_view(rec.serverId.data(), rec.serverId.size()) != s.id) ++h.fieldMismatch;
            }
            if (s.senderId != roster.users[sender].id || s.body.find(s.clientId) == std::string::npos)
                ++h.fieldMismatch;
            if (static_cast<std::int64_t>(seq) < lastSeq[sender]) ++h.orderViolations;
            lastSeq[sender] = std::max<std::int64_t>(lastSeq[sender], seq);
        }
        std::uint64_t ackedInChat = 0;
        for (std::size_t k : chat.members)
            for (const auto& rec : members[k]->sent)
                if (rec.status == SendStatus::Acked && rec.chat == chatIndex) ++ackedInChat;
        h.missing += ackedInChat - std::min(ackedInChat, matchedAcked);
    }
    return h;
}

boost::json::object toJson(const HistoryFigures& h) {
    return boost::json::object{
        {"chats", h.chats},
        {"messages", h.messages},
        {"requests", h.requests},
        {"missing", h.missing},
        {"extra", h.extra},
        {"unackedStored", h.unackedStored},
        {"duplicates", h.duplicates},
        {"fieldMismatch", h.fieldMismatch},
        {"orderViolations", h.orderViolations},
        {"pagingMismatch", h.pagingMismatch},
        {"equal", h.equal()},
    };
}

} // namespace parley::bench
