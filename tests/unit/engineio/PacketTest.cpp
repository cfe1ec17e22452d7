#include "engineio/codec/Packet.hpp"

#include "engineio/codec/Errc.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

namespace {

using parley::engineio::codec::Errc;
using parley::engineio::codec::Packet;
using parley::engineio::codec::PacketType;
using parley::engineio::codec::parseText;
using parley::engineio::codec::serializeText;

using namespace std::string_literals;
using namespace std::string_view_literals;

constexpr std::array kAllTypes = {PacketType::Open,    PacketType::Close,   PacketType::Ping, PacketType::Pong,
                                  PacketType::Message, PacketType::Upgrade, PacketType::Noop};

// ---------------------------------------------------------------------------------------------
// Wire digits
// ---------------------------------------------------------------------------------------------

TEST(EngineIoPacket, TypeDigitsMatchTheProtocol) {
    EXPECT_EQ(serializeText(PacketType::Open), "0");
    EXPECT_EQ(serializeText(PacketType::Close), "1");
    EXPECT_EQ(serializeText(PacketType::Ping), "2");
    EXPECT_EQ(serializeText(PacketType::Pong), "3");
    EXPECT_EQ(serializeText(PacketType::Message), "4");
    EXPECT_EQ(serializeText(PacketType::Upgrade), "5");
    EXPECT_EQ(serializeText(PacketType::Noop), "6");
}

TEST(EngineIoPacket, SerializeTextWithData) {
    EXPECT_EQ(serializeText(PacketType::Message, "hello"), "4hello");
    EXPECT_EQ(serializeText(PacketType::Ping, "probe"), "2probe");
    EXPECT_EQ(serializeText(PacketType::Pong, "probe"), "3probe");
}

TEST(EngineIoPacket, SerializeTextAppendsToExistingBuffer) {
    std::string out = "prefix|";
    serializeText(out, PacketType::Message, "abc");
    EXPECT_EQ(out, "prefix|4abc");
    serializeText(out, PacketType::Noop, {});
    EXPECT_EQ(out, "prefix|4abc6");
}

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

TEST(EngineIoPacket, ParseEveryTypeWithoutData) {
    for (int digit = 0; digit <= 6; ++digit) {
        const std::string text(1, static_cast<char>('0' + digit));
        auto r = parseText(text);
        ASSERT_TRUE(r) << text;
        EXPECT_EQ(static_cast<int>(r->type), digit);
        EXPECT_FALSE(r->binary);
        EXPECT_TRUE(r->data.empty());
    }
}

TEST(EngineIoPacket, ParseMessage) {
    auto r = parseText("4hello");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->type, PacketType::Message);
    EXPECT_FALSE(r->binary);
    EXPECT_EQ(r->data, "hello");
}

TEST(EngineIoPacket, ParseProbePing) {
    auto r = parseText("2probe");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->type, PacketType::Ping);
    EXPECT_EQ(r->data, "probe");
}

TEST(EngineIoPacket, ParseOpenKeepsJsonVerbatim) {
    const std::string json = R"({"sid":"x","upgrades":[],"pingInterval":300})";
    auto r = parseText("0" + json);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->type, PacketType::Open);
    EXPECT_EQ(r->data, json);
}

TEST(EngineIoPacket, ParseKeepsArbitraryBytesInData) {
    // NUL, the polling record separator, non-ASCII and emoji all travel unchanged in a frame.
    const std::string data = "a\0b\x1e"
                             "c\xc3\xa9\xf0\x9f\x98\x80\xe2\x80\xa8 "s;
    auto r = parseText("4" + data);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->data, data);
    EXPECT_EQ(r->data.size(), data.size());
}

TEST(EngineIoPacket, ParseEmptyIsAnError) {
    auto r = parseText("");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), Errc::EmptyPacket);
}

TEST(EngineIoPacket, ParseUnknownTypesAreErrors) {
    for (std::string_view text : {"7"sv, "8hello"sv, "9"sv, "a"sv, "abc"sv, "b"sv, "bAQID"sv, "/"sv, ":"sv, " 4hello"sv,
                                  "\x1e"sv, "\xff"sv, "\x80x"sv}) {
        auto r = parseText(text);
        ASSERT_FALSE(r) << "input: " << text;
        EXPECT_EQ(r.error(), Errc::UnknownPacketType) << "input: " << text;
    }
    auto nul = parseText("\0"s);
    ASSERT_FALSE(nul);
    EXPECT_EQ(nul.error(), Errc::UnknownPacketType);
}

// ---------------------------------------------------------------------------------------------
// Round trips
// ---------------------------------------------------------------------------------------------

TEST(EngineIoPacket, RoundTripEveryTypeAndSeveralPayloads) {
    const std::array<std::string, 6> payloads = {""s,
                                                 "probe"s,
                                                 "hello world"s,
                                                 "42[\"message\",1,\"2\",{\"3\":[true]}]"s,
                                                 "\xe2\x80\xa8\xf0\x9f\x8e\x89 unicode"s,
                                                 std::string(100000, 'x')};
    for (auto type : kAllTypes) {
        for (const auto& data : payloads) {
            const std::string wire = serializeText(type, data);
            ASSERT_EQ(wire.size(), data.size() + 1);
            auto r = parseText(wire);
            ASSERT_TRUE(r);
            EXPECT_EQ(r->type, type);
            EXPECT_FALSE(r->binary);
            EXPECT_EQ(r->data, data);
            // and back again
            EXPECT_EQ(serializeText(r->type, r->data), wire);
        }
    }
}

TEST(EngineIoPacket, DefaultPacketIsTextMessage) {
    Packet p;
    EXPECT_EQ(p.type, PacketType::Message);
    EXPECT_FALSE(p.binary);
    EXPECT_TRUE(p.data.empty());
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

TEST(EngineIoPacket, ErrorCodesHaveCategoryAndMessages) {
    for (auto e : {Errc::EmptyPacket, Errc::UnknownPacketType, Errc::BadBase64, Errc::PayloadTooLarge}) {
        const boost::system::error_code ec = e;
        EXPECT_TRUE(ec.failed());
        EXPECT_STREQ(ec.category().name(), "engineio.codec");
        EXPECT_FALSE(ec.message().empty());
        EXPECT_EQ(ec, e);
    }
    const boost::system::error_code unknown(999, parley::engineio::codec::codecCategory());
    EXPECT_FALSE(unknown.message().empty());
}

// ---------------------------------------------------------------------------------------------
// Garbage
// ---------------------------------------------------------------------------------------------

TEST(EngineIoPacket, GarbageNeverThrows) {
    std::mt19937 rng(0x5eed1234u);
    std::uniform_int_distribution<int> lenDist(0, 64);
    std::uniform_int_distribution<int> byteDist(0, 255);
    for (int n = 0; n < 4000; ++n) {
        std::string s(static_cast<std::size_t>(lenDist(rng)), '\0');
        for (auto& c : s) c = static_cast<char>(byteDist(rng));
        EXPECT_NO_THROW({
            auto r = parseText(s);
            if (r) {
                // Whatever parses must serialize back to the same bytes.
                EXPECT_EQ(serializeText(r->type, r->data), s);
            } else {
                EXPECT_TRUE(s.empty() || s[0] < '0' || s[0] > '6');
            }
        });
    }
}

} // namespace
