// The configurable per-packet bounds (DecodeLimits) and the attachment byte bound.
#include "socketio/codec/Errc.hpp"
#include "socketio/codec/Packet.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace {

using namespace parley::socketio::codec;

// A reassembler holding a two-attachment event, its attachments bounded to `maxBytes`.
BinaryReassembler awaitingTwoAttachments(std::uint64_t maxBytes) {
    BinaryReassembler r;
    r.setMaxBytes(maxBytes);
    auto header = decode(R"(52-["e",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])");
    if (!header) throw std::logic_error("the header packet must decode");
    r.start(std::move(*header));
    return r;
}

std::string nested(std::size_t depth) { return std::string(depth, '[') + "1" + std::string(depth, ']'); }

TEST(DecodeLimits, EventNameAtTheLimitIsAcceptedOneMoreIsNot) {
    DecodeLimits limits;
    limits.maxEventNameBytes = 8;
    EXPECT_TRUE(decode(R"(2["12345678"])", limits));
    auto r = decode(R"(2["123456789"])", limits);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), make_error_code(Errc::InvalidPayload));
    // Only the name is bounded, not the arguments.
    EXPECT_TRUE(decode(R"(2["a",")" + std::string(1000, 'x') + "\"]", limits));
}

TEST(DecodeLimits, JsonDepthIsConfigurable) {
    DecodeLimits limits;
    limits.maxJsonDepth = 8;
    EXPECT_TRUE(decode("2[\"e\"," + nested(7) + "]", limits)); // 8 levels in all
    auto r = decode("2[\"e\"," + nested(8) + "]", limits);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), make_error_code(Errc::InvalidJson));
}

TEST(DecodeLimits, DepthNeverExceedsTheHardCap) {
    DecodeLimits limits;
    limits.maxJsonDepth = 1000;
    EXPECT_FALSE(decode("2[\"e\"," + nested(kMaxJsonDepth) + "]", limits));
}

TEST(DecodeLimits, AttachmentCountIsConfigurable) {
    DecodeLimits limits;
    limits.maxAttachments = 2;
    const std::string ph = R"({"_placeholder":true,"num":0})";
    EXPECT_TRUE(decode("52-[\"e\"," + ph + "]", limits));
    auto r = decode("53-[\"e\"," + ph + "]", limits);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), make_error_code(Errc::BadAttachments));
}

TEST(DecodeLimits, TheDefaultsAreTheServersDefaults) {
    const DecodeLimits limits;
    EXPECT_EQ(limits.maxAttachments, 10u);
    EXPECT_EQ(limits.maxJsonDepth, 32u);
    EXPECT_EQ(limits.maxEventNameBytes, 128u);
    EXPECT_FALSE(decode("2[\"" + std::string(129, 'n') + "\"]", limits));
    EXPECT_TRUE(decode("2[\"" + std::string(129, 'n') + "\"]")) << "decode() without limits is the most permissive";
}

TEST(BinaryReassemblerBytes, AttachmentsPastTheByteLimitAreRefused) {
    BinaryReassembler r = awaitingTwoAttachments(10);
    auto first = r.add(std::string(6, 'a'));
    ASSERT_TRUE(first);
    EXPECT_FALSE(first->has_value());
    auto second = r.add(std::string(5, 'b'));
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error(), make_error_code(Errc::BadAttachments));
    EXPECT_FALSE(r.pending()) << "the packet is dropped";
}

TEST(BinaryReassemblerBytes, ExactlyAtTheLimitCompletes) {
    BinaryReassembler r = awaitingTwoAttachments(10);
    ASSERT_TRUE(r.add(std::string(5, 'a')));
    auto done = r.add(std::string(5, 'b'));
    ASSERT_TRUE(done);
    ASSERT_TRUE(done->has_value());
    EXPECT_EQ((*done)->buffers.size(), 2u);
}

} // namespace
