#pragma once

#include "chat/ErrorReply.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <boost/system/result.hpp>

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace parley::chat {

/// A contract error: the code and the human-readable message.
struct Failure {
    ErrorCode code;
    std::string message;
    std::string cause{};           ///< for the log line with the correlationId (a store error), never sent
    std::int64_t retryAfterMs = 0; ///< RateLimited: until a slot frees (REST's Retry-After), else 0
};

/// What a client sent, turned into a request, or the validation error it gets back. Pure
/// functions of the client's JSON: no store, no socket (fuzzed by fuzz/chat_payloads.cpp).
template <class T>
using Parsed = boost::system::result<T, Failure>;

// ---------------------------------------------------------------------------------------------
// Socket events: `args` are the event's arguments, name excluded
// ---------------------------------------------------------------------------------------------

/// room:join, room:leave, typing:start, typing:stop: `{chatId}` → the chat id.
Parsed<std::string> parseChatRef(std::span<const boost::json::value> args);

/// message:send over a socket or REST: `{chatId, body, clientId}`.
struct SendRequest {
    std::string chatId;
    std::string body;
    std::string clientId;
};

/// `payload` is the message object (nullptr when the client sent none); `chatIdOverride` is the
/// chat of the REST path, which replaces the payload's chatId.
Parsed<SendRequest> parseSendRequest(const boost::json::object* payload,
                                     std::optional<std::string_view> chatIdOverride = std::nullopt);
Parsed<SendRequest> parseSendRequest(std::span<const boost::json::value> args);

/// receipt:read: `{chatId, messageId}`.
struct ReceiptRequest {
    std::string chatId;
    std::string messageId;
};
Parsed<ReceiptRequest> parseReceiptRequest(std::span<const boost::json::value> args);

/// presence:ping: any object. Returns a Failure only for a missing or non-object payload.
Parsed<bool> parsePresencePing(std::span<const boost::json::value> args);

/// auth:renew: `{token}` → the token, a non-empty string (what it is worth is the verifier's
/// question, as at CONNECT).
Parsed<std::string> parseRenewRequest(std::span<const boost::json::value> args);

/// The token of a connecting socket: `auth.token` if it is a string, else the `token` query
/// parameter of the handshake URL (origin form, e.g. "/socket.io/?EIO=4&token=...").
std::optional<std::string> handshakeToken(const boost::json::object& auth, std::string_view url);

// ---------------------------------------------------------------------------------------------
// REST bodies and queries
// ---------------------------------------------------------------------------------------------

/// A request body that is a JSON object, or nullopt (not JSON, or not an object).
std::optional<boost::json::object> parseJsonObject(std::string_view body);

/// POST /v1/auth/login: `{email, password}`; the email comes back lowercased (ASCII).
struct LoginRequest {
    std::string email;
    std::string password;
};
Parsed<LoginRequest> parseLoginRequest(const boost::json::object* body);

/// POST /v1/chats: `{type, title?, memberIds}`. `creatorId` is always the first member.
struct NewChatRequest {
    std::string type;
    std::optional<std::string> title;
    std::vector<std::string> memberIds;
};
Parsed<NewChatRequest> parseNewChatRequest(const boost::json::object* body, const std::string& creatorId);

/// PATCH /v1/chats/:chatId: `{title}` where title is a string or null (clears it).
Parsed<std::optional<std::string>> parseTitleUpdate(const boost::json::object* body);

/// POST /v1/chats/:chatId/members: `{userId}`.
Parsed<std::string> parseNewMember(const boost::json::object* body);

/// GET /v1/chats/:chatId/messages?before=|after=&limit=: `target` is the request target.
struct HistoryQuery {
    std::optional<std::string> before;
    std::optional<std::string> after;
    int limit = 50;
};
Parsed<HistoryQuery> parseHistoryQuery(std::string_view target);

/// The value of query parameter `key` in an origin-form target, or nullopt if absent or valueless.
std::optional<std::string> queryParam(std::string_view target, std::string_view key);

} // namespace parley::chat
