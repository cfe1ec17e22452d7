#include "app/Config.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
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
    EXPECT_EQ(c.maxConnectionsPerIp, 10'000u);
    EXPECT_EQ(c.handshakesPerSecond, 100u);
    EXPECT_EQ(c.handshakeBurst, 5'000u);
    EXPECT_TRUE(c.trustedProxies.empty());
    EXPECT_TRUE(c.jwtRequireExp);
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
    const Config c = parse({"--max-header-bytes",
                            "4096",
                            "--max-connections-per-ip=0",
                            "--handshakes-per-second",
                            "7",
                            "--handshake-burst",
                            "9",
                            "--max-namespaces",
                            "2",
                            "--max-rooms-per-socket",
                            "3",
                            "--max-pending-acks",
                            "4",
                            "--max-event-name-bytes",
                            "5",
                            "--max-json-depth",
                            "6",
                            "--max-attachments",
                            "7",
                            "--volatile-backlog-bytes",
                            "8",
                            "--max-outbound-bytes",
                            "9"});
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

TEST(Config, TrustedProxiesAreRepeatableCheckedAndAListInTheEnvironment) {
    EXPECT_EQ(parse({"--trusted-proxy", "10.0.0.0/8", "--trusted-proxy=2001:db8::1"}).trustedProxies,
              (std::vector<std::string>{"10.0.0.0/8", "2001:db8::1"}));
    for (const char* bad : {"10.0.0.0/33", "proxy.example", ""}) {
        try {
            parse({"--trusted-proxy", bad});
            ADD_FAILURE() << "accepted '" << bad << "'";
        } catch (const std::invalid_argument& e) {
            EXPECT_NE(std::string(e.what()).find("--trusted-proxy"), std::string::npos) << e.what();
        }
    }
    ::setenv("PARLEY_TRUSTED_PROXY", "10.0.0.0/8, 192.0.2.1", 1);
    EXPECT_EQ(parse({}).trustedProxies.size(), 2u);
    ::unsetenv("PARLEY_TRUSTED_PROXY");
}

TEST(Config, JwtLeewayAndTokenRenewals) {
    const auto defaults = parse({});
    EXPECT_EQ(defaults.jwtLeeway, std::chrono::seconds(30));
    EXPECT_EQ(defaults.tokenRenewalsPerMinute, 6u);
    const auto set = parse({"--jwt-leeway", "0", "--token-renewals-per-minute=2"});
    EXPECT_EQ(set.jwtLeeway, std::chrono::seconds(0));
    EXPECT_EQ(set.tokenRenewalsPerMinute, 2u);
    EXPECT_THROW(parse({"--jwt-leeway", "3601"}), std::invalid_argument);
    EXPECT_THROW(parse({"--jwt-leeway", "-1"}), std::invalid_argument);
    ::setenv("PARLEY_JWT_LEEWAY", "5", 1);
    ::setenv("PARLEY_TOKEN_RENEWALS_PER_MINUTE", "0", 1);
    EXPECT_EQ(parse({}).jwtLeeway, std::chrono::seconds(5));
    EXPECT_EQ(parse({}).tokenRenewalsPerMinute, 0u);
    EXPECT_EQ(parse({"--jwt-leeway", "7"}).jwtLeeway, std::chrono::seconds(7));
    ::unsetenv("PARLEY_JWT_LEEWAY");
    ::unsetenv("PARLEY_TOKEN_RENEWALS_PER_MINUTE");
}

TEST(Config, SocketStoreOps) {
    EXPECT_EQ(parse({}).storeOpsPer10s, 60u);
    EXPECT_EQ(parse({"--socket-store-ops", "0"}).storeOpsPer10s, 0u);
    EXPECT_THROW(parse({"--socket-store-ops", "-1"}), std::invalid_argument);
    ::setenv("PARLEY_SOCKET_STORE_OPS", "5", 1);
    EXPECT_EQ(parse({}).storeOpsPer10s, 5u);
    ::unsetenv("PARLEY_SOCKET_STORE_OPS");
}

TEST(Config, JwtRequireExpIsABooleanAndTheBareFlagMeansTrue) {
    EXPECT_FALSE(parse({"--jwt-require-exp=false"}).jwtRequireExp);
    EXPECT_FALSE(parse({"--jwt-require-exp", "0"}).jwtRequireExp);
    EXPECT_TRUE(parse({"--jwt-require-exp", "--jwt-require-exp=off", "--jwt-require-exp"}).jwtRequireExp);
    EXPECT_TRUE(parse({"--jwt-require-exp", "--port", "0"}).jwtRequireExp);
    EXPECT_THROW(parse({"--jwt-require-exp=maybe"}), std::invalid_argument);
    ::setenv("PARLEY_JWT_REQUIRE_EXP", "false", 1);
    EXPECT_FALSE(parse({}).jwtRequireExp);
    EXPECT_TRUE(parse({"--jwt-require-exp"}).jwtRequireExp) << "a flag wins";
    ::unsetenv("PARLEY_JWT_REQUIRE_EXP");
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

TEST(Config, TheTypingTimeoutIsInSecondsZeroTurnsItOffAndItHasAnEnvironmentTwin) {
    EXPECT_EQ(parse({}).typingTimeout, std::chrono::seconds(5));
    EXPECT_EQ(parse({"--typing-timeout", "0"}).typingTimeout, std::chrono::seconds(0));
    EXPECT_EQ(parse({"--typing-timeout=1"}).typingTimeout, std::chrono::seconds(1));
    ::setenv("PARLEY_TYPING_TIMEOUT", "30", 1);
    EXPECT_EQ(parse({}).typingTimeout, std::chrono::seconds(30));
    EXPECT_EQ(parse({"--typing-timeout", "2"}).typingTimeout, std::chrono::seconds(2)) << "a flag wins";
    ::unsetenv("PARLEY_TYPING_TIMEOUT");
    try {
        parse({"--typing-timeout", "3601"});
        FAIL() << "no error";
    } catch (const std::invalid_argument& e) {
        EXPECT_STREQ(e.what(), "--typing-timeout: at most 3600");
    }
}

TEST(Config, TheDrainTimeoutIsInSecondsWithAnEnvironmentTwin) {
    EXPECT_EQ(parse({}).drainTimeout, std::chrono::seconds(10));
    EXPECT_EQ(parse({"--drain-timeout", "0"}).drainTimeout, std::chrono::seconds(0));
    EXPECT_EQ(parse({"--drain-timeout=25"}).drainTimeout, std::chrono::seconds(25));
    ::setenv("PARLEY_DRAIN_TIMEOUT", "30", 1);
    EXPECT_EQ(parse({}).drainTimeout, std::chrono::seconds(30));
    EXPECT_EQ(parse({"--drain-timeout", "2"}).drainTimeout, std::chrono::seconds(2)) << "a flag wins";
    ::unsetenv("PARLEY_DRAIN_TIMEOUT");
    EXPECT_THROW(parse({"--drain-timeout", "3601"}), std::invalid_argument);
    EXPECT_THROW(parse({"--drain-timeout", "-1"}), std::invalid_argument);
}

TEST(Config, TheWebRootIsTheBuildsWebDirectoryByDefaultNoneTurnsItOffAndItHasAnEnvironmentTwin) {
    const Config byDefault = parse({});
    EXPECT_EQ(byDefault.webRoot, parley::app::defaultWebRoot());
    EXPECT_EQ(byDefault.webRoot.front(), '/') << "an absolute path: " << byDefault.webRoot;
    EXPECT_TRUE(byDefault.webRoot.ends_with("/web")) << byDefault.webRoot;
    EXPECT_TRUE(byDefault.servesWeb());
    EXPECT_EQ(parse({"--web-root", "/srv/parley-web"}).webRoot, "/srv/parley-web");
    EXPECT_FALSE(parse({"--web-root", "none"}).servesWeb());
    ::setenv("PARLEY_WEB_ROOT", "none", 1);
    EXPECT_FALSE(parse({}).servesWeb());
    EXPECT_EQ(parse({"--web-root=/srv/w"}).webRoot, "/srv/w") << "a flag wins";
    ::unsetenv("PARLEY_WEB_ROOT");
    try {
        parse({"--web-root", ""});
        FAIL() << "no error";
    } catch (const std::invalid_argument& e) {
        EXPECT_STREQ(e.what(), "--web-root: expected a directory, or none");
    }
}

TEST(Config, AnInstalledBinaryServesTheWebClientInstalledBesideItElseTheBuildsWebDirectory) {
    namespace fs = std::filesystem;
    std::string pattern = (fs::temp_directory_path() / "parley-prefix-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    const fs::path prefix = pattern;
    const std::string executable = (prefix / "bin/parley").string();
    EXPECT_EQ(parley::app::webRootFor(executable, "/src/parley/web"), "/src/parley/web") << "nothing installed";
    fs::create_directories(prefix / "share/parley/web");
    EXPECT_EQ(parley::app::webRootFor(executable, "/src/parley/web"), (prefix / "share/parley/web").string());
    EXPECT_EQ(parley::app::webRootFor("", "/src/parley/web"), "/src/parley/web") << "no executable path";
    fs::remove_all(prefix);
    // This test's binary lies in the build folder, with no share/ beside it.
    EXPECT_TRUE(parley::app::defaultWebRoot().ends_with("/web")) << parley::app::defaultWebRoot();
    EXPECT_EQ(parley::app::defaultWebRoot().find("/share/parley/"), std::string::npos);
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

TEST(Config, LoginLimitsHaveDefaultsFlagsAndTwins) {
    const Config d = parse({});
    EXPECT_EQ(d.loginPerIpPerMinute, 100u);
    EXPECT_EQ(d.loginFailuresPerAccount, 10u);
    EXPECT_EQ(d.loginFailureWindow, std::chrono::minutes(5));
    EXPECT_EQ(d.loginHashQueue, 16u);
    const Config c = parse({"--login-per-ip-per-minute", "0", "--login-failures-per-account=3",
                            "--login-failure-window-ms", "1500", "--login-hash-queue", "2"});
    EXPECT_EQ(c.loginPerIpPerMinute, 0u);
    EXPECT_EQ(c.loginFailuresPerAccount, 3u);
    EXPECT_EQ(c.loginFailureWindow, std::chrono::milliseconds(1500));
    EXPECT_EQ(c.loginHashQueue, 2u);
    ::setenv("PARLEY_LOGIN_PER_IP_PER_MINUTE", "7", 1);
    EXPECT_EQ(parse({}).loginPerIpPerMinute, 7u);
    ::unsetenv("PARLEY_LOGIN_PER_IP_PER_MINUTE");
    // A window of 0 would forget every failure at once, and a queue of 0 refuse every login.
    EXPECT_THROW(parse({"--login-failure-window-ms", "0"}), std::invalid_argument);
    EXPECT_THROW(parse({"--login-hash-queue", "0"}), std::invalid_argument);
}

} // namespace

namespace {

/// A config file with `text`, removed at the end of the test.
class ConfigFile {
public:
    explicit ConfigFile(const std::string& text) {
        path_ =
            ::testing::TempDir() + "parley-config-" + std::to_string(reinterpret_cast<std::uintptr_t>(this)) + ".toml";
        std::ofstream(path_) << text;
    }
    ~ConfigFile() { std::remove(path_.c_str()); }
    ConfigFile(const ConfigFile&) = delete;
    ConfigFile& operator=(const ConfigFile&) = delete;
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

std::string errorOf(std::vector<std::string> args) {
    try {
        parse(std::move(args));
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "(no error)";
}

} // namespace

TEST(ConfigFile, EveryKeyIsAFlagWithoutItsDashes) {
    ConfigFile file(R"(# a deployment's settings
port = 4100
host = "0.0.0.0"
ping-interval = 1000
jwt-require-exp = false
store = "postgres://u:pw@db:5432/chat"
cors-origin = ["https://a.example", "https://b.example"]
trusted-proxy = "10.0.0.0/8"
recovery-window = 0
)");
    const Config c = parse({"--config", file.path()});
    EXPECT_EQ(c.effectivePort(), 4100);
    EXPECT_EQ(c.host, "0.0.0.0");
    EXPECT_EQ(c.pingInterval, std::chrono::milliseconds(1000));
    EXPECT_FALSE(c.jwtRequireExp);
    EXPECT_EQ(c.store, "postgres://u:pw@db:5432/chat");
    EXPECT_EQ(c.corsOrigins, (std::vector<std::string>{"https://a.example", "https://b.example"}));
    EXPECT_EQ(c.trustedProxies, (std::vector<std::string>{"10.0.0.0/8"}));
    EXPECT_EQ(c.recoveryWindow, std::chrono::seconds(0));
    EXPECT_EQ(c.configFile, file.path());
    EXPECT_EQ(parse({"--config=" + file.path()}).effectivePort(), 4100);
}

TEST(ConfigFile, AFlagWinsOverTheEnvironmentWhichWinsOverTheFile) {
    ConfigFile file("port = 4100\nthreads = 3\nlog-level = \"debug\"\n");
    ::setenv("PARLEY_PORT", "4200", 1);
    ::setenv("PARLEY_CONFIG", file.path().c_str(), 1);
    const Config fromEnvFile = parse({});
    const Config withFlag = parse({"--port", "4300"});
    ::unsetenv("PARLEY_PORT");
    const Config fileOnly = parse({});
    ::unsetenv("PARLEY_CONFIG");
    EXPECT_EQ(fromEnvFile.effectivePort(), 4200);
    EXPECT_EQ(fromEnvFile.threads, 3u) << "what the environment does not say comes from the file";
    EXPECT_EQ(withFlag.effectivePort(), 4300);
    EXPECT_EQ(withFlag.logLevel, "debug");
    EXPECT_EQ(fileOnly.effectivePort(), 4100);
    EXPECT_EQ(parse({}).effectivePort(), 3001) << "no file: the default";
}

TEST(ConfigFile, AnUnknownKeyOrABadValueNamesTheFileTheLineAndTheKey) {
    ConfigFile unknown("port = 4100\n\nprot = 4200\n");
    EXPECT_EQ(errorOf({"--config", unknown.path()}),
              unknown.path() + ":3: prot: unknown key (keys are the flags of parley --help, without --)");
    ConfigFile range("port = 70000\n");
    EXPECT_EQ(errorOf({"--config", range.path()}), range.path() + ":1: port: at most 65535");
    ConfigFile negative("threads = -1\n");
    EXPECT_NE(errorOf({"--config", negative.path()}).find(":1: threads: expected a non-negative integer"),
              std::string::npos);
    ConfigFile kind("host = 1.5\n");
    EXPECT_EQ(errorOf({"--config", kind.path()}),
              kind.path() + ":1: host: expected a string, an integer or true/false");
    ConfigFile table("[server]\nport = 1\n");
    EXPECT_NE(errorOf({"--config", table.path()}).find(":1: server: unknown key"), std::string::npos);
    ConfigFile syntax("port = \n");
    EXPECT_EQ(errorOf({"--config", syntax.path()}).rfind(syntax.path() + ":1: ", 0), 0U);
    ConfigFile notAList("cors-origin = [1]\n");
    EXPECT_EQ(errorOf({"--config", notAList.path()}),
              notAList.path() + ":1: cors-origin: expected an array of strings");
    EXPECT_NE(errorOf({"--config", "/nonexistent/parley.toml"}).find("/nonexistent/parley.toml"), std::string::npos);
    EXPECT_EQ(errorOf({"--config"}), "--config needs a value");
}

TEST(ConfigFile, ParleyConfigPrintsEveryKeyInEffectWithSecretsMaskedAsAFileThatReadsBack) {
    const Config c = parse({"--port", "4100", "--jwt-secret", "s3cret", "--store", "postgres://u:pw@db:5432/chat",
                            "--redis", "redis://:hush@r:6379", "--cors-origin", "https://a.example"});
    const std::string text = parley::app::describeConfig(c);
    for (const auto& key : parley::app::configKeys())
        EXPECT_NE(text.find("\n" + key + " = "), std::string::npos) << key << " is shown";
    EXPECT_NE(text.find("\nport = 4100\n"), std::string::npos);
    EXPECT_EQ(text.find("s3cret"), std::string::npos);
    EXPECT_EQ(text.find("pw@"), std::string::npos);
    EXPECT_EQ(text.find("hush"), std::string::npos);
    EXPECT_NE(text.find("\nstore = \"postgres://u:***@db:5432/chat\"\n"), std::string::npos);
    EXPECT_NE(text.find("\ncors-origin = [\"https://a.example\"]\n"), std::string::npos);

    // Read back (its masked secrets aside), it is the same configuration.
    ConfigFile file(parley::app::describeConfig(parse({"--port", "4100", "--cors-origin", "https://a.example"})));
    const Config back = parse({"--config", file.path()});
    EXPECT_EQ(back.effectivePort(), 4100);
    EXPECT_EQ(back.corsOrigins, (std::vector<std::string>{"https://a.example"}));
    const auto body = [](const std::string& shown) { return shown.substr(shown.find('\n')); };
    EXPECT_EQ(body(parley::app::describeConfig(back)),
              body(parley::app::describeConfig(parse({"--port", "4100", "--cors-origin", "https://a.example"}))));
}
