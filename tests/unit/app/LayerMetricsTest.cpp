// The figures of /metrics as the layers register them: every name and type the server has
// always shown, each once, with its HELP line.
#include "chat/Metrics.hpp"
#include "core/Metrics.hpp"
#include "engineio/Metrics.hpp"
#include "net/Metrics.hpp"
#include "socketio/Metrics.hpp"
#include "store/Metrics.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <sstream>
#include <string>

namespace parley {
namespace {

// name -> type, from the TYPE lines of `text`.
std::map<std::string, std::string> typesOf(const std::string& text) {
    std::map<std::string, std::string> types;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind("# TYPE ", 0) != 0) continue;
        const auto space = line.find(' ', 7);
        EXPECT_TRUE(types.emplace(line.substr(7, space - 7), line.substr(space + 1)).second) << line;
    }
    return types;
}

struct AllLayers {
    net::Metrics net;
    engineio::Metrics engineio;
    socketio::Metrics socketio;
    store::Metrics store;
    chat::Metrics chat;
    core::MetricsRegistry registry;

    AllLayers() {
        net.registerWith(registry);
        engineio.registerWith(registry);
        socketio.registerWith(registry);
        store.registerWith(registry);
        chat.registerWith(registry);
    }
};

TEST(LayerMetrics, TogetherShowEveryFigureOfMetricsOnceWithItsType) {
    AllLayers layers;
    const std::string out = layers.registry.render();
    const std::map<std::string, std::string> expected{
        {"parley_engineio_sessions", "gauge"},
        {"parley_engineio_sessions_opened_total", "counter"},
        {"parley_socketio_sockets", "gauge"},
        {"parley_chat_messages_stored_total", "counter"},
        {"parley_connections_refused_total", "counter"},
        {"parley_handshakes_refused_total", "counter"},
        {"parley_slow_consumers_closed_total", "counter"},
        {"parley_volatile_dropped_total", "counter"},
        {"parley_password_hashes_total", "counter"},
        {"parley_logins_refused_total", "counter"},
        {"parley_chat_message_ack_seconds", "histogram"},
        {"parley_store_commits_total", "counter"},
        {"parley_store_committed_writes_total", "counter"},
        {"parley_store_commit_seconds", "histogram"},
        {"parley_store_write_seconds", "histogram"},
    };
    EXPECT_EQ(typesOf(out), expected) << out;
    for (const auto& [name, type] : expected) EXPECT_NE(out.find("# HELP " + name + " "), std::string::npos) << name;
}

TEST(LayerMetrics, EachLayersFiguresShowWhatItCounted) {
    AllLayers layers;
    layers.engineio.sessionsOpen.fetch_add(2, std::memory_order_relaxed);
    layers.engineio.volatileDropped.fetch_add(5, std::memory_order_relaxed);
    layers.net.connectionsRefused.fetch_add(1, std::memory_order_relaxed);
    layers.socketio.socketsConnected.fetch_add(3, std::memory_order_relaxed);
    layers.chat.loginsRefused.fetch_add(4, std::memory_order_relaxed);
    layers.chat.messageAckError.observe(std::chrono::milliseconds(1));
    layers.store.storeCommitSeconds.observe(std::chrono::microseconds(400));
    layers.store.storeWriteSeconds.observe(std::chrono::milliseconds(2));
    layers.store.storeWriteSeconds.observe(std::chrono::milliseconds(4));
    const std::string out = layers.registry.render();
    EXPECT_NE(out.find("\nparley_engineio_sessions 2\n"), std::string::npos) << out;
    EXPECT_NE(out.find("\nparley_volatile_dropped_total 5\n"), std::string::npos) << out;
    EXPECT_NE(out.find("\nparley_connections_refused_total 1\n"), std::string::npos) << out;
    EXPECT_NE(out.find("\nparley_socketio_sockets 3\n"), std::string::npos) << out;
    EXPECT_NE(out.find("\nparley_logins_refused_total 4\n"), std::string::npos) << out;
    EXPECT_NE(out.find("\nparley_store_commit_seconds_count 1\n"), std::string::npos) << out;
    EXPECT_NE(out.find("\nparley_store_write_seconds_count 2\n"), std::string::npos) << out;
    EXPECT_NE(out.find("\nparley_store_write_seconds_bucket{le=\"0.002\"} 1\n"), std::string::npos) << out;
    EXPECT_NE(out.find("\nparley_chat_message_ack_seconds_count{result=\"error\"} 1\n"), std::string::npos) << out;
    EXPECT_NE(out.find("\nparley_chat_message_ack_seconds_count{result=\"ok\"} 0\n"), std::string::npos) << out;
}

TEST(LayerMetrics, ALayerRegisteredTwiceIsRefused) {
    AllLayers layers;
    EXPECT_THROW(layers.store.registerWith(layers.registry), std::invalid_argument);
}

} // namespace
} // namespace parley
