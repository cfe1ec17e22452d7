#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace parley::store {

// Times are milliseconds since the Unix epoch (UTC). Ids are 24-hex ObjectIds.

struct User {
    std::string id;
    std::string email; ///< unique, stored lower-case
    std::string displayName;
    std::string passwordHash; ///< Argon2id string (libsodium crypto_pwhash_str)
    std::int64_t createdAt = 0;
};

/// An opaque session token, stored only as its hash.
struct SessionRow {
    std::string tokenHash; ///< hex SHA-256 of the token
    std::string userId;
    std::int64_t createdAt = 0;
    std::int64_t expiresAt = 0;
};

struct Chat {
    std::string id;
    std::string type; ///< "dm" or "group"
    std::optional<std::string> title;
    std::vector<std::string> memberIds; ///< in the order they joined
    std::string createdBy;
    std::int64_t createdAt = 0;
    std::int64_t updatedAt = 0;
};

struct Message {
    std::string id;
    std::string chatId;
    std::string senderId;
    std::string body;
    std::string clientId;
    std::int64_t createdAt = 0;
};

struct ReadCursor {
    std::string userId;
    std::string messageId;
    std::int64_t messageCreatedAt = 0; ///< createdAt of messageId: the cursor orders by (createdAt, id)
    std::int64_t readAt = 0;
};

/// A page of messages, oldest first.
struct MessagePage {
    std::vector<Message> messages;
    bool hasMore = false;
};

} // namespace parley::store
