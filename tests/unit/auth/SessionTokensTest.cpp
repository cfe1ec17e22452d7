#include "auth/SessionTokens.hpp"

#include <gtest/gtest.h>

#include <string>
#include <unordered_set>

namespace {

namespace auth = parley::auth;

bool isBase64UrlChar(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

TEST(SessionTokens, NewTokenHasDocumentedFormat) {
    const std::string token = auth::newSessionToken();
    ASSERT_EQ(token.size(), 4u + 43u) << token;
    EXPECT_EQ(token.substr(0, 4), "pst_");
    for (char c : token.substr(4)) EXPECT_TRUE(isBase64UrlChar(c)) << token;
    EXPECT_TRUE(auth::looksLikeSessionToken(token));
}

TEST(SessionTokens, NewTokensAreUnique) {
    std::unordered_set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        const std::string token = auth::newSessionToken();
        ASSERT_TRUE(auth::looksLikeSessionToken(token)) << token;
        EXPECT_TRUE(seen.insert(token).second) << "duplicate " << token;
    }
    EXPECT_EQ(seen.size(), 1000u);
}

TEST(SessionTokens, HashIsStableLowercaseHex) {
    const std::string token = auth::newSessionToken();
    const std::string hash = auth::hashSessionToken(token);
    ASSERT_EQ(hash.size(), 64u);
    for (char c : hash) EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << hash;
    EXPECT_EQ(auth::hashSessionToken(token), hash);
    EXPECT_NE(auth::hashSessionToken(auth::newSessionToken()), hash);
}

TEST(SessionTokens, HashIsSha256) {
    // FIPS 180-2 test vectors.
    EXPECT_EQ(auth::hashSessionToken("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(auth::hashSessionToken(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(SessionTokens, LooksLikeSessionTokenChecksShape) {
    const std::string body(43, 'A');
    EXPECT_TRUE(auth::looksLikeSessionToken("pst_" + body));
    EXPECT_TRUE(auth::looksLikeSessionToken("pst_" + std::string(21, '-') + std::string(22, '_')));
    EXPECT_FALSE(auth::looksLikeSessionToken(""));
    EXPECT_FALSE(auth::looksLikeSessionToken("pst_"));
    EXPECT_FALSE(auth::looksLikeSessionToken("pst_" + body.substr(1)));
    EXPECT_FALSE(auth::looksLikeSessionToken("pst_" + body + "A"));
    EXPECT_FALSE(auth::looksLikeSessionToken("PST_" + body));
    EXPECT_FALSE(auth::looksLikeSessionToken("pat_" + body));
    EXPECT_FALSE(auth::looksLikeSessionToken(body + "AAAA"));
    EXPECT_FALSE(auth::looksLikeSessionToken("pst_" + body.substr(1) + "="));
    EXPECT_FALSE(auth::looksLikeSessionToken("pst_" + body.substr(1) + "+"));
    EXPECT_FALSE(auth::looksLikeSessionToken("pst_" + body.substr(1) + "."));
    EXPECT_FALSE(auth::looksLikeSessionToken(std::string("pst_") + std::string(42, 'A') + '\0'));
    EXPECT_FALSE(auth::looksLikeSessionToken("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.abc"));
}

} // namespace
