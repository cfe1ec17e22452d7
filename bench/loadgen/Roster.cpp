#include "Roster.hpp"

#include "RestClient.hpp"

#include "auth/Jwt.hpp"
#include "core/ObjectId.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <algorithm>
#include <stdexcept>

namespace parley::bench {

namespace http = boost::beast::http;

// Chats are created with at most 1000 members (the creator included), the rest added one by one:
// a request any server of the contract takes.
constexpr std::size_t kMaxMembersPerCreate = 1000;

Roster makeRoster(const std::string& secret, std::size_t clients, std::chrono::seconds ttl) {
    Roster r;
    r.users.reserve(clients);
    for (std::size_t i = 0; i < clients; ++i) {
        User u;
        u.id = core::ObjectId::generate();
        u.token = auth::signJwt(secret, u.id, ttl);
        r.users.push_back(std::move(u));
    }
    r.chatsOf.assign(clients, {});
    return r;
}

std::size_t Roster::chatNamed(std::string_view id) const {
    const auto it = chatIndex.find(id);
    return it == chatIndex.end() ? kNoChat : it->second;
}

std::size_t addChat(Roster& roster, std::vector<std::size_t> members) {
    const auto c = static_cast<std::uint32_t>(roster.chats.size());
    for (std::size_t m : members) {
        auto& of = roster.chatsOf[m];
        if (std::find(of.begin(), of.end(), c) == of.end()) of.push_back(c);
    }
    roster.chats.push_back(ChatPlan{{}, std::move(members)});
    return c;
}

void planSharedChats(Roster& roster, std::size_t chatCount, std::size_t members) {
    const std::size_t n = roster.users.size();
    if (members == 0 || members > n)
        throw std::invalid_argument("chats of " + std::to_string(members) + " members need at least as many clients (" +
                                    std::to_string(n) + ")");
    roster.chats.clear();
    roster.chatsOf.assign(n, {});
    for (std::size_t c = 0; c < chatCount; ++c) {
        std::vector<std::size_t> chat;
        chat.reserve(members);
        for (std::size_t j = 0; j < members; ++j) chat.push_back((c * members + j) % n);
        addChat(roster, std::move(chat));
    }
}

void planChats(Roster& roster, std::size_t chatCount) {
    const std::size_t n = roster.users.size();
    chatCount = std::clamp<std::size_t>(chatCount, 1, n);
    roster.chats.clear();
    roster.chatsOf.assign(n, {});
    std::size_t next = 0;
    for (std::size_t c = 0; c < chatCount; ++c) {
        const std::size_t size = n / chatCount + (c < n % chatCount ? 1 : 0);
        std::vector<std::size_t> chat;
        for (std::size_t k = 0; k < size; ++k) chat.push_back(next++);
        addChat(roster, std::move(chat));
    }
}

void createChats(RestClient& rest, Roster& roster) {
    for (auto& chat : roster.chats) {
        const User& creator = roster.users[chat.members.front()];
        const std::size_t inCreate = std::min(chat.members.size(), kMaxMembersPerCreate);
        boost::json::array memberIds;
        for (std::size_t k = 1; k < inCreate; ++k) memberIds.emplace_back(roster.users[chat.members[k]].id);
        const boost::json::value body =
            boost::json::object{{"type", "group"}, {"title", "parley-bench"}, {"memberIds", std::move(memberIds)}};
        auto created = rest.request(http::verb::post, "/v1/chats", creator.token, &body);
        const auto& data = RestClient::dataOf(created, 201, "POST /v1/chats");
        const auto* id = data.is_object() ? data.as_object().if_contains("_id") : nullptr;
        if (!id || !id->is_string()) throw std::runtime_error("POST /v1/chats: answer without _id");
        chat.id = std::string(id->get_string());
        roster.chatIndex[chat.id] = static_cast<std::uint32_t>(&chat - roster.chats.data());
        const std::string target = "/v1/chats/" + chat.id + "/members";
        for (std::size_t k = inCreate; k < chat.members.size(); ++k) {
            const boost::json::value add = boost::json::object{{"userId", roster.users[chat.members[k]].id}};
            RestClient::dataOf(rest.request(http::verb::post, target, creator.token, &add), 200,
                               "POST /v1/chats/:id/members");
        }
    }
}

} // namespace parley::bench
