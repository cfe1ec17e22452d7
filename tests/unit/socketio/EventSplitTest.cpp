#include "socketio/codec/Packet.hpp"

#include "MustDecode.hpp"
#include "socketio/codec/Errc.hpp"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>

#include <gtest/gtest.h>

#include <string>
#include <string_view>

// splitEvent / ackArgs: the raw-text views the server uses to echo arguments verbatim
// (`42["message",...]` -> `42["message-back",...]`, `42N["message-with-ack",...]` -> `43N[...]`).

namespace {

using parley::socketio::codec::ackArgs;
using parley::socketio::codec::decode;
using parley::socketio::codec::Errc;
using parley::socketio::codec::EventView;
using parley::socketio::codec::Packet;
using parley::socketio::codec::PacketType;
using parley::socketio::codec::splitEvent;
using parley::socketio::codec::test::mustDecode;

struct Split {
    std::string name;
    std::string args;
};

// Decodes an EVENT with `data` and splits it; copies the views so the packet may die.
Split split(std::string_view data) {
    const Packet p = mustDecode("2" + std::string(data));
    auto v = splitEvent(p);
    EXPECT_TRUE(v) << data;
    if (!v) return {};
    return {std::string(v->name), std::string(v->args)};
}

bool within(std::string_view inner, const std::string& outer) {
    return inner.data() >= outer.data() && inner.data() + inner.size() <= outer.data() + outer.size();
}

// ---------------------------------------------------------------------------------------------
// splitEvent
// ---------------------------------------------------------------------------------------------

TEST(SocketIoSplitEvent, NameOnly) {
    const Split s = split(R"(["message"])");
    EXPECT_EQ(s.name, "message");
    EXPECT_EQ(s.args, "");
}

TEST(SocketIoSplitEvent, OneArgument) {
    EXPECT_EQ(split(R"(["message",1])").args, "1");
    EXPECT_EQ(split(R"(["message","x"])").args, R"("x")");
    EXPECT_EQ(split(R"(["message",{}])").args, "{}");
    EXPECT_EQ(split(R"(["message",[]])").args, "[]");
    EXPECT_EQ(split(R"(["message",null])").args, "null");
}

TEST(SocketIoSplitEvent, ConformanceExample) {
    const Split s = split(R"(["message",1,"2",{"3":[true]}])");
    EXPECT_EQ(s.name, "message");
    EXPECT_EQ(s.args, R"(1,"2",{"3":[true]})");
    // What the echo handler builds from it:
    EXPECT_EQ(R"(["message-back",)" + s.args + "]", R"(["message-back",1,"2",{"3":[true]}])");
}

TEST(SocketIoSplitEvent, WithAckIdAndNamespace) {
    const Packet p = mustDecode(R"(2/custom,456["message-with-ack",1,"2",{"3":[false]}])");
    auto v = splitEvent(p);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->name, "message-with-ack");
    EXPECT_EQ(v->args, R"(1,"2",{"3":[false]})");
}

TEST(SocketIoSplitEvent, ArgsViewPointsIntoPacketData) {
    const Packet p = mustDecode(R"(2["message",1,2])");
    auto v = splitEvent(p);
    ASSERT_TRUE(v);
    EXPECT_TRUE(within(v->args, p.data));
}

TEST(SocketIoSplitEvent, WhitespaceVariations) {
    Split s = split(R"([ "message" ])");
    EXPECT_EQ(s.name, "message");
    EXPECT_EQ(s.args, "");

    s = split(R"([ "message" , 1 ])");
    EXPECT_EQ(s.name, "message");
    EXPECT_EQ(s.args, " 1 ");

    s = split(R"(["message" ,1])");
    EXPECT_EQ(s.args, "1");

    s = split(R"(["message",  1,  "2"  ])");
    EXPECT_EQ(s.args, R"(  1,  "2"  )");

    s = split(" \t\r\n[\n\t\"message\"\r\n,\n1\n]\n ");
    EXPECT_EQ(s.name, "message");
    EXPECT_EQ(s.args, "\n1\n");

    s = split("[\"message\"\n]");
    EXPECT_EQ(s.args, "");
}

TEST(SocketIoSplitEvent, RebuiltArrayHasTheSameArguments) {
    // Whatever the spacing, `["x",` + args + `]` must be JSON with the same arguments.
    const std::string cases[] = {
        R"(["m",1,"2",{"3":[true]}])",    R"([ "m" , 1 , "2" ])", "[\"m\"\n,\n[1,\n2]\n]",
        R"(["m","]",",","[",{"]":"["}])", R"(["m","\"",'x'])",    R"(["m", "a" ,  [ ] , { } ])",
    };
    for (const auto& data : cases) {
        auto r = decode("2" + data);
        if (!r) continue; // the single-quote case is not JSON and is refused by decode
        auto v = splitEvent(*r);
        ASSERT_TRUE(v) << data;
        const std::string rebuilt = R"(["x")" + std::string(v->args.empty() ? "" : ",") + std::string(v->args) + "]";
        boost::system::error_code ec;
        const auto parsed = boost::json::parse(rebuilt, ec);
        ASSERT_FALSE(ec) << rebuilt;
        const auto& original = r->json.as_array();
        const auto& again = parsed.as_array();
        ASSERT_EQ(again.size(), original.size()) << rebuilt;
        for (std::size_t i = 1; i < original.size(); ++i) EXPECT_EQ(again[i], original[i]) << rebuilt;
    }
}

TEST(SocketIoSplitEvent, EscapedQuotesInName) {
    Split s = split(R"(["a\"b",1])");
    EXPECT_EQ(s.name, "a\"b");
    EXPECT_EQ(s.args, "1");

    s = split(R"(["\"",2])");
    EXPECT_EQ(s.name, "\"");
    EXPECT_EQ(s.args, "2");

    s = split(R"(["a\\",3])");
    EXPECT_EQ(s.name, "a\\");
    EXPECT_EQ(s.args, "3");

    s = split(R"(["\\\"\\",4])");
    EXPECT_EQ(s.name, "\\\"\\");
    EXPECT_EQ(s.args, "4");

    s = split(R"(["\"\"",{"k":"\""}])");
    EXPECT_EQ(s.name, "\"\"");
    EXPECT_EQ(s.args, R"({"k":"\""})");
}

TEST(SocketIoSplitEvent, NameIsUnescaped) {
    Split s = split(R"(["\u0041\u00e9\n",1])");
    EXPECT_EQ(s.name, "A\xc3\xa9\n");
    EXPECT_EQ(s.args, "1");

    s = split(R"(["\ud83d\ude00"])");
    EXPECT_EQ(s.name, "\xf0\x9f\x98\x80");
    EXPECT_EQ(s.args, "");
}

TEST(SocketIoSplitEvent, NameWithJsonPunctuation) {
    Split s = split(R"(["a,b",1])");
    EXPECT_EQ(s.name, "a,b");
    EXPECT_EQ(s.args, "1");

    s = split(R"(["]",1])");
    EXPECT_EQ(s.name, "]");
    EXPECT_EQ(s.args, "1");

    s = split(R"(["[\"x\",",1])");
    EXPECT_EQ(s.name, "[\"x\",");
    EXPECT_EQ(s.args, "1");

    s = split(R"(["",1])");
    EXPECT_EQ(s.name, "");
    EXPECT_EQ(s.args, "1");
}

TEST(SocketIoSplitEvent, ArgsKeepRawText) {
    const std::string raw = "{\"b\":1,\"a\":2},1.50,\"caf\xc3\xa9\",\"\xf0\x9f\x98\x80\",\"\xe2\x80\xa8\",\"\\u2028\"";
    EXPECT_EQ(split("[\"message\"," + raw + "]").args, raw);
}

TEST(SocketIoSplitEvent, ArgsWithBracketsInStrings) {
    EXPECT_EQ(split(R"(["m","]",",","["])").args, R"("]",",","[")");
    EXPECT_EQ(split(R"(["m",["]"]])").args, R"(["]"])");
}

TEST(SocketIoSplitEvent, BinaryEventWithPlaceholders) {
    const Packet p = mustDecode(R"(52-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])");
    auto v = splitEvent(p);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->name, "message");
    EXPECT_EQ(v->args, R"({"_placeholder":true,"num":0},{"_placeholder":true,"num":1})");
}

TEST(SocketIoSplitEvent, NonEventShapesAreRefused) {
    for (std::string_view text : {"3456[1,2]", R"(0{"token":"1"})", "0", "1", R"(4{"message":"x"})", "31[]"}) {
        const Packet p = mustDecode(text);
        auto v = splitEvent(p);
        ASSERT_FALSE(v) << text;
        EXPECT_EQ(v.error(), Errc::InvalidPayload) << text;
    }
    auto v = splitEvent(Packet{});
    ASSERT_FALSE(v);
    EXPECT_EQ(v.error(), Errc::InvalidPayload);
}

// ---------------------------------------------------------------------------------------------
// ackArgs
// ---------------------------------------------------------------------------------------------

TEST(SocketIoAckArgs, ConformanceExample) {
    const Packet p = mustDecode(R"(3456[1,"2",{"3":[false]}])");
    EXPECT_EQ(ackArgs(p), R"(1,"2",{"3":[false]})");
    EXPECT_TRUE(within(ackArgs(p), p.data));
}

TEST(SocketIoAckArgs, EventDataAsAck) {
    // The server acks `message-with-ack` with the event's own arguments; ackArgs of an
    // ACK built from them gives them back.
    const Packet ev = mustDecode(R"(2456["message-with-ack",1,"2",{"3":[false]}])");
    auto v = splitEvent(ev);
    ASSERT_TRUE(v);
    const Packet ack = mustDecode("3456[" + std::string(v->args) + "]");
    EXPECT_EQ(ackArgs(ack), v->args);
}

TEST(SocketIoAckArgs, Shapes) {
    EXPECT_EQ(ackArgs(mustDecode("31[]")), "");
    EXPECT_EQ(ackArgs(mustDecode("31[ ]")), " ");
    EXPECT_EQ(ackArgs(mustDecode("31[ 1 ]")), " 1 ");
    EXPECT_EQ(ackArgs(mustDecode("31 [1] ")), "1");
    EXPECT_EQ(ackArgs(mustDecode("31[[1],[2]]")), "[1],[2]");
    EXPECT_EQ(ackArgs(mustDecode(R"(31["]","["])")), R"("]","[")");
    EXPECT_EQ(ackArgs(mustDecode(R"(3/custom,1[{"a":[1]}])")), R"({"a":[1]})");
    EXPECT_EQ(ackArgs(mustDecode("31[\"\xf0\x9f\x98\x80\",1.50]")), "\"\xf0\x9f\x98\x80\",1.50");
}

TEST(SocketIoAckArgs, BinaryAck) {
    const Packet p = mustDecode(R"(62-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])");
    EXPECT_EQ(ackArgs(p), R"({"_placeholder":true,"num":0},{"_placeholder":true,"num":1})");
}

TEST(SocketIoAckArgs, NoArrayGivesEmpty) {
    EXPECT_EQ(ackArgs(Packet{}), "");
    EXPECT_EQ(ackArgs(mustDecode("0")), "");
    Packet odd;
    odd.data = "][";
    EXPECT_EQ(ackArgs(odd), "");
    odd.data = "[";
    EXPECT_EQ(ackArgs(odd), "");
    odd.data = "]";
    EXPECT_EQ(ackArgs(odd), "");
}

} // namespace
