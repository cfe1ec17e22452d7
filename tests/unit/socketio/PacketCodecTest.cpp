#include "socketio/codec/Packet.hpp"

#include "MustDecode.hpp"
#include "socketio/codec/Errc.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

// Inputs below are Socket.IO packets as handed to decode(), i.e. WITHOUT the Engine.IO
// message digit: the wire frame `42["a"]` is decode("2[\"a\"]").

namespace {

using parley::socketio::codec::ackArgs;
using parley::socketio::codec::decode;
using parley::socketio::codec::encode;
using parley::socketio::codec::Errc;
using parley::socketio::codec::kMaxAttachments;
using parley::socketio::codec::Packet;
using parley::socketio::codec::PacketType;
using parley::socketio::codec::splitEvent;
using parley::socketio::codec::test::mustDecode;

using namespace std::string_literals;

const std::string kPh0 = R"({"_placeholder":true,"num":0})";
const std::string kPh1 = R"({"_placeholder":true,"num":1})";

std::string show(std::string_view s) { return ::testing::PrintToString(std::string(s)); }

void expectError(std::string_view text, Errc expected) {
    std::optional<boost::system::result<Packet>> r;
    ASSERT_NO_THROW(r.emplace(decode(text))) << show(text);
    ASSERT_FALSE(*r) << "accepted but should be refused: " << show(text);
    EXPECT_EQ(r->error(), expected) << show(text) << " gave " << r->error().message();
}

std::string encoded(PacketType type, std::string_view nsp, std::optional<std::uint64_t> id, std::size_t attachments,
                    std::string_view json) {
    std::string out;
    encode(out, type, nsp, id, attachments, json);
    return out;
}

// ---------------------------------------------------------------------------------------------
// CONNECT
// ---------------------------------------------------------------------------------------------

TEST(SocketIoDecode, ConnectMainNamespaceWithoutAuth) {
    const Packet p = mustDecode("0");
    EXPECT_EQ(p.type, PacketType::Connect);
    EXPECT_EQ(p.nsp, "/");
    EXPECT_FALSE(p.id);
    EXPECT_EQ(p.attachments, 0u);
    EXPECT_TRUE(p.data.empty());
    EXPECT_TRUE(p.json.is_null());
    EXPECT_TRUE(p.buffers.empty());
}

TEST(SocketIoDecode, ConnectMainNamespaceWithAuth) {
    const Packet p = mustDecode(R"(0{"token":"123"})");
    EXPECT_EQ(p.type, PacketType::Connect);
    EXPECT_EQ(p.nsp, "/");
    EXPECT_EQ(p.data, R"({"token":"123"})");
    ASSERT_TRUE(p.json.is_object());
    EXPECT_EQ(p.json.at("token").as_string(), "123");
}

TEST(SocketIoDecode, ConnectCustomNamespaceWithComma) {
    const Packet p = mustDecode("0/custom,");
    EXPECT_EQ(p.type, PacketType::Connect);
    EXPECT_EQ(p.nsp, "/custom");
    EXPECT_TRUE(p.data.empty());
    EXPECT_TRUE(p.json.is_null());
}

TEST(SocketIoDecode, ConnectCustomNamespaceWithoutComma) {
    const Packet p = mustDecode("0/custom");
    EXPECT_EQ(p.type, PacketType::Connect);
    EXPECT_EQ(p.nsp, "/custom");
    EXPECT_TRUE(p.data.empty());
}

TEST(SocketIoDecode, ConnectCustomNamespaceWithAuth) {
    const Packet p = mustDecode(R"(0/custom,{"token":"abc"})");
    EXPECT_EQ(p.nsp, "/custom");
    EXPECT_EQ(p.data, R"({"token":"abc"})");
    EXPECT_EQ(p.json.at("token").as_string(), "abc");
}

TEST(SocketIoDecode, ConnectUnknownNamespaceIsStillAPacket) {
    // Whether a namespace exists is the server's business, not the codec's.
    const Packet p = mustDecode("0/random");
    EXPECT_EQ(p.nsp, "/random");
}

TEST(SocketIoDecode, ConnectEmptyAuthObject) {
    const Packet p = mustDecode("0{}");
    EXPECT_EQ(p.data, "{}");
    EXPECT_TRUE(p.json.is_object());
}

TEST(SocketIoDecode, ConnectWithNonObjectPayloadIsRefused) {
    expectError("0[]", Errc::InvalidPayload);
    expectError(R"(0"token")", Errc::InvalidPayload);
    expectError("0null", Errc::InvalidPayload);
    expectError("0true", Errc::InvalidPayload);
    expectError(R"(0/custom,["a"])", Errc::InvalidPayload);
}

TEST(SocketIoDecode, ConnectWithBrokenJsonIsRefused) {
    expectError("0{", Errc::InvalidJson);
    expectError(R"(0{"token":})", Errc::InvalidJson);
    expectError(R"(0/custom,{"a":1}})", Errc::InvalidJson);
    expectError("0/custom,,", Errc::InvalidJson);
}

// ---------------------------------------------------------------------------------------------
// DISCONNECT
// ---------------------------------------------------------------------------------------------

TEST(SocketIoDecode, Disconnect) {
    Packet p = mustDecode("1");
    EXPECT_EQ(p.type, PacketType::Disconnect);
    EXPECT_EQ(p.nsp, "/");
    p = mustDecode("1/custom,");
    EXPECT_EQ(p.type, PacketType::Disconnect);
    EXPECT_EQ(p.nsp, "/custom");
    p = mustDecode("1/custom");
    EXPECT_EQ(p.nsp, "/custom");
}

TEST(SocketIoDecode, DisconnectWithDataIsRefused) {
    expectError(R"(1{"a":1})", Errc::InvalidPayload);
    expectError(R"(1/custom,{"a":1})", Errc::InvalidPayload);
    expectError("1[]", Errc::InvalidPayload);
    expectError(R"(1"bye")", Errc::InvalidPayload);
    expectError("1{", Errc::InvalidJson);
}

// ---------------------------------------------------------------------------------------------
// EVENT
// ---------------------------------------------------------------------------------------------

TEST(SocketIoDecode, Event) {
    const Packet p = mustDecode(R"(2["message",1,"2",{"3":[true]}])");
    EXPECT_EQ(p.type, PacketType::Event);
    EXPECT_EQ(p.nsp, "/");
    EXPECT_FALSE(p.id);
    EXPECT_EQ(p.attachments, 0u);
    EXPECT_EQ(p.data, R"(["message",1,"2",{"3":[true]}])");
    ASSERT_TRUE(p.json.is_array());
    EXPECT_EQ(p.json.as_array().size(), 4u);
    EXPECT_EQ(p.json.as_array()[0].as_string(), "message");
}

TEST(SocketIoDecode, EventWithOnlyAName) {
    const Packet p = mustDecode(R"(2["ping"])");
    EXPECT_EQ(p.data, R"(["ping"])");
}

TEST(SocketIoDecode, EventInCustomNamespace) {
    const Packet p = mustDecode(R"(2/custom,["auth",{"token":"abc"}])");
    EXPECT_EQ(p.type, PacketType::Event);
    EXPECT_EQ(p.nsp, "/custom");
    EXPECT_FALSE(p.id);
    EXPECT_EQ(p.data, R"(["auth",{"token":"abc"}])");
}

TEST(SocketIoDecode, EventWithAckId) {
    const Packet p = mustDecode(R"(2456["message-with-ack",1,"2",{"3":[false]}])");
    EXPECT_EQ(p.type, PacketType::Event);
    ASSERT_TRUE(p.id);
    EXPECT_EQ(*p.id, 456u);
    EXPECT_EQ(p.data, R"(["message-with-ack",1,"2",{"3":[false]}])");
}

TEST(SocketIoDecode, EventWithNamespaceAndAckId) {
    const Packet p = mustDecode(R"(2/custom,12["x"])");
    EXPECT_EQ(p.nsp, "/custom");
    ASSERT_TRUE(p.id);
    EXPECT_EQ(*p.id, 12u);
    EXPECT_EQ(p.data, R"(["x"])");
}

TEST(SocketIoDecode, AckIdZeroAndMaximum) {
    Packet p = mustDecode(R"(20["x"])");
    ASSERT_TRUE(p.id);
    EXPECT_EQ(*p.id, 0u);
    p = mustDecode(R"(218446744073709551615["x"])");
    ASSERT_TRUE(p.id);
    EXPECT_EQ(*p.id, 18446744073709551615ull);
}

TEST(SocketIoDecode, AckIdOverflowIsRefused) {
    expectError(R"(218446744073709551616["x"])", Errc::InvalidPayload);
    expectError("2" + std::string(400, '9') + R"(["x"])", Errc::InvalidPayload);
}

TEST(SocketIoDecode, EventPayloadMustBeArrayStartingWithString) {
    expectError("2{}", Errc::InvalidPayload);  // 42{}
    expectError("2[]", Errc::InvalidPayload);  // 42[]
    expectError("2[1]", Errc::InvalidPayload); // numeric event name: refused
    expectError("2[1,2]", Errc::InvalidPayload);
    expectError("2[null]", Errc::InvalidPayload);
    expectError("2[{}]", Errc::InvalidPayload);
    expectError(R"(2[["nested"]])", Errc::InvalidPayload);
    expectError("2[true]", Errc::InvalidPayload);
    expectError(R"(2"message")", Errc::InvalidPayload);
    expectError("2null", Errc::InvalidPayload);
    expectError("2", Errc::InvalidPayload); // no payload at all
    expectError("2/custom,", Errc::InvalidPayload);
    expectError("2123", Errc::InvalidPayload); // id, no payload
}

TEST(SocketIoDecode, EventWithUnparsableJsonIsRefused) {
    expectError(R"(2abc["message-with-ack",1])", Errc::InvalidJson); // 42abc[...]
    expectError(R"(2["message")", Errc::InvalidJson);                // truncated
    expectError(R"(2["message",)", Errc::InvalidJson);
    expectError(R"(2["message",{"a":)", Errc::InvalidJson);
    expectError(R"(2["mess)", Errc::InvalidJson);
    expectError("2[", Errc::InvalidJson);
    expectError(R"(2["message",])", Errc::InvalidJson);         // trailing comma
    expectError(R"(2["message"]])", Errc::InvalidJson);         // extra bracket
    expectError(R"(2["message"]x)", Errc::InvalidJson);         // trailing garbage
    expectError(R"(2["message"]["again"])", Errc::InvalidJson); // two values
    expectError("2['message']", Errc::InvalidJson);             // not JSON quotes
    expectError(R"(2["message",NaN])", Errc::InvalidJson);
    expectError(R"(2["message",undefined])", Errc::InvalidJson);
    expectError(R"(2["message",01])", Errc::InvalidJson);
    expectError(R"(2["message" /*c*/])", Errc::InvalidJson);
    expectError("2[\"mes\nsage\"]", Errc::InvalidJson); // raw control char
    expectError("2[\"\xff\"]", Errc::InvalidJson);      // invalid UTF-8
    expectError(R"(2["\x"])", Errc::InvalidJson);       // bad escape
}

TEST(SocketIoDecode, EventWithSurroundingWhitespaceIsAccepted) {
    // JSON.parse accepts whitespace around the value, so the reference parser does too.
    const Packet p = mustDecode("2 [ \"message\" , 1 ] \n");
    EXPECT_EQ(p.type, PacketType::Event);
    EXPECT_EQ(p.data, " [ \"message\" , 1 ] \n");
}

// ---------------------------------------------------------------------------------------------
// ACK
// ---------------------------------------------------------------------------------------------

TEST(SocketIoDecode, Ack) {
    const Packet p = mustDecode(R"(3456[1,"2",{"3":[false]}])");
    EXPECT_EQ(p.type, PacketType::Ack);
    EXPECT_EQ(p.nsp, "/");
    ASSERT_TRUE(p.id);
    EXPECT_EQ(*p.id, 456u);
    EXPECT_EQ(p.data, R"([1,"2",{"3":[false]}])");
}

TEST(SocketIoDecode, AckEmptyArrayInNamespace) {
    const Packet p = mustDecode("3/custom,789[]");
    EXPECT_EQ(p.type, PacketType::Ack);
    EXPECT_EQ(p.nsp, "/custom");
    ASSERT_TRUE(p.id);
    EXPECT_EQ(*p.id, 789u);
    EXPECT_EQ(p.data, "[]");
}

TEST(SocketIoDecode, AckMayStartWithAnyValue) {
    // Unlike events, ack arguments can be anything, including a number first.
    const Packet p = mustDecode("31[1,null,[2]]");
    EXPECT_EQ(p.data, "[1,null,[2]]");
}

TEST(SocketIoDecode, AckWithoutIdIsRefused) {
    expectError("3[]", Errc::InvalidPayload); // 43[]
    expectError("3[1]", Errc::InvalidPayload);
    expectError("3/custom,[]", Errc::InvalidPayload);
}

TEST(SocketIoDecode, AckWithNonArrayIsRefused) {
    expectError("31{}", Errc::InvalidPayload);
    expectError(R"(31"x")", Errc::InvalidPayload);
    expectError("31[", Errc::InvalidJson);
}

// ---------------------------------------------------------------------------------------------
// CONNECT_ERROR
// ---------------------------------------------------------------------------------------------

TEST(SocketIoDecode, ConnectErrorObjectAndString) {
    Packet p = mustDecode(R"(4/random,{"message":"Invalid namespace"})");
    EXPECT_EQ(p.type, PacketType::ConnectError);
    EXPECT_EQ(p.nsp, "/random");
    EXPECT_EQ(p.data, R"({"message":"Invalid namespace"})");
    p = mustDecode(R"(4"not authorized")");
    EXPECT_EQ(p.type, PacketType::ConnectError);
    EXPECT_TRUE(p.json.is_string());
}

TEST(SocketIoDecode, ConnectErrorNeedsObjectOrString) {
    expectError("4", Errc::InvalidPayload); // 44 without data
    expectError("4/custom,", Errc::InvalidPayload);
    expectError("4[]", Errc::InvalidPayload);
    expectError("4null", Errc::InvalidPayload);
    expectError("4{", Errc::InvalidJson);
}

// ---------------------------------------------------------------------------------------------
// BINARY_EVENT / BINARY_ACK
// ---------------------------------------------------------------------------------------------

TEST(SocketIoDecode, BinaryEventWithTwoAttachments) {
    const std::string data = R"(["message",)" + kPh0 + "," + kPh1 + "]";
    const Packet p = mustDecode("52-" + data);
    EXPECT_EQ(p.type, PacketType::BinaryEvent);
    EXPECT_EQ(p.nsp, "/");
    EXPECT_FALSE(p.id);
    EXPECT_EQ(p.attachments, 2u);
    EXPECT_EQ(p.data, data);
    EXPECT_TRUE(p.buffers.empty());
}

TEST(SocketIoDecode, BinaryEventWithAckIdAndNamespace) {
    const std::string data = R"(["message-with-ack",)" + kPh0 + "," + kPh1 + "]";
    const Packet p = mustDecode("52-/custom,789" + data);
    EXPECT_EQ(p.type, PacketType::BinaryEvent);
    EXPECT_EQ(p.nsp, "/custom");
    ASSERT_TRUE(p.id);
    EXPECT_EQ(*p.id, 789u);
    EXPECT_EQ(p.attachments, 2u);
    EXPECT_EQ(p.data, data);
}

TEST(SocketIoDecode, BinaryAck) {
    const std::string data = "[" + kPh0 + "," + kPh1 + "]";
    const Packet p = mustDecode("62-789" + data);
    EXPECT_EQ(p.type, PacketType::BinaryAck);
    ASSERT_TRUE(p.id);
    EXPECT_EQ(*p.id, 789u);
    EXPECT_EQ(p.attachments, 2u);
    EXPECT_EQ(p.data, data);
}

TEST(SocketIoDecode, BinaryAckWithoutIdIsRefused) {
    expectError("61-[" + kPh0 + "]", Errc::InvalidPayload);
    expectError("61-5{}", Errc::InvalidPayload);
}

TEST(SocketIoDecode, NestedPlaceholderAndUnusedAttachment) {
    Packet p = mustDecode("51-[\"a\",{\"deep\":[1,{\"x\":" + kPh0 + "}]}]");
    EXPECT_EQ(p.attachments, 1u);
    // Declaring more attachments than placeholders is allowed.
    p = mustDecode("53-[\"a\"," + kPh1 + "]");
    EXPECT_EQ(p.attachments, 3u);
    // `_placeholder` that is not `true` is plain data.
    p = mustDecode(R"(51-["a",{"_placeholder":false,"num":99},{"_placeholder":"yes"}])");
    EXPECT_EQ(p.attachments, 1u);
}

TEST(SocketIoDecode, AttachmentCountBoundaries) {
    Packet p = mustDecode("51-[\"a\"]");
    EXPECT_EQ(p.attachments, 1u);
    p = mustDecode("5" + std::to_string(kMaxAttachments) + "-[\"a\"]");
    EXPECT_EQ(p.attachments, kMaxAttachments);
    p = mustDecode("5007-[\"a\"]"); // leading zeros are still a number
    EXPECT_EQ(p.attachments, 7u);
}

TEST(SocketIoDecode, BadAttachmentCounts) {
    expectError(R"(5-["a",{"_placeholder":true,"num":0}])", Errc::BadAttachments); // no count
    expectError("5abc-", Errc::BadAttachments);
    expectError(R"(5abc-["a"])", Errc::BadAttachments);
    expectError("5", Errc::BadAttachments);
    expectError("6", Errc::BadAttachments);
    expectError("52", Errc::BadAttachments);          // no dash
    expectError(R"(52["a"])", Errc::BadAttachments);  // no dash
    expectError(R"(50-["a"])", Errc::BadAttachments); // count 0
    expectError(R"(60-1[])", Errc::BadAttachments);
    expectError("5" + std::to_string(kMaxAttachments + 1) + R"(-["a"])", Errc::BadAttachments);
    expectError(R"(51000000-["a"])", Errc::BadAttachments);
    expectError(R"(518446744073709551617-["a"])", Errc::BadAttachments); // > uint64
    expectError("5" + std::string(5000, '9') + R"(-["a"])", Errc::BadAttachments);
    expectError(R"(5-1-["a"])", Errc::BadAttachments);
    expectError(R"(5+1-["a"])", Errc::BadAttachments);
    expectError(R"(5 1-["a"])", Errc::BadAttachments);
    expectError(R"(51.5-["a"])", Errc::BadAttachments);
    expectError(R"(5/custom,1-["a"])", Errc::BadAttachments);
}

TEST(SocketIoDecode, BinaryPayloadShapeIsChecked) {
    expectError("51-", Errc::InvalidPayload);
    expectError("51-{}", Errc::InvalidPayload);
    expectError("51-[]", Errc::InvalidPayload);
    expectError("51-[1]", Errc::InvalidPayload);
    expectError("51-[\"a\"", Errc::InvalidJson);
    expectError("61-1", Errc::InvalidPayload);
}

TEST(SocketIoDecode, BadPlaceholders) {
    // num out of range
    expectError("51-[\"a\"," + kPh1 + "]", Errc::BadPlaceholder);
    expectError(R"(52-["a",{"_placeholder":true,"num":2}])", Errc::BadPlaceholder);
    expectError(R"(52-["a",{"_placeholder":true,"num":18446744073709551615}])", Errc::BadPlaceholder);
    expectError(R"(52-["a",{"_placeholder":true,"num":1e30}])", Errc::BadPlaceholder);
    // negative
    expectError(R"(51-["a",{"_placeholder":true,"num":-1}])", Errc::BadPlaceholder);
    expectError(R"(51-["a",{"_placeholder":true,"num":-9223372036854775808}])", Errc::BadPlaceholder);
    // not a number / missing
    expectError(R"(51-["a",{"_placeholder":true,"num":"0"}])", Errc::BadPlaceholder);
    expectError(R"(51-["a",{"_placeholder":true,"num":null}])", Errc::BadPlaceholder);
    expectError(R"(51-["a",{"_placeholder":true,"num":[0]}])", Errc::BadPlaceholder);
    expectError(R"(51-["a",{"_placeholder":true}])", Errc::BadPlaceholder);
    expectError(R"(51-["a",{"_placeholder":true,"num":0.5}])", Errc::BadPlaceholder);
    // nested deep inside
    expectError(R"(51-["a",[[{"k":{"_placeholder":true,"num":7}}]]])", Errc::BadPlaceholder);
    // in a binary ack
    expectError(R"(61-3[{"_placeholder":true,"num":1}])", Errc::BadPlaceholder);
}

// ---------------------------------------------------------------------------------------------
// Unknown / empty
// ---------------------------------------------------------------------------------------------

TEST(SocketIoDecode, EmptyIsRefused) { expectError("", Errc::EmptyPacket); }

TEST(SocketIoDecode, UnknownTypesAreRefused) {
    for (std::string_view text :
         {"7", "7[]", "8", "9[\"a\"]", "a", "abc", "-", "/", " 2[\"a\"]", "\xff", "\x1e", "{}", "[\"a\"]"}) {
        expectError(text, Errc::UnknownPacketType);
    }
    expectError("\0"
                "2"s,
                Errc::UnknownPacketType);
}

// ---------------------------------------------------------------------------------------------
// Raw data is kept exactly
// ---------------------------------------------------------------------------------------------

TEST(SocketIoDecode, RawDataIsPreservedByteForByte) {
    const std::string cases[] = {
        R"(["message",{"b":1,"a":2,"c":{"z":0,"y":[3,2,1]}}])",               // key order
        R"(["message", 1 ,  "2" ,{ "3" : [ true ] } ])",                      // whitespace
        "[\"message\",\"caf\xc3\xa9\",\"\xe4\xb8\xad\xe6\x96\x87\"]",         // non-ASCII
        "[\"message\",\"\xf0\x9f\x98\x80\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd\"]", // emoji
        "[\"message\",\"a\xe2\x80\xa8"
        "b\xe2\x80\xa9"
        "c\"]",                                                              // U+2028 / U+2029 raw
        R"(["message","\u2028\u00e9\ud83d\ude00"])",                         // escapes stay escapes
        R"(["message",1.50,1.0,-0,1e3,1E+2,2.5e-3,0.1])",                    // numbers as given
        R"(["message",12345678901234567890123456789,-9223372036854775809])", // big integers
        R"(["message",1e400])",                                              // overflows double
        R"(["message","\"quoted\" \\ \/ \b\f\n\r\t"])",                      // string escapes
        R"(["message",null,true,false,[],{}])",
        R"(["message",{"":""}])",
        R"(["message",{"a":1,"a":2}])",                           // duplicate keys
        "[\"message\",\"" + std::string(200 * 1024, 'x') + "\"]", // 200 kB argument
    };
    for (const auto& data : cases) {
        const Packet p = mustDecode("2" + data);
        EXPECT_EQ(p.data, data);
        EXPECT_EQ(p.data.size(), data.size());
        EXPECT_TRUE(p.json.is_array());
        // Re-encoding the raw data gives back the identical frame.
        EXPECT_EQ(encoded(p.type, p.nsp, p.id, p.attachments, p.data), "2" + data);
    }
}

TEST(SocketIoDecode, DecodedJsonMatchesText) {
    const Packet p = mustDecode(R"(2["message","\u00e9",1.50,{"k":[true,null]}])");
    const auto& arr = p.json.as_array();
    ASSERT_EQ(arr.size(), 4u);
    EXPECT_EQ(arr[1].as_string(), "\xc3\xa9");
    EXPECT_DOUBLE_EQ(arr[2].as_double(), 1.5);
    EXPECT_TRUE(arr[3].at("k").as_array()[0].as_bool());
    EXPECT_TRUE(arr[3].at("k").as_array()[1].is_null());
}

// ---------------------------------------------------------------------------------------------
// Deep nesting
// ---------------------------------------------------------------------------------------------

TEST(SocketIoDecode, ModeratelyNestedJsonIsAccepted) {
    const std::string nested = std::string(20, '[') + "1" + std::string(20, ']');
    const Packet p = mustDecode("2[\"a\"," + nested + "]");
    EXPECT_EQ(p.data, "[\"a\"," + nested + "]");
}

TEST(SocketIoDecode, DeeplyNestedJsonIsAnErrorNotACrash) {
    expectError("2" + std::string(10000, '['), Errc::InvalidJson);
    expectError("2" + std::string(10000, '[') + std::string(10000, ']'), Errc::InvalidJson);
    expectError("2[\"a\"," + std::string(10000, '[') + std::string(10000, ']') + "]", Errc::InvalidJson);
    expectError("3"
                "1" +
                    std::string(100000, '['),
                Errc::InvalidJson);

    std::string objects = "0";
    for (int i = 0; i < 10000; ++i) objects += R"({"a":)";
    objects += "1";
    objects += std::string(10000, '}');
    expectError(objects, Errc::InvalidJson);

    std::string placeholders = "51-[\"a\"";
    for (int i = 0; i < 5000; ++i) placeholders += R"(,{"_placeholder":true,"num":0,"x":[)";
    expectError(placeholders, Errc::InvalidJson);
}

// ---------------------------------------------------------------------------------------------
// Known differences from socket.io-parser (disabled: owner's decision, see the test report)
// ---------------------------------------------------------------------------------------------

// socket.io-parser's isPayloadValid refuses these names for EVENT/BINARY_EVENT ("invalid payload").
TEST(SocketIoDecode, ReservedEventNamesAreRefusedLikeTheReferenceParser) {
    for (const char* name :
         {"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"}) {
        expectError("2[\"" + std::string(name) + "\"]", Errc::InvalidPayload);
        expectError("51-[\"" + std::string(name) + R"(",{"_placeholder":true,"num":0}])", Errc::InvalidPayload);
    }
}

// JSON.parse (and therefore the reference server) accepts escaped lone surrogates, which
// JSON.stringify produces for a JS string holding one; Boost.JSON 1.81 reports a syntax error.
TEST(SocketIoDecode, DISABLED_LoneSurrogateEscapeIsAcceptedLikeJsonParse) {
    const Packet p = mustDecode(R"(2["message","\ud800","\udfff x"])");
    EXPECT_EQ(p.data, R"(["message","\ud800","\udfff x"])");
}

// JSON.parse has no nesting limit; Boost.JSON's default max_depth is 32.
TEST(SocketIoDecode, NestingDeeperThan32IsAccepted) {
    const std::string nested = std::string(40, '[') + std::string(40, ']');
    const Packet p = mustDecode("2[\"a\"," + nested + "]");
    EXPECT_EQ(p.data, "[\"a\"," + nested + "]");
}

// The reference only resolves placeholders in BINARY_* packets; in a plain EVENT such an object
// is ordinary data (a client can emit {_placeholder:true,num:0} without any binary).
TEST(SocketIoDecode, PlaceholderLookalikeInPlainEventIsData) {
    const Packet p = mustDecode("2[\"a\"," + kPh0 + "]");
    EXPECT_EQ(p.type, PacketType::Event);
}

// ---------------------------------------------------------------------------------------------
// Encode
// ---------------------------------------------------------------------------------------------

TEST(SocketIoEncode, EveryTypeOnTheWire) {
    EXPECT_EQ(encoded(PacketType::Connect, "/", std::nullopt, 0, ""), "0");
    EXPECT_EQ(encoded(PacketType::Connect, "/", std::nullopt, 0, R"({"sid":"abc"})"), R"(0{"sid":"abc"})");
    EXPECT_EQ(encoded(PacketType::Connect, "/custom", std::nullopt, 0, R"({"sid":"abc"})"),
              R"(0/custom,{"sid":"abc"})");
    EXPECT_EQ(encoded(PacketType::Disconnect, "/", std::nullopt, 0, ""), "1");
    EXPECT_EQ(encoded(PacketType::Disconnect, "/custom", std::nullopt, 0, ""), "1/custom,");
    EXPECT_EQ(encoded(PacketType::Event, "/", std::nullopt, 0, R"(["auth",{}])"), R"(2["auth",{}])");
    EXPECT_EQ(encoded(PacketType::Event, "/custom", std::nullopt, 0, R"(["auth",{"token":"abc"}])"),
              R"(2/custom,["auth",{"token":"abc"}])");
    EXPECT_EQ(encoded(PacketType::Event, "/", 12, 0, R"(["x"])"), R"(212["x"])");
    EXPECT_EQ(encoded(PacketType::Ack, "/", 456, 0, R"([1,"2",{"3":[false]}])"), R"(3456[1,"2",{"3":[false]}])");
    EXPECT_EQ(encoded(PacketType::Ack, "/custom", 0, 0, "[]"), "3/custom,0[]");
    EXPECT_EQ(encoded(PacketType::ConnectError, "/random", std::nullopt, 0, R"({"message":"Invalid namespace"})"),
              R"(4/random,{"message":"Invalid namespace"})");
    EXPECT_EQ(encoded(PacketType::BinaryEvent, "/", std::nullopt, 2, "[\"message-back\"," + kPh0 + "," + kPh1 + "]"),
              "52-[\"message-back\"," + kPh0 + "," + kPh1 + "]");
    EXPECT_EQ(encoded(PacketType::BinaryAck, "/", 789, 2, "[" + kPh0 + "," + kPh1 + "]"),
              "62-789[" + kPh0 + "," + kPh1 + "]");
    EXPECT_EQ(encoded(PacketType::BinaryAck, "/custom", 789, 1, "[" + kPh0 + "]"), "61-/custom,789[" + kPh0 + "]");
}

TEST(SocketIoEncode, EmptyNamespaceMeansMain) {
    EXPECT_EQ(encoded(PacketType::Connect, "", std::nullopt, 0, ""), "0");
    EXPECT_EQ(encoded(PacketType::Event, "", std::nullopt, 0, R"(["a"])"), R"(2["a"])");
}

TEST(SocketIoEncode, AttachmentsOnlyForBinaryTypes) {
    EXPECT_EQ(encoded(PacketType::Event, "/", std::nullopt, 3, R"(["a"])"), R"(2["a"])");
}

TEST(SocketIoEncode, AppendsToExistingBuffer) {
    std::string out = "4";
    encode(out, PacketType::Event, "/", std::nullopt, 0, R"(["a"])");
    EXPECT_EQ(out, R"(42["a"])");
}

// ---------------------------------------------------------------------------------------------
// Round trips
// ---------------------------------------------------------------------------------------------

struct RoundTripCase {
    PacketType type;
    std::string nsp;
    std::optional<std::uint64_t> id;
    std::size_t attachments;
    std::string json;
};

TEST(SocketIoRoundTrip, EncodeThenDecodeGivesTheSamePacket) {
    const std::vector<RoundTripCase> cases = {
        {PacketType::Connect, "/", std::nullopt, 0, ""},
        {PacketType::Connect, "/", std::nullopt, 0, R"({"token":"123"})"},
        {PacketType::Connect, "/custom", std::nullopt, 0, ""},
        {PacketType::Connect, "/custom", std::nullopt, 0, R"({"sid":"lv_VI97HAXpY6yYWAAAC"})"},
        {PacketType::Disconnect, "/", std::nullopt, 0, ""},
        {PacketType::Disconnect, "/custom", std::nullopt, 0, ""},
        {PacketType::Event, "/", std::nullopt, 0, R"(["message",1,"2",{"3":[true]}])"},
        {PacketType::Event, "/custom", 0, 0, R"(["a"])"},
        {PacketType::Event, "/a/b-c_d", 18446744073709551615ull, 0, R"(["e",{"k":"v"}])"},
        {PacketType::Event, "/", std::nullopt, 0, "[\"\xf0\x9f\x98\x80\",\"\xe2\x80\xa8\",1.50]"},
        {PacketType::Ack, "/", 456, 0, R"([1,"2",{"3":[false]}])"},
        {PacketType::Ack, "/custom", 1, 0, "[]"},
        {PacketType::ConnectError, "/random", std::nullopt, 0, R"({"message":"Invalid namespace"})"},
        {PacketType::ConnectError, "/", std::nullopt, 0, R"("unauthorized")"},
        {PacketType::BinaryEvent, "/", std::nullopt, 2, "[\"message\"," + kPh0 + "," + kPh1 + "]"},
        {PacketType::BinaryEvent, "/custom", 789, 2, "[\"message-with-ack\"," + kPh0 + "," + kPh1 + "]"},
        {PacketType::BinaryEvent, "/", std::nullopt, kMaxAttachments, "[\"m\"," + kPh0 + "]"},
        {PacketType::BinaryAck, "/", 789, 2, "[" + kPh0 + "," + kPh1 + "]"},
        {PacketType::BinaryAck, "/custom", 3, 1, "[" + kPh0 + ",\"text\"]"},
    };
    for (const auto& c : cases) {
        const std::string wire = encoded(c.type, c.nsp, c.id, c.attachments, c.json);
        SCOPED_TRACE(wire);
        const Packet p = mustDecode(wire);
        EXPECT_EQ(p.type, c.type);
        EXPECT_EQ(p.nsp, c.nsp);
        EXPECT_EQ(p.id, c.id);
        EXPECT_EQ(p.attachments, c.attachments);
        EXPECT_EQ(p.data, c.json);
        if (c.json.empty()) {
            EXPECT_TRUE(p.json.is_null());
        } else {
            boost::system::error_code ec;
            EXPECT_EQ(p.json, boost::json::parse(c.json, ec));
        }
        EXPECT_EQ(encoded(p.type, p.nsp, p.id, p.attachments, p.data), wire);
    }
}

TEST(SocketIoRoundTrip, DecodeThenEncodeReproducesReferenceFrames) {
    // Frames from the conformance profile (minus the Engine.IO '4').
    const std::string frames[] = {
        "0",
        R"(0{"token":"123"})",
        "0/custom,",
        R"(0/custom,{"token":"abc"})",
        R"(0{"sid":"abc"})",
        R"(0/custom,{"sid":"abc"})",
        R"(2["auth",{}])",
        R"(2/custom,["auth",{"token":"abc"}])",
        R"(2["message-back",1,"2",{"3":[true]}])",
        R"(3456[1,"2",{"3":[false]}])",
        R"(4/random,{"message":"Invalid namespace"})",
        "1/custom,",
        "52-[\"message\"," + kPh0 + "," + kPh1 + "]",
        "52-789[\"message-with-ack\"," + kPh0 + "," + kPh1 + "]",
        "62-789[" + kPh0 + "," + kPh1 + "]",
    };
    for (const auto& f : frames) {
        const Packet p = mustDecode(f);
        EXPECT_EQ(encoded(p.type, p.nsp, p.id, p.attachments, p.data), f);
    }
    // `0/custom` without the comma is re-encoded in canonical form.
    const Packet p = mustDecode("0/custom");
    EXPECT_EQ(encoded(p.type, p.nsp, p.id, p.attachments, p.data), "0/custom,");
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

TEST(SocketIoErrors, CategoryAndMessages) {
    for (auto e : {Errc::EmptyPacket, Errc::UnknownPacketType, Errc::BadAttachments, Errc::InvalidJson,
                   Errc::InvalidPayload, Errc::BadPlaceholder, Errc::UnexpectedBinary}) {
        const boost::system::error_code ec = e;
        EXPECT_TRUE(ec.failed());
        EXPECT_STREQ(ec.category().name(), "socketio.codec");
        EXPECT_FALSE(ec.message().empty());
    }
    const boost::system::error_code unknown(4242, parley::socketio::codec::codecCategory());
    EXPECT_FALSE(unknown.message().empty());
}

// ---------------------------------------------------------------------------------------------
// Garbage
// ---------------------------------------------------------------------------------------------

// Exercises everything a server would do with a decoded packet.
void useDecoded(std::string_view text) {
    auto r = decode(text);
    if (!r) return;
    const Packet& p = *r;
    EXPECT_LE(p.attachments, kMaxAttachments);
    if (p.type == PacketType::Event || p.type == PacketType::BinaryEvent) {
        auto ev = splitEvent(p);
        EXPECT_TRUE(ev) << show(text);
        if (ev) {
            EXPECT_LE(ev->args.size(), p.data.size());
        }
    }
    if (p.type == PacketType::Ack || p.type == PacketType::BinaryAck) {
        EXPECT_LE(ackArgs(p).size(), p.data.size());
    }
    (void)encoded(p.type, p.nsp, p.id, p.attachments, p.data);
}

TEST(SocketIoGarbage, RandomBytesNeverThrow) {
    std::mt19937 rng(0xC0FFEEu);
    std::uniform_int_distribution<int> lenDist(0, 80);
    std::uniform_int_distribution<int> byteDist(0, 255);
    for (int n = 0; n < 3000; ++n) {
        std::string s(static_cast<std::size_t>(lenDist(rng)), '\0');
        for (auto& c : s) c = static_cast<char>(byteDist(rng));
        EXPECT_NO_THROW(useDecoded(s));
    }
}

TEST(SocketIoGarbage, RandomProtocolishTextNeverThrows) {
    std::mt19937 rng(7u);
    const std::string alphabet = R"(0123456789--//,,[[]]{{}}""::\ _placeholdernumtruefalsenull.e+)"
                                 "\t\n\r";
    std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
    std::uniform_int_distribution<int> lenDist(0, 60);
    std::uniform_int_distribution<int> typeDist(0, 7);
    for (int n = 0; n < 4000; ++n) {
        std::string s(1, static_cast<char>('0' + typeDist(rng)));
        const int len = lenDist(rng);
        for (int i = 0; i < len; ++i) s.push_back(alphabet[pick(rng)]);
        EXPECT_NO_THROW(useDecoded(s));
    }
}

TEST(SocketIoGarbage, MutatedValidPacketsNeverThrow) {
    const std::vector<std::string> seeds = {
        "0",
        R"(0{"token":"123"})",
        "0/custom,",
        R"(0/custom,{"token":"abc"})",
        "1/custom,",
        R"(2["message",1,"2",{"3":[true]}])",
        R"(2456["message-with-ack",1,"2",{"3":[false]}])",
        R"(2/custom,["a\"b",1])",
        R"(3456[1,"2",{"3":[false]}])",
        R"(4/random,{"message":"Invalid namespace"})",
        "52-[\"message\"," + kPh0 + "," + kPh1 + "]",
        "62-/custom,789[" + kPh0 + "," + kPh1 + "]",
    };
    std::mt19937 rng(12345u);
    std::uniform_int_distribution<int> byteDist(0, 255);
    const std::string interesting = R"(0123456789-/,[]{}"\ )";
    std::uniform_int_distribution<std::size_t> pick(0, interesting.size() - 1);
    for (int n = 0; n < 6000; ++n) {
        std::string s = seeds[static_cast<std::size_t>(n) % seeds.size()];
        const int edits = 1 + (n / static_cast<int>(seeds.size())) % 3;
        for (int e = 0; e < edits && !s.empty(); ++e) {
            const std::size_t pos = static_cast<std::size_t>(byteDist(rng)) % s.size();
            const char c = byteDist(rng) % 2 ? interesting[pick(rng)] : static_cast<char>(byteDist(rng));
            switch (byteDist(rng) % 4) {
            case 0: s[pos] = c; break;
            case 1: s.insert(pos, 1, c); break;
            case 2: s.erase(pos, 1); break;
            default: s.resize(pos); break; // truncation
            }
        }
        EXPECT_NO_THROW(useDecoded(s));
    }
}

} // namespace
