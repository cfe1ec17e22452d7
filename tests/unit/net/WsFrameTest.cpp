#include "net/WsFrame.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace parley::net::ws;

namespace {

std::vector<std::uint8_t> bytes(std::initializer_list<int> values) {
    std::vector<std::uint8_t> out;
    for (int v : values) out.push_back(static_cast<std::uint8_t>(v));
    return out;
}

ParseStatus parse(const std::vector<std::uint8_t>& data, FrameHeader& header) {
    return parseHeader(data.data(), data.size(), header);
}

} // namespace

TEST(WsFrameTest, ParsesAMaskedTextFrame) {
    // RFC 6455 section 5.7: a masked "Hello".
    auto frame = bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
    FrameHeader h;
    ASSERT_EQ(parse(frame, h), ParseStatus::Ok);
    EXPECT_TRUE(h.fin);
    EXPECT_EQ(h.opcode, Opcode::Text);
    EXPECT_TRUE(h.masked);
    EXPECT_EQ(h.length, 5u);
    EXPECT_EQ(h.headerBytes, 6u);
    unmask(frame.data() + h.headerBytes, h.length, h.mask);
    EXPECT_EQ(std::string(frame.begin() + 6, frame.end()), "Hello");
}

TEST(WsFrameTest, NeedsMoreUntilTheWholeHeaderIsThere) {
    const auto frame = bytes({0x82, 0xFE, 0x01, 0x00, 1, 2, 3, 4});
    FrameHeader h;
    for (std::size_t n = 0; n < frame.size(); ++n)
        EXPECT_EQ(parseHeader(frame.data(), n, h), ParseStatus::NeedMore) << n;
    ASSERT_EQ(parse(frame, h), ParseStatus::Ok);
    EXPECT_EQ(h.length, 256u);
    EXPECT_EQ(h.headerBytes, 8u);
}

TEST(WsFrameTest, SixtyFourBitLengths) {
    FrameHeader h;
    ASSERT_EQ(parse(bytes({0x82, 0xFF, 0, 0, 0, 1, 0, 0, 0, 0, 9, 9, 9, 9}), h), ParseStatus::Ok);
    EXPECT_EQ(h.length, 1ull << 32);
    EXPECT_EQ(h.headerBytes, 14u);
    // The most significant bit must be 0.
    EXPECT_EQ(parse(bytes({0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 9, 9, 9, 9}), h), ParseStatus::ProtocolError);
}

TEST(WsFrameTest, RefusesWhatTheProtocolForbids) {
    FrameHeader h;
    EXPECT_EQ(parse(bytes({0xC1, 0x80, 0, 0, 0, 0}), h), ParseStatus::ProtocolError); // RSV1 without an extension
    EXPECT_EQ(parse(bytes({0xA1, 0x80, 0, 0, 0, 0}), h), ParseStatus::ProtocolError); // RSV2
    EXPECT_EQ(parse(bytes({0x83, 0x80, 0, 0, 0, 0}), h), ParseStatus::ProtocolError); // reserved data opcode
    EXPECT_EQ(parse(bytes({0x8B, 0x80, 0, 0, 0, 0}), h), ParseStatus::ProtocolError); // reserved control opcode
    EXPECT_EQ(parse(bytes({0x09, 0x80, 0, 0, 0, 0}), h), ParseStatus::ProtocolError); // fragmented ping
    EXPECT_EQ(parse(bytes({0x88, 0xFE, 0, 126, 0, 0, 0, 0}), h), ParseStatus::ProtocolError); // close > 125 bytes
    EXPECT_EQ(parse(bytes({0x89, 0xFD, 0, 0, 0, 0}), h), ParseStatus::Ok);                    // ping of 125 bytes
}

TEST(WsFrameTest, EncodesHeadersOfEachSize) {
    std::uint8_t out[kMaxHeaderBytes];
    ASSERT_EQ(encodeHeader(out, Opcode::Text, 125), 2u);
    EXPECT_EQ(out[0], 0x81);
    EXPECT_EQ(out[1], 125);
    ASSERT_EQ(encodeHeader(out, Opcode::Binary, 126), 4u);
    EXPECT_EQ(out[0], 0x82);
    EXPECT_EQ(out[1], 126);
    EXPECT_EQ(out[2], 0);
    EXPECT_EQ(out[3], 126);
    ASSERT_EQ(encodeHeader(out, Opcode::Close, 65535), 4u);
    EXPECT_EQ(out[0], 0x88);
    EXPECT_EQ(out[2], 0xFF);
    EXPECT_EQ(out[3], 0xFF);
    ASSERT_EQ(encodeHeader(out, Opcode::Text, 65536), 10u);
    EXPECT_EQ(out[1], 127);
    EXPECT_EQ(out[7], 1);
    EXPECT_EQ(out[8], 0);
    EXPECT_EQ(out[9], 0);
    // What the server writes, the parser reads back (unmasked).
    FrameHeader h;
    ASSERT_EQ(parseHeader(out, 10, h), ParseStatus::Ok);
    EXPECT_EQ(h.length, 65536u);
    EXPECT_FALSE(h.masked);
}

TEST(WsFrameTest, UnmaskFromAnyOffsetMatchesByteByByte) {
    const std::array<std::uint8_t, 4> mask{0x12, 0x34, 0x56, 0x78};
    std::vector<std::uint8_t> data(101);
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 7);
    for (std::uint64_t offset = 0; offset < 8; ++offset) {
        auto fast = data;
        unmask(fast.data(), fast.size(), mask, offset);
        for (std::size_t i = 0; i < data.size(); ++i)
            ASSERT_EQ(fast[i], data[i] ^ mask[(offset + i) % 4]) << "offset " << offset << " byte " << i;
    }
}

TEST(WsFrameTest, Utf8) {
    EXPECT_TRUE(isValidUtf8(""));
    EXPECT_TRUE(isValidUtf8("plain ASCII text that is longer than eight bytes"));
    EXPECT_TRUE(isValidUtf8("h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80"));    // é € 😀
    EXPECT_TRUE(isValidUtf8("\xEF\xBF\xBD\xF4\x8F\xBF\xBF"));                  // U+FFFD, U+10FFFF
    EXPECT_FALSE(isValidUtf8("\x80"));                                         // lone continuation
    EXPECT_FALSE(isValidUtf8("\xC0\xAF"));                                     // overlong '/'
    EXPECT_FALSE(isValidUtf8("\xE0\x80\xAF"));                                 // overlong, 3 bytes
    EXPECT_FALSE(isValidUtf8("\xED\xA0\x80"));                                 // U+D800, a surrogate
    EXPECT_FALSE(isValidUtf8("\xF4\x90\x80\x80"));                             // above U+10FFFF
    EXPECT_FALSE(isValidUtf8("\xF5\x80\x80\x80"));
    EXPECT_FALSE(isValidUtf8("abcdefgh\xE2\x82"));                             // cut short
    EXPECT_FALSE(isValidUtf8("\xE2\x28\xA1"));                                 // bad continuation
    EXPECT_FALSE(isValidUtf8(std::string_view("\xFF", 1)));
}

TEST(WsFrameTest, CloseCodes) {
    for (int code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 4999})
        EXPECT_TRUE(isValidCloseCode(static_cast<std::uint16_t>(code))) << code;
    for (int code : {0, 999, 1004, 1005, 1006, 1015, 1100, 2999, 5000})
        EXPECT_FALSE(isValidCloseCode(static_cast<std::uint16_t>(code))) << code;
}

TEST(WsFrameTest, AcceptKey) {
    // The example of RFC 6455 section 1.3.
    EXPECT_EQ(acceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    EXPECT_EQ(acceptKey(""), std::nullopt);
    EXPECT_EQ(acceptKey("dGhlIHNhbXBsZSBub25jZQ"), std::nullopt);     // no padding
    EXPECT_EQ(acceptKey("dGhlIHNhbXBsZSBub25jZQ=x"), std::nullopt);   // not 16 bytes
    EXPECT_EQ(acceptKey("dGhl!HNhbXBsZSBub25jZQ=="), std::nullopt);   // not base64
}
