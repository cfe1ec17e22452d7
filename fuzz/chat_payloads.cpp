// Every chat payload validator on client JSON: the socket events' arguments (room:*, typing:*,
// message:send, receipt:read, presence:ping), the handshake token, and the REST bodies and
// query strings. Whatever a validator accepts must satisfy the contract's rules.
//
// Input: JSON text. An array is an event's argument list; anything else is one argument. The
// same text is also the REST body, and the request target of the history query.
#include "chat/Payloads.hpp"
#include "chat/Validation.hpp"
#include "core/ObjectId.hpp"
#include "socketio/codec/Packet.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>

namespace chat = parley::chat;
using parley::core::ObjectId;

namespace {

constexpr std::string_view kCreator = "5f1a2b3c4d5e6f7a8b9c0d1e";

void check(bool ok, const char* what) {
    if (ok) return;
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
}

void checkSend(const chat::Parsed<chat::SendRequest>& r) {
    if (!r) {
        check(r.error().code == chat::ErrorCode::ValidationError, "send: refused as VALIDATION_ERROR");
        return;
    }
    check(ObjectId::isValid(r->chatId), "send: chatId is an ObjectId");
    const std::size_t length = chat::utf16Length(r->body);
    check(length >= 1 && length <= chat::kMaxBodyLength && !chat::isBlank(r->body), "send: body length");
    check(!r->clientId.empty() && chat::utf16Length(r->clientId) <= chat::kMaxClientIdLength, "send: clientId length");
}

void checkTitle(const std::optional<std::string>& title) {
    check(!title || chat::utf16Length(*title) <= chat::kMaxTitleLength, "title length");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);

    // The text helpers run on any bytes (bodies are not guaranteed UTF-8).
    check(chat::utf16Length(input) <= input.size(), "utf16Length never exceeds the byte count");
    check(!input.empty() || chat::isBlank(input), "empty text is blank");

    // REST: the history query reads the target, whatever it is.
    if (auto query = chat::parseHistoryQuery(input)) {
        check(query->limit >= 1 && query->limit <= 100, "history: limit 1..100");
        check(!(query->before && query->after), "history: not both before and after");
        check(!query->before || ObjectId::isValid(*query->before), "history: before is an id");
        check(!query->after || ObjectId::isValid(*query->after), "history: after is an id");
    }

    // JSON as the socket layer parses it (the codec's depth limit).
    boost::system::error_code ec;
    boost::json::parse_options options;
    options.max_depth = parley::socketio::codec::kMaxJsonDepth;
    const boost::json::value json = boost::json::parse(input, ec, {}, options);
    if (ec) return 0;

    // Socket events: the arguments after the event name.
    const boost::json::value* first = &json;
    std::span<const boost::json::value> args(first, 1);
    if (const auto* arr = json.if_array()) args = std::span<const boost::json::value>(arr->data(), arr->size());

    if (auto chatId = chat::parseChatRef(args)) check(ObjectId::isValid(*chatId), "chatRef: chatId is an ObjectId");
    checkSend(chat::parseSendRequest(args));
    if (auto receipt = chat::parseReceiptRequest(args))
        check(ObjectId::isValid(receipt->chatId) && ObjectId::isValid(receipt->messageId), "receipt: ids");
    check(chat::parsePresencePing(args).has_value() == (!args.empty() && args[0].is_object()), "presence:ping");
    if (auto token = chat::parseRenewRequest(args)) check(!token->empty(), "auth:renew: token");

    // REST bodies: the same text as a request body.
    const auto body = chat::parseJsonObject(input);
    check(body.has_value() == json.is_object(), "parseJsonObject accepts exactly the objects");
    const boost::json::object* object = body ? &*body : nullptr;

    checkSend(chat::parseSendRequest(object, std::string_view(kCreator)));
    if (auto login = chat::parseLoginRequest(object)) {
        check(!login->email.empty() && !login->password.empty(), "login: fields present");
        check(std::none_of(login->email.begin(), login->email.end(), [](char c) { return c >= 'A' && c <= 'Z'; }),
              "login: email lowercased");
    }
    if (auto chatReq = chat::parseNewChatRequest(object, std::string(kCreator))) {
        auto& members = chatReq->memberIds;
        check(!members.empty() && members.front() == kCreator, "new chat: creator first");
        check(members.size() <= 1000, "new chat: at most 1000 members");
        check(chatReq->type == "group" || members.size() == 2, "new chat: a dm has two members");
        std::sort(members.begin(), members.end());
        check(std::adjacent_find(members.begin(), members.end()) == members.end(), "new chat: no duplicates");
        check(std::all_of(members.begin(), members.end(), [](const std::string& m) { return ObjectId::isValid(m); }),
              "new chat: ids");
        checkTitle(chatReq->title);
    }
    if (auto title = chat::parseTitleUpdate(object)) checkTitle(*title);
    if (auto member = chat::parseNewMember(object)) check(ObjectId::isValid(*member), "new member: id");

    // The handshake: `auth` is the CONNECT payload (an object), the URL is client bytes too.
    if (object) (void)chat::handshakeToken(*object, input);
    return 0;
}
