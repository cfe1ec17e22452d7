#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace parley::bench {

class RestClient;

/// A string-keyed hash map that looks up by string_view without building a std::string (the
/// io threads look a chat or user id up per event).
struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
template <class T>
using StringMap = std::unordered_map<std::string, T, StringHash, std::equal_to<>>;

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

    std::vector<User> users; ///< one per client
    /// client -> the chats it is a member of (indexes into `chats`, ascending); empty: none.
    /// Most scenarios give each client one chat; bigroom and fanout with shared members more.
    std::vector<std::vector<std::uint32_t>> chatsOf;
    std::vector<ChatPlan> chats;
    StringMap<std::uint32_t> chatIndex; ///< chat id -> index, filled by createChats()

    /// The first chat of a client, or kNoChat.
    std::size_t firstChatOf(std::size_t client) const {
        return chatsOf[client].empty() ? kNoChat : chatsOf[client].front();
    }
    /// Whether `client` is a member of chat `chat` (a client is in a few chats: a linear scan).
    bool inChat(std::size_t client, std::size_t chat) const {
        for (auto c : chatsOf[client])
            if (c == chat) return true;
        return false;
    }
    /// The index of chat `id`, or kNoChat.
    std::size_t chatNamed(std::string_view id) const;
};

/// `clients` users with HS256 tokens valid for `ttl`, no chats.
Roster makeRoster(const std::string& secret, std::size_t clients, std::chrono::seconds ttl);

/// Splits the clients, in index order, into `chatCount` chats whose sizes differ by at most one.
void planChats(Roster& roster, std::size_t chatCount);

/// `chatCount` chats of `members` members each over the clients, shared when there are fewer
/// clients than chatCount x members: chat c's members are clients (c x members + j) mod N,
/// j = 0..members-1 (so with N = chatCount x members each client is in exactly one chat). Throws
/// when members exceeds the number of clients.
void planSharedChats(Roster& roster, std::size_t chatCount, std::size_t members);

/// Adds one chat of the given clients (its first one creates it) to the plan; returns its index.
std::size_t addChat(Roster& roster, std::vector<std::size_t> members);

/// Creates every planned chat over REST as a group, by its first member: POST /v1/chats with up
/// to 999 other members, then POST /v1/chats/:id/members for the rest. Throws on any refusal.
void createChats(RestClient& rest, Roster& roster);

} // namespace parley::bench
