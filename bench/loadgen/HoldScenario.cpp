// hold: N idle authenticated WebSocket connections; what each costs the server.

#include "Clock.hpp"
#include "Fleet.hpp"
#include "Roster.hpp"
#include "Scenarios.hpp"

namespace parley::bench {

void runHold(const Options& o, Report& report) {
    ensureDescriptors(o.clients + 64);
    const Roster roster = makeRoster(o.secret, o.clients, tokenTtl(o));
    RunShared shared{o, roster, TransportKind::WebSocket, makeRunTag(), {}};
    const ServerProbe server(o.serverPids);
    Workers workers(o.threads);
    Fleet fleet(workers, shared);
    const Progress& p = shared.progress;

    // Connect window: from before the first connect to the moment the last one is ready.
    const Edge before = takeEdge(server, workers);
    fleet.startAll(o.connectConcurrency);
    fleet.waitSettled(before.ns + secondsToNs(o.connectTimeoutSec));
    const Edge connected = takeEdge(server, workers);
    const std::size_t ready = p.ready.load();
    const std::size_t failed = p.failed.load();
    const std::int64_t lastReady = p.lastReadyNs.load();

    // Hold window: the idle connections, for --duration.
    sleepUntilNs(connected.ns + secondsToNs(o.durationSec));
    const Edge after = takeEdge(server, workers);
    const std::size_t dropped = p.dropped.load();

    const std::size_t cut = fleet.closeAll(std::chrono::seconds(5));
    workers.finish(std::chrono::seconds(2));

    // Figures.
    const WindowFigures connectW = measure(before, connected);
    const WindowFigures holdW = measure(connected, after);
    std::vector<std::int64_t> connectUs;
    for (const auto& m : fleet.members())
        if (m->readyNs() > 0) connectUs.push_back((m->readyNs() - m->startNs()) / 1000);
    auto latency = latencyJson(connectUs);
    const double connectMs = ready > 0 ? static_cast<double>(lastReady - before.ns) / 1e6 : 0;
    const bool sampled = connectW.serverSampled;
    const double n = static_cast<double>(ready);

    auto& j = report.json();
    j["counts"] = boost::json::object{{"clients", o.clients},
                                      {"connected", ready},
                                      {"failed", failed},
                                      {"droppedWhileHeld", dropped},
                                      {"cutAtClose", cut}};
    j["connectMs"] = connectMs;
    j["connectsPerSec"] = ratio(n, connectMs / 1000.0);
    j["connectLatencyUs"] = latency;
    j["serverCpuUs"] = sampled ? boost::json::value(connectW.serverCpuUs) : nullptr;
    j["serverRssKb"] = sampled ? boost::json::value(connectW.serverRssKbEnd) : nullptr;
    j["serverRssKbPerConnection"] =
        ratio(static_cast<double>(connectW.serverRssKbEnd - connectW.serverRssKbStart), n, sampled);
    j["serverRssKbPerConnectionAfterHold"] =
        ratio(static_cast<double>(holdW.serverRssKbEnd - connectW.serverRssKbStart), n, sampled);
    j["serverCpuUsPerConnection"] = ratio(static_cast<double>(connectW.serverCpuUs), n, sampled);
    j["serverCpuUsIdlePerConnectionPerSec"] =
        ratio(static_cast<double>(holdW.serverCpuUs), n * holdW.wallUs / 1e6, holdW.serverSampled);
    j["generatorBound"] = false;
    addWindow(report, "connect", connectW);
    addWindow(report, "hold", holdW);

    report.line(format("%zu/%zu connected in %.0f ms (%.0f/s), %zu failed; connect %s", ready, o.clients, connectMs,
                       connectMs > 0 ? n / (connectMs / 1000.0) : 0.0, failed, latencyLine(latency).c_str()));
    if (sampled && ready > 0)
        report.line(format("server: %.2f KB RSS and %.0f us CPU per connection; idle: %.3f us CPU per connection per s",
                           j["serverRssKbPerConnection"].to_number<double>(),
                           j["serverCpuUsPerConnection"].to_number<double>(),
                           holdW.serverSampled ? j["serverCpuUsIdlePerConnectionPerSec"].to_number<double>() : 0.0));
    if (sampled && ready > 0 &&
        connectW.serverRssKbEnd - connectW.serverRssKbStart < static_cast<std::int64_t>(ready) / 10)
        report.line("note: the server's RSS hardly grew: it is reusing memory freed by earlier runs; measure hold "
                    "on a freshly started server");
    if (failed > 0 || ready < o.clients)
        report.fail(
            format("%zu of %zu clients did not connect (%s)", o.clients - ready, o.clients, firstError(fleet).c_str()));
    if (dropped > 0) report.fail(format("%zu connections dropped while held (%s)", dropped, firstError(fleet).c_str()));
}

} // namespace parley::bench
