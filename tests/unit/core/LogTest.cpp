#include "core/Log.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>
#include <spdlog/details/log_msg.h>

#include <string>

namespace parley::core {
namespace {

std::string formatted(std::string_view message, spdlog::level::level_enum level = spdlog::level::info) {
    spdlog::details::log_msg msg(spdlog::source_loc{}, "parley", level, message);
    spdlog::memory_buf_t out;
    JsonLogFormatter().format(msg, out);
    return std::string(out.data(), out.size());
}

TEST(JsonLogFormatter, ALineIsOneObjectWithTimeLevelAndMessage) {
    const std::string line = formatted("listening on 127.0.0.1:3001", spdlog::level::warn);
    ASSERT_FALSE(line.empty());
    EXPECT_EQ(line.back(), '\n');
    EXPECT_EQ(line.find('\n'), line.size() - 1) << "one line";
    const auto v = boost::json::parse(line);
    EXPECT_EQ(v.at("level"), "warning");
    EXPECT_EQ(v.at("message"), "listening on 127.0.0.1:3001");
    const std::string time(v.at("time").as_string());
    EXPECT_EQ(time.size(), 24U) << time; // 2026-12-07T03:04:05.678Z
    EXPECT_EQ(time.back(), 'Z');
}

TEST(JsonLogFormatter, TheFieldsInScopeAreKeysNestedScopesAddAndEndingOneRemovesItsOwn) {
    const LogFields outer{{"correlationId", "c-1"}};
    {
        const LogFields inner{{"status", "200", true}, {"path", "/v1/chats"}};
        const auto v = boost::json::parse(formatted("GET"));
        EXPECT_EQ(v.at("correlationId"), "c-1");
        EXPECT_EQ(v.at("status"), 200) << "a number field is a JSON number";
        EXPECT_EQ(v.at("path"), "/v1/chats");
    }
    const auto v = boost::json::parse(formatted("after"));
    EXPECT_EQ(v.at("correlationId"), "c-1");
    EXPECT_FALSE(v.as_object().contains("status"));
}

TEST(JsonLogFormatter, QuotesBackslashesNewlinesAndControlCharactersAreEscaped) {
    const std::string nasty = "a \"quoted\" \\ path\nsecond line\ttab\x01 end";
    const LogFields fields{{"remote", "x\"y"}};
    const std::string line = formatted(nasty);
    EXPECT_EQ(line.find('\n'), line.size() - 1) << "a newline in the message stays on one line";
    const auto v = boost::json::parse(line);
    EXPECT_EQ(std::string(v.at("message").as_string()), nasty);
    EXPECT_EQ(v.at("remote"), "x\"y");
}

} // namespace
} // namespace parley::core
