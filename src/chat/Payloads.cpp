#include "chat/Payloads.hpp"

#include "chat/Validation.hpp"
#include "core/ObjectId.hpp"
#include "socketio/codec/LoneSurrogates.hpp"

#include <boost/json/parse.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <unordered_set>

namespace parley::chat {

using core::ObjectId;

namespace {

const boost::json::object* firstObject(std::span<const boost::json::value> args) {
    return args.empty() ? nullptr : asObject(&args[0]);
}

// The chatId of a payload, or the validation error it deserves.
Parsed<std::string> chatIdOf(const boost::json::object* payload) {
    if (!payload) return Failure{ErrorCode::ValidationError, "Payload must be an object"};
    auto chatId = stringField(*payload, "chatId");
    if (!chatId || !ObjectId::isValid(*chatId))
        return Failure{ErrorCode::ValidationError, "chatId must be a 24-character hex ObjectId"};
    return std::string(*chatId);
}

Failure invalid(std::string message) { return Failure{ErrorCode::ValidationError, std::move(message)}; }

// A title is null (none) or a string of at most kMaxTitleLength; false when it is neither.
bool readTitle(const boost::json::value& t, std::optional<std::string>& title) {
    if (t.is_null()) {
        title.reset();
        return true;
    }
    // No NUL: a title is a name, and PostgreSQL's text cannot hold one.
    if (!t.is_string() || utf16Length(t.get_string()) > kMaxTitleLength ||
        std::string_view(t.get_string()).find('\0') != std::string_view::npos)
        return false;
    title = std::string(t.get_string());
    return true;
}

} // namespace

// ---------------------------------------------------------------------------------------------
// Socket events
// ---------------------------------------------------------------------------------------------

Parsed<std::string> parseChatRef(std::span<const boost::json::value> args) { return chatIdOf(firstObject(args)); }

Parsed<SendRequest> parseSendRequest(const boost::json::object* payload,
                                     std::optional<std::string_view> chatIdOverride) {
    if (!payload) return invalid("Payload must be an object");
    SendRequest request;
    if (chatIdOverride) {
        request.chatId = std::string(*chatIdOverride);
    } else {
        auto chatId = chatIdOf(payload);
        if (!chatId) return chatId.error();
        request.chatId = std::move(*chatId);
    }
    auto body = stringField(*payload, "body");
    if (!body) return invalid("body must be a string");
    const std::size_t length = utf16Length(*body);
    if (length == 0 || isBlank(*body)) return invalid("body must not be empty");
    if (length > kMaxBodyLength) return invalid("body must be at most 8000 characters");
    // A NUL is never text a person wrote, and PostgreSQL's text cannot hold one: refused alike on
    // every backend rather than stored on one and lost on another.
    if (body->find('\0') != std::string_view::npos) return invalid("body must not contain NUL characters");
    auto clientId = stringField(*payload, "clientId");
    // No NUL: an idempotency key is an identifier (a UUID), and PostgreSQL's text cannot hold one.
    if (!clientId || clientId->empty() || utf16Length(*clientId) > kMaxClientIdLength ||
        clientId->find('\0') != std::string_view::npos)
        return invalid("clientId must be a non-empty string of at most 128 characters, without NUL");
    request.body = std::string(*body);
    request.clientId = std::string(*clientId);
    return request;
}

Parsed<SendRequest> parseSendRequest(std::span<const boost::json::value> args) {
    return parseSendRequest(firstObject(args));
}

Parsed<ReceiptRequest> parseReceiptRequest(std::span<const boost::json::value> args) {
    const auto* payload = firstObject(args);
    auto chatId = chatIdOf(payload);
    if (!chatId) return chatId.error();
    auto messageId = stringField(*payload, "messageId");
    if (!messageId || !ObjectId::isValid(*messageId)) return invalid("messageId must be a 24-character hex ObjectId");
    return ReceiptRequest{std::move(*chatId), std::string(*messageId)};
}

Parsed<bool> parsePresencePing(std::span<const boost::json::value> args) {
    if (args.empty() || !args[0].is_object()) return invalid("Payload must be an object");
    return true;
}

Parsed<std::string> parseRenewRequest(std::span<const boost::json::value> args) {
    const auto* payload = firstObject(args);
    if (!payload) return invalid("Payload must be an object");
    auto token = stringField(*payload, "token");
    if (!token || token->empty()) return invalid("token must be a non-empty string");
    return std::string(*token);
}

std::optional<std::string> handshakeToken(const boost::json::object& auth, std::string_view url) {
    if (auto token = stringField(auth, "token")) return std::string(*token);
    // The query parameter form: io(url, {query: {token}}).
    return queryParam(url, "token");
}

// ---------------------------------------------------------------------------------------------
// REST
// ---------------------------------------------------------------------------------------------

std::optional<boost::json::object> parseJsonObject(std::string_view body) {
    boost::system::error_code ec;
    auto v = boost::json::parse(body, ec);
    // Lone surrogates become U+FFFD, as on the socket path (socketio/codec/LoneSurrogates.hpp).
    if (auto repaired = ec ? socketio::codec::replaceLoneSurrogates(body) : std::nullopt) {
        ec = {};
        v = boost::json::parse(*repaired, ec);
    }
    if (ec || !v.is_object()) return std::nullopt;
    return std::move(v.as_object());
}

Parsed<LoginRequest> parseLoginRequest(const boost::json::object* body) {
    if (!body) return invalid("Body must be a JSON object");
    auto email = stringField(*body, "email");
    auto password = stringField(*body, "password");
    if (!email || email->empty() || !password || password->empty()) return invalid("email and password are required");
    LoginRequest request{std::string(*email), std::string(*password)};
    std::transform(request.email.begin(), request.email.end(), request.email.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return request;
}

namespace {
const std::string kTooManyMembers = "at most " + std::to_string(kMaxChatMembers) + " members";
} // namespace

Parsed<NewChatRequest> parseNewChatRequest(const boost::json::object* body, const std::string& creatorId) {
    if (!body) return invalid("Body must be a JSON object");
    auto type = stringField(*body, "type");
    if (!type || (*type != "dm" && *type != "group")) return invalid("type must be \"dm\" or \"group\"");
    NewChatRequest request;
    request.type = std::string(*type);
    if (const auto* t = body->if_contains("title"); t && !readTitle(*t, request.title))
        return invalid("title must be a string of at most 200 characters (no NUL) or null");
    const auto* members = body->if_contains("memberIds");
    if (!members || !members->is_array()) return invalid("memberIds must be an array of ObjectIds");
    // The count is checked before any element is looked at, so a list past the cap (refused even
    // if its repeats would bring it under) costs no more than its parsing; repeats are found with
    // a hash set, so checking a list is linear in its length.
    const auto& list = members->get_array();
    if (list.size() > kMaxChatMembers) return invalid(kTooManyMembers);
    request.memberIds.reserve(list.size() + 1);
    request.memberIds.push_back(creatorId); // the creator is always a member
    std::unordered_set<std::string_view> seen;
    seen.reserve(list.size() + 1);
    seen.insert(creatorId);
    for (const auto& m : list) {
        if (!m.is_string() || !ObjectId::isValid(m.get_string()))
            return invalid("memberIds must be an array of ObjectIds");
        const std::string_view id(m.get_string().data(), m.get_string().size());
        if (seen.insert(id).second) request.memberIds.emplace_back(id);
    }
    if (request.memberIds.size() > kMaxChatMembers) return invalid(kTooManyMembers);
    if (request.type == "dm" && request.memberIds.size() != 2) return invalid("a dm has exactly two members");
    return request;
}

Parsed<std::optional<std::string>> parseTitleUpdate(const boost::json::object* body) {
    if (!body || !body->contains("title")) return invalid("Body must be an object with a title");
    std::optional<std::string> title;
    if (!readTitle(body->at("title"), title))
        return invalid("title must be a string of at most 200 characters (no NUL) or null");
    return title;
}

Parsed<std::string> parseNewMember(const boost::json::object* body) {
    auto userId = body ? stringField(*body, "userId") : std::nullopt;
    if (!userId || !ObjectId::isValid(*userId)) return invalid("userId must be a 24-character hex ObjectId");
    return std::string(*userId);
}

Parsed<HistoryQuery> parseHistoryQuery(std::string_view target) {
    HistoryQuery query;
    query.before = queryParam(target, "before");
    query.after = queryParam(target, "after");
    if (query.before && query.after) return invalid("use before or after, not both");
    if ((query.before && !ObjectId::isValid(*query.before)) || (query.after && !ObjectId::isValid(*query.after)))
        return invalid("before/after must be a message id");
    if (auto l = queryParam(target, "limit")) {
        auto [ptr, ec] = std::from_chars(l->data(), l->data() + l->size(), query.limit);
        if (ec != std::errc{} || ptr != l->data() + l->size() || query.limit < 1 || query.limit > 100)
            return invalid("limit must be 1..100");
    }
    return query;
}

std::optional<std::string> queryParam(std::string_view target, std::string_view key) {
    auto url = boost::urls::parse_origin_form(target);
    if (!url) return std::nullopt;
    auto params = url->params();
    auto it = params.find(key);
    if (it == params.end() || !(*it).has_value) return std::nullopt;
    return std::string((*it).value);
}

} // namespace parley::chat
