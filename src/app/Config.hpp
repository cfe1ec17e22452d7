#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace parley::app {

/// Where the web client is served from unless --web-root says otherwise: webRootFor() of this
/// process's binary and the web/ directory of the source tree it was built from.
std::string defaultWebRoot();
/// share/parley/web beside the bin/ of `executable` when that is a directory (the package installs
/// /usr/bin/parley and /usr/share/parley/web), else `built`: an installed binary serves its own
/// copy even on a machine that still has the source tree, and a build's binary serves the tree's.
std::string webRootFor(const std::string& executable, const std::string& built);

/// Everything `parley serve` can be told, one commented default per field. Each flag has a
/// PARLEY_* environment twin (--ping-interval <-> PARLEY_PING_INTERVAL) and a config file key
/// (ping-interval = 25000); flags win over the environment, which wins over the file.
struct Config {
    std::string host = "127.0.0.1";                 // loopback: exposing the server is a deliberate choice
    std::optional<unsigned short> port;             // 3001 (3000 in the conformance profile); 0 picks a free port
    std::size_t threads = 0;                        // 0: one io thread per core
    std::chrono::milliseconds pingInterval{25'000}; // Engine.IO reference defaults
    std::chrono::milliseconds pingTimeout{20'000};
    std::chrono::milliseconds connectTimeout{45'000}; // Socket.IO reference default
    std::uint64_t maxPayload = 1'000'000;             // bytes per message / polling body
    std::uint64_t maxOutboundBytes = 8 * 1024 * 1024; // queued for one client before it is cut off as too slow
    std::chrono::milliseconds requestTimeout{30'000}; // HTTP: a whole request (headers and body) must arrive in this
    std::uint32_t maxHeaderBytes = 16 * 1024;         // HTTP request line + headers; more gets 431
    std::uint64_t volatileBacklogBytes = 64 * 1024;   // queued for a client past which typing is dropped first
    // Per address, 0: no limit; more get 429. The defaults let 5,000 clients behind one NAT
    // reconnect at once and still stop one address opening without bound (net::PeerLimitsConfig).
    std::uint32_t maxConnectionsPerIp = 10'000; // open connections per address
    std::uint32_t handshakesPerSecond = 100;    // new sessions per second per address ...
    std::uint32_t handshakeBurst = 5'000;       // ... with this many at once
    std::vector<std::string> trustedProxies;    // CIDRs whose X-Forwarded-For / Forwarded name the client
    std::size_t maxNamespaces = 8;              // Socket.IO namespaces per connection
    std::size_t maxRoomsPerSocket = 1000;       // rooms one socket may be in
    std::uint32_t maxPendingAcks = 128;         // requests one socket may have awaiting an answer
    std::chrono::seconds recoveryWindow{120};   // connection state recovery after a drop (0: off), as Node's default
    std::chrono::seconds drainTimeout{10};      // SIGTERM/SIGINT: the drain ends (and the process exits) within this
    std::uint32_t loginPerIpPerMinute = 100;    // POST /v1/auth/login attempts per address a minute (0: no limit)
    std::uint32_t loginFailuresPerAccount = 10; // logins without a success per email in the window (0: no limit)
    std::chrono::milliseconds loginFailureWindow{300'000}; // ... that window: 5 minutes
    std::uint32_t loginHashQueue = 16;                     // logins waiting for or in password hashing; more get 429
    std::size_t maxEventNameBytes = 128;                   // longer event names are malformed packets
    std::size_t maxJsonDepth = 32;                         // JSON nesting per packet (at most 64)
    std::size_t maxAttachments = 10;                       // binary attachments per packet (at most 256)
    std::chrono::seconds typingTimeout{5};                 // typing not renewed for this long is told stopped; 0: never
    std::vector<std::string> corsOrigins;                  // empty: any origin
    std::string logLevel = "info";                         // trace, debug, info, warn, error, off
    std::string logFormat = "text";                        // text, or json: one object a line
    bool accessLog = false;                                // a line per REST request and handshake
    std::string dataDir = "./data";                        // the SQLite file and a generated JWT secret live here
    std::string webRoot = defaultWebRoot();                // the web client's files; "none": not served
    std::string store; // "sqlite:PATH" or "postgres://user:pass@host:port/db"; empty: sqlite:<dataDir>/parley.db
    std::string redis; // "redis://host:port[/db]": join a cluster over Redis; empty: one process
    std::uint32_t storePool = 0;                 // PostgreSQL connections of this process; 0: the store's default
    std::chrono::microseconds commitDelay{1000}; // longest a write waits to share a commit, while writes come fast
    std::chrono::milliseconds slowCommit{100};   // a commit this slow is logged as a warning; 0: never
    std::string jwtSecret;                       // HS256 secret; empty: read or create <dataDir>/jwt-secret
    std::string jwtPublicKey;                    // PEM file for RS256/ES256 tokens (instead of a secret)
    std::string jwtIssuer;                       // when set, tokens must carry this iss
    std::string jwtAudience;                     // when set, tokens must carry this aud
    bool jwtRequireExp = true;                   // a JWT without exp is refused (Parley's own always carry one)
    std::chrono::seconds jwtLeeway{30};          // clock skew forgiven on exp/nbf; a socket ends at exp + this
    std::uint32_t tokenRenewalsPerMinute = 6;    // auth:renew per socket a minute
    std::uint32_t storeOpsPer10s = 60;           // receipt:read + typing outside its rooms, per socket
    std::string adminUsername = "admin";         // the socket.io admin UI's login name ...
    std::string adminPassword;                   // ... and password; empty: no /admin namespace
    bool adminReadonly = false;                  // the admin UI may look but not join, leave, emit or disconnect
    std::string adminMode = "development";       // development: sockets, rooms and events too; production: stats
    bool conformance = false;                    // the protocol test profile of CONFORMANCE.md
    std::string configFile;                      // the TOML file read under the environment and flags; empty: none

    /// Whether the socket.io admin UI's namespace is on (an admin password is set).
    bool servesAdmin() const { return !adminPassword.empty(); }
    /// Whether the web client is served (--web-root is not "none").
    bool servesWeb() const { return webRoot != kNoWebRoot; }
    static constexpr std::string_view kNoWebRoot = "none";

    unsigned short effectivePort() const { return port.value_or(conformance ? 3000 : 3001); }
    std::size_t effectiveThreads() const;
    /// `store`, or the default SQLite file under dataDir. Throws for a scheme Parley cannot use.
    std::string storeUri() const;
    /// storeUri() with any password masked: what a log line may say.
    std::string storeDescription() const;
};

/// Parses flags (argv from the first flag on) over PARLEY_* environment variables over the
/// TOML file named by --config or PARLEY_CONFIG (each key a flag's name without its dashes).
/// Throws std::invalid_argument with a message naming the bad flag, or the file, line and key.
Config parseConfig(int argc, char** argv);

/// What `parley config` prints: every key with the value in effect, as a TOML file that
/// --config reads back (secrets masked).
std::string describeConfig(const Config& c);
/// Every key a config file may hold.
std::vector<std::string> configKeys();

/// The text of `--help`.
std::string usage();

} // namespace parley::app
