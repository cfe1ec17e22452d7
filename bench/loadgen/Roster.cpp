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

// The server refuses a chat created with more than 1000 members (the creator included).
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
    r.chatOf.assign(clients, Roster::kNoChat);
    return r;
}

void planChats(Roster& roster, std::size_t chatCount) {
    const std::size_t n = roster.users.size();
    chatCount = std::clamp<std::size_t>(chatCount, 1, n);
    roster.chats.assign(chatCount, {});
    std::size_t next = 0;
    for (std::size_t c = 0; c < chatCount; ++c) {
        const std::size_t size = n / chatCount + (c < n % chatCount ? 1 : 0);
        for (std::size_t k = 0; k < size; ++k, ++next) {
            roster.chats[c].members.push_back(next);
            roster.chatOf[next] = c;
        }
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
        const std::string target = "/v1/chats/" + chat.id + "/members";
        for (std::size_t k = inCreate; k < chat.members.size(); ++k) {
            const boost::json::value add = boost::json::object{{"userId", roster.users[chat.members[k]].id}};
            RestClient::dataOf(rest.request(http::verb::post, target, creator.token, &add), 200,
                               "POST /v1/chats/:id/members");
        }
    }
}

} // namespace parley::bench
