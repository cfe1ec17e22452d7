// reconnect-storm: N joined clients lose their connections at the same instant and all come back.

#include "Clock.hpp"
#include "Fleet.hpp"
#include "RestClient.hpp"
#include "Roster.hpp"
#include "Scenarios.hpp"

#include <cmath>

namespace parley::bench {

void runReconnectStorm(const Options& o, Report& report) {
    ensureDescriptors(o.clients + 64);
    Roster roster = makeRoster(o.secret, o.clients, tokenTtl(o));
    planChats(roster, (o.clients + o.members - 1) / o.members);
    RestClient rest(o.endpoint, o.hostHeader);
    createChats(rest, roster);

    RunShared shared{o, roster, TransportKind::WebSocket, makeRunTag(), {}};
    Progress& p = shared.progress;
    const ServerProbe server(o.serverPids);
    Workers workers(o.threads);
    Fleet fleet(workers, shared);

    // Set-up: everyone connected and joined (not measured).
    const std::int64_t setupStart = nowNs();
    fleet.startAll(o.connectConcurrency);
    if (!fleet.waitSettled(setupStart + secondsToNs(o.connectTimeoutSec))) {
        const std::size_t ready = p.ready.load();
        fleet.closeAll(std::chrono::seconds(5));
        workers.finish(std::chrono::seconds(2));
        report.fail(format("%zu of %zu clients did not connect and join (%s): no storm run", o.clients - ready,
                           o.clients, firstError(fleet).c_str()));
        return;
    }
    const double setupMs = static_cast<double>(nowNs() - setupStart) / 1e6;
    report.line(format("set-up: %zu clients in %zu chats connected and joined in %.0f ms", o.clients,
                       roster.chats.size(), setupMs));
    sleepUntilNs(nowNs() + secondsToNs(o.settleSec));

    // The storm: on every io thread, all connections are cut, then all reconnect.
    p.ready = 0;
    p.failed = 0;
    const std::size_t droppedBefore = p.dropped.load();
    const Edge start = takeEdge(server, workers);
    fleet.onEachThread([](std::size_t, const std::vector<Member*>& ms) {
        for (auto* m : ms) m->abort();
    });
    fleet.startAll(o.stormConcurrency);
    const bool allBack = fleet.waitSettled(start.ns + secondsToNs(o.durationSec));
    const Edge end = takeEdge(server, workers);
    const std::size_t back = p.ready.load();
    const std::size_t failed = p.failed.load();
    const std::int64_t lastReady = p.lastReadyNs.load();
    const std::size_t cut = fleet.closeAll(std::chrono::seconds(5));
    workers.finish(std::chrono::seconds(2));

    const WindowFigures w = measure(start, end);
    std::vector<std::int64_t> backUs;
    for (const auto& m : fleet.members())
        if (m->readyNs() >= start.ns) backUs.push_back((m->readyNs() - start.ns) / 1000);
    auto latency = latencyJson(backUs);
    const double allBackMs = allBack ? static_cast<double>(lastReady - start.ns) / 1e6 : -1;

    auto& j = report.json();
    j["counts"] = boost::json::object{{"clients", o.clients},
                                      {"back", back},
                                      {"failed", failed},
                                      {"droppedBeforeStorm", droppedBefore},
                                      {"cutAtClose", cut}};
    j["setupMs"] = setupMs;
    j["allBackMs"] = allBack ? boost::json::value(std::round(allBackMs * 100) / 100) : nullptr;
    j["backLatencyUs"] = latency;
    j["serverCpuUs"] = w.serverSampled ? boost::json::value(w.serverCpuUs) : nullptr;
    j["serverRssKb"] = w.serverSampled ? boost::json::value(w.serverRssKbEnd) : nullptr;
    j["serverCpuUsPerConnection"] =
        ratio(static_cast<double>(w.serverCpuUs), static_cast<double>(back), w.serverSampled);
    j["generatorBound"] = false;
    addWindow(report, "storm", w);

    if (allBack)
        report.line(format("storm: all %zu back (connected + joined) %.1f ms after the drop", back, allBackMs));
    else
        report.line(
            format("storm: only %zu of %zu back within %.0f s, %zu failed", back, o.clients, o.durationSec, failed));
    report.line("time back per client: " + latencyLine(latency));
    if (w.serverSampled && back > 0)
        report.line(format("server: %.0f us CPU per reconnection",
                           static_cast<double>(w.serverCpuUs) / static_cast<double>(back)));
    if (!allBack)
        report.fail(format("%zu of %zu clients did not come back (%s)", o.clients - back, o.clients,
                           firstError(fleet).c_str()));
}

} // namespace parley::bench
