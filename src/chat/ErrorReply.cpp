#include "chat/ErrorReply.hpp"

#include "core/Log.hpp"
#include "core/Uuid.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iterator>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace parley::chat {

namespace {

using Clock = std::chrono::steady_clock;

// Refusals (every error but INTERNAL) are a client's doing, and one client can ask for them as
// fast as it can send: logged one line each, a socket pipelining refused requests writes
// megabytes a second. So they pass two token buckets, one per client (the `user=` its context
// names; REST contexts name none and share only the global one) and one for the whole process.
// A refusal over either is not lost: its line goes out at debug instead, with its correlationId,
// and it is counted into a summary at info, at most once a second, that gives the count and the
// first and last correlationId suppressed; a report's correlationId is thus either in its own
// info line or counted by the summary whose first and last ones bracket it in time (and in its
// own line at --log-level debug).
// INTERNAL errors are ours, not the client's: always logged, at error.
constexpr double kClientRate = 5;    // lines per second per client...
constexpr double kClientBurst = 20;  // ... after a first burst of this many
constexpr double kGlobalRate = 50;   // lines per second for the process...
constexpr double kGlobalBurst = 200; // ... after a first burst of this many
constexpr auto kSummaryEvery = std::chrono::seconds(1);
constexpr std::size_t kMaxClients = 10'000; // past this, idle clients' buckets are forgotten

struct Bucket {
    double tokens;
    Clock::time_point updated;

    void refill(Clock::time_point now, double rate, double burst) {
        const double elapsed = std::chrono::duration<double>(now - updated).count();
        tokens = std::min(burst, tokens + std::max(elapsed, 0.0) * rate);
        updated = now;
    }
};

class RefusalLog {
public:
    // True if the refusal may be logged at info; else it is counted for the summary.
    bool admit(std::string_view client, const std::string& correlationId, Clock::time_point now) {
        std::lock_guard lock(mutex_);
        global_.refill(now, kGlobalRate, kGlobalBurst);
        Bucket* own = nullptr;
        if (!client.empty()) {
            if (clients_.size() >= kMaxClients) prune(now);
            auto [it, fresh] = clients_.try_emplace(std::string(client), Bucket{kClientBurst, now});
            own = &it->second;
            if (!fresh) own->refill(now, kClientRate, kClientBurst);
        }
        if (global_.tokens >= 1 && (!own || own->tokens >= 1)) {
            global_.tokens -= 1;
            if (own) own->tokens -= 1;
            return true;
        }
        if (suppressed_++ == 0) {
            first_ = correlationId;
            since_ = now;
        }
        last_ = correlationId;
        return false;
    }

    // The summary line of the refusals suppressed so far, once the first of them is at least
    // kSummaryEvery old: at most one line a second however long a flood lasts.
    std::optional<std::string> summary(Clock::time_point now) {
        std::lock_guard lock(mutex_);
        if (suppressed_ == 0 || now - since_ < kSummaryEvery) return std::nullopt;
        const double seconds = std::chrono::duration<double>(now - since_).count();
        std::string line = std::to_string(suppressed_) + " similar refusals suppressed in " +
                           std::to_string(static_cast<long long>(seconds * 1000)) +
                           " ms (logged at debug) correlationIds " + first_ + " .. " + last_;
        suppressed_ = 0;
        prune(now);
        return line;
    }

private:
    // Forgets the buckets that are full again: they would be recreated full.
    void prune(Clock::time_point now) {
        for (auto it = clients_.begin(); it != clients_.end();) {
            it->second.refill(now, kClientRate, kClientBurst);
            it = it->second.tokens >= kClientBurst ? clients_.erase(it) : std::next(it);
        }
    }

    std::mutex mutex_;
    Bucket global_{kGlobalBurst, Clock::now()};
    std::unordered_map<std::string, Bucket> clients_;
    std::uint64_t suppressed_ = 0;
    std::string first_, last_;
    Clock::time_point since_{}; // when the first refusal of this summary was suppressed
};

RefusalLog& refusalLog() {
    static RefusalLog log;
    return log;
}

// The client a log context names: "room:join user=<id>" -> "<id>"; "" if none.
std::string_view clientOf(std::string_view context) {
    const auto at = context.find("user=");
    if (at == std::string_view::npos) return {};
    auto id = context.substr(at + 5);
    return id.substr(0, id.find(' '));
}

void logSummary(std::optional<std::string> line) {
    if (line) spdlog::info("{}", *line);
}

} // namespace

void flushRefusalLog() { logSummary(refusalLog().summary(Clock::now())); }

std::string_view toString(ErrorCode code) noexcept {
    switch (code) {
    case ErrorCode::ValidationError: return "VALIDATION_ERROR";
    case ErrorCode::Forbidden: return "FORBIDDEN";
    case ErrorCode::Unauthorized: return "UNAUTHORIZED";
    case ErrorCode::RateLimited: return "RATE_LIMITED";
    case ErrorCode::NotFound: return "NOT_FOUND";
    case ErrorCode::Internal: return "INTERNAL";
    }
    return "INTERNAL";
}

std::string newCorrelationId() { return core::newUuid(); }

boost::json::object errorReply(ErrorCode code, std::string_view message, std::string_view context) {
    std::string correlationId = newCorrelationId();
    const core::LogFields fields{{"correlationId", correlationId}, {"error", std::string(toString(code))}};
    if (code == ErrorCode::Internal) {
        spdlog::error("{} correlationId={} {}: {}", toString(code), correlationId, context, message);
    } else {
        const auto now = Clock::now();
        const bool admitted = refusalLog().admit(clientOf(context), correlationId, now);
        spdlog::log(admitted ? spdlog::level::info : spdlog::level::debug, "{} correlationId={} {}: {}", toString(code),
                    correlationId, context, message);
        if (!admitted) logSummary(refusalLog().summary(now));
    }
    return boost::json::object{
        {"ok", false}, {"error", toString(code)}, {"message", message}, {"correlationId", std::move(correlationId)}};
}

} // namespace parley::chat
