// fanout (WebSocket) and polling (HTTP long-polling): chats whose members all send at a fixed
// rate; ack latency, deliveries per second, exactly-once and the REST history.

#include "Clock.hpp"
#include "DeliveryCheck.hpp"
#include "Fleet.hpp"
#include "HistoryCheck.hpp"
#include "RestClient.hpp"
#include "Roster.hpp"
#include "Scenarios.hpp"
#include "SendScheduler.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace parley::bench {

namespace {

// Once the window has started, fail() must not skip the clean-up: everything below goes on to
// close the clients and stop the threads, and reports what it could measure.
void addDeliveryFailures(Report& report, const DeliveryFigures& d) {
    if (d.lost) report.fail(format("%llu deliveries lost", static_cast<unsigned long long>(d.lost)));
    if (d.duplicated) report.fail(format("%llu deliveries duplicated", static_cast<unsigned long long>(d.duplicated)));
    if (d.outOfOrder)
        report.fail(format("%llu deliveries out of per-sender order", static_cast<unsigned long long>(d.outOfOrder)));
    if (d.refusedDelivered)
        report.fail(format("%llu deliveries of refused sends", static_cast<unsigned long long>(d.refusedDelivered)));
    if (d.idMismatch)
        report.fail(format("%llu deliveries whose _id differs from the ack's serverId",
                           static_cast<unsigned long long>(d.idMismatch)));
    if (d.unknownSeq || d.foreign || d.misrouted || d.wrongFields)
        report.fail(
            format("unexpected message:new: %llu unknown, %llu foreign, %llu from another chat, %llu with wrong fields",
                   static_cast<unsigned long long>(d.unknownSeq), static_cast<unsigned long long>(d.foreign),
                   static_cast<unsigned long long>(d.misrouted), static_cast<unsigned long long>(d.wrongFields)));
    if (d.ackMismatch)
        report.fail(
            format("%llu ok acks with a wrong clientId/serverId", static_cast<unsigned long long>(d.ackMismatch)));
    if (d.ackOutOfOrder)
        report.fail(format("%llu acks out of send order", static_cast<unsigned long long>(d.ackOutOfOrder)));
    if (d.unacked) report.fail(format("%llu sends never acknowledged", static_cast<unsigned long long>(d.unacked)));
    if (d.drops)
        report.fail(format("%llu connections dropped during the run", static_cast<unsigned long long>(d.drops)));
}

struct StoreCommits {
    std::uint64_t commits = 0;
    std::uint64_t writes = 0;
    // parley_store_commit_seconds as /metrics spells it: each finite bound (seconds) with the
    // commits that took at most that long, and the commits in all; empty from a server without it.
    std::vector<std::pair<double, std::uint64_t>> timedAtMost;
    std::uint64_t timed = 0;
};

// What the window's commits took, from the histogram's counts at its two edges: the bound that
// holds 99 % of them (in ms; infinite when only +Inf does), and how many took over 50 ms (a
// stalling disk: a healthy one syncs in well under a millisecond).
struct CommitTimes {
    double p99BoundMs = 0;
    std::uint64_t over50ms = 0;
    bool known = false;
};

CommitTimes commitTimes(const StoreCommits& start, const StoreCommits& end) {
    CommitTimes out;
    if (start.timedAtMost.empty() || start.timedAtMost.size() != end.timedAtMost.size() || end.timed <= start.timed)
        return out;
    out.known = true;
    const std::uint64_t total = end.timed - start.timed;
    out.over50ms = total;
    out.p99BoundMs = std::numeric_limits<double>::infinity();
    for (std::size_t i = 0; i < end.timedAtMost.size(); ++i) {
        const auto [bound, endCount] = end.timedAtMost[i];
        if (bound != start.timedAtMost[i].first) return CommitTimes{}; // not the same histogram
        const std::uint64_t atMost = endCount - start.timedAtMost[i].second;
        if (bound <= 0.05) out.over50ms = total - atMost;
        if (std::isinf(out.p99BoundMs) && static_cast<double>(atMost) >= 0.99 * static_cast<double>(total))
            out.p99BoundMs = bound * 1000;
    }
    return out;
}

// Parley's store counters from GET /metrics; nullopt from a server without them (the Node peer)
// or when the request fails: the figure is extra, never a reason to fail the run.
std::optional<StoreCommits> storeCommits(RestClient& rest) {
    try {
        const RestResponse r = rest.request(boost::beast::http::verb::get, "/metrics", "");
        if (r.status != 200) return std::nullopt;
        StoreCommits out;
        bool commits = false;
        bool writes = false;
        std::string_view text = r.text;
        while (!text.empty()) {
            const auto eol = text.find('\n');
            const std::string_view line = text.substr(0, eol);
            text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
            auto value = [&](std::string_view name, std::uint64_t& into) {
                if (!line.starts_with(name) || line.size() <= name.size() || line[name.size()] != ' ') return false;
                into = std::strtoull(std::string(line.substr(name.size() + 1)).c_str(), nullptr, 10);
                return true;
            };
            commits = value("parley_store_commits_total", out.commits) || commits;
            writes = value("parley_store_committed_writes_total", out.writes) || writes;
            value("parley_store_commit_seconds_count", out.timed);
            constexpr std::string_view bucket = "parley_store_commit_seconds_bucket{le=\"";
            if (line.starts_with(bucket)) {
                const std::string_view tail = line.substr(bucket.size());
                const auto close = tail.find("\"} ");
                const std::string le(tail.substr(0, close == std::string_view::npos ? 0 : close));
                if (!le.empty() && le != "+Inf")
                    out.timedAtMost.emplace_back(
                        std::strtod(le.c_str(), nullptr),
                        std::strtoull(std::string(tail.substr(close + 3)).c_str(), nullptr, 10));
            }
        }
        if (!commits || !writes) return std::nullopt;
        return out;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

// Send to receipt of every delivery to a member other than the sender, of the messages sent
// inside the window [t0, tEnd) (read once the io threads have stopped: the ledgers are final).
std::vector<std::int64_t> deliveryLatenciesUs(const std::vector<std::unique_ptr<Member>>& members, std::int64_t t0,
                                              std::int64_t tEnd) {
    std::vector<std::int64_t> us;
    for (const auto& m : members)
        for (const Delivery& d : m->deliveries) {
            if (d.sender == m->index() || d.sender >= members.size()) continue;
            const auto& sent = members[d.sender]->sent;
            if (d.seq >= sent.size()) continue;
            const std::int64_t sentNs = sent[d.seq].sentNs;
            if (sentNs >= t0 && sentNs < tEnd) us.push_back((d.receivedNs - sentNs) / 1000);
        }
    return us;
}

// Send to receipt by the LAST of its recipients other than the sender, for each message sent
// inside the window that reached at least one of them: what a big chat's fan-out costs the
// member served last.
std::vector<std::int64_t> lastDeliveryLatenciesUs(const std::vector<std::unique_ptr<Member>>& members, std::int64_t t0,
                                                  std::int64_t tEnd) {
    std::vector<std::vector<std::int64_t>> lastNs(members.size());
    for (std::size_t s = 0; s < members.size(); ++s) lastNs[s].assign(members[s]->sent.size(), 0);
    for (const auto& m : members)
        for (const Delivery& d : m->deliveries)
            if (d.sender != m->index() && d.sender < members.size() && d.seq < lastNs[d.sender].size())
                lastNs[d.sender][d.seq] = std::max(lastNs[d.sender][d.seq], d.receivedNs);
    std::vector<std::int64_t> us;
    for (std::size_t s = 0; s < members.size(); ++s)
        for (std::size_t seq = 0; seq < lastNs[s].size(); ++seq) {
            const std::int64_t sentNs = members[s]->sent[seq].sentNs;
            if (lastNs[s][seq] > 0 && sentNs >= t0 && sentNs < tEnd) us.push_back((lastNs[s][seq] - sentNs) / 1000);
        }
    return us;
}

// --chat-rate R: chat c sends R messages/s, its members in turn (member j of M sends its chat's
// sends j, j + M, ...), the chats' phases spread over 1/R: one slot per (member, chat), period M/R.
std::vector<std::vector<SendSlot>> chatRateSlots(const Roster& roster, const Fleet& fleet, const Workers& workers,
                                                 double chatRate, std::int64_t& periodNs) {
    std::size_t most = 1;
    for (const auto& chat : roster.chats) most = std::max(most, chat.members.size());
    periodNs = static_cast<std::int64_t>(1e9 * static_cast<double>(most) / chatRate);
    std::vector<std::vector<SendSlot>> byThread(workers.size());
    const double chats = static_cast<double>(roster.chats.size());
    for (std::size_t c = 0; c < roster.chats.size(); ++c) {
        const auto& members = roster.chats[c].members;
        // A smaller chat (none in fanout: every chat has --members) sends as often, in a shorter
        // rotation: its members take more than one slot each.
        for (std::size_t j = 0; j < most; ++j) {
            const std::size_t client = members[j % members.size()];
            const auto phase =
                static_cast<std::int64_t>(1e9 * (static_cast<double>(j) + static_cast<double>(c) / chats) / chatRate);
            byThread[workers.ownerOf(client)].push_back(SendSlot{phase, fleet.members()[client].get(), c});
        }
    }
    return byThread;
}

} // namespace

void runFanout(const Options& o, Report& report) {
    const bool polling = o.scenario == Scenario::Polling;
    const std::size_t chatCount = polling ? (o.clients + o.members - 1) / o.members : o.chats;
    ensureDescriptors(o.clients * (polling ? 2 : 1) + 64);

    // Set-up (not measured): users, chats over REST, connections, joins.
    const std::int64_t setupStart = nowNs();
    Roster roster = makeRoster(o.secret, o.clients, tokenTtl(o));
    if (polling)
        planChats(roster, chatCount);
    else
        planSharedChats(roster, chatCount, o.members); // --clients below chats x members: members shared
    RestClient rest(o.endpoint, o.hostHeader);
    createChats(rest, roster);
    const double chatsMs = static_cast<double>(nowNs() - setupStart) / 1e6;

    RunShared shared{o, roster, polling ? TransportKind::Polling : TransportKind::WebSocket, makeRunTag(), {}};
    Progress& p = shared.progress;
    const ServerProbe server(o.serverPids, o.storePids);
    Workers workers(o.threads);
    Fleet fleet(workers, shared);
    fleet.startAll(o.connectConcurrency);
    const bool allReady = fleet.waitSettled(nowNs() + secondsToNs(o.connectTimeoutSec));
    const double connectMs = static_cast<double>(nowNs() - setupStart) / 1e6 - chatsMs;
    auto& j = report.json();
    j["setup"] = boost::json::object{
        {"chatsMs", chatsMs}, {"connectMs", connectMs}, {"chats", roster.chats.size()}, {"runTag", shared.runTag}};
    if (!allReady) {
        fleet.closeAll(std::chrono::seconds(5));
        workers.finish(std::chrono::seconds(2));
        report.fail(format("%zu of %zu clients did not connect and join (%s): no window run",
                           o.clients - p.ready.load(), o.clients, firstError(fleet).c_str()));
        return;
    }
    report.line(format("set-up: %zu chats of ~%zu over REST in %.0f ms; %zu clients connected and joined in %.0f ms",
                       roster.chats.size(), o.members, chatsMs, o.clients, connectMs));
    sleepUntilNs(nowNs() + secondsToNs(o.settleSec));

    // The window: every member sends at its phase; deliveries counted as they arrive.
    std::vector<std::unique_ptr<SendScheduler>> schedulers;
    if (o.chatRate > 0) {
        std::int64_t periodNs = 0;
        auto slots = chatRateSlots(roster, fleet, workers, o.chatRate, periodNs);
        for (std::size_t t = 0; t < workers.size(); ++t)
            schedulers.push_back(
                std::make_unique<SendScheduler>(workers.context(t), std::move(slots[t]), periodNs, p.sendersRunning));
    } else {
        std::vector<std::vector<Member*>> byThread(workers.size());
        for (const auto& m : fleet.members()) byThread[workers.ownerOf(m->index())].push_back(m.get());
        for (std::size_t t = 0; t < workers.size(); ++t)
            schedulers.push_back(std::make_unique<SendScheduler>(workers.context(t), byThread[t], o.clients, o.rate,
                                                                 p.sendersRunning, o.spreadPhases));
    }
    p.sendersRunning = workers.size();
    const std::int64_t t0 = nowNs() + 50000000;
    const std::int64_t tEnd = t0 + secondsToNs(o.durationSec);
    p.windowStartNs = t0;
    p.windowEndNs = tEnd;
    for (std::size_t t = 0; t < workers.size(); ++t)
        boost::asio::post(workers.context(t), [s = schedulers[t].get(), t0, tEnd] { s->start(t0, tEnd); });
    sleepUntilNs(t0);
    const Edge start = takeEdge(server, workers);
    const auto commitsAtStart = storeCommits(rest);
    sleepUntilNs(tEnd);
    const Edge end = takeEdge(server, workers);
    const auto commitsAtEnd = storeCommits(rest);

    // Drain: the last sends (a late timer may still owe some), then the acks and deliveries on
    // their way.
    waitUntil(
        [&] {
            return p.sendersRunning.load() == 0 && p.acksOutstanding.load() <= 0 &&
                   p.deliveriesReceived.load() >= p.deliveriesExpected.load();
        },
        tEnd + secondsToNs(o.drainSec));
    const double drainMs = static_cast<double>(nowNs() - tEnd) / 1e6;
    for (std::size_t t = 0; t < workers.size(); ++t)
        boost::asio::post(workers.context(t), [s = schedulers[t].get()] { s->stop(); });
    const std::size_t cut = fleet.closeAll(std::chrono::seconds(5));
    workers.finish(std::chrono::seconds(2));

    // Figures (the io threads have stopped: the ledgers are ours to read).
    const WindowFigures w = measure(start, end);
    const DeliveryFigures d = checkDeliveries(roster, fleet.members());
    std::vector<std::int64_t> ackUs;
    std::uint64_t windowDeliveries = 0;
    for (const auto& m : fleet.members()) {
        windowDeliveries += m->windowDeliveries;
        for (const auto& rec : m->sent)
            if (rec.status == SendStatus::Acked) ackUs.push_back((rec.ackNs - rec.sentNs) / 1000);
    }
    std::int64_t maxLagNs = 0;
    for (const auto& s : schedulers) maxLagNs = std::max(maxLagNs, s->maxLagNs());
    auto latency = latencyJson(ackUs);
    std::vector<std::int64_t> deliveryUs = deliveryLatenciesUs(fleet.members(), t0, tEnd);
    auto deliveryLatency = latencyJson(deliveryUs);
    std::vector<std::int64_t> lastDeliveryUs = lastDeliveryLatenciesUs(fleet.members(), t0, tEnd);
    auto lastDeliveryLatency = latencyJson(lastDeliveryUs);
    const double windowSec = w.wallUs / 1e6;
    const double deliveriesPerSec = static_cast<double>(windowDeliveries) / windowSec;
    // Offered: --chat-rate per chat, else --rate per member (spread over the member's chats).
    double offered = 0;
    double offeredDeliveries = 0;
    if (o.chatRate > 0) {
        offered = o.chatRate * static_cast<double>(roster.chats.size());
        for (const auto& chat : roster.chats)
            offeredDeliveries += o.chatRate * static_cast<double>(chat.members.size());
    } else {
        offered = static_cast<double>(o.clients) * o.rate;
        for (const auto& chats : roster.chatsOf) {
            double size = 0;
            for (auto c : chats) size += static_cast<double>(roster.chats[c].members.size());
            if (!chats.empty()) offeredDeliveries += o.rate * size / static_cast<double>(chats.size());
        }
    }
    std::uint64_t memberships = 0;
    for (const auto& chat : roster.chats) memberships += chat.members.size();

    j["counts"] = toJson(d);
    j["ackLatencyUs"] = latency;
    j["deliveryLatencyUs"] = deliveryLatency;
    j["lastDeliveryLatencyUs"] = lastDeliveryLatency;
    j["deliveriesInWindow"] = windowDeliveries;
    j["deliveriesPerSec"] = std::round(deliveriesPerSec * 10) / 10;
    j["sendsPerSec"] = std::round(static_cast<double>(d.sent) / windowSec * 10) / 10;
    j["offeredSendsPerSec"] = offered;
    j["offeredDeliveriesPerSec"] = offeredDeliveries;
    j["chatRate"] = o.chatRate > 0 ? boost::json::value(o.chatRate) : nullptr;
    j["chatsPerClient"] = static_cast<double>(memberships) / static_cast<double>(o.clients);
    j["lost"] = d.lost;
    j["duplicated"] = d.duplicated;
    j["exactlyOnce"] = d.exact();
    j["serverCpuUs"] = w.serverSampled ? boost::json::value(w.serverCpuUs) : nullptr;
    j["serverRssKb"] = w.serverSampled ? boost::json::value(w.serverRssKbEnd) : nullptr;
    j["serverCpuUsPerDeliveredMessage"] =
        ratio(static_cast<double>(w.serverCpuUs), static_cast<double>(windowDeliveries), w.serverSampled);
    j["serverCpuUsPerSentMessage"] =
        ratio(static_cast<double>(w.serverCpuUs), static_cast<double>(d.sent), w.serverSampled);
    j["serverCpuUsPerConnectionPerSec"] =
        ratio(static_cast<double>(w.serverCpuUs), static_cast<double>(o.clients) * windowSec, w.serverSampled);
    j["storeCpuUs"] = w.storeSampled ? boost::json::value(w.storeCpuUs) : nullptr;
    j["storeCpuUsPerDeliveredMessage"] =
        ratio(static_cast<double>(w.storeCpuUs), static_cast<double>(windowDeliveries), w.storeSampled);
    // Parley's group commit, from its /metrics (absent from servers without those counters).
    double writesPerCommit = 0;
    if (commitsAtStart && commitsAtEnd && commitsAtEnd->commits > commitsAtStart->commits) {
        writesPerCommit = static_cast<double>(commitsAtEnd->writes - commitsAtStart->writes) /
                          static_cast<double>(commitsAtEnd->commits - commitsAtStart->commits);
        j["storeWritesPerCommit"] = std::round(writesPerCommit * 100) / 100;
    } else {
        j["storeWritesPerCommit"] = nullptr;
    }
    const CommitTimes commitTime =
        commitsAtStart && commitsAtEnd ? commitTimes(*commitsAtStart, *commitsAtEnd) : CommitTimes{};
    if (commitTime.known) {
        j["storeCommitP99BoundMs"] =
            std::isinf(commitTime.p99BoundMs) ? boost::json::value(nullptr) : boost::json::value(commitTime.p99BoundMs);
        j["storeCommitsOver50Ms"] = commitTime.over50ms;
    } else {
        j["storeCommitP99BoundMs"] = nullptr;
        j["storeCommitsOver50Ms"] = nullptr;
    }
    j["drainMs"] = drainMs;
    j["maxSendLagUs"] = maxLagNs / 1000;
    j["cutAtClose"] = cut;
    j["generatorBound"] = false;
    addWindow(report, "send", w);

    if (o.chatRate > 0)
        report.line(
            format("%zu clients in %zu chats (%.2f chats per client), %.2f msgs/s per chat, its members in turn "
                   "(offered %.1f sends/s, %.0f deliveries/s)",
                   o.clients, roster.chats.size(), static_cast<double>(memberships) / static_cast<double>(o.clients),
                   o.chatRate, offered, offeredDeliveries));
    else
        report.line(format("%zu clients in %zu chats (%.2f chats per client), %.2f msgs/s each (offered %.0f sends/s, "
                           "%.0f deliveries/s)",
                           o.clients, roster.chats.size(),
                           static_cast<double>(memberships) / static_cast<double>(o.clients), o.rate, offered,
                           offeredDeliveries));
    report.line(format("sent %llu: acked %llu, rate-limited %llu, refused %llu, unacked %llu; skipped %llu",
                       static_cast<unsigned long long>(d.sent), static_cast<unsigned long long>(d.acked),
                       static_cast<unsigned long long>(d.rateLimited), static_cast<unsigned long long>(d.refused),
                       static_cast<unsigned long long>(d.unacked), static_cast<unsigned long long>(d.skippedSends)));
    report.line("ack latency: " + latencyLine(latency));
    report.line("delivery latency (to the other members): " + latencyLine(deliveryLatency));
    report.line("delivery latency to the last recipient of each message: " + latencyLine(lastDeliveryLatency));
    report.line(format("deliveries: %.0f/s in the window; %llu expected, %llu received, lost %llu, duplicated %llu, "
                       "out of order %llu",
                       deliveriesPerSec, static_cast<unsigned long long>(d.expected),
                       static_cast<unsigned long long>(d.delivered), static_cast<unsigned long long>(d.lost),
                       static_cast<unsigned long long>(d.duplicated), static_cast<unsigned long long>(d.outOfOrder)));
    if (w.serverSampled && windowDeliveries > 0)
        report.line(format("server: %.2f us CPU per delivered message, %.2f us per sent message",
                           static_cast<double>(w.serverCpuUs) / static_cast<double>(windowDeliveries),
                           d.sent ? static_cast<double>(w.serverCpuUs) / static_cast<double>(d.sent) : 0.0));
    if (w.storeSampled && windowDeliveries > 0)
        report.line(format("store (%zu process trees): %.1f ms CPU, %.2f us per delivered message", o.storePids.size(),
                           static_cast<double>(w.storeCpuUs) / 1000.0,
                           static_cast<double>(w.storeCpuUs) / static_cast<double>(windowDeliveries)));
    if (writesPerCommit > 0) report.line(format("store: %.2f writes per commit in the window", writesPerCommit));
    if (commitTime.known)
        report.line(format("store: 99%% of the window's commits took at most %s ms; %llu took over 50 ms",
                           std::isinf(commitTime.p99BoundMs) ? "5000+" : format("%g", commitTime.p99BoundMs).c_str(),
                           static_cast<unsigned long long>(commitTime.over50ms)));
    report.line(format("drain %.0f ms; worst send lag %.2f ms", drainMs, static_cast<double>(maxLagNs) / 1e6));
    addDeliveryFailures(report, d);

    if (o.historyCheck) {
        const HistoryFigures h = checkHistory(rest, roster, fleet.members(), shared.runTag);
        j["history"] = toJson(h);
        report.line(format(
            "REST history: %llu messages in %llu chats (%llu requests); missing %llu, extra %llu, "
            "unacked stored %llu, duplicates %llu, field mismatches %llu, order violations %llu, "
            "paging mismatches %llu",
            static_cast<unsigned long long>(h.messages), static_cast<unsigned long long>(h.chats),
            static_cast<unsigned long long>(h.requests), static_cast<unsigned long long>(h.missing),
            static_cast<unsigned long long>(h.extra), static_cast<unsigned long long>(h.unackedStored),
            static_cast<unsigned long long>(h.duplicates), static_cast<unsigned long long>(h.fieldMismatch),
            static_cast<unsigned long long>(h.orderViolations), static_cast<unsigned long long>(h.pagingMismatch)));
        if (!h.equal()) report.fail("the REST history differs from the acknowledged set");
    } else {
        j["history"] = nullptr;
    }
}

} // namespace parley::bench
