// The chat layer's figures of /metrics: the message:send ack histogram is one family with a
// series per result, each showing only what was counted into it.
#include "chat/Metrics.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace parley::chat {
namespace {

using std::chrono::milliseconds;

bool has(const std::string& text, const std::string& line) {
    return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

TEST(ChatMetrics, TheAckHistogramIsOneFamilyWithAnOkAndAnErrorSeries) {
    Metrics metrics;
    core::MetricsRegistry registry;
    metrics.registerWith(registry);
    std::string out = registry.render();
    EXPECT_TRUE(has(out, "# TYPE parley_chat_message_ack_seconds histogram")) << out;
    EXPECT_NE(out.find("# HELP parley_chat_message_ack_seconds "), std::string::npos) << out;
    EXPECT_TRUE(has(out, "parley_chat_message_ack_seconds_count{result=\"ok\"} 0")) << out;
    EXPECT_TRUE(has(out, "parley_chat_message_ack_seconds_count{result=\"error\"} 0")) << out;

    metrics.messageAckOk.observe(milliseconds(3));
    metrics.messageAckOk.observe(milliseconds(4));
    metrics.messageAckError.observe(std::chrono::microseconds(80));
    out = registry.render();
    EXPECT_TRUE(has(out, "parley_chat_message_ack_seconds_count{result=\"ok\"} 2")) << out;
    EXPECT_TRUE(has(out, "parley_chat_message_ack_seconds_bucket{result=\"ok\",le=\"0.002\"} 0")) << out;
    EXPECT_TRUE(has(out, "parley_chat_message_ack_seconds_bucket{result=\"ok\",le=\"0.005\"} 2")) << out;
    EXPECT_TRUE(has(out, "parley_chat_message_ack_seconds_sum{result=\"ok\"} 0.007000000")) << out;
    EXPECT_TRUE(has(out, "parley_chat_message_ack_seconds_count{result=\"error\"} 1")) << out;
    EXPECT_TRUE(has(out, "parley_chat_message_ack_seconds_bucket{result=\"error\",le=\"0.0001\"} 1")) << out;
}

} // namespace
} // namespace parley::chat
