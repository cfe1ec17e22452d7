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
    EXPECT_TRUE(isValidUtf8("h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80")); // é € 😀
    EXPECT_TRUE(isValidUtf8("\xEF\xBF\xBD\xF4\x8F\xBF\xBF"));               // U+FFFD, U+10FFFF
    EXPECT_FALSE(isValidUtf8("\x80"));                                      // lone continuation
    EXPECT_FALSE(isValidUtf8("\xC0\xAF"));                                  // overlong '/'
    EXPECT_FALSE(isValidUtf8("\xE0\x80\xAF"));                              // overlong, 3 bytes
    EXPECT_FALSE(isValidUtf8("\xED\xA0\x80"));                              // U+D800, a surrogate
    EXPECT_FALSE(isValidUtf8("\xF4\x90\x80\x80"));                          // above U+10FFFF
    EXPECT_FALSE(isValidUtf8("\xF5\x80\x80\x80"));
    EXPECT_FALSE(isValidUtf8("abcdefgh\xE2\x82")); // cut short
    EXPECT_FALSE(isValidUtf8("\xE2\x28\xA1"));     // bad continuation
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
    EXPECT_EQ(acceptKey("dGhlIHNhbXBsZSBub25jZQ"), std::nullopt);   // no padding
    EXPECT_EQ(acceptKey("dGhlIHNhbXBsZSBub25jZQ=x"), std::nullopt); // not 16 bytes
    EXPECT_EQ(acceptKey("dGhl!HNhbXBsZSBub25jZQ=="), std::nullopt); // not base64
}

namespace {

// Records what a Reader reports.
struct Recorder : ReaderSink {
    std::vector<std::string> messages; ///< "t:" or "b:" + payload, "ping:" + payload, "close:" + code
    std::vector<ReadError> errors;
    Reader* stopOnMessage = nullptr;

    void onMessage(std::string_view data, bool binary) override {
        messages.push_back((binary ? "b:" : "t:") + std::string(data));
        if (stopOnMessage) stopOnMessage->stop();
    }
    void onPing(std::string_view payload) override { messages.push_back("ping:" + std::string(payload)); }
    void onPeerClose(std::uint16_t code) override { messages.push_back("close:" + std::to_string(code)); }
    void onReadError(ReadError error) override { errors.push_back(error); }
};

// A masked client frame.
std::vector<std::uint8_t> clientFrame(Opcode op, std::string_view payload, bool fin = true) {
    std::vector<std::uint8_t> out(kMaxHeaderBytes);
    out.resize(encodeHeader(out.data(), op, payload.size()));
    if (!fin) out[0] &= 0x7F;
    out[1] |= 0x80;
    const std::array<std::uint8_t, 4> mask{0xA1, 0xB2, 0xC3, 0xD4};
    out.insert(out.end(), mask.begin(), mask.end());
    const std::size_t start = out.size();
    out.insert(out.end(), payload.begin(), payload.end());
    unmask(out.data() + start, payload.size(), mask); // masking is the same XOR
    return out;
}

std::vector<std::uint8_t> concat(std::initializer_list<std::vector<std::uint8_t>> parts) {
    std::vector<std::uint8_t> out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

} // namespace

TEST(WsReaderTest, SameMessagesWhateverTheChunking) {
    const auto stream =
        concat({clientFrame(Opcode::Text, "hello"), clientFrame(Opcode::Binary, std::string(300, 'b')),
                clientFrame(Opcode::Text, "frag", false), clientFrame(Opcode::Ping, "p"),
                clientFrame(Opcode::Continuation, "men", false), clientFrame(Opcode::Continuation, "ted"),
                clientFrame(Opcode::Close, std::string("\x03\xE8", 2))});
    const std::vector<std::string> expected{"t:hello", "b:" + std::string(300, 'b'), "ping:p", "t:fragmented",
                                            "close:1000"};
    for (std::size_t chunk : {stream.size(), std::size_t{1}, std::size_t{2}, std::size_t{7}, std::size_t{64}}) {
        Reader reader;
        Recorder sink;
        auto bytes = stream;
        for (std::size_t pos = 0; pos < bytes.size(); pos += chunk)
            reader.feed(bytes.data() + pos, std::min(chunk, bytes.size() - pos), sink);
        EXPECT_EQ(sink.messages, expected) << "chunk " << chunk;
        EXPECT_TRUE(sink.errors.empty());
        EXPECT_TRUE(reader.stopped()) << "a close frame ends reading";
        EXPECT_EQ(reader.bufferedBytes(), 0u);
    }
}

TEST(WsReaderTest, TooBigIsReportedFromTheHeaderAlone) {
    Reader reader(100);
    Recorder sink;
    auto ok = clientFrame(Opcode::Text, std::string(100, 'x'));
    reader.feed(ok.data(), ok.size(), sink);
    ASSERT_EQ(sink.messages.size(), 1u);
    // Only the header of a 1 MB frame: the payload need not arrive (nor be buffered).
    auto big = clientFrame(Opcode::Binary, std::string(1'000'000, 'y'));
    reader.feed(big.data(), 14, sink);
    ASSERT_EQ(sink.errors, std::vector<ReadError>{ReadError::TooBig});
    EXPECT_EQ(reader.bufferedBytes(), 0u);
    // Fragments count together.
    Reader fragments(100);
    Recorder sink2;
    auto parts = concat({clientFrame(Opcode::Text, std::string(60, 'a'), false),
                         clientFrame(Opcode::Continuation, std::string(60, 'a'))});
    fragments.feed(parts.data(), parts.size(), sink2);
    EXPECT_TRUE(sink2.messages.empty());
    EXPECT_EQ(sink2.errors, std::vector<ReadError>{ReadError::TooBig});
}

TEST(WsReaderTest, ErrorsStopReading) {
    struct Case {
        std::vector<std::uint8_t> bytes;
        ReadError error;
    };
    auto unmasked = clientFrame(Opcode::Text, "x");
    unmasked[1] &= 0x7F;
    unmasked.erase(unmasked.begin() + 2, unmasked.begin() + 6);
    const std::vector<Case> cases{
        {unmasked, ReadError::ProtocolError},
        {clientFrame(Opcode::Continuation, "x"), ReadError::ProtocolError},
        {concat({clientFrame(Opcode::Text, "a", false), clientFrame(Opcode::Binary, "b")}), ReadError::ProtocolError},
        {clientFrame(Opcode::Text, "\xC0\xAF"), ReadError::BadUtf8},
        {concat({clientFrame(Opcode::Text, "\xE2\x82", false), clientFrame(Opcode::Continuation, "x")}),
         ReadError::BadUtf8},
        {clientFrame(Opcode::Close, "\x03"), ReadError::ProtocolError},
        {clientFrame(Opcode::Close, std::string("\x03\xED", 2)), ReadError::ProtocolError},     // 1005
        {clientFrame(Opcode::Close, std::string("\x03\xE8\xFF", 3)), ReadError::ProtocolError}, // reason not UTF-8
    };
    for (std::size_t i = 0; i < cases.size(); ++i) {
        Reader reader;
        Recorder sink;
        auto bytes = concat({cases[i].bytes, clientFrame(Opcode::Text, "after")});
        reader.feed(bytes.data(), bytes.size(), sink);
        EXPECT_EQ(sink.errors, std::vector<ReadError>{cases[i].error}) << "case " << i;
        EXPECT_TRUE(sink.messages.empty()) << "case " << i << ": nothing after an error";
        EXPECT_TRUE(reader.stopped());
    }
    // A message split across a UTF-8 sequence is fine: validity is of the whole message.
    Reader reader;
    Recorder sink;
    auto split = concat({clientFrame(Opcode::Text, "\xE2\x82", false), clientFrame(Opcode::Continuation, "\xAC")});
    reader.feed(split.data(), split.size(), sink);
    EXPECT_EQ(sink.messages, std::vector<std::string>{"t:\xE2\x82\xAC"});
}

TEST(WsReaderTest, StopDuringAReportEndsIt) {
    // The connection may close (and stop its reader) while a message is being delivered, with
    // the message's bytes still held for an incomplete frame: nothing more is reported.
    Reader reader;
    Recorder sink;
    sink.stopOnMessage = &reader;
    auto bytes = concat({clientFrame(Opcode::Text, "one"), clientFrame(Opcode::Text, "two")});
    reader.feed(bytes.data(), 3, sink); // an incomplete frame: held
    reader.feed(bytes.data() + 3, bytes.size() - 3, sink);
    EXPECT_EQ(sink.messages, std::vector<std::string>{"t:one"});
    EXPECT_EQ(reader.bufferedBytes(), 0u);
}

TEST(WsReaderTest, TheTableAllowsIdleAndInMessageBothWaysAndStoppedFromEither) {
    using S = Reader::State;
    for (const S from : {S::Idle, S::InMessage, S::Stopped}) {
        for (const S to : {S::Idle, S::InMessage, S::Stopped}) {
            const bool expected = from != S::Stopped && from != to;
            EXPECT_EQ(Reader::isLegal(from, to), expected) << static_cast<int>(from) << " -> " << static_cast<int>(to);
        }
    }
}

TEST(WsReaderTest, StatesFollowTheFragmentsOfAMessage) {
    Reader reader;
    Recorder sink;
    EXPECT_EQ(reader.state(), Reader::State::Idle);
    auto first = clientFrame(Opcode::Binary, "one ", false);
    reader.feed(first.data(), first.size(), sink);
    EXPECT_EQ(reader.state(), Reader::State::InMessage);
    // A control frame between fragments is reported at once and leaves the message open.
    auto ping = clientFrame(Opcode::Ping, "p");
    reader.feed(ping.data(), ping.size(), sink);
    EXPECT_EQ(reader.state(), Reader::State::InMessage);
    auto middle = clientFrame(Opcode::Continuation, "two ", false);
    reader.feed(middle.data(), middle.size(), sink);
    EXPECT_EQ(reader.state(), Reader::State::InMessage);
    EXPECT_EQ(reader.bufferedBytes(), 8u);
    auto last = clientFrame(Opcode::Continuation, "three");
    reader.feed(last.data(), last.size(), sink);
    EXPECT_EQ(reader.state(), Reader::State::Idle);
    EXPECT_EQ(sink.messages, (std::vector<std::string>{"ping:p", "b:one two three"}));
    EXPECT_EQ(reader.bufferedBytes(), 0u);
}

TEST(WsReaderTest, EveryWayOfStoppingFromEitherState) {
    struct Case {
        const char* name;
        std::vector<std::uint8_t> before; ///< leaves the reader Idle or InMessage
        std::vector<std::uint8_t> stopping;
        std::vector<std::string> messages;
        std::vector<ReadError> errors;
    };
    const auto open = clientFrame(Opcode::Text, "part", false);
    const std::vector<Case> cases{
        {"close, idle", {}, clientFrame(Opcode::Close, ""), {"close:0"}, {}},
        {"close, in a message", open, clientFrame(Opcode::Close, ""), {"close:0"}, {}},
        {"error, idle", {}, clientFrame(Opcode::Continuation, "x"), {}, {ReadError::ProtocolError}},
        {"a new message inside one", open, clientFrame(Opcode::Text, "x"), {}, {ReadError::ProtocolError}},
    };
    for (const Case& c : cases) {
        Reader reader;
        Recorder sink;
        auto before = c.before;
        reader.feed(before.data(), before.size(), sink);
        EXPECT_EQ(reader.state(), c.before.empty() ? Reader::State::Idle : Reader::State::InMessage) << c.name;
        auto stopping = concat({c.stopping, clientFrame(Opcode::Text, "after")});
        reader.feed(stopping.data(), stopping.size(), sink);
        EXPECT_EQ(reader.state(), Reader::State::Stopped) << c.name;
        EXPECT_EQ(sink.messages, c.messages) << c.name;
        EXPECT_EQ(sink.errors, c.errors) << c.name;
        EXPECT_EQ(reader.bufferedBytes(), 0u) << c.name;
        // Stopped is final: more input reports nothing, a second stop() is harmless.
        auto more = clientFrame(Opcode::Text, "more");
        reader.feed(more.data(), more.size(), sink);
        reader.stop();
        EXPECT_EQ(sink.messages, c.messages) << c.name;
    }
    // stop() from outside, in the middle of a message.
    Reader reader;
    Recorder sink;
    auto before = open;
    reader.feed(before.data(), before.size(), sink);
    reader.stop();
    EXPECT_EQ(reader.state(), Reader::State::Stopped);
    EXPECT_EQ(reader.bufferedBytes(), 0u);
}
