#include "chat/Payloads.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

using namespace parley::chat;

namespace {

constexpr const char* kChat = "5f1a2b3c4d5e6f7a8b9c0d1e";
constexpr const char* kMessage = "6a0b1c2d3e4f5a6b7c8d9e0f";
constexpr const char* kUser = "64b7f0c2a1d3e4f5a6b7c8d9";

// An event's argument list from its JSON text (an array).
boost::json::array args(std::string_view json) { return boost::json::parse(json).as_array(); }

std::span<const boost::json::value> span(const boost::json::array& a) { return {a.data(), a.size()}; }

boost::json::object object(std::string_view json) { return boost::json::parse(json).as_object(); }

template <class T>
std::string failure(const Parsed<T>& r) {
    EXPECT_FALSE(r.has_value());
    if (r.has_value()) return {};
    EXPECT_EQ(r.error().code, ErrorCode::ValidationError);
    return r.error().message;
}

} // namespace

TEST(ParseChatRef, AcceptsAnObjectWithAnObjectId) {
    const auto a = args(R"([{"chatId":"5f1a2b3c4d5e6f7a8b9c0d1e"}, "ignored"])");
    auto r = parseChatRef(span(a));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(*r, kChat);
}

TEST(ParseChatRef, RefusesMissingPayloadAndBadIds) {
    EXPECT_EQ(failure(parseChatRef({})), "Payload must be an object");
    EXPECT_EQ(failure(parseChatRef(span(args(R"(["5f1a2b3c4d5e6f7a8b9c0d1e"])")))), "Payload must be an object");
    for (const char* bad : {R"([{}])", R"([{"chatId":5}])", R"([{"chatId":"5F1A2B3C4D5E6F7A8B9C0D1E"}])",
                            R"([{"chatId":"5f1a2b3c4d5e6f7a8b9c0d1"}])"})
        EXPECT_EQ(failure(parseChatRef(span(args(bad)))), "chatId must be a 24-character hex ObjectId") << bad;
}

TEST(ParseSendRequest, AcceptsAValidMessage) {
    const auto a = args(R"([{"chatId":"5f1a2b3c4d5e6f7a8b9c0d1e","body":" hi ","clientId":"c-1"}])");
    auto r = parseSendRequest(span(a));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->chatId, kChat);
    EXPECT_EQ(r->body, " hi "); // stored verbatim, not trimmed
    EXPECT_EQ(r->clientId, "c-1");
}

TEST(ParseSendRequest, ChecksFieldsInContractOrder) {
    EXPECT_EQ(failure(parseSendRequest(std::span<const boost::json::value>{})), "Payload must be an object");
    EXPECT_EQ(failure(parseSendRequest(span(args(R"([{"body":"x","clientId":"c"}])")))),
              "chatId must be a 24-character hex ObjectId");
    const std::string chat = std::string(R"("chatId":")") + kChat + "\"";
    auto send = [&](const std::string& rest) { return parseSendRequest(span(args("[{" + chat + rest + "}]"))); };
    EXPECT_EQ(failure(send(R"(,"body":1,"clientId":"c")")), "body must be a string");
    EXPECT_EQ(failure(send(R"(,"body":"","clientId":"c")")), "body must not be empty");
    EXPECT_EQ(failure(send(R"(,"body":" \u00a0\u3000\n","clientId":"c")")), "body must not be empty");
    EXPECT_EQ(failure(send(R"(,"body":"x")")),
              "clientId must be a non-empty string of at most 128 characters, without NUL");
    EXPECT_EQ(failure(send(R"(,"body":"x","clientId":"")")),
              "clientId must be a non-empty string of at most 128 characters, without NUL");
    EXPECT_EQ(failure(send(R"(,"body":"x","clientId":")" + std::string(129, 'c') + "\"")),
              "clientId must be a non-empty string of at most 128 characters, without NUL");
    EXPECT_TRUE(send(R"(,"body":"x","clientId":")" + std::string(128, 'c') + "\"").has_value());
    EXPECT_EQ(failure(send(R"(,"body":"x","clientId":"a\u0000b")")),
              "clientId must be a non-empty string of at most 128 characters, without NUL");
    EXPECT_EQ(failure(send(R"(,"body":"a\u0000b","clientId":"c")")), "body must not contain NUL characters");
}

TEST(ParseSendRequest, CountsBodyLengthInUtf16Units) {
    std::string emoji;
    for (int i = 0; i < 4000; ++i) emoji += "\xF0\x9F\x98\x80"; // 8000 units
    boost::json::object payload{{"chatId", kChat}, {"body", emoji}, {"clientId", "c"}};
    EXPECT_TRUE(parseSendRequest(&payload).has_value());
    payload["body"] = emoji + "a";
    EXPECT_EQ(failure(parseSendRequest(&payload)), "body must be at most 8000 characters");
}

// Characters as JavaScript counts them, as the message says: 128 accented letters are 256
// bytes of UTF-8 and a clientId a client may well send.
TEST(ParseSendRequest, CountsClientIdLengthInUtf16Units) {
    std::string accented;
    for (int i = 0; i < 128; ++i) accented += "\xC3\xA9"; // é, one unit, two bytes
    boost::json::object payload{{"chatId", kChat}, {"body", "x"}, {"clientId", accented}};
    EXPECT_TRUE(parseSendRequest(&payload).has_value());
    payload["clientId"] = accented + "a";
    EXPECT_EQ(failure(parseSendRequest(&payload)),
              "clientId must be a non-empty string of at most 128 characters, without NUL");
}

TEST(ParseSendRequest, RestPathChatIdReplacesThePayloads) {
    const auto payload = object(R"({"chatId":"not an id","body":"x","clientId":"c"})");
    auto r = parseSendRequest(&payload, std::string_view(kChat));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->chatId, kChat);
    EXPECT_EQ(failure(parseSendRequest(nullptr, std::string_view(kChat))), "Payload must be an object");
}

TEST(ParseReceiptRequest, NeedsBothIds) {
    const std::string ok = std::string(R"([{"chatId":")") + kChat + R"(","messageId":")" + kMessage + "\"}]";
    auto r = parseReceiptRequest(span(args(ok)));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->chatId, kChat);
    EXPECT_EQ(r->messageId, kMessage);
    EXPECT_EQ(failure(parseReceiptRequest(span(args(R"([{"messageId":"x"}])")))),
              "chatId must be a 24-character hex ObjectId");
    EXPECT_EQ(failure(parseReceiptRequest(span(args(std::string(R"([{"chatId":")") + kChat + "\"}]")))),
              "messageId must be a 24-character hex ObjectId");
}

TEST(ParsePresencePing, AnyObject) {
    EXPECT_TRUE(parsePresencePing(span(args(R"([{}])"))).has_value());
    EXPECT_EQ(failure(parsePresencePing({})), "Payload must be an object");
    EXPECT_EQ(failure(parsePresencePing(span(args(R"([[]])")))), "Payload must be an object");
}

TEST(ParseRenewRequest, ANonEmptyStringToken) {
    const auto ok = parseRenewRequest(span(args(R"([{"token":"a.b.c"}])")));
    ASSERT_TRUE(ok.has_value());
    EXPECT_EQ(*ok, "a.b.c");
    EXPECT_EQ(failure(parseRenewRequest({})), "Payload must be an object");
    EXPECT_EQ(failure(parseRenewRequest(span(args(R"(["a.b.c"])")))), "Payload must be an object");
    for (const char* bad : {R"([{}])", R"([{"token":""}])", R"([{"token":5}])", R"([{"token":null}])"})
        EXPECT_EQ(failure(parseRenewRequest(span(args(bad)))), "token must be a non-empty string") << bad;
}

TEST(HandshakeToken, AuthFirstThenQuery) {
    EXPECT_EQ(handshakeToken(object(R"({"token":"a.b.c"})"), "/socket.io/?EIO=4&token=q"), "a.b.c");
    EXPECT_EQ(handshakeToken(object(R"({"token":5})"), "/socket.io/?EIO=4&token=q%2Ex"), "q.x");
    EXPECT_EQ(handshakeToken({}, "/socket.io/?EIO=4&token"), std::nullopt);
    EXPECT_EQ(handshakeToken({}, "/socket.io/?EIO=4"), std::nullopt);
    EXPECT_EQ(handshakeToken({}, "not a target"), std::nullopt);
}

TEST(ParseJsonObject, OnlyObjects) {
    EXPECT_TRUE(parseJsonObject(R"({"a":1})").has_value());
    EXPECT_FALSE(parseJsonObject("[1]").has_value());
    EXPECT_FALSE(parseJsonObject("{").has_value());
    EXPECT_FALSE(parseJsonObject("").has_value());
}

TEST(ParseLoginRequest, LowercasesTheEmail) {
    const auto body = object(R"({"email":"Alice@Example.COM","password":"pw"})");
    auto r = parseLoginRequest(&body);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->email, "alice@example.com");
    EXPECT_EQ(r->password, "pw");
    EXPECT_EQ(failure(parseLoginRequest(nullptr)), "Body must be a JSON object");
    const auto noPassword = object(R"({"email":"a@b.c","password":""})");
    EXPECT_EQ(failure(parseLoginRequest(&noPassword)), "email and password are required");
}

TEST(ParseNewChatRequest, CreatorFirstAndNoDuplicates) {
    const auto body = object(std::string(R"({"type":"group","title":"T","memberIds":[")") + kUser + R"(",")" + kUser +
                             R"(",")" + kChat + "\"]}");
    auto r = parseNewChatRequest(&body, kChat);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->type, "group");
    EXPECT_EQ(r->title, "T");
    EXPECT_EQ(r->memberIds, (std::vector<std::string>{kChat, kUser}));
}

TEST(ParseNewChatRequest, RefusesBadShapes) {
    auto refuse = [](std::string_view json) {
        const auto body = object(json);
        return failure(parseNewChatRequest(&body, kChat));
    };
    EXPECT_EQ(failure(parseNewChatRequest(nullptr, kChat)), "Body must be a JSON object");
    EXPECT_EQ(refuse(R"({"type":"channel","memberIds":[]})"), "type must be \"dm\" or \"group\"");
    EXPECT_EQ(refuse(R"({"type":"group","title":5,"memberIds":[]})"),
              "title must be a string of at most 200 characters (no NUL) or null");
    EXPECT_EQ(refuse(R"({"type":"group"})"), "memberIds must be an array of ObjectIds");
    EXPECT_EQ(refuse(R"({"type":"group","memberIds":["x"]})"), "memberIds must be an array of ObjectIds");
    EXPECT_EQ(refuse(R"({"type":"dm","memberIds":[]})"), "a dm has exactly two members");
    // A dm with yourself collapses to one member.
    EXPECT_EQ(refuse(std::string(R"({"type":"dm","memberIds":[")") + kChat + "\"]}"), "a dm has exactly two members");
}

TEST(ParseNewChatRequest, AtMostFiveThousandMembers) {
    boost::json::array ids;
    for (int i = 0; i < 5000; ++i) {
        char id[25];
        std::snprintf(id, sizeof id, "%024x", i + 1);
        ids.emplace_back(id);
    }
    boost::json::object body{{"type", "group"}, {"memberIds", ids}};
    EXPECT_EQ(failure(parseNewChatRequest(&body, kChat)), "at most 5000 members"); // 5000 + the creator
    ids.pop_back();
    body["memberIds"] = ids;
    EXPECT_TRUE(parseNewChatRequest(&body, kChat).has_value());
}

TEST(ParseNewChatRequest, TheCountIsCheckedBeforeAnyElement) {
    // 5001 entries, none of them an ObjectId: the cap answers, so no entry was looked at.
    boost::json::array junk(5001, boost::json::value("x"));
    boost::json::object body{{"type", "group"}, {"memberIds", junk}};
    EXPECT_EQ(failure(parseNewChatRequest(&body, kChat)), "at most 5000 members");
    // Past the cap even when repeats would bring the members under it.
    boost::json::array repeats(5001, boost::json::value(kUser));
    body["memberIds"] = repeats;
    EXPECT_EQ(failure(parseNewChatRequest(&body, kChat)), "at most 5000 members");
    // At the cap, repeats (and the creator listed again) collapse into one member each.
    boost::json::array atCap(5000, boost::json::value(kUser));
    atCap[0] = kChat;
    body["memberIds"] = atCap;
    auto r = parseNewChatRequest(&body, kChat);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->memberIds, (std::vector<std::string>{kChat, kUser}));
}

TEST(ParseTitleUpdate, StringOrNull) {
    const auto clear = object(R"({"title":null})");
    auto r = parseTitleUpdate(&clear);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(*r, std::nullopt);
    const auto set = object(R"({"title":"New"})");
    EXPECT_EQ(*parseTitleUpdate(&set), "New");
    const auto missing = object("{}");
    EXPECT_EQ(failure(parseTitleUpdate(&missing)), "Body must be an object with a title");
    boost::json::object tooLong{{"title", std::string(201, 't')}};
    EXPECT_EQ(failure(parseTitleUpdate(&tooLong)), "title must be a string of at most 200 characters (no NUL) or null");
    boost::json::object withNul{{"title", std::string("a\0b", 3)}};
    EXPECT_EQ(failure(parseTitleUpdate(&withNul)), "title must be a string of at most 200 characters (no NUL) or null");
}

TEST(ParseNewMember, NeedsAnObjectId) {
    const auto ok = object(std::string(R"({"userId":")") + kUser + "\"}");
    EXPECT_EQ(*parseNewMember(&ok), kUser);
    EXPECT_EQ(failure(parseNewMember(nullptr)), "userId must be a 24-character hex ObjectId");
}

TEST(ParseHistoryQuery, DefaultsAndBounds) {
    auto r = parseHistoryQuery("/v1/chats/x/messages");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->limit, 50);
    EXPECT_FALSE(r->before || r->after);
    r = parseHistoryQuery(std::string("/m?after=") + kMessage + "&limit=100");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->after, kMessage);
    EXPECT_EQ(r->limit, 100);
    EXPECT_EQ(failure(parseHistoryQuery(std::string("/m?before=") + kMessage + "&after=" + kMessage)),
              "use before or after, not both");
    EXPECT_EQ(failure(parseHistoryQuery("/m?before=nope")), "before/after must be a message id");
    for (const char* bad : {"/m?limit=0", "/m?limit=101", "/m?limit=5x", "/m?limit=", "/m?limit=99999999999"})
        EXPECT_EQ(failure(parseHistoryQuery(bad)), "limit must be 1..100") << bad;
}
