#include "app/Config.hpp"

#include <charconv>
#include <cstdlib>
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

void apply(Config& c, const std::string& flag, const std::string& value) {
    const std::string name = "--" + flag;
    if (flag == "host") c.host = value;
    else if (flag == "port") {
        auto n = toNumber(name, value);
        if (n > 65535) throw std::invalid_argument(name + ": out of range");
        c.port = static_cast<unsigned short>(n);
    } else if (flag == "threads") c.threads = toNumber(name, value);
    else if (flag == "ping-interval") c.pingInterval = std::chrono::milliseconds(toNumber(name, value));
    else if (flag == "ping-timeout") c.pingTimeout = std::chrono::milliseconds(toNumber(name, value));
    else if (flag == "connect-timeout") c.connectTimeout = std::chrono::milliseconds(toNumber(name, value));
    else if (flag == "max-payload") c.maxPayload = toNumber(name, value);
    else if (flag == "max-outbound-bytes") c.maxOutboundBytes = toNumber(name, value);
    else if (flag == "request-timeout") c.requestTimeout = std::chrono::milliseconds(toNumber(name, value));
    else if (flag == "cors-origin") c.corsOrigins.push_back(value);
    else if (flag == "log-level") c.logLevel = value;
    else if (flag == "data-dir") c.dataDir = value;
    else if (flag == "store") c.store = value;
    else if (flag == "jwt-secret") c.jwtSecret = value;
    else if (flag == "jwt-public-key") c.jwtPublicKey = value;
    else if (flag == "jwt-issuer") c.jwtIssuer = value;
    else if (flag == "jwt-audience") c.jwtAudience = value;
    else throw std::invalid_argument("unknown flag " + name);
}

constexpr const char* kValueFlags[] = {"host",         "port",        "threads",         "ping-interval",
                                       "ping-timeout", "max-payload", "connect-timeout", "request-timeout",
                                       "cors-origin",  "log-level",   "max-outbound-bytes",   "data-dir",        "store",
                                       "jwt-secret",   "jwt-public-key", "jwt-issuer",   "jwt-audience"};

} // namespace

std::size_t Config::effectiveThreads() const {
    if (threads) return threads;
    const auto n = std::thread::hardware_concurrency();
    return n ? n : 1;
}

std::string Config::sqlitePath() const {
    if (store.empty()) return dataDir + "/parley.db";
    if (store.starts_with("sqlite:")) return store.substr(7);
    throw std::invalid_argument("--store: only sqlite:PATH is supported in this build, got '" + store + "'");
}

Config parseConfig(int argc, char** argv) {
    Config c;
    for (const char* flag : kValueFlags) {
        if (const char* v = std::getenv(envName(flag).c_str()); v && *v) {
            if (std::string_view(flag) == "cors-origin") {
                // PARLEY_CORS_ORIGIN takes a comma-separated list.
                std::string_view list = v;
                while (!list.empty()) {
                    auto comma = list.find(',');
                    c.corsOrigins.emplace_back(list.substr(0, comma));
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
        std::string value;
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
    return c;
}

std::string usage() {
    return R"(usage: parley serve [flags]
       parley user add --email E --password P [--name N] [flags]
       parley token --user ID [--ttl SECONDS] [flags]
       parley chat create --type dm|group --created-by ID [--title T] [--member ID]... [flags]
       parley migrate [flags]

  --host ADDR            address to listen on (127.0.0.1)            PARLEY_HOST
  --port N               port; 0 picks a free one (3001)             PARLEY_PORT
  --threads N            io threads; 0 = one per core (0)            PARLEY_THREADS
  --ping-interval MS     Engine.IO ping interval (25000)             PARLEY_PING_INTERVAL
  --ping-timeout MS      Engine.IO pong timeout (20000)              PARLEY_PING_TIMEOUT
  --connect-timeout MS   Socket.IO CONNECT deadline (45000)          PARLEY_CONNECT_TIMEOUT
  --max-payload BYTES    largest message / polling body (1000000)    PARLEY_MAX_PAYLOAD
  --max-outbound-bytes N bytes queued per client before a slow reader
                         is disconnected (8388608)                   PARLEY_MAX_OUTBOUND_BYTES
  --request-timeout MS   HTTP idle / slow-request deadline (30000)   PARLEY_REQUEST_TIMEOUT
  --cors-origin ORIGIN   allowed origin, repeatable (any)            PARLEY_CORS_ORIGIN (comma list)
  --log-level LEVEL      trace|debug|info|warn|error|off (info)      PARLEY_LOG_LEVEL
  --data-dir DIR         database and generated secret (./data)      PARLEY_DATA_DIR
  --store URL            sqlite:PATH (sqlite:DIR/parley.db)          PARLEY_STORE
  --jwt-secret S         HS256 secret (generated into DIR)           PARLEY_JWT_SECRET
  --jwt-public-key FILE  PEM key for RS256/ES256 tokens              PARLEY_JWT_PUBLIC_KEY
  --jwt-issuer ISS       required iss of tokens                      PARLEY_JWT_ISSUER
  --jwt-audience AUD     required aud of tokens                      PARLEY_JWT_AUDIENCE
  --conformance          protocol conformance profile (port 3000, ping 300/200 ms, echo handlers)
)";
}

} // namespace parley::app
