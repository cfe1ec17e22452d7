// Offsets and private ids of connection state recovery, and the rooms text the store keeps.

#include "chat/Recovery.hpp"
#include "net/SharedBuffer.hpp"
#include "store/RecoveryRooms.hpp"

#include <gtest/gtest.h>

#include <set>

namespace parley::chat {
namespace {

const std::string kId = "65a1b2c3d4e5f60718293a4b";

TEST(RecoveryOffset, RoundTripsAMessagePosition) {
    store::Message m;
    m.id = kId;
    m.createdAt = 1'700'000'000'123;
    const auto offset = offsetOf(m);
    EXPECT_EQ(offset, "1700000000123-" + kId);
    auto position = parseOffset(offset);
    ASSERT_TRUE(position.has_value());
    EXPECT_EQ(position->createdAt, m.createdAt);
    EXPECT_EQ(position->id, kId);
    EXPECT_TRUE(parseOffset("0-" + kId).has_value());
}

TEST(RecoveryOffset, RefusesAnythingElse) {
    const std::vector<std::string> refused{std::string(),
                                           std::string("-"),
                                           "-" + kId,
                                           std::string("12"),
                                           std::string("12-"),
                                           "12-" + kId.substr(1),
                                           "12-" + kId + "0",
                                           "-12-" + kId,
                                           "+12-" + kId,
                                           "1 2-" + kId,
                                           std::string("12-65A1B2C3D4E5F60718293A4B"),
                                           std::string("12-zza1b2c3d4e5f60718293a4b"),
                                           "99999999999999999999-" + kId,
                                           "12_" + kId,
                                           std::string("12-\0", 4) + kId};
    for (const auto& bad : refused) EXPECT_FALSE(parseOffset(bad).has_value()) << bad;
}

socketio::EncodedPacket messageNew(const std::string& offset) {
    return {net::makeSharedBuffer("42/chat,[\"message:new\",{\"body\":\"a \\\"quoted\\\" \\\"]\"},\"" + offset + "\"]"),
            {}};
}

TEST(RecoveryOffset, IsFoundInAMessageNewPacketOnly) {
    EXPECT_EQ(offsetIn(*messageNew("12-" + kId).text), "12-" + kId);
    EXPECT_EQ(offsetIn("42[\"chat:update\",{\"x\":\"12-" + kId + "\"}]"), "");
    EXPECT_EQ(offsetIn("42[\"message:new\",{}]"), "");
}

TEST(RecoveryOffsetOrder, OffsetsASocketIsSentOnlyMoveForward) {
    const std::string a = "100-" + kId;
    const std::string b = "100-75a1b2c3d4e5f60718293a4b"; // same time, later id
    const std::string c = "101-05a1b2c3d4e5f60718293a4b";
    OffsetOrder order;
    EXPECT_FALSE(order(messageNew(b)).has_value()) << "the first passes as it is";
    // Placed before b (same time, smaller id): carries b's offset, the rest of it unchanged.
    const auto early = messageNew(a);
    const auto rewritten = order(early);
    ASSERT_TRUE(rewritten.has_value());
    EXPECT_EQ(*rewritten->text, *messageNew(b).text);
    EXPECT_EQ(offsetIn(*early.text), a) << "the shared packet is left alone";
    EXPECT_FALSE(order(messageNew(b)).has_value()) << "the same place again passes";
    EXPECT_FALSE(order(messageNew(c)).has_value());
    const auto rewrittenToC = order(messageNew(a));
    ASSERT_TRUE(rewrittenToC.has_value());
    EXPECT_EQ(offsetIn(*rewrittenToC->text), c);
    const socketio::EncodedPacket other{net::makeSharedBuffer("42[\"typing:update\",{}]"), {}};
    EXPECT_FALSE(order(other).has_value());
}

TEST(RecoveryOffsetOrder, StartsFromTheOffsetARecoveringClientHolds) {
    OffsetOrder order("200-" + kId);
    const auto before = order(messageNew("150-" + kId));
    ASSERT_TRUE(before.has_value());
    EXPECT_EQ(offsetIn(*before->text), "200-" + kId);
    EXPECT_FALSE(order(messageNew("201-" + kId)).has_value());
}

TEST(RecoveryPid, IsTwentyTwoBase64UrlCharactersAndUnique) {
    std::set<std::string> seen;
    for (int i = 0; i < 200; ++i) {
        auto pid = newPid();
        EXPECT_EQ(pid.size(), 22U);
        EXPECT_TRUE(isPid(pid)) << pid;
        EXPECT_TRUE(seen.insert(pid).second);
    }
}

TEST(RecoveryPid, RefusesWhatNewPidCannotWrite) {
    const std::string good = newPid();
    EXPECT_FALSE(isPid(""));
    EXPECT_FALSE(isPid(good.substr(1)));
    EXPECT_FALSE(isPid(good + "A"));
    EXPECT_FALSE(isPid(good.substr(0, 21) + "+"));
    EXPECT_FALSE(isPid(good.substr(0, 21) + "="));
    EXPECT_FALSE(isPid(good.substr(0, 21) + "B")) << "the last character holds 2 bits: A, Q, g or w";
    EXPECT_TRUE(isPid(good.substr(0, 21) + "Q"));
    EXPECT_TRUE(isPid(std::string(22, 'A')));
}

TEST(RecoveryRooms, RoundTripAndRefusals) {
    std::vector<store::RecoveryRoom> rooms{{kId, 12}, {"65a1b2c3d4e5f60718293a4c", 0}};
    const auto text = store::encodeRecoveryRooms(rooms);
    EXPECT_EQ(text, "{\"" + kId + "\":12,\"65a1b2c3d4e5f60718293a4c\":0}");
    auto back = store::decodeRecoveryRooms(text);
    ASSERT_TRUE(back.has_value());
    ASSERT_EQ(back->size(), 2U);
    EXPECT_EQ((*back)[0].chatId, kId);
    EXPECT_EQ((*back)[0].joinedAt, 12);
    EXPECT_EQ(store::encodeRecoveryRooms({}), "{}");
    EXPECT_TRUE(store::decodeRecoveryRooms("{}").has_value());
    EXPECT_EQ(store::encodeRecoveryRooms({{"a\"b", 1}, {"ok", 2}}), "{\"ok\":2}")
        << "an id needing escapes is left out";
    for (const char* bad : {"", "{", "{\"a\":}", "{\"a\":1,}", "{\"a\"1}", "{\"a\":1x}", "[]", "{\"\":1}", "{a:1}"})
        EXPECT_FALSE(store::decodeRecoveryRooms(bad).has_value()) << bad;
}

} // namespace
} // namespace parley::chat
