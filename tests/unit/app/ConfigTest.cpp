#include "app/Config.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using parley::app::Config;
using parley::app::parseConfig;

Config parse(std::vector<std::string> args) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    return parseConfig(static_cast<int>(argv.size()), argv.data());
}

TEST(Config, DefaultsOfTheLimits) {
    const Config c = parse({});
    EXPECT_EQ(c.maxHeaderBytes, 16u * 1024);
    EXPECT_EQ(c.maxConnectionsPerIp, 1000u);
    EXPECT_EQ(c.handshakesPerSecond, 50u);
    EXPECT_EQ(c.handshakeBurst, 100u);
    EXPECT_EQ(c.maxNamespaces, 8u);
    EXPECT_EQ(c.maxRoomsPerSocket, 1000u);
    EXPECT_EQ(c.maxPendingAcks, 128u);
    EXPECT_EQ(c.maxEventNameBytes, 128u);
    EXPECT_EQ(c.maxJsonDepth, 32u);
    EXPECT_EQ(c.maxAttachments, 10u);
    EXPECT_EQ(c.volatileBacklogBytes, 64u * 1024);
    EXPECT_EQ(c.maxOutboundBytes, 8u * 1024 * 1024);
}

TEST(Config, EveryLimitHasAFlag) {
    const Config c = parse({"--max-header-bytes", "4096", "--max-connections-per-ip=0", "--handshakes-per-second", "7",
                            "--handshake-burst", "9", "--max-namespaces", "2", "--max-rooms-per-socket", "3",
                            "--max-pending-acks", "4", "--max-event-name-bytes", "5", "--max-json-depth", "6",
                            "--max-attachments", "7", "--volatile-backlog-bytes", "8", "--max-outbound-bytes", "9"});
    EXPECT_EQ(c.maxHeaderBytes, 4096u);
    EXPECT_EQ(c.maxConnectionsPerIp, 0u);
    EXPECT_EQ(c.handshakesPerSecond, 7u);
    EXPECT_EQ(c.handshakeBurst, 9u);
    EXPECT_EQ(c.maxNamespaces, 2u);
    EXPECT_EQ(c.maxRoomsPerSocket, 3u);
    EXPECT_EQ(c.maxPendingAcks, 4u);
    EXPECT_EQ(c.maxEventNameBytes, 5u);
    EXPECT_EQ(c.maxJsonDepth, 6u);
    EXPECT_EQ(c.maxAttachments, 7u);
    EXPECT_EQ(c.volatileBacklogBytes, 8u);
    EXPECT_EQ(c.maxOutboundBytes, 9u);
}

TEST(Config, TheCommitDelayIsInMicrosecondsAndBounded) {
    EXPECT_EQ(parse({}).commitDelay, std::chrono::microseconds(1000));
    EXPECT_EQ(parse({"--commit-delay-us", "0"}).commitDelay, std::chrono::microseconds(0));
    EXPECT_EQ(parse({"--commit-delay-us=2500"}).commitDelay, std::chrono::microseconds(2500));
    try {
        parse({"--commit-delay-us", "100001"});
        FAIL() << "no error";
    } catch (const std::invalid_argument& e) {
        EXPECT_STREQ(e.what(), "--commit-delay-us: at most 100000");
    }
}

TEST(Config, TheSlowCommitWarningIsInMillisecondsAndZeroTurnsItOff) {
    EXPECT_EQ(parse({}).slowCommit, std::chrono::milliseconds(100));
    EXPECT_EQ(parse({"--slow-commit-ms", "0"}).slowCommit, std::chrono::milliseconds(0));
    EXPECT_EQ(parse({"--slow-commit-ms=250"}).slowCommit, std::chrono::milliseconds(250));
    try {
        parse({"--slow-commit-ms", "-1"});
        FAIL() << "no error";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("--slow-commit-ms"), std::string::npos) << e.what();
    }
}

TEST(Config, AnEnvironmentTwinIsReadAndAFlagWins) {
    ::setenv("PARLEY_MAX_PENDING_ACKS", "11", 1);
    EXPECT_EQ(parse({}).maxPendingAcks, 11u);
    EXPECT_EQ(parse({"--max-pending-acks", "12"}).maxPendingAcks, 12u);
    ::unsetenv("PARLEY_MAX_PENDING_ACKS");
}

TEST(Config, OutOfRangeAndUnknownFlagsAreClearErrors) {
    try {
        parse({"--max-json-depth", "65"});
        FAIL() << "no error";
    } catch (const std::invalid_argument& e) {
        EXPECT_STREQ(e.what(), "--max-json-depth: at most 64");
    }
    try {
        parse({"--max-attachments", "-1"});
        FAIL() << "no error";
    } catch (const std::invalid_argument& e) {
        EXPECT_STREQ(e.what(), "--max-attachments: expected a non-negative integer, got '-1'");
    }
    EXPECT_THROW(parse({"--port", "70000"}), std::invalid_argument);
    EXPECT_THROW(parse({"--max-everything", "1"}), std::invalid_argument);
    EXPECT_THROW(parse({"--max-namespaces"}), std::invalid_argument);
}

} // namespace
