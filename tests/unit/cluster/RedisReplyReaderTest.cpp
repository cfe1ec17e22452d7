#include "cluster/RedisReplyReader.hpp"

#include "cluster/RedisErrc.hpp"

#include <gtest/gtest.h>

#include <string>

// The RESP reader alone: bytes in, RedisReply values out, bounded.

namespace {

using namespace std::string_literals;

using parley::cluster::RedisErrc;
using parley::cluster::RedisReply;
using parley::cluster::RedisReplyReader;
using Type = RedisReply::Type;

TEST(RedisReplyReaderTest, ReadsEveryTypeIncludingNestedArrays) {
    RedisReplyReader reader;
    reader.feed("+OK\r\n-ERR no\r\n:-42\r\n$-1\r\n$3\r\na\0b\r\n*2\r\n*2\r\n:1\r\n$0\r\n\r\n*-1\r\n"s);
    RedisReply r;
    ASSERT_TRUE(reader.next(r).value());
    EXPECT_EQ(r.type, Type::Status);
    EXPECT_EQ(r.str, "OK");
    ASSERT_TRUE(reader.next(r).value());
    EXPECT_EQ(r.type, Type::Error);
    EXPECT_EQ(r.str, "ERR no");
    ASSERT_TRUE(reader.next(r).value());
    EXPECT_EQ(r.type, Type::Integer);
    EXPECT_EQ(r.integer, -42);
    ASSERT_TRUE(reader.next(r).value());
    EXPECT_EQ(r.type, Type::Nil);
    ASSERT_TRUE(reader.next(r).value());
    EXPECT_EQ(r.type, Type::String);
    EXPECT_EQ(r.str, std::string("a\0b", 3));
    ASSERT_TRUE(reader.next(r).value());
    ASSERT_EQ(r.type, Type::Array);
    ASSERT_EQ(r.elements.size(), 2U);
    ASSERT_EQ(r.elements[0].type, Type::Array);
    ASSERT_EQ(r.elements[0].elements.size(), 2U);
    EXPECT_EQ(r.elements[0].elements[0].integer, 1);
    EXPECT_EQ(r.elements[0].elements[1].type, Type::String);
    EXPECT_EQ(r.elements[0].elements[1].str, "");
    EXPECT_EQ(r.elements[1].type, Type::Nil);
    EXPECT_FALSE(reader.next(r).value());
}

TEST(RedisReplyReaderTest, ReassemblesRepliesFedOneByteAtATime) {
    const std::string stream = "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nhello\r\n:7\r\n";
    RedisReplyReader reader;
    std::vector<RedisReply> replies;
    for (char c : stream) {
        reader.feed(std::string_view(&c, 1));
        RedisReply r;
        while (reader.next(r).value()) replies.push_back(std::move(r));
    }
    ASSERT_EQ(replies.size(), 2U);
    ASSERT_EQ(replies[0].elements.size(), 3U);
    EXPECT_EQ(replies[0].elements[2].str, "hello");
    EXPECT_EQ(replies[1].integer, 7);
}

TEST(RedisReplyReaderTest, GarbageIsAProtocolErrorUntilReset) {
    RedisReplyReader reader;
    reader.feed("?junk\r\n");
    RedisReply r;
    auto next = reader.next(r);
    ASSERT_FALSE(next);
    EXPECT_EQ(next.error(), RedisErrc::ProtocolError);
    reader.feed(":1\r\n");
    EXPECT_FALSE(reader.next(r));
    reader.reset();
    reader.feed(":1\r\n");
    EXPECT_TRUE(reader.next(r).value());
    EXPECT_EQ(r.integer, 1);
}

TEST(RedisReplyReaderTest, ABulkStringBeyondTheBoundIsRefusedBeforeItIsComplete) {
    RedisReplyReader reader(1000);
    reader.feed("$100000\r\n" + std::string(2000, 'x'));
    RedisReply r;
    auto next = reader.next(r);
    ASSERT_FALSE(next);
    EXPECT_EQ(next.error(), RedisErrc::ReplyTooLarge);
}

TEST(RedisReplyReaderTest, AnArrayOfManySmallValuesBeyondTheBoundIsRefused) {
    // Few bytes on the wire per element, but each element costs a RedisReply in memory.
    RedisReplyReader reader(100 * sizeof(RedisReply));
    std::string stream = "*1000\r\n";
    for (int i = 0; i < 1000; ++i) stream += ":1\r\n";
    reader.feed(stream);
    RedisReply r;
    auto next = reader.next(r);
    ASSERT_FALSE(next);
    EXPECT_EQ(next.error(), RedisErrc::ReplyTooLarge);
}

TEST(RedisReplyReaderTest, RepliesUnderTheBoundPassOneAfterAnother) {
    RedisReplyReader reader(1000);
    RedisReply r;
    for (int i = 0; i < 100; ++i) {
        reader.feed("$500\r\n" + std::string(500, 'y') + "\r\n");
        ASSERT_TRUE(reader.next(r).value());
        EXPECT_EQ(r.str.size(), 500U);
    }
}

} // namespace
