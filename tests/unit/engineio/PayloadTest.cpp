#include "engineio/codec/Payload.hpp"

#include "engineio/codec/Errc.hpp"
#include "engineio/codec/Packet.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace {

using parley::engineio::codec::appendToPayload;
using parley::engineio::codec::base64Decode;
using parley::engineio::codec::base64Encode;
using parley::engineio::codec::decodePayload;
using parley::engineio::codec::Errc;
using parley::engineio::codec::kRecordSeparator;
using parley::engineio::codec::Packet;
using parley::engineio::codec::PacketType;

using namespace std::string_literals;
using namespace std::string_view_literals;

std::string bytes(std::initializer_list<int> values) {
    std::string out;
    for (int v : values) out.push_back(static_cast<char>(v));
    return out;
}

// Straightforward RFC 4648 encoder used as an oracle for the all-byte-values tests.
std::string referenceBase64(std::string_view in) {
    static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    for (; i + 3 <= in.size(); i += 3) {
        const std::uint32_t v = (std::uint32_t{static_cast<unsigned char>(in[i])} << 16) |
                                (std::uint32_t{static_cast<unsigned char>(in[i + 1])} << 8) |
                                std::uint32_t{static_cast<unsigned char>(in[i + 2])};
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += kAlphabet[(v >> 6) & 63];
        out += kAlphabet[v & 63];
    }
    const std::size_t rest = in.size() - i;
    if (rest == 1) {
        const std::uint32_t v = std::uint32_t{static_cast<unsigned char>(in[i])} << 16;
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += "==";
    } else if (rest == 2) {
        const std::uint32_t v = (std::uint32_t{static_cast<unsigned char>(in[i])} << 16) |
                                (std::uint32_t{static_cast<unsigned char>(in[i + 1])} << 8);
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += kAlphabet[(v >> 6) & 63];
        out += '=';
    }
    return out;
}

void expectPayloadError(std::string_view body, Errc expected) {
    auto r = decodePayload(body);
    ASSERT_FALSE(r) << "body should be refused: " << ::testing::PrintToString(std::string(body));
    EXPECT_EQ(r.error(), expected) << ::testing::PrintToString(std::string(body));
}

// ---------------------------------------------------------------------------------------------
// decodePayload
// ---------------------------------------------------------------------------------------------

TEST(EngineIoPayload, SeparatorIsRecordSeparator) { EXPECT_EQ(kRecordSeparator, '\x1e'); }

TEST(EngineIoPayload, SingleTextRecord) {
    auto r = decodePayload("4hello");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->size(), 1u);
    EXPECT_EQ((*r)[0].type, PacketType::Message);
    EXPECT_FALSE((*r)[0].binary);
    EXPECT_EQ((*r)[0].data, "hello");
}

TEST(EngineIoPayload, MixedTextAndBinaryRecords) {
    auto r = decodePayload("4hello\x1e"
                           "bAQIDBA==");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->size(), 2u);
    EXPECT_EQ((*r)[0].type, PacketType::Message);
    EXPECT_FALSE((*r)[0].binary);
    EXPECT_EQ((*r)[0].data, "hello");
    EXPECT_EQ((*r)[1].type, PacketType::Message);
    EXPECT_TRUE((*r)[1].binary);
    EXPECT_EQ((*r)[1].data, bytes({1, 2, 3, 4}));
}

TEST(EngineIoPayload, BinaryFirstThenText) {
    auto r = decodePayload("bAQIDBA==\x1e"
                           "4hello\x1e"
                           "2\x1e"
                           "bAA==");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->size(), 4u);
    EXPECT_TRUE((*r)[0].binary);
    EXPECT_EQ((*r)[0].data, bytes({1, 2, 3, 4}));
    EXPECT_FALSE((*r)[1].binary);
    EXPECT_EQ((*r)[1].data, "hello");
    EXPECT_EQ((*r)[2].type, PacketType::Ping);
    EXPECT_TRUE((*r)[2].data.empty());
    EXPECT_TRUE((*r)[3].binary);
    EXPECT_EQ((*r)[3].data, bytes({0}));
}

TEST(EngineIoPayload, EveryTextTypeInOnePayload) {
    auto r = decodePayload("0{}\x1e"
                           "1\x1e"
                           "2probe\x1e"
                           "3probe\x1e"
                           "4x\x1e"
                           "5\x1e"
                           "6");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->size(), 7u);
    for (int i = 0; i < 7; ++i) {
        EXPECT_EQ(static_cast<int>((*r)[static_cast<std::size_t>(i)].type), i);
        EXPECT_FALSE((*r)[static_cast<std::size_t>(i)].binary);
    }
    EXPECT_EQ((*r)[0].data, "{}");
    EXPECT_EQ((*r)[2].data, "probe");
    EXPECT_EQ((*r)[4].data, "x");
}

TEST(EngineIoPayload, TextRecordsKeepUtf8AndNul) {
    const std::string body = "4\xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80\x1e"
                             "4a\0b"s;
    auto r = decodePayload(body);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->size(), 2u);
    EXPECT_EQ((*r)[0].data, "\xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80");
    EXPECT_EQ((*r)[1].data, "a\0b"s);
}

TEST(EngineIoPayload, EmptyBinaryRecordIsAnEmptyBinaryMessage) {
    auto r = decodePayload("b");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->size(), 1u);
    EXPECT_TRUE((*r)[0].binary);
    EXPECT_EQ((*r)[0].type, PacketType::Message);
    EXPECT_TRUE((*r)[0].data.empty());
}

TEST(EngineIoPayload, EmptyBodyIsAnError) { expectPayloadError("", Errc::EmptyPacket); }

TEST(EngineIoPayload, EmptyRecordsAreErrors) {
    expectPayloadError("4a\x1e\x1e"
                       "4b",
                       Errc::EmptyPacket);
    expectPayloadError("\x1e"
                       "4a",
                       Errc::EmptyPacket);
    expectPayloadError("\x1e", Errc::EmptyPacket);
    expectPayloadError("\x1e\x1e\x1e", Errc::EmptyPacket);
}

TEST(EngineIoPayload, TrailingSeparatorIsAnError) {
    expectPayloadError("4hello\x1e", Errc::EmptyPacket);
    expectPayloadError("bAQIDBA==\x1e", Errc::EmptyPacket);
}

TEST(EngineIoPayload, UnknownTypeIsAnError) {
    expectPayloadError("abc", Errc::UnknownPacketType);
    expectPayloadError("7", Errc::UnknownPacketType);
    expectPayloadError("4hello\x1e"
                       "9",
                       Errc::UnknownPacketType);
    expectPayloadError("4hello\x1e"
                       "x\x1e"
                       "4ok",
                       Errc::UnknownPacketType);
    expectPayloadError("B"
                       "AQIDBA==",
                       Errc::UnknownPacketType); // only lower-case 'b' is binary
}

TEST(EngineIoPayload, BadBase64IsAnError) {
    expectPayloadError("b!!!!", Errc::BadBase64);
    expectPayloadError("bAQIDBA=", Errc::BadBase64);    // wrong padding
    expectPayloadError("bAQIDB", Errc::BadBase64);      // truncated quantum
    expectPayloadError("bA", Errc::BadBase64);          // one char
    expectPayloadError("b====", Errc::BadBase64);       // padding only
    expectPayloadError("bAQ==AQ==", Errc::BadBase64);   // data after padding
    expectPayloadError("bAQ-_", Errc::BadBase64);       // URL-safe alphabet
    expectPayloadError("bAQID BA==", Errc::BadBase64);  // embedded space
    expectPayloadError("bAQIDBA==\n", Errc::BadBase64); // trailing newline
    expectPayloadError("4ok\x1e"
                       "b@@@@",
                       Errc::BadBase64); // bad record after a good one
}

TEST(EngineIoPayload, NonAsciiInBinaryRecordIsBadBase64) {
    // Bytes >= 0x80 are not in the base64 alphabet. (Observed: accepted and decoded as if each
    // were '/', e.g. "b\xc3\xa9\xc3\xa9" -> binary ff ff ff.)
    expectPayloadError("b\xc3\xa9\xc3\xa9", Errc::BadBase64);
    expectPayloadError("bAQ\x80\x80", Errc::BadBase64);
    expectPayloadError("bAAA\xab", Errc::BadBase64);
    expectPayloadError("b\xff\xff\xff\xff", Errc::BadBase64);
}

TEST(EngineIoPayload, ErrorInAnyRecordFailsTheWholePayload) {
    // The first bad record wins even if later ones are fine.
    expectPayloadError("4a\x1e"
                       "b!\x1e"
                       "4b",
                       Errc::BadBase64);
    expectPayloadError("4a\x1e"
                       "\x1e"
                       "b!",
                       Errc::EmptyPacket);
}

TEST(EngineIoPayload, ManyRecords) {
    std::string body;
    for (int i = 0; i < 1000; ++i) appendToPayload(body, "4" + std::to_string(i), false);
    auto r = decodePayload(body);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->size(), 1000u);
    for (int i = 0; i < 1000; ++i) EXPECT_EQ((*r)[static_cast<std::size_t>(i)].data, std::to_string(i));
}

// ---------------------------------------------------------------------------------------------
// appendToPayload
// ---------------------------------------------------------------------------------------------

TEST(EngineIoPayload, AppendTextToEmptyPayloadHasNoSeparator) {
    std::string payload;
    appendToPayload(payload, "4hello", false);
    EXPECT_EQ(payload, "4hello");
}

TEST(EngineIoPayload, AppendBinaryToEmptyPayload) {
    std::string payload;
    appendToPayload(payload, bytes({1, 2, 3, 4}), true);
    EXPECT_EQ(payload, "bAQIDBA==");
}

TEST(EngineIoPayload, AppendTextThenBinaryMatchesReferenceExample) {
    std::string payload;
    appendToPayload(payload, "4hello", false);
    appendToPayload(payload, bytes({1, 2, 3, 4}), true);
    EXPECT_EQ(payload, "4hello\x1e"
                       "bAQIDBA==");
}

TEST(EngineIoPayload, AppendEmptyBinary) {
    std::string payload;
    appendToPayload(payload, "", true);
    EXPECT_EQ(payload, "b");
    appendToPayload(payload, "", true);
    EXPECT_EQ(payload, "b\x1e"
                       "b");
}

TEST(EngineIoPayload, AppendThenDecodeRoundTrip) {
    std::string all256;
    for (int i = 0; i < 256; ++i) all256.push_back(static_cast<char>(i));
    const std::string big(200 * 1024, 'z');
    struct Item {
        std::string bytes;
        bool binary;
    };
    const std::vector<Item> items = {
        {"0{\"sid\":\"a\"}", false},  {"2", false}, {"3probe", false},  {all256, true},        {"", true},
        {"4\xf0\x9f\x98\x80", false}, {big, true},  {"4" + big, false}, {bytes({0xff}), true}, {"6", false},
    };
    std::string payload;
    for (const auto& item : items) appendToPayload(payload, item.bytes, item.binary);
    auto r = decodePayload(payload);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->size(), items.size());
    for (std::size_t i = 0; i < items.size(); ++i) {
        const Packet& p = (*r)[i];
        EXPECT_EQ(p.binary, items[i].binary) << i;
        if (items[i].binary) {
            EXPECT_EQ(p.type, PacketType::Message) << i;
            EXPECT_EQ(p.data, items[i].bytes) << i;
        } else {
            EXPECT_EQ(static_cast<int>(p.type), items[i].bytes[0] - '0') << i;
            EXPECT_EQ(p.data, items[i].bytes.substr(1)) << i;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// base64
// ---------------------------------------------------------------------------------------------

TEST(EngineIoBase64, Empty) {
    EXPECT_EQ(base64Encode(""), "");
    auto r = base64Decode("");
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->empty());
}

TEST(EngineIoBase64, OneTwoThreeBytes) {
    EXPECT_EQ(base64Encode(bytes({1})), "AQ==");
    EXPECT_EQ(base64Encode(bytes({1, 2})), "AQI=");
    EXPECT_EQ(base64Encode(bytes({1, 2, 3})), "AQID");
    EXPECT_EQ(base64Encode(bytes({1, 2, 3, 4})), "AQIDBA==");
    EXPECT_EQ(*base64Decode("AQ=="), bytes({1}));
    EXPECT_EQ(*base64Decode("AQI="), bytes({1, 2}));
    EXPECT_EQ(*base64Decode("AQID"), bytes({1, 2, 3}));
    EXPECT_EQ(*base64Decode("AQIDBA=="), bytes({1, 2, 3, 4}));
}

TEST(EngineIoBase64, Rfc4648Vectors) {
    const std::pair<std::string_view, std::string_view> vectors[] = {
        {"", ""},
        {"f", "Zg=="},
        {"fo", "Zm8="},
        {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="},
        {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"},
    };
    for (const auto& [plain, encoded] : vectors) {
        EXPECT_EQ(base64Encode(plain), encoded);
        auto r = base64Decode(encoded);
        ASSERT_TRUE(r) << encoded;
        EXPECT_EQ(*r, plain);
    }
}

TEST(EngineIoBase64, HighAlphabetCharacters) {
    EXPECT_EQ(base64Encode(bytes({0xfb, 0xef, 0xbe})), "++++");
    EXPECT_EQ(base64Encode(bytes({0xff, 0xff, 0xff})), "////");
    EXPECT_EQ(base64Encode(bytes({0x00, 0x00, 0x00})), "AAAA");
    EXPECT_EQ(base64Encode(bytes({0xff})), "/w==");
    EXPECT_EQ(*base64Decode("++++"), bytes({0xfb, 0xef, 0xbe}));
    EXPECT_EQ(*base64Decode("////"), bytes({0xff, 0xff, 0xff}));
}

TEST(EngineIoBase64, AllByteValues) {
    std::string all;
    for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
    const std::string encoded = base64Encode(all);
    EXPECT_EQ(encoded, referenceBase64(all));
    EXPECT_EQ(encoded.size(), 344u); // ceil(256 / 3) * 4
    auto decoded = base64Decode(encoded);
    ASSERT_TRUE(decoded);
    EXPECT_EQ(*decoded, all);

    // every single byte value on its own, and every pair starting with it
    for (int i = 0; i < 256; ++i) {
        const std::string one(1, static_cast<char>(i));
        ASSERT_EQ(base64Encode(one), referenceBase64(one)) << i;
        ASSERT_EQ(*base64Decode(base64Encode(one)), one) << i;
        const std::string two = one + static_cast<char>(255 - i);
        ASSERT_EQ(base64Encode(two), referenceBase64(two)) << i;
        ASSERT_EQ(*base64Decode(base64Encode(two)), two) << i;
    }
}

TEST(EngineIoBase64, EveryLengthRoundTrips) {
    std::mt19937 rng(42);
    std::uniform_int_distribution<int> byteDist(0, 255);
    for (std::size_t len = 0; len < 300; ++len) {
        std::string s(len, '\0');
        for (auto& c : s) c = static_cast<char>(byteDist(rng));
        const std::string enc = base64Encode(s);
        ASSERT_EQ(enc, referenceBase64(s)) << len;
        ASSERT_EQ(enc.size() % 4, 0u);
        auto dec = base64Decode(enc);
        ASSERT_TRUE(dec) << len;
        ASSERT_EQ(*dec, s) << len;
    }
}

TEST(EngineIoBase64, DecodeRejectsMalformed) {
    for (std::string_view bad : {"A"sv, "AQ"sv, "AQI"sv, "AQ="sv, "A==="sv, "===="sv, "AQ==AQ=="sv, "AQ=A"sv,
                                 "AQID\n"sv, " AQID"sv, "AQ-_"sv, "AQ.D"sv, "AQIDBA"sv}) {
        auto r = base64Decode(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error(), Errc::BadBase64) << bad;
    }
    auto withNul = base64Decode("AQ\0D"sv);
    ASSERT_FALSE(withNul);
    EXPECT_EQ(withNul.error(), Errc::BadBase64);
}

TEST(EngineIoBase64, DecodeRejectsNonAsciiBytes) {
    // Observed with libsodium 1.0.18: every byte >= 0x80 is taken for '/' (63).
    for (std::string_view bad : {"\xc3\xa9\xc3\xa9"sv, "AQ\x80="sv, "AAA\xab"sv, "\xff\xff\xff\xff"sv}) {
        auto r = base64Decode(bad);
        EXPECT_FALSE(r) << ::testing::PrintToString(std::string(bad)) << " decoded to "
                        << (r ? ::testing::PrintToString(*r) : std::string());
    }
}

TEST(EngineIoBase64, AcceptedInputIsCanonicalAscii) {
    // Whatever base64Decode accepts must be exactly what base64Encode would produce.
    std::mt19937 rng(7);
    const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
    std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
    for (int n = 0; n < 2000; ++n) {
        std::string s(static_cast<std::size_t>(4 * (1 + n % 3)), '\0');
        for (auto& c : s) c = alphabet[pick(rng)];
        auto r = base64Decode(s);
        if (r) EXPECT_EQ(base64Encode(*r), s);
    }
}

// ---------------------------------------------------------------------------------------------
// Garbage
// ---------------------------------------------------------------------------------------------

TEST(EngineIoPayload, GarbageNeverThrows) {
    std::mt19937 rng(20240601u);
    std::uniform_int_distribution<int> lenDist(0, 96);
    std::uniform_int_distribution<int> byteDist(0, 255);
    // Bias towards the interesting characters so that records, 'b' and base64 show up often.
    const std::string interesting = "\x1e"
                                    "b0123456=+/AQIDBAZm9v";
    std::uniform_int_distribution<std::size_t> pick(0, interesting.size() - 1);
    std::uniform_int_distribution<int> coin(0, 1);

    for (int n = 0; n < 3000; ++n) {
        std::string s(static_cast<std::size_t>(lenDist(rng)), '\0');
        for (auto& c : s) c = coin(rng) ? interesting[pick(rng)] : static_cast<char>(byteDist(rng));
        EXPECT_NO_THROW({
            auto r = decodePayload(s);
            if (r) EXPECT_FALSE(r->empty());
            (void)base64Decode(s);
        });
    }

    // Mutations of a valid payload: flip, insert and delete single bytes.
    const std::string valid = "4hello\x1e"
                              "bAQIDBA==\x1e"
                              "2probe\x1e"
                              "b\x1e"
                              "6";
    std::uniform_int_distribution<std::size_t> posDist(0, valid.size() - 1);
    for (int n = 0; n < 3000; ++n) {
        std::string s = valid;
        const int edits = 1 + n % 4;
        for (int e = 0; e < edits && !s.empty(); ++e) {
            const std::size_t pos = posDist(rng) % s.size();
            switch (byteDist(rng) % 3) {
            case 0: s[pos] = static_cast<char>(byteDist(rng)); break;
            case 1: s.insert(pos, 1, static_cast<char>(byteDist(rng))); break;
            default: s.erase(pos, 1); break;
            }
        }
        EXPECT_NO_THROW({ (void)decodePayload(s); });
    }
}

} // namespace
