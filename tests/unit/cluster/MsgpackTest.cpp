#include "cluster/Msgpack.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

namespace mp = parley::cluster::msgpack;
namespace json = boost::json;

namespace {

std::string unhex(std::string_view hex) {
    std::string out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
    return out;
}

std::string hex(std::string_view bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : bytes) {
        out.push_back(kDigits[c >> 4]);
        out.push_back(kDigits[c & 0xf]);
    }
    return out;
}

// The 96-bit timestamp ext of `seconds` and `ns`.
std::string ts96(std::int64_t seconds, std::uint32_t ns) {
    std::string out = unhex("c70cff");
    const auto s = static_cast<std::uint64_t>(seconds);
    for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>(ns >> (8 * i)));
    for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>(s >> (8 * i)));
    return out;
}

json::value decoded(std::string_view bytes) {
    std::vector<std::string> attachments;
    auto v = mp::decode(bytes, attachments);
    EXPECT_TRUE(v.has_value()) << hex(bytes) << ": " << (v ? "" : v.error().message());
    return v ? *v : json::value();
}

mp::DecodeErrc failure(std::string_view bytes, const mp::DecodeLimits& limits = {}) {
    std::vector<std::string> attachments;
    auto v = mp::decode(bytes, attachments, limits);
    EXPECT_FALSE(v.has_value()) << hex(bytes) << " decoded as " << (v ? json::serialize(*v) : "");
    EXPECT_TRUE(v || v.error().category() == mp::decodeCategory());
    return v ? mp::DecodeErrc{} : static_cast<mp::DecodeErrc>(v.error().value());
}

// encode(v) starts with `prefix`, has `size` bytes in all, and decodes back to v.
void expectEncoding(const json::value& v, std::string_view prefix, std::size_t size) {
    const std::string bytes = mp::encode(v);
    EXPECT_EQ(hex(bytes.substr(0, prefix.size() / 2)), prefix) << json::serialize(v).substr(0, 80);
    EXPECT_EQ(bytes.size(), size) << prefix;
    EXPECT_EQ(decoded(bytes), v) << prefix;
}

json::array filled(std::size_t n) { return json::array(n, json::value(1)); }

json::object keyed(std::size_t n) {
    json::object obj;
    for (std::size_t i = 0; i < n; ++i) obj["k" + std::to_string(i)] = 0;
    return obj;
}

std::size_t keyedSize(std::size_t n) {
    std::size_t size = 0;
    for (std::size_t i = 0; i < n; ++i) size += 1 + 1 + std::to_string(i).size() + 1; // fixstr "k<i>", 0
    return size;
}

} // namespace

// ---------------------------------------------------------------------------------------------
// Smallest forms and their boundaries, with round trips
// ---------------------------------------------------------------------------------------------

TEST(Msgpack, ScalarsTakeTheirKnownBytes) {
    EXPECT_EQ(hex(mp::encode(nullptr)), "c0");
    EXPECT_EQ(hex(mp::encode(false)), "c2");
    EXPECT_EQ(hex(mp::encode(true)), "c3");
    EXPECT_EQ(hex(mp::encode(1.5)), "cb3ff8000000000000");
    EXPECT_EQ(hex(mp::encode("abc")), "a3616263");
    EXPECT_EQ(hex(mp::encode(json::parse(R"({"a":[1,-1]})"))), "81a1619201ff");
    for (const char* bytes : {"c0", "c2", "c3", "cb3ff8000000000000", "a3616263", "81a1619201ff"})
        EXPECT_EQ(hex(mp::encode(decoded(unhex(bytes)))), bytes);
}

TEST(Msgpack, IntegersTakeTheSmallestFormAtEachBoundary) {
    const std::pair<std::int64_t, const char*> cases[] = {
        {0, "00"},
        {127, "7f"},
        {128, "cc80"},
        {255, "ccff"},
        {256, "cd0100"},
        {65535, "cdffff"},
        {65536, "ce00010000"},
        {4294967295, "ceffffffff"},
        {4294967296, "cf0000000100000000"},
        {std::numeric_limits<std::int64_t>::max(), "cf7fffffffffffffff"},
        {-1, "ff"},
        {-32, "e0"},
        {-33, "d0df"},
        {-128, "d080"},
        {-129, "d1ff7f"},
        {-32768, "d18000"},
        {-32769, "d2ffff7fff"},
        {-2147483648, "d280000000"},
        {-2147483649, "d3ffffffff7fffffff"},
        {std::numeric_limits<std::int64_t>::min(), "d38000000000000000"},
    };
    for (const auto& [n, bytes] : cases) {
        EXPECT_EQ(hex(mp::encode(n)), bytes) << n;
        const auto back = decoded(unhex(bytes));
        ASSERT_TRUE(back.is_int64()) << bytes;
        EXPECT_EQ(back.get_int64(), n);
    }
    EXPECT_EQ(hex(mp::encode(std::numeric_limits<std::uint64_t>::max())), "cfffffffffffffffff");
    EXPECT_EQ(decoded(unhex("cfffffffffffffffff")), json::value(std::numeric_limits<std::uint64_t>::max()));
    // Non-minimal forms read the same.
    EXPECT_EQ(decoded(unhex("cd0001")), json::value(1));
    EXPECT_EQ(decoded(unhex("d3ffffffffffffffff")), json::value(-1));
    EXPECT_EQ(decoded(unhex("d0ff")), json::value(-1));
}

TEST(Msgpack, FloatsAreFloat64AndFloat32IsRead) {
    for (double d : {0.0, -0.0, 1.0, -2.5, 1e-300, 1.7976931348623157e308, 3.141592653589793}) {
        const std::string bytes = mp::encode(d);
        ASSERT_EQ(bytes.size(), 9u);
        EXPECT_EQ(static_cast<unsigned char>(bytes[0]), 0xcb);
        const auto back = decoded(bytes);
        ASSERT_TRUE(back.is_double());
        EXPECT_EQ(std::signbit(back.get_double()), std::signbit(d));
        EXPECT_EQ(back.get_double(), d);
    }
    EXPECT_EQ(decoded(unhex("ca3fc00000")), json::value(1.5));
    EXPECT_EQ(decoded(unhex("cabf800000")), json::value(-1.0));
}

TEST(Msgpack, NonFiniteFloatsBecomeNull) {
    for (const char* bytes :
         {"cb7ff8000000000000", "cb7ff0000000000000", "cbfff0000000000000", "ca7fc00000", "ca7f800000", "caff800000"})
        EXPECT_TRUE(decoded(unhex(bytes)).is_null()) << bytes;
}

TEST(Msgpack, StringsTakeTheSmallestFormAtEachBoundary) {
    expectEncoding("", "a0", 1);
    expectEncoding(json::string(31, 'x'), "bf78", 32);
    expectEncoding(json::string(32, 'x'), "d92078", 34);
    expectEncoding(json::string(255, 'x'), "d9ff78", 257);
    expectEncoding(json::string(256, 'x'), "da010078", 259);
    expectEncoding(json::string(65535, 'x'), "daffff78", 65538);
    expectEncoding(json::string(65536, 'x'), "db0001000078", 65541);
    expectEncoding("h\xC3\xA9llo \xE2\x9C\x93 \xF0\x9F\x98\x80", "af68c3a9", 16);
    // str8 for a short string is not minimal, but reads the same.
    EXPECT_EQ(decoded(unhex("d903616263")), json::value("abc"));
}

TEST(Msgpack, ArraysTakeTheSmallestFormAtEachBoundary) {
    expectEncoding(json::array(), "90", 1);
    expectEncoding(filled(15), "9f01", 16);
    expectEncoding(filled(16), "dc001001", 19);
    expectEncoding(filled(65535), "dcffff01", 65538);
    expectEncoding(filled(65536), "dd0001000001", 65541);
}

TEST(Msgpack, MapsTakeTheSmallestFormAtEachBoundary) {
    expectEncoding(json::object(), "80", 1);
    expectEncoding(keyed(15), "8fa26b30", 1 + keyedSize(15));
    expectEncoding(keyed(16), "de0010a26b30", 3 + keyedSize(16));
    expectEncoding(keyed(65535), "deffffa26b30", 3 + keyedSize(65535));
    expectEncoding(keyed(65536), "df00010000a26b30", 5 + keyedSize(65536));
}

TEST(Msgpack, NestedValuesRoundTrip) {
    const auto v = json::parse(R"({"uid":"Xy12Ab","n":[null,true,false,0,-1,1.25,"s",{"deep":[[[]]]}],"u":{}})");
    EXPECT_EQ(decoded(mp::encode(v)), v);
}

TEST(Msgpack, IntegerKeysBecomeDecimalStrings) {
    const auto v = decoded(unhex("84"
                                 "05a161"
                                 "d0ffa162"
                                 "cfffffffffffffffffa163"
                                 "cd0100a164"));
    EXPECT_EQ(v, json::parse(R"({"5":"a","-1":"b","18446744073709551615":"c","256":"d"})"));
}

TEST(Msgpack, DuplicateKeysKeepTheLastValueInTheFirstPlace) {
    const auto v = decoded(unhex("83a16101a16202a16103"));
    ASSERT_TRUE(v.is_object());
    EXPECT_EQ(v, json::parse(R"({"a":3,"b":2})"));
    EXPECT_EQ(v.get_object().begin()->key(), "a");
}

TEST(Msgpack, InvalidUtf8IsRepairedAsNodeDoes) {
    // A stray continuation byte, a truncated 3-byte sequence, a surrogate, an overlong form.
    EXPECT_EQ(decoded(unhex("a3"
                            "61ff62")),
              json::value("a\xEF\xBF\xBD"
                          "b"));
    EXPECT_EQ(decoded(unhex("a4"
                            "e2826364")),
              json::value("\xEF\xBF\xBD"
                          "cd"));
    EXPECT_EQ(decoded(unhex("a3"
                            "eda080")),
              json::value("\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"));
    EXPECT_EQ(decoded(unhex("a2"
                            "c0af")),
              json::value("\xEF\xBF\xBD\xEF\xBF\xBD"));
    EXPECT_EQ(decoded(unhex("a3"
                            "f09f98")),
              json::value("\xEF\xBF\xBD"));
    // Keys too, and a repaired key survives a repaired value.
    EXPECT_EQ(decoded(unhex("81"
                            "a1ff"
                            "a1fe")),
              json::parse(R"({"\ufffd":"\ufffd"})"));
}

// ---------------------------------------------------------------------------------------------
// socket.io's binary model
// ---------------------------------------------------------------------------------------------

TEST(Msgpack, BinsBecomePlaceholdersAndBack) {
    const std::string bytes = unhex("93"
                                    "c403010203"
                                    "81a178c400"
                                    "a26f6b");
    std::vector<std::string> attachments;
    auto v = mp::decode(bytes, attachments);
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(*v, json::parse(R"([{"_placeholder":true,"num":0},{"x":{"_placeholder":true,"num":1}},"ok"])"));
    ASSERT_EQ(attachments.size(), 2u);
    EXPECT_EQ(attachments[0], unhex("010203"));
    EXPECT_EQ(attachments[1], "");
    EXPECT_EQ(mp::encode(*v, attachments), bytes);
}

TEST(Msgpack, BinsTakeTheSmallestFormAtEachBoundary) {
    for (const auto& [size, prefix] : std::vector<std::pair<std::size_t, std::string>>{
             {0, "c400"}, {255, "c4ff"}, {256, "c50100"}, {65535, "c5ffff"}, {65536, "c600010000"}}) {
        std::string out;
        mp::Writer(out).binary(std::string(size, '\x07'));
        EXPECT_EQ(hex(out.substr(0, prefix.size() / 2)), prefix);
        EXPECT_EQ(out.size(), prefix.size() / 2 + size);
        std::vector<std::string> attachments;
        ASSERT_TRUE(mp::decode(out, attachments).has_value());
        ASSERT_EQ(attachments.size(), 1u);
        EXPECT_EQ(attachments[0].size(), size);
    }
}

TEST(Msgpack, OnlyPlaceholdersOfExistingAttachmentsBecomeBins) {
    const std::vector<std::string> one{"z"};
    const auto valid = json::parse(R"({"_placeholder":true,"num":0})");
    EXPECT_EQ(hex(mp::encode(valid, one)), "c4017a");
    EXPECT_EQ(hex(mp::encode(json::parse(R"({"num":0,"_placeholder":true})"), one)), "c4017a");
    // Without attachments, out of range, or not a placeholder: an ordinary map.
    for (const char* text :
         {R"({"_placeholder":true,"num":1})", R"({"_placeholder":true,"num":-1})", R"({"_placeholder":false,"num":0})",
          R"({"_placeholder":true,"num":"0"})", R"({"_placeholder":1,"num":0})", R"({"num":0})"}) {
        const auto v = json::parse(text);
        EXPECT_EQ(decoded(mp::encode(v, one)), v) << text;
    }
    EXPECT_EQ(decoded(mp::encode(valid)), valid);
}

TEST(Msgpack, WriterBuildsTheSameBytesPieceByPiece) {
    const std::vector<std::string> attachments{std::string("\x01\x02", 2)};
    const auto packet = json::parse(R"({"type":2,"data":["ev",{"_placeholder":true,"num":0}],"nsp":"/"})");
    std::string out;
    mp::Writer w(out);
    w.arrayHeader(3);
    w.string("Xy12Ab");
    w.json(packet, attachments);
    w.mapHeader(3);
    w.string("rooms");
    w.arrayHeader(1);
    w.string("r");
    w.string("except");
    w.arrayHeader(0);
    w.string("flags");
    w.mapHeader(2);
    w.string("volatile");
    w.boolean(true);
    w.string("timeout");
    w.uinteger(5000);
    const auto whole = json::parse(R"(["Xy12Ab",{"type":2,"data":["ev",{"_placeholder":true,"num":0}],"nsp":"/"},
        {"rooms":["r"],"except":[],"flags":{"volatile":true,"timeout":5000}}])");
    EXPECT_EQ(hex(out), hex(mp::encode(whole, attachments)));
    out.clear();
    w.nil();
    w.integer(-5);
    w.number(0.5);
    EXPECT_EQ(hex(out), "c0fbcb3fe0000000000000");
}

// ---------------------------------------------------------------------------------------------
// Dates and undefined
// ---------------------------------------------------------------------------------------------

TEST(Msgpack, TimestampsBecomeJavaScriptIsoStrings) {
    EXPECT_EQ(decoded(unhex("d6ff00000000")), json::value("1970-01-01T00:00:00.000Z"));
    EXPECT_EQ(decoded(unhex("d6ffffffffff")), json::value("2106-02-07T06:28:15.000Z"));
    // 64-bit: 30 bits of ns over 34 bits of seconds.
    EXPECT_EQ(decoded(unhex("d7ff"
                            "1d535300"
                            "663212a0")),
              json::value("2024-05-01T10:00:00.123Z"));
    EXPECT_EQ(decoded(unhex("d7ff"
                            "00000003"
                            "ffffffff")),
              json::value("2514-05-30T01:53:03.000Z"));
    // 96-bit: signed seconds.
    EXPECT_EQ(decoded(ts96(1714557600, 123000000)), json::value("2024-05-01T10:00:00.123Z"));
    EXPECT_EQ(decoded(ts96(-1, 0)), json::value("1969-12-31T23:59:59.000Z"));
    EXPECT_EQ(decoded(ts96(-1, 999000000)), json::value("1969-12-31T23:59:59.999Z"));
    // `new Date(-999.5)` truncates toward zero, to -999 ms.
    EXPECT_EQ(decoded(ts96(-1, 500000)), json::value("1969-12-31T23:59:59.001Z"));
    EXPECT_EQ(decoded(ts96(-86400 * 400, 0)), json::value("1968-11-27T00:00:00.000Z"));
    EXPECT_EQ(decoded(ts96(-62167219200, 0)), json::value("0000-01-01T00:00:00.000Z"));
    EXPECT_EQ(decoded(ts96(-62167219201, 999000000)), json::value("-000001-12-31T23:59:59.999Z"));
    EXPECT_EQ(decoded(ts96(-62198755200, 0)), json::value("-000001-01-01T00:00:00.000Z"));
    EXPECT_EQ(decoded(ts96(253402300799, 999000000)), json::value("9999-12-31T23:59:59.999Z"));
    EXPECT_EQ(decoded(ts96(253402300800, 0)), json::value("+010000-01-01T00:00:00.000Z"));
    // JavaScript's Date ends at +-8.64e15 ms; beyond, an Invalid Date, which JSON writes as null.
    EXPECT_EQ(decoded(ts96(8640000000000, 0)), json::value("+275760-09-13T00:00:00.000Z"));
    EXPECT_EQ(decoded(ts96(-8640000000000, 0)), json::value("-271821-04-20T00:00:00.000Z"));
    EXPECT_TRUE(decoded(ts96(8640000000001, 0)).is_null());
    EXPECT_TRUE(decoded(ts96(std::numeric_limits<std::int64_t>::min(), 0)).is_null());
}

TEST(Msgpack, UndefinedIsNullInAnArrayAndAbsentInAMap) {
    EXPECT_EQ(decoded(unhex("9301d4000002")), json::parse("[1,null,2]"));
    EXPECT_EQ(decoded(unhex("82a161d40000a16202")), json::parse(R"({"b":2})"));
    // A later undefined removes an earlier value, as JSON.stringify skips the property.
    EXPECT_EQ(decoded(unhex("83a16101a16202a161d40000")), json::parse(R"({"b":2})"));
    EXPECT_TRUE(decoded(unhex("d40000")).is_null());
}

TEST(Msgpack, LegacyNotepackFormsReadAsNotepack3ReadsThem) {
    std::vector<std::string> attachments;
    auto v = mp::decode(unhex("c703000a0b0c"), attachments);
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(*v, json::parse(R"({"_placeholder":true,"num":0})"));
    ASSERT_EQ(attachments.size(), 1u);
    EXPECT_EQ(attachments[0], unhex("0a0b0c"));
    EXPECT_EQ(decoded(unhex("d700"
                            "0000018f3391b57b")),
              json::value("2024-05-01T09:52:18.299Z"));
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

TEST(Msgpack, TruncatedInputIsRefused) {
    for (const char* bytes : {"", "a261", "d9", "d905616263", "cd01", "cf00000000", "ca3fc0", "dc00", "9201", "92c0",
                              "81", "81a161", "c402", "c5", "d6ff0000", "c70cff00", "d4", "d400", "de0001"})
        EXPECT_EQ(failure(unhex(bytes)), mp::DecodeErrc::Truncated) << bytes;
}

TEST(Msgpack, HugeClaimedLengthsFailFastWithoutAllocating) {
    const auto start = std::chrono::steady_clock::now();
    for (const char* bytes : {"dbffffffff61", "ddffffffffc0", "dfffffffffa161", "c6ffffffff00", "c9ffffffff0000",
                              "c9ffffffffff00", "dcffff00", "deffffa16100", "dd00000002c0"})
        EXPECT_EQ(failure(unhex(bytes)), mp::DecodeErrc::Truncated) << bytes;
    // A map of n entries needs at least 2n bytes: 3 claimed entries in 5 bytes is refused at once.
    EXPECT_EQ(failure(unhex("83c0c0c0c0c0")), mp::DecodeErrc::Truncated);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST(Msgpack, TrailingBytesAreRefused) {
    EXPECT_EQ(failure(unhex("c0c0")), mp::DecodeErrc::TrailingBytes);
    EXPECT_EQ(failure(unhex("9101ff")), mp::DecodeErrc::TrailingBytes);
    EXPECT_EQ(failure(unhex("a16100")), mp::DecodeErrc::TrailingBytes);
}

TEST(Msgpack, NestingBeyondTheLimitIsRefused) {
    EXPECT_EQ(decoded(std::string(32, '\x91') + '\xc0').is_array(), true);
    EXPECT_EQ(failure(std::string(33, '\x91') + '\xc0'), mp::DecodeErrc::TooDeep);
    EXPECT_EQ(failure(std::string(100000, '\x91') + '\xc0'), mp::DecodeErrc::TooDeep);
    std::string maps;
    for (int i = 0; i < 33; ++i) maps += unhex("81a161");
    EXPECT_EQ(failure(maps + '\xc0'), mp::DecodeErrc::TooDeep);
    EXPECT_EQ(failure(unhex("919190"), {.maxDepth = 2}), mp::DecodeErrc::TooDeep);
    std::vector<std::string> attachments;
    EXPECT_TRUE(mp::decode(unhex("9190"), attachments, {.maxDepth = 2}).has_value());
}

TEST(Msgpack, AttachmentsBeyondTheLimitAreRefused) {
    std::string many = unhex("dc0041");
    for (int i = 0; i < 65; ++i) many += unhex("c400");
    EXPECT_EQ(failure(many), mp::DecodeErrc::TooManyAttachments);
    std::vector<std::string> attachments;
    EXPECT_TRUE(mp::decode(unhex("dc0040") + many.substr(3 + 2), attachments).has_value());
    EXPECT_EQ(attachments.size(), 64u);
    EXPECT_EQ(failure(unhex("92c400c400"), {.maxAttachments = 1}), mp::DecodeErrc::TooManyAttachments);
}

TEST(Msgpack, UnsupportedTypesAreRefused) {
    // 0xc1; ext types other than -1 and 0; type 0 in fixext 2/4/16; timestamps of other sizes.
    const std::string sixteen(32, '0');
    for (const std::string& bytes :
         {std::string("c1"), std::string("9201c1"), std::string("d40100"), std::string("d5010000"),
          std::string("d60100000000"), std::string("c70101ff"), std::string("c8000105ff"), "d801" + sixteen,
          std::string("d50000ff"), std::string("d60000000000"), "d800" + sixteen, std::string("d5ff0000"),
          std::string("c705ff0000000000"), "d8ff" + sixteen, std::string("c9000000007f")})
        EXPECT_EQ(failure(unhex(bytes)), mp::DecodeErrc::Unsupported) << bytes;
}

TEST(Msgpack, KeysOtherThanStringsAndIntegersAreRefused) {
    for (const char* bytes : {"81c001", "81c301", "81cb3ff800000000000001", "81ca3fc0000001", "819001", "818001",
                              "81c40101", "81d6ff0000000001", "81d4000001"})
        EXPECT_EQ(failure(unhex(bytes)), mp::DecodeErrc::BadKey) << bytes;
}

TEST(Msgpack, ErrorsHaveMessages) {
    for (int e = 1; e <= 6; ++e) {
        const boost::system::error_code ec = static_cast<mp::DecodeErrc>(e);
        EXPECT_EQ(ec.category().name(), std::string("cluster.msgpack"));
        EXPECT_NE(ec.message().find("MessagePack"), std::string::npos) << e;
    }
}

// ---------------------------------------------------------------------------------------------
// Interop: bytes notepack.io wrote and read (fixtures/gen-notepack.mjs made notepack.json)
// ---------------------------------------------------------------------------------------------

TEST(Msgpack, ReadsWhatNotepackWritesAndWritesTheSameBytes) {
    std::ifstream file(PARLEY_CLUSTER_FIXTURES "/notepack.json");
    ASSERT_TRUE(file) << PARLEY_CLUSTER_FIXTURES "/notepack.json";
    std::stringstream text;
    text << file.rdbuf();
    const auto fixture = json::parse(text.str());
    const auto& cases = fixture.at("cases").as_array();
    ASSERT_GE(cases.size(), 20u);
    std::size_t canonical = 0;
    for (const auto& c : cases) {
        const std::string name(c.at("name").as_string());
        const std::string bytes = unhex(c.at("hex").as_string());
        std::vector<std::string> expectedAttachments;
        for (const auto& a : c.at("attachments").as_array()) expectedAttachments.push_back(unhex(a.as_string()));

        std::vector<std::string> attachments;
        auto v = mp::decode(bytes, attachments);
        ASSERT_TRUE(v.has_value()) << name << ": " << v.error().message();
        EXPECT_EQ(*v, c.at("json")) << name << ": " << json::serialize(*v);
        EXPECT_EQ(attachments, expectedAttachments) << name;
        if (c.at("canonical").as_bool()) {
            ++canonical;
            EXPECT_EQ(hex(mp::encode(c.at("json"), expectedAttachments)), hex(bytes)) << name;
        }
    }
    EXPECT_GE(canonical, 8u);
}
