#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace parley::bench {

class RestClient;

/// One simulated user: a fresh random ObjectId and its token.
struct User {
    std::string id;
    std::string token;
};

struct ChatPlan {
    std::string id;                   ///< filled by createChats()
    std::vector<std::size_t> members; ///< client indexes; members[0] created the chat
};

/// Who is who, fixed before any io thread starts and never written during a run, so every
/// thread may read it without locks.
struct Roster {
    static constexpr std::size_t kNoChat = static_cast<std::size_t>(-1);

    std::vector<User> users;         ///< one per client
    std::vector<std::size_t> chatOf; ///< client -> chat index, or kNoChat
    std::vector<ChatPlan> chats;
};

/// `clients` users with HS256 tokens valid for `ttl`, no chats.
Roster makeRoster(const std::string& secret, std::size_t clients, std::chrono::seconds ttl);

/// Splits the clients, in index order, into `chatCount` chats whose sizes differ by at most one.
void planChats(Roster& roster, std::size_t chatCount);

/// Creates every planned chat over REST as a group, by its first member: POST /v1/chats with up
/// to 999 other members, then POST /v1/chats/:id/members for the rest. Throws on any refusal.
void createChats(RestClient& rest, Roster& roster);

} // namespace parley::bench
