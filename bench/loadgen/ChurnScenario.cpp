// churn: concurrent loops of connect, authenticate, room:join, presence:ping, close.

#include "Clock.hpp"
#include "RestClient.hpp"
#include "Roster.hpp"
#include "Scenarios.hpp"
#include "SioClient.hpp"
#include "Workers.hpp"

#include <boost/asio/post.hpp>
#include <boost/json/object.hpp>

#include <atomic>
#include <memory>

namespace parley::bench {

namespace {

/// What the loops share: a cycle budget and the tallies the main thread watches.
struct ChurnState {
    std::size_t cycles = 0;
    std::int64_t capNs = 0;
    std::atomic<std::size_t> started{0};
    std::atomic<std::size_t> completed{0};
    std::atomic<std::size_t> failed{0};
    std::atomic<std::size_t> active{0}; ///< loops still running
};

/// One loop, as one user: each cycle a fresh connection on which it authenticates, joins its
/// chat, pings, and closes gracefully; the next cycle starts when the connection has ended.
class ChurnLoop final : public SioHandler {
public:
    ChurnLoop(boost::asio::io_context& ctx, const Options& o, const User& user, std::string chatId, ChurnState& state)
        : client_(ctx, o.endpoint, o.hostHeader, TransportKind::WebSocket, *this), user_(user),
          chatId_(std::move(chatId)), state_(state) {}

    void next() {
        if (stopped_ || nowNs() >= state_.capNs || state_.started.fetch_add(1) >= state_.cycles) {
            stopped_ = true;
            --state_.active;
            return;
        }
        ok_ = false;
        failedThisCycle_ = false;
        cycleStartNs_ = nowNs();
        client_.connect(user_.token);
    }

    /// Ends the loop at the cap: the current cycle is cut and not counted.
    void stop() {
        if (stopped_) return;
        stopped_ = true;
        aborted_ = true;
        client_.close(false);
    }

    std::vector<std::int64_t> cycleUs;
    std::string lastError;

private:
    void onConnect() override {
        client_.emit("room:join", boost::json::object{{"chatId", chatId_}}, [this](const boost::json::array& args) {
            if (!okAck(args, "room:join")) return;
            client_.emit("presence:ping", boost::json::object{}, [this](const boost::json::array& a) {
                if (!okAck(a, "presence:ping")) return;
                ok_ = true;
                client_.close(true);
            });
        });
    }

    void onConnectError(std::string_view message) override { fail("connect: " + std::string(message)); }

    void onEvent(std::string_view, const boost::json::array&) override {}

    void onClose(boost::system::error_code ec) override {
        if (ok_ && !ec) {
            ++state_.completed;
            cycleUs.push_back((nowNs() - cycleStartNs_) / 1000);
        } else if (!aborted_) {
            fail("closed: " + (ec ? ec.message() : std::string("before the cycle ended")));
        }
        if (aborted_) {
            --state_.active;
            return;
        }
        next();
    }

    bool okAck(const boost::json::array& args, const char* what) {
        const auto* o = args.empty() ? nullptr : args[0].if_object();
        const auto* ok = o ? o->if_contains("ok") : nullptr;
        if (ok && ok->is_bool() && ok->get_bool()) return true;
        fail(std::string(what) + " refused");
        client_.close(false);
        return false;
    }

    void fail(std::string why) {
        if (failedThisCycle_) return;
        failedThisCycle_ = true;
        lastError = std::move(why);
        ++state_.failed;
    }

    SioClient client_;
    const User& user_;
    std::string chatId_;
    ChurnState& state_;
    std::int64_t cycleStartNs_ = 0;
    bool ok_ = false;
    bool failedThisCycle_ = false;
    bool stopped_ = false;
    bool aborted_ = false;
};

} // namespace

void runChurn(const Options& o, Report& report) {
    ensureDescriptors(o.clients + 64);
    Roster roster = makeRoster(o.secret, o.clients, tokenTtl(o));
    planChats(roster, (o.clients + o.members - 1) / o.members);
    RestClient rest(o.endpoint, o.hostHeader);
    createChats(rest, roster);

    const ServerProbe server(o.serverPids);
    Workers workers(o.threads);
    ChurnState state;
    state.cycles = o.cycles;
    state.active = o.clients;
    std::vector<std::unique_ptr<ChurnLoop>> loops;
    for (std::size_t i = 0; i < o.clients; ++i)
        loops.push_back(std::make_unique<ChurnLoop>(workers.context(workers.ownerOf(i)), o, roster.users[i],
                                                    roster.chats[roster.firstChatOf(i)].id, state));

    const Edge start = takeEdge(server, workers);
    state.capNs = start.ns + secondsToNs(o.durationSec);
    for (std::size_t i = 0; i < loops.size(); ++i)
        boost::asio::post(workers.context(workers.ownerOf(i)), [l = loops[i].get()] { l->next(); });
    const bool finished = waitUntil([&] { return state.active.load() == 0; }, state.capNs + 1000000000);
    const Edge end = takeEdge(server, workers);
    if (!finished)
        for (std::size_t i = 0; i < loops.size(); ++i)
            boost::asio::post(workers.context(workers.ownerOf(i)), [l = loops[i].get()] { l->stop(); });
    waitUntil([&] { return state.active.load() == 0; }, nowNs() + 5000000000);
    workers.finish(std::chrono::seconds(2));

    const WindowFigures w = measure(start, end);
    std::vector<std::int64_t> cycleUs;
    std::string error;
    for (const auto& l : loops) {
        cycleUs.insert(cycleUs.end(), l->cycleUs.begin(), l->cycleUs.end());
        if (error.empty() && !l->lastError.empty()) error = l->lastError;
    }
    const std::size_t completed = state.completed.load();
    const std::size_t failed = state.failed.load();
    auto latency = latencyJson(cycleUs);
    const double sec = w.wallUs / 1e6;

    auto& j = report.json();
    j["counts"] = boost::json::object{
        {"cycles", o.cycles}, {"completed", completed}, {"failed", failed}, {"hitTimeCap", !finished}};
    j["cyclesPerSec"] = std::round(static_cast<double>(completed) / sec * 10) / 10;
    j["cycleLatencyUs"] = latency;
    j["serverCpuUs"] = w.serverSampled ? boost::json::value(w.serverCpuUs) : nullptr;
    j["serverRssKb"] = w.serverSampled ? boost::json::value(w.serverRssKbEnd) : nullptr;
    j["serverCpuUsPerCycle"] =
        ratio(static_cast<double>(w.serverCpuUs), static_cast<double>(completed), w.serverSampled);
    j["generatorBound"] = false;
    addWindow(report, "churn", w);

    report.line(format("%zu of %zu cycles completed by %zu loops in %.0f ms: %.1f cycles/s; %zu failed", completed,
                       o.cycles, o.clients, sec * 1000, static_cast<double>(completed) / sec, failed));
    report.line("cycle (connect..closed): " + latencyLine(latency));
    if (w.serverSampled && completed > 0)
        report.line(format("server: %.0f us CPU per cycle",
                           static_cast<double>(w.serverCpuUs) / static_cast<double>(completed)));
    if (failed > 0) report.fail(format("%zu cycles failed (%s)", failed, error.c_str()));
    if (!finished) report.fail(format("time cap of %.0f s reached before %zu cycles", o.durationSec, o.cycles));
}

} // namespace parley::bench
