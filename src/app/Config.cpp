#include "app/Config.hpp"

#include "net/PeerLimits.hpp"

#include <toml++/toml.h>

#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <thread>

namespace parley::app {

namespace {

std::uint64_t toNumber(const std::string& flag, const std::string& value) {
    std::uint64_t n = 0;
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (ec != std::errc{} || ptr != value.data() + value.size())
        throw std::invalid_argument(flag + ": expected a non-negative integer, got '" + value + "'");
    return n;
}

// flag name without dashes -> PARLEY_ENV_NAME
std::string envName(std::string_view flag) {
    std::string out = "PARLEY_";
    for (char c : flag) out.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    return out;
}

template <class T>
T bounded(const std::string& flag, const std::string& value, std::uint64_t max) {
    const auto n = toNumber(flag, value);
    if (n > max) throw std::invalid_argument(flag + ": at most " + std::to_string(max));
    return static_cast<T>(n);
}

bool boolean(const std::string& flag, const std::string& value) {
    if (value == "1" || value == "true" || value == "yes" || value == "on") return true;
    if (value == "0" || value == "false" || value == "no" || value == "off") return false;
    throw std::invalid_argument(flag + ": expected true or false, got '" + value + "'");
}

std::chrono::milliseconds millis(const std::string& flag, const std::string& value) {
    return std::chrono::milliseconds(toNumber(flag, value));
}

using Setter = void (*)(Config&, const std::string& flag, const std::string& value);

// Every flag that takes a value, with what it sets. Each has a PARLEY_* twin (envName).
constexpr std::pair<const char*, Setter> kValueFlags[] = {
    {"host", [](Config& c, const std::string&, const std::string& v) { c.host = v; }},
    {"port", [](Config& c, const std::string& f, const std::string& v) { c.port = bounded<unsigned short>(f, v, 65535); }},
    {"threads", [](Config& c, const std::string& f, const std::string& v) { c.threads = toNumber(f, v); }},
    {"ping-interval", [](Config& c, const std::string& f, const std::string& v) { c.pingInterval = millis(f, v); }},
    {"ping-timeout", [](Config& c, const std::string& f, const std::string& v) { c.pingTimeout = millis(f, v); }},
    {"connect-timeout", [](Config& c, const std::string& f, const std::string& v) { c.connectTimeout = millis(f, v); }},
    {"max-payload", [](Config& c, const std::string& f, const std::string& v) { c.maxPayload = toNumber(f, v); }},
    {"max-outbound-bytes",
     [](Config& c, const std::string& f, const std::string& v) { c.maxOutboundBytes = toNumber(f, v); }},
    {"volatile-backlog-bytes",
     [](Config& c, const std::string& f, const std::string& v) { c.volatileBacklogBytes = toNumber(f, v); }},
    {"request-timeout", [](Config& c, const std::string& f, const std::string& v) { c.requestTimeout = millis(f, v); }},
    {"max-header-bytes",
     [](Config& c, const std::string& f, const std::string& v) { c.maxHeaderBytes = bounded<std::uint32_t>(f, v, 1u << 20); }},
    {"max-connections-per-ip",
     [](Config& c, const std::string& f, const std::string& v) { c.maxConnectionsPerIp = bounded<std::uint32_t>(f, v, 1u << 24); }},
    {"handshakes-per-second",
     [](Config& c, const std::string& f, const std::string& v) { c.handshakesPerSecond = bounded<std::uint32_t>(f, v, 1u << 24); }},
    {"handshake-burst",
     [](Config& c, const std::string& f, const std::string& v) { c.handshakeBurst = bounded<std::uint32_t>(f, v, 1u << 24); }},
    {"max-namespaces", [](Config& c, const std::string& f, const std::string& v) { c.maxNamespaces = toNumber(f, v); }},
    {"max-rooms-per-socket",
     [](Config& c, const std::string& f, const std::string& v) { c.maxRoomsPerSocket = toNumber(f, v); }},
    {"max-pending-acks",
     [](Config& c, const std::string& f, const std::string& v) { c.maxPendingAcks = bounded<std::uint32_t>(f, v, 1u << 24); }},
    {"recovery-window",
     [](Config& c, const std::string& f, const std::string& v) { c.recoveryWindow = std::chrono::seconds(bounded<std::uint32_t>(f, v, 86'400)); }},
    {"drain-timeout",
     [](Config& c, const std::string& f, const std::string& v) { c.drainTimeout = std::chrono::seconds(bounded<std::uint32_t>(f, v, 3'600)); }},
    {"login-per-ip-per-minute",
     [](Config& c, const std::string& f, const std::string& v) { c.loginPerIpPerMinute = bounded<std::uint32_t>(f, v, 1u << 24); }},
    {"login-failures-per-account",
     [](Config& c, const std::string& f, const std::string& v) { c.loginFailuresPerAccount = bounded<std::uint32_t>(f, v, 1u << 16); }},
    {"login-failure-window-ms",
     [](Config& c, const std::string& f, const std::string& v) { c.loginFailureWindow = std::chrono::milliseconds(bounded<std::uint32_t>(f, v, 86'400'000)); }},
    {"login-hash-queue",
     [](Config& c, const std::string& f, const std::string& v) { c.loginHashQueue = bounded<std::uint32_t>(f, v, 1u << 16); }},
    {"max-event-name-bytes",
     [](Config& c, const std::string& f, const std::string& v) { c.maxEventNameBytes = toNumber(f, v); }},
    {"max-json-depth", [](Config& c, const std::string& f, const std::string& v) { c.maxJsonDepth = bounded<std::size_t>(f, v, 64); }},
    {"max-attachments",
     [](Config& c, const std::string& f, const std::string& v) { c.maxAttachments = bounded<std::size_t>(f, v, 256); }},
    {"typing-timeout",
     [](Config& c, const std::string& f, const std::string& v) { c.typingTimeout = std::chrono::seconds(bounded<std::uint32_t>(f, v, 3600)); }},
    {"cors-origin", [](Config& c, const std::string&, const std::string& v) { c.corsOrigins.push_back(v); }},
    {"trusted-proxy",
     [](Config& c, const std::string& f, const std::string& v) {
         if (!net::Cidr::parse(v)) throw std::invalid_argument(f + ": expected an address or CIDR, got '" + v + "'");
         c.trustedProxies.push_back(v);
     }},
    {"log-level", [](Config& c, const std::string&, const std::string& v) { c.logLevel = v; }},
    {"log-format",
     [](Config& c, const std::string& f, const std::string& v) {
         if (v != "text" && v != "json") throw std::invalid_argument(f + ": expected text or json, got '" + v + "'");
         c.logFormat = v;
     }},
    {"access-log", [](Config& c, const std::string& f, const std::string& v) { c.accessLog = boolean(f, v); }},
    {"data-dir", [](Config& c, const std::string&, const std::string& v) { c.dataDir = v; }},
    {"web-root",
     [](Config& c, const std::string& f, const std::string& v) {
         if (v.empty()) throw std::invalid_argument(f + ": expected a directory, or none");
         c.webRoot = v;
     }},
    {"store", [](Config& c, const std::string&, const std::string& v) { c.store = v; }},
    {"redis", [](Config& c, const std::string&, const std::string& v) { c.redis = v; }},
    {"store-pool", [](Config& c, const std::string& f, const std::string& v) { c.storePool = bounded<std::uint32_t>(f, v, 256); }},
    {"commit-delay-us",
     [](Config& c, const std::string& f, const std::string& v) { c.commitDelay = std::chrono::microseconds(bounded<std::uint32_t>(f, v, 100'000)); }},
    {"slow-commit-ms",
     [](Config& c, const std::string& f, const std::string& v) { c.slowCommit = std::chrono::milliseconds(bounded<std::uint32_t>(f, v, 3'600'000)); }},
    {"jwt-secret", [](Config& c, const std::string&, const std::string& v) { c.jwtSecret = v; }},
    {"jwt-public-key", [](Config& c, const std::string&, const std::string& v) { c.jwtPublicKey = v; }},
    {"jwt-issuer", [](Config& c, const std::string&, const std::string& v) { c.jwtIssuer = v; }},
    {"jwt-audience", [](Config& c, const std::string&, const std::string& v) { c.jwtAudience = v; }},
    {"jwt-require-exp", [](Config& c, const std::string& f, const std::string& v) { c.jwtRequireExp = boolean(f, v); }},
    {"jwt-leeway",
     [](Config& c, const std::string& f, const std::string& v) { c.jwtLeeway = std::chrono::seconds(bounded<std::uint32_t>(f, v, 3600)); }},
    {"token-renewals-per-minute",
     [](Config& c, const std::string& f, const std::string& v) { c.tokenRenewalsPerMinute = bounded<std::uint32_t>(f, v, 1u << 16); }},
    {"socket-store-ops",
     [](Config& c, const std::string& f, const std::string& v) { c.storeOpsPer10s = bounded<std::uint32_t>(f, v, 1u << 20); }},
    {"admin-username",
     [](Config& c, const std::string& f, const std::string& v) {
         if (v.empty()) throw std::invalid_argument(f + ": expected a name");
         c.adminUsername = v;
     }},
    {"admin-password", [](Config& c, const std::string&, const std::string& v) { c.adminPassword = v; }},
    {"admin-readonly", [](Config& c, const std::string& f, const std::string& v) { c.adminReadonly = boolean(f, v); }},
    {"admin-mode",
     [](Config& c, const std::string& f, const std::string& v) {
         if (v != "development" && v != "production")
             throw std::invalid_argument(f + ": expected development or production, got '" + v + "'");
         c.adminMode = v;
     }},
};

void apply(Config& c, const std::string& flag, const std::string& value) {
    for (const auto& [name, set] : kValueFlags)
        if (flag == name) return set(c, "--" + flag, value);
    throw std::invalid_argument("unknown flag --" + flag);
}

bool isKey(std::string_view key) {
    for (const auto& [name, set] : kValueFlags)
        if (key == name) return true;
    return false;
}

bool repeatable(std::string_view key) { return key == "cors-origin" || key == "trusted-proxy"; }

/// A TOML scalar as the text a flag would carry; nullopt for any other kind of value.
std::optional<std::string> flagText(const toml::node& value) {
    if (const auto* s = value.as_string()) return s->get();
    if (const auto* i = value.as_integer()) return std::to_string(i->get());
    if (const auto* b = value.as_boolean()) return b->get() ? "true" : "false";
    return std::nullopt;
}

/// Applies every key of the TOML file `path` to `c`. Each key is a flag's name without its
/// dashes; a repeatable flag takes an array of strings too. Throws naming the file, the line
/// and the key of the first thing wrong.
void applyFile(Config& c, const std::string& path) {
    toml::table table;
    try {
        table = toml::parse_file(path);
    } catch (const toml::parse_error& e) {
        const auto& where = e.source().begin;
        throw std::invalid_argument(path + ":" + std::to_string(where.line) + ": " + std::string(e.description()));
    }
    for (const auto& [key, value] : table) {
        const std::string name(key.str());
        std::string at = path;
        at += ":" + std::to_string(key.source().begin.line);
        at += ": ";
        at += name;
        at += ": ";
        try {
            if (name == "conformance") {
                const auto text = flagText(value);
                if (!text) throw std::invalid_argument("expected true or false");
                c.conformance = boolean("conformance", *text);
                continue;
            }
            if (name == "config") throw std::invalid_argument("a config file cannot name another");
            if (!isKey(name))
                throw std::invalid_argument("unknown key (keys are the flags of parley --help, without --)");
            if (const auto* list = value.as_array(); list && repeatable(name)) {
                for (const auto& item : *list) {
                    const auto* s = item.as_string();
                    if (!s) throw std::invalid_argument("expected an array of strings");
                    apply(c, name, s->get());
                }
                continue;
            }
            const auto text = flagText(value);
            if (!text) throw std::invalid_argument("expected a string, an integer or true/false");
            apply(c, name, *text);
        } catch (const std::invalid_argument& e) {
            std::string why = e.what();
            // apply()'s messages start with the flag ("--port: ..."): the key says it already.
            if (why.starts_with("--" + name + ": ")) why.erase(0, name.size() + 4);
            throw std::invalid_argument(at + why);
        }
    }
}

/// The file named by --config (or --config=) in argv, else PARLEY_CONFIG; empty: none.
std::string configFileOf(int argc, char** argv) {
    for (int i = 0; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--config") {
            if (i + 1 >= argc) throw std::invalid_argument("--config needs a value");
            return argv[i + 1];
        }
        if (arg.starts_with("--config=")) return std::string(arg.substr(9));
    }
    const char* env = std::getenv("PARLEY_CONFIG");
    return env ? env : "";
}

std::string ms(std::chrono::milliseconds d) { return std::to_string(d.count()); }
std::string secs(std::chrono::seconds d) { return std::to_string(d.count()); }
std::string quoted(const std::string& s) {
    std::string out = "\"";
    for (char ch : s) {
        if (ch == '"' || ch == '\\') out.push_back('\\');
        out.push_back(ch);
    }
    return out + "\"";
}
std::string list(const std::vector<std::string>& items) {
    std::string out = "[";
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i) out += ", ";
        out += quoted(items[i]);
    }
    return out + "]";
}
/// A URI with the password of its user info masked.
std::string maskedUri(std::string uri) {
    const auto scheme = uri.find("://");
    const auto at = uri.find('@');
    if (scheme != std::string::npos && at != std::string::npos) {
        const auto colon = uri.find(':', scheme + 3);
        if (colon != std::string::npos && colon < at) uri.replace(colon + 1, at - colon - 1, "***");
    }
    return uri;
}

using Getter = std::string (*)(const Config&);

// What `parley config` prints of each key: its value as TOML, secrets masked.
constexpr std::pair<const char*, Getter> kShown[] = {
    {"host", [](const Config& c) { return quoted(c.host); }},
    {"port", [](const Config& c) { return std::to_string(c.effectivePort()); }},
    {"threads", [](const Config& c) { return std::to_string(c.threads); }},
    {"ping-interval", [](const Config& c) { return ms(c.pingInterval); }},
    {"ping-timeout", [](const Config& c) { return ms(c.pingTimeout); }},
    {"connect-timeout", [](const Config& c) { return ms(c.connectTimeout); }},
    {"max-payload", [](const Config& c) { return std::to_string(c.maxPayload); }},
    {"max-outbound-bytes", [](const Config& c) { return std::to_string(c.maxOutboundBytes); }},
    {"volatile-backlog-bytes", [](const Config& c) { return std::to_string(c.volatileBacklogBytes); }},
    {"request-timeout", [](const Config& c) { return ms(c.requestTimeout); }},
    {"max-header-bytes", [](const Config& c) { return std::to_string(c.maxHeaderBytes); }},
    {"max-connections-per-ip", [](const Config& c) { return std::to_string(c.maxConnectionsPerIp); }},
    {"handshakes-per-second", [](const Config& c) { return std::to_string(c.handshakesPerSecond); }},
    {"handshake-burst", [](const Config& c) { return std::to_string(c.handshakeBurst); }},
    {"max-namespaces", [](const Config& c) { return std::to_string(c.maxNamespaces); }},
    {"max-rooms-per-socket", [](const Config& c) { return std::to_string(c.maxRoomsPerSocket); }},
    {"max-pending-acks", [](const Config& c) { return std::to_string(c.maxPendingAcks); }},
    {"recovery-window", [](const Config& c) { return secs(c.recoveryWindow); }},
    {"drain-timeout", [](const Config& c) { return secs(c.drainTimeout); }},
    {"login-per-ip-per-minute", [](const Config& c) { return std::to_string(c.loginPerIpPerMinute); }},
    {"login-failures-per-account", [](const Config& c) { return std::to_string(c.loginFailuresPerAccount); }},
    {"login-failure-window-ms", [](const Config& c) { return ms(c.loginFailureWindow); }},
    {"login-hash-queue", [](const Config& c) { return std::to_string(c.loginHashQueue); }},
    {"max-event-name-bytes", [](const Config& c) { return std::to_string(c.maxEventNameBytes); }},
    {"max-json-depth", [](const Config& c) { return std::to_string(c.maxJsonDepth); }},
    {"max-attachments", [](const Config& c) { return std::to_string(c.maxAttachments); }},
    {"typing-timeout", [](const Config& c) { return secs(c.typingTimeout); }},
    {"cors-origin", [](const Config& c) { return list(c.corsOrigins); }},
    {"trusted-proxy", [](const Config& c) { return list(c.trustedProxies); }},
    {"log-level", [](const Config& c) { return quoted(c.logLevel); }},
    {"log-format", [](const Config& c) { return quoted(c.logFormat); }},
    {"access-log", [](const Config& c) { return std::string(c.accessLog ? "true" : "false"); }},
    {"data-dir", [](const Config& c) { return quoted(c.dataDir); }},
    {"web-root", [](const Config& c) { return quoted(c.webRoot); }},
    {"store", [](const Config& c) { return quoted(c.storeDescription()); }},
    {"redis", [](const Config& c) { return quoted(maskedUri(c.redis)); }},
    {"store-pool", [](const Config& c) { return std::to_string(c.storePool); }},
    {"commit-delay-us", [](const Config& c) { return std::to_string(c.commitDelay.count()); }},
    {"slow-commit-ms", [](const Config& c) { return ms(c.slowCommit); }},
    {"jwt-secret", [](const Config& c) { return quoted(c.jwtSecret.empty() ? "" : "***"); }},
    {"jwt-public-key", [](const Config& c) { return quoted(c.jwtPublicKey); }},
    {"jwt-issuer", [](const Config& c) { return quoted(c.jwtIssuer); }},
    {"jwt-audience", [](const Config& c) { return quoted(c.jwtAudience); }},
    {"jwt-require-exp", [](const Config& c) { return std::string(c.jwtRequireExp ? "true" : "false"); }},
    {"jwt-leeway", [](const Config& c) { return secs(c.jwtLeeway); }},
    {"token-renewals-per-minute", [](const Config& c) { return std::to_string(c.tokenRenewalsPerMinute); }},
    {"socket-store-ops", [](const Config& c) { return std::to_string(c.storeOpsPer10s); }},
    {"admin-username", [](const Config& c) { return quoted(c.adminUsername); }},
    {"admin-password", [](const Config& c) { return quoted(c.adminPassword.empty() ? "" : "***"); }},
    {"admin-readonly", [](const Config& c) { return std::string(c.adminReadonly ? "true" : "false"); }},
    {"admin-mode", [](const Config& c) { return quoted(c.adminMode); }},
};
// One getter per setter, in the same order: a key added to one table and not the other fails
// to build.
constexpr bool sameKeys() {
    if (std::size(kShown) != std::size(kValueFlags)) return false;
    for (std::size_t i = 0; i < std::size(kShown); ++i)
        if (std::string_view(kShown[i].first) != std::string_view(kValueFlags[i].first)) return false;
    return true;
}
static_assert(sameKeys(), "parley config shows every key, in the order of kValueFlags");

} // namespace

// The build passes the source tree's web/ (CMakeLists.txt of src/app); a build that does not
// gets where a package installs it.
#ifndef PARLEY_DEFAULT_WEB_ROOT
#define PARLEY_DEFAULT_WEB_ROOT "/usr/share/parley/web"
#endif
std::string defaultWebRoot() {
    std::error_code ec;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    return webRootFor(ec ? std::string() : self.string(), PARLEY_DEFAULT_WEB_ROOT);
}

std::string webRootFor(const std::string& executable, const std::string& built) {
    if (executable.empty()) return built;
    const auto installed = std::filesystem::path(executable).parent_path().parent_path() / "share/parley/web";
    std::error_code ec;
    return std::filesystem::is_directory(installed, ec) ? installed.string() : built;
}

std::size_t Config::effectiveThreads() const {
    if (threads) return threads;
    const auto n = std::thread::hardware_concurrency();
    return n ? n : 1;
}

std::string Config::storeUri() const {
    if (store.empty()) return "sqlite:" + dataDir + "/parley.db";
    if (store.starts_with("sqlite:") || store.starts_with("postgres://") || store.starts_with("postgresql://"))
        return store;
    throw std::invalid_argument("--store: expected sqlite:PATH or postgres://user:pass@host:port/db, got '" + store +
                                "'");
}

std::string Config::storeDescription() const {
    std::string uri = storeUri();
    // Never the password of a database URI in a log line.
    const auto scheme = uri.find("://");
    const auto at = uri.find('@');
    if (scheme != std::string::npos && at != std::string::npos) {
        const auto colon = uri.find(':', scheme + 3);
        if (colon != std::string::npos && colon < at) uri.replace(colon + 1, at - colon - 1, "***");
    }
    return uri;
}

Config parseConfig(int argc, char** argv) {
    Config c;
    // Lowest first: the file, then the environment, then the flags.
    c.configFile = configFileOf(argc, argv);
    if (!c.configFile.empty()) applyFile(c, c.configFile);
    for (const auto& [flag, set] : kValueFlags) {
        if (const char* v = std::getenv(envName(flag).c_str()); v && *v) {
            if (std::string_view(flag) == "cors-origin" || std::string_view(flag) == "trusted-proxy") {
                // PARLEY_CORS_ORIGIN and PARLEY_TRUSTED_PROXY take a comma-separated list.
                std::string_view list = v;
                while (!list.empty()) {
                    auto comma = list.find(',');
                    apply(c, flag, std::string(list.substr(0, comma)));
                    if (comma == std::string_view::npos) break;
                    list.remove_prefix(comma + 1);
                }
            } else {
                apply(c, flag, v);
            }
        }
    }
    if (const char* v = std::getenv("PARLEY_CONFORMANCE"); v && std::string_view(v) == "1") c.conformance = true;

    for (int i = 0; i < argc; ++i) {
        std::string arg = argv[i];
        if (!arg.starts_with("--")) throw std::invalid_argument("unexpected argument '" + arg + "'");
        arg.erase(0, 2);
        if (arg == "conformance") {
            c.conformance = true;
            continue;
        }
        if (arg == "config" || arg.starts_with("config=")) { // read first, above
            if (arg == "config") ++i;
            continue;
        }
        std::string value;
        if (arg == "jwt-require-exp" && (i + 1 >= argc || std::string_view(argv[i + 1]).starts_with("--"))) {
            c.jwtRequireExp = true; // the bare flag
            continue;
        }
        if (arg == "access-log" && (i + 1 >= argc || std::string_view(argv[i + 1]).starts_with("--"))) {
            c.accessLog = true; // the bare flag
            continue;
        }
        if (arg == "admin-readonly" && (i + 1 >= argc || std::string_view(argv[i + 1]).starts_with("--"))) {
            c.adminReadonly = true; // the bare flag
            continue;
        }
        if (auto eq = arg.find('='); eq != std::string::npos) {
            value = arg.substr(eq + 1);
            arg.erase(eq);
        } else {
            if (i + 1 >= argc) throw std::invalid_argument("--" + arg + " needs a value");
            value = argv[++i];
        }
        apply(c, arg, value);
    }
    if (c.pingInterval.count() == 0 || c.pingTimeout.count() == 0)
        throw std::invalid_argument("--ping-interval and --ping-timeout must be positive");
    if (c.maxPayload == 0) throw std::invalid_argument("--max-payload must be positive");
    if (c.loginFailureWindow.count() == 0) throw std::invalid_argument("--login-failure-window-ms must be positive");
    if (c.loginHashQueue == 0) throw std::invalid_argument("--login-hash-queue must be positive");
    return c;
}

std::string describeConfig(const Config& c) {
    std::string out = "# parley config: the settings in effect (flags over PARLEY_* over ";
    out += c.configFile.empty() ? std::string("no config file") : "the file " + c.configFile;
    out += " over the defaults); secrets masked\n";
    for (const auto& [name, get] : kShown) out += std::string(name) + " = " + get(c) + "\n";
    out += std::string("conformance = ") + (c.conformance ? "true" : "false") + "\n";
    return out;
}

std::vector<std::string> configKeys() {
    std::vector<std::string> keys;
    for (const auto& [name, set] : kValueFlags) keys.emplace_back(name);
    keys.emplace_back("conformance");
    return keys;
}

namespace {

constexpr const char* kUsage = R"(usage: parley serve [flags]
       parley user add --email E --password P [--name N] [flags]
       parley token --user ID [--ttl SECONDS] [flags]
       parley chat create --type dm|group --created-by ID [--title T] [--member ID]... [flags]
       parley migrate [flags]
       parley config [flags]     the settings in effect, as a config file (secrets masked)

  --config FILE          TOML file of settings: each key a flag below
                         without its dashes (port = 3001); flags and
                         PARLEY_* override it (none)                 PARLEY_CONFIG

  --host ADDR            address to listen on (127.0.0.1)            PARLEY_HOST
  --port N               port; 0 picks a free one (3001)             PARLEY_PORT
  --threads N            io threads; 0 = one per core (0)            PARLEY_THREADS
  --ping-interval MS     Engine.IO ping interval (25000)             PARLEY_PING_INTERVAL
  --ping-timeout MS      Engine.IO pong timeout (20000)              PARLEY_PING_TIMEOUT
  --connect-timeout MS   Socket.IO CONNECT deadline (45000)          PARLEY_CONNECT_TIMEOUT
  --max-payload BYTES    largest message / polling body (1000000)    PARLEY_MAX_PAYLOAD
  --max-outbound-bytes N bytes queued per client before a slow reader
                         is disconnected (8388608)                   PARLEY_MAX_OUTBOUND_BYTES
  --request-timeout MS   a request's headers and body must arrive in
                         this; also the keep-alive idle time (30000)  PARLEY_REQUEST_TIMEOUT
  --max-header-bytes N   request line + headers, else 431 (16384)    PARLEY_MAX_HEADER_BYTES
  --volatile-backlog-bytes N  past this many bytes queued for a client,
                         typing updates to it are dropped (65536)    PARLEY_VOLATILE_BACKLOG_BYTES
  --max-connections-per-ip N  open connections per client address, more
                         get 429; 0 = no limit (10000)               PARLEY_MAX_CONNECTIONS_PER_IP
  --handshakes-per-second N   new sessions per second per address, more
                         get 429; 0 = no limit (100)                 PARLEY_HANDSHAKES_PER_SECOND
  --handshake-burst N    ... of which this many at once (5000)       PARLEY_HANDSHAKE_BURST
  --max-namespaces N     Socket.IO namespaces per connection (8)     PARLEY_MAX_NAMESPACES
  --max-rooms-per-socket N    rooms one socket may join (1000)       PARLEY_MAX_ROOMS_PER_SOCKET
  --max-pending-acks N   requests a socket may have unanswered (128) PARLEY_MAX_PENDING_ACKS
  --recovery-window S    seconds a dropped client may recover its
                         session (socket.io 4.6+); 0 = off (120)     PARLEY_RECOVERY_WINDOW
  --drain-timeout S      on SIGTERM/SIGINT, seconds to finish taken
                         writes and send clients elsewhere (10)      PARLEY_DRAIN_TIMEOUT
  --login-per-ip-per-minute N login attempts per address a minute, more
                         get 429; 0 = no limit (100)                 PARLEY_LOGIN_PER_IP_PER_MINUTE
  --login-failures-per-account N  logins without a success per email in
                         the window, more get 429; 0 = no limit (10) PARLEY_LOGIN_FAILURES_PER_ACCOUNT
  --login-failure-window-ms MS    ... that window (300000)           PARLEY_LOGIN_FAILURE_WINDOW_MS
  --login-hash-queue N   logins waiting for password hashing, more
                         get 429 at once (16)                        PARLEY_LOGIN_HASH_QUEUE
  --max-event-name-bytes N    longest event name (128)               PARLEY_MAX_EVENT_NAME_BYTES
  --max-json-depth N     JSON nesting per packet, at most 64 (32)    PARLEY_MAX_JSON_DEPTH
  --max-attachments N    binary attachments per packet (10)          PARLEY_MAX_ATTACHMENTS
  --typing-timeout S     typing not renewed for this long is told
                         stopped, at most 3600; 0 = never (5)        PARLEY_TYPING_TIMEOUT
  --cors-origin ORIGIN   allowed origin, repeatable (any)            PARLEY_CORS_ORIGIN (comma list)
  --trusted-proxy CIDR   reverse proxy whose X-Forwarded-For/Forwarded
                         names the client, repeatable (none)         PARLEY_TRUSTED_PROXY (comma list)
  --log-level LEVEL      trace|debug|info|warn|error|off (info)      PARLEY_LOG_LEVEL
  --log-format FORMAT    text, or json: one object a line with time, level,
                         message and the line's fields (text)        PARLEY_LOG_FORMAT
  --access-log[=BOOL]    a line per REST request and Engine.IO handshake:
                         method, path, status, duration (false)      PARLEY_ACCESS_LOG
  --data-dir DIR         database and generated secret (./data)      PARLEY_DATA_DIR
  --web-root DIR         the web client's files, served on / (and the
                         socket.io-client bundle from DIR/vendor);
                         none = no web client (share/parley/web beside
                         bin/parley, else the build's web/)          PARLEY_WEB_ROOT
  --store URL            sqlite:PATH or postgres://user:pass@host:port/db
                         (sqlite:DIR/parley.db)                      PARLEY_STORE
  --store-pool N         PostgreSQL connections of this process;
                         0 = the store's default (0)                 PARLEY_STORE_POOL
  --redis URL            redis://[:password@]host:port[/db]: join a cluster
                         of Parley (and Node socket.io) processes (none)  PARLEY_REDIS
  --commit-delay-us N    while writes arrive fast, the longest one waits
                         for others to share its commit; 0 = never (1000)  PARLEY_COMMIT_DELAY_US
  --slow-commit-ms N     warn of commits (the disk's sync) that take this
                         long, at most once per 10 s; 0 = never (100)  PARLEY_SLOW_COMMIT_MS
  --jwt-secret S         HS256 secret (generated into DIR)           PARLEY_JWT_SECRET
  --jwt-public-key FILE  PEM key for RS256/ES256 tokens              PARLEY_JWT_PUBLIC_KEY
  --jwt-issuer ISS       required iss of tokens                      PARLEY_JWT_ISSUER
  --jwt-audience AUD     required aud of tokens                      PARLEY_JWT_AUDIENCE
  --jwt-require-exp[=BOOL]  refuse JWTs without exp (true)           PARLEY_JWT_REQUIRE_EXP
  --jwt-leeway S         clock skew forgiven on exp and nbf, at most
                         3600; a socket's token ends at exp + S (30)  PARLEY_JWT_LEEWAY
  --token-renewals-per-minute N  auth:renew per socket; 0 = no limit (6)
                                                              PARLEY_TOKEN_RENEWALS_PER_MINUTE
  --socket-store-ops N   receipt:read and typing:start outside the socket's rooms,
                         per socket per 10 s; 0 = no limit (60)  PARLEY_SOCKET_STORE_OPS
  --admin-password P     turns on the socket.io admin UI: its /admin
                         namespace, and its page on /admin/ (off)    PARLEY_ADMIN_PASSWORD
  --admin-username NAME  the admin UI's login name (admin)           PARLEY_ADMIN_USERNAME
  --admin-readonly[=BOOL]  the admin UI may look, not join, leave, emit
                         or disconnect (false)                       PARLEY_ADMIN_READONLY
  --admin-mode MODE      development: the admin UI sees sockets, rooms
                         and events; production: server stats only
                         (development)                               PARLEY_ADMIN_MODE
  --conformance          protocol conformance profile (port 3000, ping 300/200 ms, echo handlers)
)";

} // namespace

std::string usage() { return kUsage; }

} // namespace parley::app
