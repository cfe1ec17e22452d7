#include "engineio/codec/OpenPacket.hpp"

#include "engineio/codec/Packet.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

namespace {

using parley::engineio::codec::OpenPacket;
using parley::engineio::codec::PacketType;
using parley::engineio::codec::parseText;

OpenPacket conformance(std::string sid, bool polling) {
    OpenPacket p;
    p.sid = std::move(sid);
    p.upgradeToWebSocket = polling;
    p.pingInterval = 300;
    p.pingTimeout = 200;
    p.maxPayload = 1000000;
    return p;
}

TEST(EngineIoOpenPacket, DefaultsArePollingWithProductionTimers) {
    OpenPacket p;
    p.sid = "abc";
    EXPECT_EQ(
        p.serialize(),
        R"(0{"sid":"abc","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000})");
}

TEST(EngineIoOpenPacket, ConformancePolling) {
    EXPECT_EQ(
        conformance("lv_VI97HAXpY6yYWAAAC", true).serialize(),
        R"(0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000})");
}

TEST(EngineIoOpenPacket, ConformanceWebSocket) {
    EXPECT_EQ(
        conformance("lv_VI97HAXpY6yYWAAAC", false).serialize(),
        R"(0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000})");
}

TEST(EngineIoOpenPacket, EmptySid) {
    EXPECT_EQ(conformance("", false).serialize(),
              R"(0{"sid":"","upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000})");
}

TEST(EngineIoOpenPacket, SidIsJsonEscaped) {
    // Same escaping as JSON.stringify: quote, backslash, short escapes, \u00XX in lower case.
    EXPECT_EQ(
        conformance("a\"b\\c", true).serialize(),
        R"(0{"sid":"a\"b\\c","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000})");
    EXPECT_EQ(conformance("x\ny\tz\r\b\f", false).serialize(),
              R"(0{"sid":"x\ny\tz\r\b\f","upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000})");
    EXPECT_EQ(conformance(std::string("\x01\x1f", 2), false).serialize(),
              R"(0{"sid":"\u0001\u001f","upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000})");
    // '/' and non-ASCII are not escaped by JSON.stringify either.
    EXPECT_EQ(conformance("a/b\xc3\xa9", false).serialize(),
              "0{\"sid\":\"a/b\xc3\xa9\",\"upgrades\":[],\"pingInterval\":300,\"pingTimeout\":200,"
              "\"maxPayload\":1000000}");
}

TEST(EngineIoOpenPacket, ParsesAsOpenPacketWithExactlyTheReferenceKeys) {
    const OpenPacket p = conformance("we\"ird\\sid\n", true);
    auto packet = parseText(p.serialize());
    ASSERT_TRUE(packet);
    EXPECT_EQ(packet->type, PacketType::Open);

    boost::system::error_code ec;
    const boost::json::value v = boost::json::parse(packet->data, ec);
    ASSERT_FALSE(ec) << ec.message();
    ASSERT_TRUE(v.is_object());
    const auto& obj = v.get_object();
    ASSERT_EQ(obj.size(), 5u);
    const char* expectedKeys[] = {"sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"};
    std::size_t i = 0;
    for (const auto& kv : obj) EXPECT_EQ(std::string(kv.key()), expectedKeys[i++]);
    EXPECT_EQ(obj.at("sid").as_string(), "we\"ird\\sid\n");
    ASSERT_EQ(obj.at("upgrades").as_array().size(), 1u);
    EXPECT_EQ(obj.at("upgrades").as_array()[0].as_string(), "websocket");
    EXPECT_EQ(obj.at("pingInterval").to_number<std::int64_t>(), 300);
    EXPECT_EQ(obj.at("pingTimeout").to_number<std::int64_t>(), 200);
    EXPECT_EQ(obj.at("maxPayload").to_number<std::int64_t>(), 1000000);
}

TEST(EngineIoOpenPacket, LargeNumbersAreWrittenInFull) {
    OpenPacket p;
    p.sid = "s";
    p.upgradeToWebSocket = false;
    p.pingInterval = std::numeric_limits<std::uint32_t>::max();
    p.pingTimeout = 0;
    p.maxPayload = 100000000000ull;
    EXPECT_EQ(p.serialize(),
              R"(0{"sid":"s","upgrades":[],"pingInterval":4294967295,"pingTimeout":0,"maxPayload":100000000000})");
}

} // namespace
