#include "chat/Validation.hpp"

#include <gtest/gtest.h>

using namespace parley::chat;

TEST(Utf16Length, CountsLikeJavaScript) {
    EXPECT_EQ(utf16Length(""), 0u);
    EXPECT_EQ(utf16Length("hello"), 5u);
    EXPECT_EQ(utf16Length("h\xC3\xA9llo"), 5u);     // é: one unit
    EXPECT_EQ(utf16Length("\xE2\x82\xAC"), 1u);     // €: one unit
    EXPECT_EQ(utf16Length("\xF0\x9F\x98\x80"), 2u); // 😀: a surrogate pair
    std::string emoji;
    for (int i = 0; i < 4000; ++i) emoji += "\xF0\x9F\x98\x80";
    EXPECT_EQ(utf16Length(emoji), 8000u);
}

TEST(Utf16Length, TruncatedSequencesDoNotOverrun) {
    EXPECT_EQ(utf16Length("\xF0\x9F"), 2u);
    EXPECT_EQ(utf16Length("\xE2"), 1u);
}

TEST(IsBlank, WhitespaceOnly) {
    EXPECT_TRUE(isBlank(""));
    EXPECT_TRUE(isBlank(" \t\r\n"));
    EXPECT_TRUE(isBlank("\xC2\xA0"));     // NBSP
    EXPECT_TRUE(isBlank("\xE3\x80\x80")); // ideographic space
    EXPECT_FALSE(isBlank(" a "));
    EXPECT_FALSE(isBlank("\xE2\x80\x8B")); // zero-width space is not trimmed by JavaScript either
}
