#include "core/ObjectId.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include <chrono>
#include <set>
#include <string>

using parley::core::ObjectId;

TEST(ObjectId, GeneratesValidDistinctIds) {
    ASSERT_GE(sodium_init(), 0);
    std::set<std::string> seen;
    for (int i = 0; i < 10000; ++i) {
        const auto id = ObjectId::generate();
        ASSERT_TRUE(ObjectId::isValid(id)) << id;
        seen.insert(id);
    }
    EXPECT_EQ(seen.size(), 10000u);
}

TEST(ObjectId, StartsWithTheCurrentSecond) {
    ASSERT_GE(sodium_init(), 0);
    const auto id = ObjectId::generate();
    const auto now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    const long long seconds = std::stoll(id.substr(0, 8), nullptr, 16);
    EXPECT_LE(std::llabs(seconds - now), 2);
}

TEST(ObjectId, LaterIdsSortAfterEarlierOnesWithinAProcess) {
    ASSERT_GE(sodium_init(), 0);
    const auto a = ObjectId::generate();
    const auto b = ObjectId::generate();
    // Same second and process: the counter decides (it only wraps after 16M ids).
    if (a.substr(0, 8) == b.substr(0, 8)) EXPECT_LT(a, b);
}

TEST(ObjectId, Validation) {
    EXPECT_TRUE(ObjectId::isValid("507f1f77bcf86cd799439011"));
    EXPECT_FALSE(ObjectId::isValid(""));
    EXPECT_FALSE(ObjectId::isValid("507f1f77bcf86cd79943901"));   // 23
    EXPECT_FALSE(ObjectId::isValid("507f1f77bcf86cd7994390111")); // 25
    EXPECT_FALSE(ObjectId::isValid("507F1F77BCF86CD799439011"));  // upper case
    EXPECT_FALSE(ObjectId::isValid("507f1f77bcf86cd79943901g"));
    EXPECT_FALSE(ObjectId::isValid(std::string("507f1f77bcf86cd79943901\0", 24)));
}
