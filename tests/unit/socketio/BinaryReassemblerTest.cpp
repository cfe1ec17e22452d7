#include "socketio/codec/Packet.hpp"

#include "socketio/codec/Errc.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace {

using parley::socketio::codec::BinaryReassembler;
using parley::socketio::codec::decode;
using parley::socketio::codec::Errc;
using parley::socketio::codec::kMaxAttachments;
using parley::socketio::codec::Packet;
using parley::socketio::codec::PacketType;

using namespace std::string_literals;

const std::string kTwoPlaceholders = R"(["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])";

Packet header(std::string_view text) {
    auto r = decode(text);
    EXPECT_TRUE(r) << text;
    return r ? std::move(*r) : Packet{};
}

TEST(SocketIoBinaryReassembler, NothingPendingInitially) {
    BinaryReassembler r;
    EXPECT_FALSE(r.pending());
}

TEST(SocketIoBinaryReassembler, AddWithNothingPendingIsUnexpected) {
    BinaryReassembler r;
    auto res = r.add("\x01\x02");
    ASSERT_FALSE(res);
    EXPECT_EQ(res.error(), Errc::UnexpectedBinary);
    EXPECT_FALSE(r.pending());
}

TEST(SocketIoBinaryReassembler, CompletesExactlyAtTheLastAttachment) {
    BinaryReassembler r;
    r.start(header("52-" + kTwoPlaceholders));
    EXPECT_TRUE(r.pending());

    auto first = r.add("\x01\x02\x03");
    ASSERT_TRUE(first);
    EXPECT_FALSE(first->has_value());
    EXPECT_TRUE(r.pending());

    auto second = r.add("\x04\x05");
    ASSERT_TRUE(second);
    ASSERT_TRUE(second->has_value());
    EXPECT_FALSE(r.pending());

    const Packet& p = **second;
    EXPECT_EQ(p.type, PacketType::BinaryEvent);
    EXPECT_EQ(p.nsp, "/");
    EXPECT_FALSE(p.id);
    EXPECT_EQ(p.attachments, 2u);
    EXPECT_EQ(p.data, kTwoPlaceholders);
    ASSERT_EQ(p.buffers.size(), 2u);
    EXPECT_EQ(p.buffers[0], "\x01\x02\x03");
    EXPECT_EQ(p.buffers[1], "\x04\x05");
}

TEST(SocketIoBinaryReassembler, ExtraFrameAfterCompletionIsUnexpected) {
    BinaryReassembler r;
    r.start(header("51-[\"a\",{\"_placeholder\":true,\"num\":0}]"));
    auto done = r.add("x");
    ASSERT_TRUE(done);
    ASSERT_TRUE(done->has_value());
    auto extra = r.add("y");
    ASSERT_FALSE(extra);
    EXPECT_EQ(extra.error(), Errc::UnexpectedBinary);
}

TEST(SocketIoBinaryReassembler, BinaryAckKeepsIdAndNamespace) {
    BinaryReassembler r;
    r.start(header(R"(62-/custom,789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])"));
    ASSERT_TRUE(r.add("a"));
    auto done = r.add("b");
    ASSERT_TRUE(done);
    ASSERT_TRUE(done->has_value());
    const Packet& p = **done;
    EXPECT_EQ(p.type, PacketType::BinaryAck);
    EXPECT_EQ(p.nsp, "/custom");
    ASSERT_TRUE(p.id);
    EXPECT_EQ(*p.id, 789u);
    EXPECT_EQ(p.buffers, (std::vector<std::string>{"a", "b"}));
}

TEST(SocketIoBinaryReassembler, EveryCountUpToTheMaximum) {
    for (std::size_t n : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{17}, kMaxAttachments}) {
        BinaryReassembler r;
        r.start(header("5" + std::to_string(n) + "-[\"a\"]"));
        for (std::size_t i = 0; i + 1 < n; ++i) {
            auto res = r.add(std::to_string(i));
            ASSERT_TRUE(res) << n << "/" << i;
            ASSERT_FALSE(res->has_value()) << "completed early at " << i << " of " << n;
            ASSERT_TRUE(r.pending());
        }
        auto last = r.add(std::to_string(n - 1));
        ASSERT_TRUE(last);
        ASSERT_TRUE(last->has_value()) << n;
        EXPECT_FALSE(r.pending());
        const auto& buffers = (*last)->buffers;
        ASSERT_EQ(buffers.size(), n);
        for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(buffers[i], std::to_string(i));
    }
}

TEST(SocketIoBinaryReassembler, BytesAreKeptExactly) {
    std::string all;
    for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
    std::string big(1 << 20, '\0');
    std::mt19937 rng(99);
    for (auto& c : big) c = static_cast<char>(rng() & 0xff);

    BinaryReassembler r;
    r.start(header("53-[\"a\"]"));
    ASSERT_TRUE(r.add(all));
    ASSERT_TRUE(r.add(""));
    auto done = r.add(big);
    ASSERT_TRUE(done);
    ASSERT_TRUE(done->has_value());
    const auto& buffers = (*done)->buffers;
    ASSERT_EQ(buffers.size(), 3u);
    EXPECT_EQ(buffers[0], all);
    EXPECT_TRUE(buffers[1].empty());
    EXPECT_EQ(buffers[2], big);
}

TEST(SocketIoBinaryReassembler, ResetDropsThePendingPacket) {
    BinaryReassembler r;
    r.start(header("52-" + kTwoPlaceholders));
    ASSERT_TRUE(r.add("one"));
    r.reset();
    EXPECT_FALSE(r.pending());
    auto res = r.add("two");
    ASSERT_FALSE(res);
    EXPECT_EQ(res.error(), Errc::UnexpectedBinary);
}

TEST(SocketIoBinaryReassembler, ResetWhenIdleIsHarmless) {
    BinaryReassembler r;
    r.reset();
    r.reset();
    EXPECT_FALSE(r.pending());
}

TEST(SocketIoBinaryReassembler, ReusableForConsecutivePackets) {
    BinaryReassembler r;
    for (int round = 0; round < 3; ++round) {
        r.start(header("52-" + kTwoPlaceholders));
        auto a = r.add("a" + std::to_string(round));
        ASSERT_TRUE(a);
        EXPECT_FALSE(a->has_value());
        auto b = r.add("b" + std::to_string(round));
        ASSERT_TRUE(b);
        ASSERT_TRUE(b->has_value());
        EXPECT_EQ((*b)->buffers, (std::vector<std::string>{"a" + std::to_string(round), "b" + std::to_string(round)}));
        EXPECT_FALSE(r.pending());
    }
}

TEST(SocketIoBinaryReassembler, StartIgnoresBuffersAlreadyInTheHeader) {
    Packet h = header("52-" + kTwoPlaceholders);
    h.buffers = {"stale", "stale"};
    BinaryReassembler r;
    r.start(std::move(h));
    auto first = r.add("fresh0");
    ASSERT_TRUE(first);
    EXPECT_FALSE(first->has_value());
    auto second = r.add("fresh1");
    ASSERT_TRUE(second);
    ASSERT_TRUE(second->has_value());
    EXPECT_EQ((*second)->buffers, (std::vector<std::string>{"fresh0", "fresh1"}));
}

TEST(SocketIoBinaryReassembler, GarbageSequencesNeverThrow) {
    std::mt19937 rng(2024u);
    std::uniform_int_distribution<int> action(0, 9);
    std::uniform_int_distribution<int> count(1, 5);
    BinaryReassembler r;
    std::size_t expected = 0; // frames still owed to the pending header
    for (int n = 0; n < 5000; ++n) {
        const int a = action(rng);
        if (a == 0) {
            EXPECT_NO_THROW(r.reset());
            expected = 0;
        } else if (a <= 2) {
            const int c = count(rng);
            EXPECT_NO_THROW(r.start(header("5" + std::to_string(c) + "-[\"a\"]")));
            expected = static_cast<std::size_t>(c);
        } else {
            EXPECT_NO_THROW({
                auto res = r.add(std::string(static_cast<std::size_t>(a), 'x'));
                if (expected == 0) {
                    EXPECT_FALSE(res);
                } else {
                    ASSERT_TRUE(res);
                    --expected;
                    EXPECT_EQ(res->has_value(), expected == 0);
                }
            });
        }
        EXPECT_EQ(r.pending(), expected != 0);
    }
}

} // namespace
