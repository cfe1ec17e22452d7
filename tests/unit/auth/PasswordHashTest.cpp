#include "auth/PasswordHash.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

namespace auth = parley::auth;

// Each hash costs ~64 MiB and tens of milliseconds, so the suite hashes as little as it can.
class PasswordHashTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() { hash_ = auth::hashPassword(kPassword); }

    static constexpr const char* kPassword = "hunter2 but much longer";
    static inline std::string hash_;
};

TEST_F(PasswordHashTest, HashIsArgon2idString) {
    EXPECT_EQ(hash_.rfind("$argon2id$", 0), 0u) << hash_;
    EXPECT_EQ(hash_.find('\0'), std::string::npos);
}

TEST_F(PasswordHashTest, VerifiesCorrectPassword) { EXPECT_TRUE(auth::verifyPassword(hash_, kPassword)); }

TEST_F(PasswordHashTest, RejectsWrongPassword) {
    EXPECT_FALSE(auth::verifyPassword(hash_, "hunter2 but much longeR"));
    EXPECT_FALSE(auth::verifyPassword(hash_, ""));
    EXPECT_FALSE(auth::verifyPassword(hash_, std::string(kPassword) + '\0'));
}

TEST_F(PasswordHashTest, RejectsMalformedHashes) {
    const std::string truncated = hash_.substr(0, hash_.size() - 10);
    const std::string withNul = hash_.substr(0, 20) + '\0' + hash_.substr(20);
    for (const std::string& bad : {std::string(), std::string("garbage"), std::string("$argon2id$"),
                                   std::string("$argon2id$v=19$m=65536,t=2,p=1$"), truncated, withNul, hash_ + "AAAA",
                                   std::string(500, 'a'), "$2b$12$" + std::string(53, 'a')}) {
        EXPECT_FALSE(auth::verifyPassword(bad, kPassword)) << bad;
    }
}

TEST_F(PasswordHashTest, SamePasswordHashesDifferently) {
    // A fresh random salt per hash: equal passwords must not be visible as equal hashes.
    const std::string second = auth::hashPassword(kPassword);
    EXPECT_NE(second, hash_);
    EXPECT_TRUE(auth::verifyPassword(second, kPassword));
}

TEST_F(PasswordHashTest, HandlesEmptyAndBinaryPasswords) {
    const std::string binary("pa\0ss\xff", 6);
    const std::string hash = auth::hashPassword(binary);
    EXPECT_TRUE(auth::verifyPassword(hash, binary));
    EXPECT_FALSE(auth::verifyPassword(hash, "pa"));
    const std::string empty = auth::hashPassword("");
    EXPECT_TRUE(auth::verifyPassword(empty, ""));
    EXPECT_FALSE(auth::verifyPassword(empty, " "));
}

} // namespace
