#include "socketio/codec/LoneSurrogates.hpp"

#include "socketio/codec/Packet.hpp"

#include <boost/json/parse.hpp>

#include <gtest/gtest.h>

#include <string>

// JSON.stringify("x\ud800y") is "\"x\\ud800y\"": a JavaScript client can send lone surrogates,
// which Boost.JSON refuses. They become U+FFFD instead of breaking the packet.

namespace {

using parley::socketio::codec::decode;
using parley::socketio::codec::replaceLoneSurrogates;

TEST(LoneSurrogates, NothingToReplace) {
    EXPECT_FALSE(replaceLoneSurrogates(""));
    EXPECT_FALSE(replaceLoneSurrogates(R"(["message:send",{"body":"plain"}])"));
    EXPECT_FALSE(replaceLoneSurrogates(R"("\u00e9 \u20ac \\ \" \n")"));
    // a proper pair, in either case of hex digits
    EXPECT_FALSE(replaceLoneSurrogates(R"("\ud83d\ude00")"));
    EXPECT_FALSE(replaceLoneSurrogates(R"("\uD83D\uDE00")"));
    // an escaped backslash followed by the letters "ud800" is not an escape
    EXPECT_FALSE(replaceLoneSurrogates(R"("\\ud800")"));
    EXPECT_FALSE(replaceLoneSurrogates(R"("\\\\ud800")"));
}

TEST(LoneSurrogates, ReplacesLoneHighAndLow) {
    EXPECT_EQ(replaceLoneSurrogates(R"("x\ud800y")"), R"("x\ufffdy")");
    EXPECT_EQ(replaceLoneSurrogates(R"("\udc00")"), R"("\ufffd")");
    EXPECT_EQ(replaceLoneSurrogates(R"("\uDBFF")"), R"("\ufffd")");
    // a high at the very end of the text, and a low before a high (the wrong order)
    EXPECT_EQ(replaceLoneSurrogates(R"(\ud800)"), R"(\ufffd)");
    EXPECT_EQ(replaceLoneSurrogates(R"("\ude00\ud83d")"), R"("\ufffd\ufffd")");
    // two highs then a low: the first is lone, the second pairs with the low
    EXPECT_EQ(replaceLoneSurrogates(R"("\ud83d\ud83d\ude00")"), R"("\ufffd\ud83d\ude00")");
    // after an escaped backslash, a real escape is still found
    EXPECT_EQ(replaceLoneSurrogates(R"("\\\ud800")"), R"("\\\ufffd")");
}

TEST(LoneSurrogates, RepairedTextParsesToReplacementCharacter) {
    auto repaired = replaceLoneSurrogates(R"({"body":"a\ud83db","k":"\ud83d\ude00"})");
    ASSERT_TRUE(repaired);
    boost::system::error_code ec;
    auto v = boost::json::parse(*repaired, ec);
    ASSERT_FALSE(ec) << *repaired;
    EXPECT_EQ(v.at("body").as_string(), "a\xEF\xBF\xBD"
                                        "b");
    EXPECT_EQ(v.at("k").as_string(), "\xF0\x9F\x98\x80");
}

TEST(LoneSurrogates, TruncatedOrMalformedEscapesAreLeftAlone) {
    EXPECT_FALSE(replaceLoneSurrogates(R"("\ud8)"));
    EXPECT_FALSE(replaceLoneSurrogates(R"("\u")"));
    EXPECT_FALSE(replaceLoneSurrogates("\\"));
    EXPECT_FALSE(replaceLoneSurrogates(R"("\ud80g")"));
    // a high followed by a malformed escape is still lone
    EXPECT_EQ(replaceLoneSurrogates(R"("\ud800\udc0")"), R"("\ufffd\udc0")");
}

TEST(LoneSurrogates, DecodeKeepsAnEventWithALoneSurrogate) {
    auto p = decode(R"(2["message:send",{"body":"cut \ud83d","clientId":"c"}])");
    ASSERT_TRUE(p) << p.error().message();
    EXPECT_EQ(p->json.as_array().at(1).at("body").as_string(), "cut \xEF\xBF\xBD");
    // the raw text stays as sent (an echo returns it unchanged)
    EXPECT_EQ(p->data, R"(["message:send",{"body":"cut \ud83d","clientId":"c"}])");
    // JSON that is broken for another reason stays refused
    EXPECT_FALSE(decode(R"(2["message:send",{"body":"\ud83d})"));
}

} // namespace
