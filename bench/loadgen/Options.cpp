#include "Options.hpp"

#include <boost/asio/ip/address.hpp>

#include <charconv>
#include <cmath>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace parley::bench {

namespace {

constexpr std::string_view kUsage =
    R"(parley-bench: load generator for Parley (and any server with the same Socket.IO chat contract)

usage: parley-bench <scenario> --url http://127.0.0.1:PORT --secret SECRET [options]

scenarios
  hold             connect --clients idle authenticated WebSocket clients, hold them --duration s;
                   server RSS and CPU per connection
  fanout           --chats chats of --members members; every member sends message:send at --rate
                   msgs/s for --duration s; ack latency, deliveries/s, exactly-once check (every
                   acknowledged message reaches every member once, in per-sender order, nothing for
                   refused sends) and the REST history compared with the acknowledged set
  churn            --clients concurrent loops of connect, authenticate, room:join, presence:ping,
                   close; --cycles cycles in all; cycles/s and server CPU per cycle
  polling          a small fanout over HTTP long-polling: --clients clients in chats of --members
  reconnect-storm  connect --clients clients (joined to chats of --members), drop them all at once,
                   reconnect them all; ms until every one is connected and joined again
  bigroom          --clients clients, all members of one big chat and also of chats of --members;
                   the storm: every client connects (paced evenly over --storm-seconds) and
                   joins both chats; ms until all joined, server CPU per connect, presence frames
                   per client (presence:update, presence:batch and its entries, presence:snapshot),
                   then, once presence is quiet (3 s without a frame, 30 s at most), how many
                   clients' views (snapshot + updates in arrival order) miss someone online

options
  --url URL[,URL...]        the server, http://HOST:PORT; loopback addresses only. Several
                            (a cluster's processes): client i connects to URL i mod N, so a
                            chat's members sit on different processes; REST goes to the first
  --secret S                the server's HS256 JWT secret (parley serve --jwt-secret)
  --clients N               hold 1000, churn 50, polling 20, reconnect-storm 1000, bigroom 5000.
                            fanout: default chats x members (each client in one chat); fewer
                            clients P share them: chat c's members are clients (c x M + j) mod P
  --chats C                 fanout: number of chats (default 2)
  --members M               members per chat (default 10). A chat larger than 1000 (fanout's, or
                            bigroom's big chat) gets the members beyond the first 1000 one by
                            one over REST (Parley and the Node peer take up to 5000)
  --rate R                  messages/s per member (default 0.95: the limit is 10 per 10 s); a
                            member of several chats sends to them in turn
  --chat-rate R             fanout: messages/s per chat instead, sent by its members in turn
                            (member j sends the chat's sends j, j + M, ...)
  --storm-seconds S         bigroom: connects spread evenly over S s (default 10)
  --presence-batch          clients connect with auth {token, presence: "batch"} (the server's
                            opt-in to presence:batch); without it, auth is {token}
  --duration S              the measured window and hard cap of its loops: hold 10, fanout 10,
                            polling 10, churn 60 (cap), reconnect-storm 60 (cap); bigroom: the
                            cap on the wait for all joined after the last connect starts (60)
  --cycles K                churn: total cycles (default 500)
  --threads T               io threads of the generator (default 1: one io_context)
  --server-pid PID[,PID...] sample the server's CPU (/proc/PID/stat, all threads) and RSS
                            (/proc/PID/status) at the window edges; several: summed, and each
                            in sendWindow.serverCpuUsByPid
  --store-pid PID[,PID...]  fanout/polling: also sample the CPU of a back end's process tree
                            (PID, e.g. PostgreSQL's postmaster or redis-server, all its
                            descendants and what it reaped) at the window edges: storeCpuUs,
                            storeCpuUsPerDeliveredMessage; several: summed, and each in
                            sendWindow.storeCpuUsByPid
  --connect-concurrency K   handshakes in flight during set-up (default 256)
  --storm-concurrency K     reconnect-storm: reconnects in flight (default 0 = all at once)
  --body-bytes B            message body length (default 64)
  --drain S                 after the window, longest wait for acks and deliveries (default 10)
  --settle S                pause between set-up and the window (default 1)
  --connect-timeout S       longest set-up wait for all clients (default 60)
  --max-clients N           safety cap on clients per process (default 9000)
  --no-history-check        skip the REST history comparison
  --spread-phases           fanout/polling: spread each chat's members over the send period
                            (senders unrelated to each other) instead of giving them neighbouring
                            phases (a chat's members send in consecutive milliseconds)
  --deadline S              hard cap on the whole run, set-up and checks included; when it passes,
                            the run is abandoned with exit status 3 (default: connect-timeout +
                            settle + duration + drain + 300)
  --help

limits
  This machine allows 20,000 file descriptors per process (ulimit -n). A WebSocket client uses
  one, a polling client two, so one parley-bench process is capped at 9000 clients by default;
  for more, run several processes (or raise --max-clients when the fd limit allows it).
  The server needs one descriptor per client as well. Loopback only.

output
  A human-readable summary on stderr and one JSON object, with every figure, on the last line of
  stdout. Latencies are in microseconds. "generatorBound": true means a generator thread used more
  than 90% of a core during the window: the figures then measure the generator, not the server.
  Exit status: 0 ran and every correctness check passed, 1 ran but a check failed (lost,
  duplicated, out of order, history mismatch, clients that could not connect), 2 could not run,
  3 the --deadline passed.
  Server CPU comes from /proc in clock ticks (10 ms here): windows shorter than a few seconds
  carry that much uncertainty (serverCpuResolutionUs in the JSON).
)";

double toDouble(std::string_view flag, std::string_view text) {
    double v = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || ptr != text.data() + text.size() || !std::isfinite(v) || v < 0)
        throw std::invalid_argument(std::string(flag) + ": not a non-negative number: " + std::string(text));
    return v;
}

std::size_t toCount(std::string_view flag, std::string_view text) {
    std::size_t v = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || ptr != text.data() + text.size())
        throw std::invalid_argument(std::string(flag) + ": not a count: " + std::string(text));
    return v;
}

std::vector<int> toPids(std::string_view flag, std::string_view text) {
    std::vector<int> pids;
    for (std::size_t from = 0; from <= text.size();) {
        const auto comma = std::min(text.find(',', from), text.size());
        const auto pid = toCount(flag, text.substr(from, comma - from));
        if (pid == 0 || pid > 0x3fffffff) throw std::invalid_argument(std::string(flag) + ": not a pid");
        pids.push_back(static_cast<int>(pid));
        from = comma + 1;
    }
    return pids;
}

// http://HOST:PORT[/] with HOST a loopback address or "localhost".
Target parseUrl(std::string_view u) {
    constexpr std::string_view kScheme = "http://";
    if (u.substr(0, kScheme.size()) != kScheme) throw std::invalid_argument("--url must start with http://");
    u.remove_prefix(kScheme.size());
    if (!u.empty() && u.back() == '/') u.remove_suffix(1);
    const auto colon = u.rfind(':');
    if (colon == std::string_view::npos) throw std::invalid_argument("--url needs a port: http://127.0.0.1:PORT");
    std::string host(u.substr(0, colon));
    const auto port = toCount("--url port", u.substr(colon + 1));
    if (port == 0 || port > 65535) throw std::invalid_argument("--url: bad port");
    if (host == "localhost") host = "127.0.0.1";
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(host, ec);
    if (ec) throw std::invalid_argument("--url: host must be an IP address or localhost: " + host);
    if (!address.is_loopback()) throw std::invalid_argument("--url: loopback addresses only (got " + host + ")");
    return {{address, static_cast<unsigned short>(port)}, std::string(u)};
}

// A comma-separated list of URLs, each as parseUrl() takes it.
void parseUrls(Options& o) {
    const std::string_view all = o.url;
    for (std::size_t from = 0; from <= all.size();) {
        const auto comma = std::min(all.find(',', from), all.size());
        o.targets.push_back(parseUrl(all.substr(from, comma - from)));
        from = comma + 1;
    }
    o.endpoint = o.targets.front().endpoint;
    o.hostHeader = o.targets.front().hostHeader;
}

} // namespace

std::string usage() { return std::string(kUsage); }

std::optional<Options> parseOptions(int argc, char** argv) {
    std::vector<std::string_view> args(argv + 1, argv + argc);
    for (auto a : args)
        if (a == "--help" || a == "-h") return std::nullopt;
    if (args.empty()) throw std::invalid_argument("missing scenario");

    Options o;
    o.scenarioName = std::string(args[0]);
    if (o.scenarioName == "hold")
        o.scenario = Scenario::Hold;
    else if (o.scenarioName == "fanout")
        o.scenario = Scenario::Fanout;
    else if (o.scenarioName == "churn")
        o.scenario = Scenario::Churn;
    else if (o.scenarioName == "polling")
        o.scenario = Scenario::Polling;
    else if (o.scenarioName == "reconnect-storm")
        o.scenario = Scenario::ReconnectStorm;
    else if (o.scenarioName == "bigroom")
        o.scenario = Scenario::BigRoom;
    else
        throw std::invalid_argument("unknown scenario: " + o.scenarioName);

    for (std::size_t i = 1; i < args.size(); ++i) {
        const std::string_view flag = args[i];
        if (flag == "--no-history-check") {
            o.historyCheck = false;
            continue;
        }
        if (flag == "--spread-phases") {
            o.spreadPhases = true;
            continue;
        }
        if (flag == "--presence-batch") {
            o.presenceBatch = true;
            continue;
        }
        if (i + 1 >= args.size()) throw std::invalid_argument(std::string(flag) + " needs a value");
        const std::string_view v = args[++i];
        if (flag == "--url")
            o.url = std::string(v);
        else if (flag == "--secret")
            o.secret = std::string(v);
        else if (flag == "--clients")
            o.clients = toCount(flag, v);
        else if (flag == "--chats")
            o.chats = toCount(flag, v);
        else if (flag == "--members")
            o.members = toCount(flag, v);
        else if (flag == "--rate")
            o.rate = toDouble(flag, v);
        else if (flag == "--chat-rate")
            o.chatRate = toDouble(flag, v);
        else if (flag == "--storm-seconds")
            o.stormSec = toDouble(flag, v);
        else if (flag == "--duration")
            o.durationSec = toDouble(flag, v);
        else if (flag == "--cycles")
            o.cycles = toCount(flag, v);
        else if (flag == "--threads")
            o.threads = toCount(flag, v);
        else if (flag == "--server-pid")
            o.serverPids = toPids(flag, v);
        else if (flag == "--store-pid")
            o.storePids = toPids(flag, v);
        else if (flag == "--connect-concurrency")
            o.connectConcurrency = toCount(flag, v);
        else if (flag == "--storm-concurrency")
            o.stormConcurrency = toCount(flag, v);
        else if (flag == "--body-bytes")
            o.bodyBytes = toCount(flag, v);
        else if (flag == "--drain")
            o.drainSec = toDouble(flag, v);
        else if (flag == "--settle")
            o.settleSec = toDouble(flag, v);
        else if (flag == "--connect-timeout")
            o.connectTimeoutSec = toDouble(flag, v);
        else if (flag == "--max-clients")
            o.maxClients = toCount(flag, v);
        else if (flag == "--deadline")
            o.deadlineSec = toDouble(flag, v);
        else
            throw std::invalid_argument("unknown option: " + std::string(flag));
    }

    if (o.url.empty()) throw std::invalid_argument("--url is required");
    if (o.secret.empty()) throw std::invalid_argument("--secret is required");
    parseUrls(o);

    // Per-scenario defaults.
    if (o.members == 0) o.members = 10;
    switch (o.scenario) {
    case Scenario::Hold:
        if (o.clients == 0) o.clients = 1000;
        if (o.durationSec == 0) o.durationSec = 10;
        break;
    case Scenario::Fanout:
        if (o.chats == 0) o.chats = 2;
        if (o.clients == 0) o.clients = o.chats * o.members;
        if (o.clients > o.chats * o.members)
            throw std::invalid_argument("fanout: --clients is at most --chats x --members (" +
                                        std::to_string(o.chats * o.members) + ")");
        if (o.clients < o.members) throw std::invalid_argument("fanout: --clients must be at least --members");
        if (o.durationSec == 0) o.durationSec = 10;
        break;
    case Scenario::Polling:
        if (o.clients == 0) o.clients = 20;
        if (o.durationSec == 0) o.durationSec = 10;
        break;
    case Scenario::Churn:
        if (o.clients == 0) o.clients = 50;
        if (o.cycles == 0) o.cycles = 500;
        if (o.durationSec == 0) o.durationSec = 60;
        break;
    case Scenario::ReconnectStorm:
        if (o.clients == 0) o.clients = 1000;
        if (o.durationSec == 0) o.durationSec = 60;
        break;
    case Scenario::BigRoom:
        if (o.clients == 0) o.clients = 5000;
        if (o.durationSec == 0) o.durationSec = 60;
        break;
    }
    if (o.chatRate > 0 && o.scenario != Scenario::Fanout) throw std::invalid_argument("--chat-rate is for fanout");
    if (o.stormSec <= 0 || o.stormSec > 3600) throw std::invalid_argument("--storm-seconds must be in (0, 3600]");

    if (o.threads == 0 || o.threads > 64) throw std::invalid_argument("--threads must be 1..64");
    if (o.clients == 0) throw std::invalid_argument("no clients");
    if (o.clients > o.maxClients)
        throw std::invalid_argument(std::to_string(o.clients) + " clients exceed --max-clients " +
                                    std::to_string(o.maxClients) +
                                    " (20,000 fds per process here: run several generators instead)");
    if (o.durationSec <= 0 || o.durationSec > 24 * 3600)
        throw std::invalid_argument("--duration must be in (0, 86400]");
    if ((o.scenario == Scenario::Fanout || o.scenario == Scenario::Polling) && o.rate <= 0)
        throw std::invalid_argument("--rate must be > 0");
    if (o.bodyBytes < 32 || o.bodyBytes > 8000) throw std::invalid_argument("--body-bytes must be 32..8000");
    if (o.connectConcurrency == 0) throw std::invalid_argument("--connect-concurrency must be > 0");
    if (o.deadlineSec == 0)
        o.deadlineSec = o.connectTimeoutSec + o.settleSec + o.durationSec + o.drainSec + 300 +
                        (o.scenario == Scenario::BigRoom ? o.stormSec + 30 : 0);
    return o;
}

} // namespace parley::bench
