#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace parley::app {

/// Everything `parley serve` can be told, one commented default per field. Each flag has a
/// PARLEY_* environment twin (--ping-interval <-> PARLEY_PING_INTERVAL); flags win.
struct Config {
    std::string host = "127.0.0.1";                 // loopback: exposing the server is a deliberate choice
    std::optional<unsigned short> port;             // 3001 (3000 in the conformance profile); 0 picks a free port
    std::size_t threads = 0;                        // 0: one io thread per core
    std::chrono::milliseconds pingInterval{25'000}; // Engine.IO reference defaults
    std::chrono::milliseconds pingTimeout{20'000};
    std::chrono::milliseconds connectTimeout{45'000}; // Socket.IO reference default
    std::uint64_t maxPayload = 1'000'000;             // bytes per message / polling body
    std::uint64_t maxOutboundBytes = 8 * 1024 * 1024; // queued for one client before it is cut off as too slow
    std::chrono::milliseconds requestTimeout{30'000}; // HTTP: idle keep-alive and slow senders
    std::vector<std::string> corsOrigins;             // empty: any origin
    std::string logLevel = "info";                    // trace, debug, info, warn, error, off
    std::string dataDir = "./data";                   // the SQLite file and a generated JWT secret live here
    std::string store;                                // "sqlite:PATH"; empty: sqlite:<dataDir>/parley.db
    std::string jwtSecret;                            // HS256 secret; empty: read or create <dataDir>/jwt-secret
    std::string jwtPublicKey;                         // PEM file for RS256/ES256 tokens (instead of a secret)
    std::string jwtIssuer;                            // when set, tokens must carry this iss
    std::string jwtAudience;                          // when set, tokens must carry this aud
    bool conformance = false;                         // the protocol test profile of CONFORMANCE.md

    unsigned short effectivePort() const { return port.value_or(conformance ? 3000 : 3001); }
    std::size_t effectiveThreads() const;
    /// The SQLite file path of `store` (or the default under dataDir). Throws for other schemes.
    std::string sqlitePath() const;
};

/// Parses flags (argv from the first flag on) over PARLEY_* environment variables.
/// Throws std::invalid_argument with a message naming the bad flag.
Config parseConfig(int argc, char** argv);

/// The text of `--help`.
std::string usage();

} // namespace parley::app
