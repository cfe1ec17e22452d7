// bigroom: a connect storm into one big chat. Every client is a member of one chat of all the
// clients and of a small chat of --members; all connect, paced evenly over --storm-seconds, and
// join both rooms. What the server spends on it, how many presence frames each client gets, and
// whether each client ends up seeing everyone online.

#include "Clock.hpp"
#include "Fleet.hpp"
#include "RestClient.hpp"
#include "Roster.hpp"
#include "Scenarios.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

namespace parley::bench {

namespace {

// Presence quiet for this long: settled.
constexpr double kPresenceQuietSec = 3;
// The longest wait for it after all joined.
constexpr double kPresenceSettleCapSec = 30;

// {total, median, max, min} of one count per client.
boost::json::object perClient(std::vector<std::uint64_t> v) {
    const std::uint64_t total = std::accumulate(v.begin(), v.end(), std::uint64_t{0});
    if (v.empty()) return {{"total", 0}, {"median", nullptr}, {"max", nullptr}, {"min", nullptr}};
    std::sort(v.begin(), v.end());
    const double median = v.size() % 2
                              ? static_cast<double>(v[v.size() / 2])
                              : (static_cast<double>(v[v.size() / 2 - 1]) + static_cast<double>(v[v.size() / 2])) / 2;
    return {{"total", total}, {"median", median}, {"max", v.back()}, {"min", v.front()}};
}

std::string perClientLine(const boost::json::object& o) {
    return format("total %llu, per client median %g, max %llu",
                  static_cast<unsigned long long>(o.at("total").to_number<std::uint64_t>()),
                  o.at("median").is_null() ? 0.0 : o.at("median").to_number<double>(),
                  static_cast<unsigned long long>(o.at("max").is_null() ? 0 : o.at("max").to_number<std::uint64_t>()));
}

} // namespace

void runBigRoom(const Options& o, Report& report) {
    ensureDescriptors(o.clients + 64);
    auto& j = report.json();

    // Set-up (not measured): the users, their small chats, the big chat (its members beyond the
    // first 1000 added one by one over REST, as createChats does for any chat that large).
    const std::int64_t setupStart = nowNs();
    Roster roster = makeRoster(o.secret, o.clients, tokenTtl(o));
    planChats(roster, (o.clients + o.members - 1) / o.members);
    std::vector<std::size_t> everyone(o.clients);
    std::iota(everyone.begin(), everyone.end(), std::size_t{0});
    const std::size_t bigChat = addChat(roster, std::move(everyone));
    RestClient rest(o.endpoint, o.hostHeader);
    try {
        createChats(rest, roster);
    } catch (const std::exception& e) {
        // A server's member cap (Parley's and the Node peer's: 5000) refuses a larger chat.
        throw std::runtime_error(format("the big chat of %zu members could not be built: %s", o.clients, e.what()));
    }
    const double chatsMs = static_cast<double>(nowNs() - setupStart) / 1e6;
    report.line(format("set-up: %zu chats of ~%zu and one of %zu over REST in %.0f ms", roster.chats.size() - 1,
                       o.members, o.clients, chatsMs));

    StringMap<std::uint32_t> userIndex;
    for (std::size_t i = 0; i < roster.users.size(); ++i)
        userIndex.emplace(roster.users[i].id, static_cast<std::uint32_t>(i));
    RunShared shared{o, roster, TransportKind::WebSocket, makeRunTag(), {}, &userIndex};
    Progress& p = shared.progress;
    const ServerProbe server(o.serverPids);
    Workers workers(o.threads);
    Fleet fleet(workers, shared);

    // The storm: client i starts at t0 + i/N of the span.
    const std::int64_t spanNs = secondsToNs(o.stormSec);
    const std::int64_t t0 = nowNs() + 50000000;
    fleet.startPaced(t0, spanNs);
    sleepUntilNs(t0);
    const Edge start = takeEdge(server, workers);
    const bool allJoined = fleet.waitSettled(t0 + spanNs + secondsToNs(o.durationSec));
    const Edge joined = takeEdge(server, workers);
    const std::size_t ready = p.ready.load();
    const std::size_t failed = p.failed.load();
    const std::int64_t lastReady = p.lastReadyNs.load();

    // Presence settles: no frame for 3 s (30 s at most).
    const bool quiet = waitUntil([&] { return nowNs() - p.lastPresenceNs.load() >= secondsToNs(kPresenceQuietSec); },
                                 joined.ns + secondsToNs(kPresenceSettleCapSec));
    const Edge settled = takeEdge(server, workers);
    // What each client saw is final now: the closes below tell everyone offline.
    p.presenceFrozen.store(true, std::memory_order_release);
    const std::int64_t lastPresence = p.lastPresenceNs.load();
    const std::size_t cut = fleet.closeAll(std::chrono::seconds(5));
    workers.finish(std::chrono::seconds(2));

    // Figures (the io threads have stopped: the members are ours to read).
    const WindowFigures storm = measure(start, joined);
    const WindowFigures toSettled = measure(start, settled);
    std::int64_t firstStart = std::numeric_limits<std::int64_t>::max();
    std::int64_t lastStart = 0;
    std::vector<std::int64_t> joinUs;
    std::vector<std::uint64_t> updates, batches, entries, snapshots, frames;
    std::uint64_t unknownUsers = 0, otherEvents = 0, drops = 0;
    std::size_t notOneSnapshot = 0, wrongViews = 0;
    std::uint64_t wrongEntries = 0;
    std::string firstWrong;
    const auto& bigMembers = roster.chats[bigChat].members;
    for (const auto& m : fleet.members()) {
        if (m->startNs() > 0) {
            firstStart = std::min(firstStart, m->startNs());
            lastStart = std::max(lastStart, m->startNs());
        }
        if (m->readyNs() > 0 && m->startNs() > 0 && m->readyNs() >= m->startNs())
            joinUs.push_back((m->readyNs() - m->startNs()) / 1000);
        updates.push_back(m->presenceUpdates);
        batches.push_back(m->presenceBatches);
        entries.push_back(m->presenceBatchEntries);
        snapshots.push_back(m->presenceSnapshots);
        frames.push_back(m->presenceUpdates + m->presenceBatches);
        unknownUsers += m->presenceUnknownUsers;
        otherEvents += m->otherEvents;
        drops += m->drops;
        // One snapshot; in the batched form (its snapshots carry a chatId), one per chat.
        const std::size_t wanted = m->presenceChatSnapshots ? roster.chatsOf[m->index()].size() : 1;
        if (m->presenceSnapshots != wanted || (m->presenceChatSnapshots && m->presenceChatSnapshots != wanted))
            ++notOneSnapshot;
        // Its view of the big chat's other members: every one online.
        std::uint64_t wrong = 0;
        std::size_t example = Roster::kNoChat;
        for (std::size_t k : bigMembers) {
            if (k == m->index()) continue;
            const bool online = k < m->presenceView.size() && m->presenceView[k] == PresenceSeen::Online;
            if (!online) {
                ++wrong;
                if (example == Roster::kNoChat) example = k;
            }
        }
        if (wrong) {
            ++wrongViews;
            wrongEntries += wrong;
            if (firstWrong.empty())
                firstWrong = format("client %zu sees %llu members not online (e.g. client %zu: %s)", m->index(),
                                    static_cast<unsigned long long>(wrong), example,
                                    example >= m->presenceView.size()                   ? "never told"
                                    : m->presenceView[example] == PresenceSeen::Offline ? "offline"
                                    : m->presenceView[example] == PresenceSeen::Unknown ? "never told"
                                                                                        : "another status");
        }
    }
    if (firstStart == std::numeric_limits<std::int64_t>::max()) firstStart = t0;
    auto joinLatency = latencyJson(joinUs);
    const double allJoinedMs = allJoined ? static_cast<double>(lastReady - firstStart) / 1e6 : -1;
    const double fromLastStartMs = allJoined ? static_cast<double>(lastReady - lastStart) / 1e6 : -1;
    const double settledMs = lastPresence > 0 ? static_cast<double>(lastPresence - firstStart) / 1e6 : 0;
    const auto round2 = [](double v) { return std::round(v * 100) / 100; };

    j["setup"] = boost::json::object{{"chatsMs", chatsMs},
                                     {"chats", roster.chats.size()},
                                     {"bigChatMembers", bigMembers.size()},
                                     {"runTag", shared.runTag}};
    j["presenceBatch"] = o.presenceBatch;
    j["stormSeconds"] = o.stormSec;
    j["counts"] = boost::json::object{{"clients", o.clients},
                                      {"joined", ready},
                                      {"failed", failed},
                                      {"drops", drops},
                                      {"cutAtClose", cut},
                                      {"otherEvents", otherEvents},
                                      {"presenceUnknownUsers", unknownUsers}};
    j["allJoinedMs"] = allJoined ? boost::json::value(round2(allJoinedMs)) : nullptr;
    j["lastStartToAllJoinedMs"] = allJoined ? boost::json::value(round2(fromLastStartMs)) : nullptr;
    j["joinLatencyUs"] = joinLatency;
    j["presenceSettled"] = quiet;
    j["lastPresenceFrameMs"] = round2(settledMs);
    j["serverCpuUs"] = storm.serverSampled ? boost::json::value(storm.serverCpuUs) : nullptr;
    j["serverRssKb"] = storm.serverSampled ? boost::json::value(storm.serverRssKbEnd) : nullptr;
    j["serverCpuUsPerConnection"] =
        ratio(static_cast<double>(storm.serverCpuUs), static_cast<double>(ready), storm.serverSampled);
    j["serverCpuUsToSettled"] = toSettled.serverSampled ? boost::json::value(toSettled.serverCpuUs) : nullptr;
    j["serverCpuUsPerConnectionToSettled"] =
        ratio(static_cast<double>(toSettled.serverCpuUs), static_cast<double>(ready), toSettled.serverSampled);
    const auto updatesJson = perClient(updates);
    const auto batchesJson = perClient(batches);
    const auto entriesJson = perClient(entries);
    const auto snapshotsJson = perClient(snapshots);
    const auto framesJson = perClient(frames);
    j["presence"] = boost::json::object{{"updates", updatesJson},      {"batches", batchesJson},
                                        {"batchEntries", entriesJson}, {"snapshots", snapshotsJson},
                                        {"frames", framesJson},        {"clientsWithoutOneSnapshot", notOneSnapshot}};
    j["wrongFinalViews"] = wrongViews;
    j["wrongFinalViewEntries"] = wrongEntries;
    j["generatorBound"] = false;
    addWindow(report, "storm", storm);
    addWindow(report, "stormToSettled", toSettled);

    report.line(format("storm: %zu clients (presence %s) connecting over %.1f s, each joining its chat of ~%zu and "
                       "the chat of %zu",
                       o.clients, o.presenceBatch ? "batch" : "single updates", o.stormSec, o.members,
                       bigMembers.size()));
    if (allJoined)
        report.line(format("all %zu joined %.1f ms after the first connect started, %.1f ms after the last", ready,
                           allJoinedMs, fromLastStartMs));
    else
        report.line(format("only %zu of %zu joined, %zu failed", ready, o.clients, failed));
    report.line("connect to joined per client: " + latencyLine(joinLatency));
    if (storm.serverSampled && ready > 0)
        report.line(format("server: %.0f us CPU per connect to all joined, %.0f us through presence settling",
                           static_cast<double>(storm.serverCpuUs) / static_cast<double>(ready),
                           static_cast<double>(toSettled.serverCpuUs) / static_cast<double>(ready)));
    report.line("presence:update frames: " + perClientLine(updatesJson));
    report.line("presence:batch frames: " + perClientLine(batchesJson) +
                "; entries in them: " + perClientLine(entriesJson));
    report.line(format("presence:snapshot: %s; clients without exactly one (a chat's in the batched form): %zu",
                       perClientLine(snapshotsJson).c_str(), notOneSnapshot));
    report.line(format("presence %s: last frame %.0f ms after the first connect started",
                       quiet ? "settled" : "still moving after 30 s", settledMs));
    report.line(format("final views: %zu clients see a member of the big chat not online (%llu entries)%s%s",
                       wrongViews, static_cast<unsigned long long>(wrongEntries), firstWrong.empty() ? "" : ": ",
                       firstWrong.c_str()));

    if (!allJoined)
        report.fail(format("%zu of %zu clients did not connect and join (%s)", o.clients - ready, o.clients,
                           firstError(fleet).c_str()));
    if (wrongViews)
        report.fail(format("%zu clients' final presence view is wrong (%s)", wrongViews, firstWrong.c_str()));
    if (notOneSnapshot)
        report.fail(format("%zu clients did not get exactly one presence:snapshot (one per chat in the batched form)",
                           notOneSnapshot));
    if (drops) report.fail(format("%llu connections dropped", static_cast<unsigned long long>(drops)));
}

} // namespace parley::bench
