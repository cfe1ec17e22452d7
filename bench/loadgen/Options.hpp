#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace parley::bench {

enum class Scenario { Hold, Fanout, Churn, Polling, ReconnectStorm, BigRoom };

/// One server process to connect clients to.
struct Target {
    boost::asio::ip::tcp::endpoint endpoint; ///< resolved; always a loopback address
    std::string hostHeader;                  ///< HOST:PORT for the Host header
};

/// Everything a run is parameterised by. Zero for a count means "the scenario's default", which
/// parseOptions() fills in, so a scenario reads only final values.
struct Options {
    Scenario scenario = Scenario::Hold;
    std::string scenarioName;

    std::string url;                         ///< http://HOST:PORT[,http://HOST:PORT...] as given
    boost::asio::ip::tcp::endpoint endpoint; ///< the first URL's, resolved: REST set-up and checks go there
    std::string hostHeader;                  ///< HOST:PORT of the first URL, for the Host header
    /// Every URL, in order: client i connects to targets[i % size] (a cluster's processes, with
    /// no load balancer between; consecutive clients, hence a chat's members, on different ones).
    std::vector<Target> targets;
    std::string secret; ///< HS256 secret of the server's tokens

    std::size_t clients =
        0; ///< hold, churn (concurrent loops), polling, reconnect-storm, bigroom; fanout: shared members
    std::size_t chats = 0;                ///< fanout
    std::size_t members = 0;              ///< members per chat (fanout, polling, churn, reconnect-storm)
    double rate = 0.95;                   ///< messages per second per member; 0.95 stays below the 10 per 10 s limit
    double chatRate = 0;                  ///< fanout: messages per second per chat, its members in turn; 0: --rate
    double stormSec = 10;                 ///< bigroom: the connects are spread evenly over this long
    bool presenceBatch = false;           ///< CONNECT auth carries presence: "batch"
    double durationSec = 0;               ///< the measured window, and the hard cap of every loop in it
    std::size_t cycles = 0;               ///< churn: total connect..close cycles
    std::size_t threads = 1;              ///< io_contexts, one thread each
    std::vector<int> serverPids;          ///< server processes, CPU summed; empty: no server sampling
    std::vector<int> storePids;           ///< back-end roots (postmaster, redis-server), each a tree; empty: none
    std::size_t connectConcurrency = 256; ///< handshakes in flight at once during set-up
    std::size_t stormConcurrency = 0;     ///< reconnect-storm: 0 = every client at once
    std::size_t bodyBytes = 64;           ///< message body length (ASCII)
    double drainSec = 10;                 ///< after the window: longest wait for missing acks and deliveries
    double settleSec = 1;                 ///< pause between set-up and the window (presence broadcasts die down)
    double connectTimeoutSec = 60;        ///< set-up: longest wait for every client to be connected and joined
    std::size_t maxClients = 9000;        ///< refuse larger runs unless raised (file descriptors)
    bool historyCheck = true;             ///< fanout/polling: compare the REST history with the acks
    bool spreadPhases = false;            ///< fanout/polling: a chat's members send far apart in the period
    double deadlineSec = 0;               ///< the whole run's hard cap; 0: set-up + window + drain + 300 s
};

/// The --help text.
std::string usage();

/// Parses argv. Returns nullopt when --help was asked for. Throws std::invalid_argument with a
/// message for the user on anything wrong (unknown flag, bad number, non-loopback URL).
std::optional<Options> parseOptions(int argc, char** argv);

} // namespace parley::bench
