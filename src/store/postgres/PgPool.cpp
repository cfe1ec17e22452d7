#include "store/postgres/PgPool.hpp"

#include "core/Assert.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

namespace parley::store {

namespace {
// How often deadlines are checked: an operation fails at most this late.
constexpr std::chrono::milliseconds kSweepPeriod{100};
} // namespace

PgPool::PgPool(boost::asio::io_context& ioc, PgPoolOptions options)
    : ioc_(ioc), options_(std::move(options)), sweep_(ioc) {
    options_.size = std::max<std::size_t>(options_.size, 1);
    options_.pipelineDepth = std::max<std::size_t>(options_.pipelineDepth, 1);
    options_.maxBatch = std::max<std::size_t>(options_.maxBatch, 1);
    for (std::size_t i = 0; i < options_.size; ++i) slots_.push_back(std::make_unique<Slot>(ioc_));
}

PgPool::~PgPool() { stop(); }

void PgPool::start() {
    for (auto& slot : slots_) open(*slot);
    armSweep();
}

void PgPool::stop() {
    if (stopped_) return;
    stopped_ = true;
    sweep_.cancel();
    for (auto& slot : slots_) {
        slot->retry.cancel();
        if (auto connection = std::move(slot->connection)) connection->close();
    }
    failQueued();
}

void PgPool::submit(std::unique_ptr<PgJob> job) {
    if (stopped_ || down()) return fail(*job);
    queue_.push_back(std::move(job));
    dispatch();
}

void PgPool::submitOrdered(std::size_t key, std::unique_ptr<PgJob> job) {
    if (stopped_ || down()) return fail(*job);
    Slot& slot = *slots_[key % slots_.size()];
    slot.ordered.push_back(std::move(job));
    sendOrdered(slot);
}

void PgPool::open(Slot& slot) {
    PgConnection::Owner& owner = *this;
    slot.connection = std::make_shared<PgConnection>(ioc_, owner, options_.uri, options_.connectTimeout);
    slot.connection->connect();
}

void PgPool::scheduleRetry(Slot& slot) {
    slot.backoff = slot.backoff.count() == 0 ? options_.retryMin : std::min(slot.backoff * 2, options_.retryMax);
    slot.retry.expires_after(slot.backoff);
    slot.retry.async_wait([this, &slot](boost::system::error_code ec) {
        if (!ec && !stopped_ && !slot.connection) open(slot);
    });
}

PgPool::Slot& PgPool::slotOf(const PgConnection& connection) {
    for (auto& slot : slots_)
        if (slot->connection.get() == &connection) return *slot;
    PARLEY_ASSERT(false, "a connection of this pool");
    return *slots_.front();
}

// An idle connection first; else the least busy one with room in its pipeline.
PgConnection* PgPool::pick() const {
    PgConnection* best = nullptr;
    for (const auto& slot : slots_) {
        PgConnection* connection = slot->connection.get();
        if (!connection || !connection->ready() || connection->inFlight() >= options_.pipelineDepth) continue;
        if (!best || connection->inFlight() < best->inFlight()) best = connection;
        if (best->inFlight() == 0) break;
    }
    return best;
}

bool PgPool::down() const {
    if (!lastConnectFailed_) return false;
    return std::none_of(slots_.begin(), slots_.end(),
                        [](const auto& slot) { return slot->connection && slot->connection->ready(); });
}

void PgPool::dispatch() {
    for (auto& slot : slots_) sendOrdered(*slot);
    while (!queue_.empty()) {
        PgConnection* connection = pick();
        if (!connection) return;
        auto job = std::move(queue_.front());
        queue_.pop_front();
        connection->run(std::move(job));
    }
}

// The next batch of the slot's ordered jobs, once the previous one is answered: the jobs that
// queued up meanwhile share one commit.
void PgPool::sendOrdered(Slot& slot) {
    PgConnection* connection = slot.connection.get();
    if (slot.ordered.empty() || !connection || !connection->ready() || connection->batchesInFlight() > 0) return;
    const std::size_t count = std::min(slot.ordered.size(), options_.maxBatch);
    PgBatch batch;
    batch.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        batch.push_back(std::move(slot.ordered.front()));
        slot.ordered.pop_front();
    }
    connection->runBatch(std::move(batch));
}

void PgPool::failQueued() {
    auto queued = std::move(queue_);
    queue_.clear();
    for (auto& job : queued) fail(*job);
    for (auto& slot : slots_) {
        auto ordered = std::move(slot->ordered);
        slot->ordered.clear();
        for (auto& job : ordered) fail(*job);
    }
}

void PgPool::fail(PgJob& job) {
    PgReply reply = PgReply::failure(Errc::Unavailable);
    job.finish(job, reply);
}

void PgPool::armSweep() {
    sweep_.expires_after(kSweepPeriod);
    sweep_.async_wait([this](boost::system::error_code ec) {
        if (ec || stopped_) return;
        sweep();
        armSweep();
    });
}

void PgPool::sweep() {
    const auto now = std::chrono::steady_clock::now();
    const auto expire = [&](std::deque<std::unique_ptr<PgJob>>& queue) {
        while (!queue.empty() && queue.front()->deadline <= now) {
            auto job = std::move(queue.front());
            queue.pop_front();
            fail(*job);
        }
    };
    expire(queue_);
    for (auto& slot : slots_) expire(slot->ordered);
    for (auto& slot : slots_) {
        if (!slot->connection || slot->connection->oldestDeadline() > now) continue;
        // The database does not answer in time: what is in flight has an unknown outcome.
        spdlog::warn("postgres: an operation passed its deadline; dropping its connection");
        auto connection = std::move(slot->connection);
        connection->close();
        open(*slot);
    }
}

void PgPool::connected(PgConnection& connection) {
    Slot& slot = slotOf(connection);
    slot.backoff = std::chrono::milliseconds(0);
    if (lastConnectFailed_) spdlog::info("postgres: connected again");
    lastConnectFailed_ = false;
    // The database is back: the connections waiting to retry need not wait.
    for (auto& other : slots_) {
        if (other->connection) continue;
        other->retry.cancel();
        other->backoff = std::chrono::milliseconds(0);
        open(*other);
    }
    dispatch();
}

void PgPool::connectFailed(PgConnection& connection, const std::string& why) {
    Slot& slot = slotOf(connection);
    slot.connection.reset();
    if (!lastConnectFailed_) spdlog::warn("postgres: cannot connect: {}", why);
    lastConnectFailed_ = true;
    if (down()) failQueued();
    scheduleRetry(slot);
}

void PgPool::lost(PgConnection& connection, const std::string& why) {
    Slot& slot = slotOf(connection);
    spdlog::warn("postgres: connection lost: {}", why);
    slot.connection.reset();
    open(slot);
}

// The connection's next batch goes out before the answers of this one are handed over. A
// commit's time is its round trip: the statements, the commit and its WAL flush.
void PgPool::answered(PgConnection&, std::size_t committedWrites, std::chrono::steady_clock::duration took) {
    if (committedWrites > 0 && options_.metrics) {
        options_.metrics->storeCommits.fetch_add(1, std::memory_order_relaxed);
        options_.metrics->storeCommittedWrites.fetch_add(committedWrites, std::memory_order_relaxed);
        options_.metrics->storeCommitSeconds.observe(took);
    }
    if (!stopped_) dispatch();
}

void PgPool::finished(PgConnection&, PgJob& job, PgReply& reply) {
    if (job.write && reply.ok() && options_.metrics)
        options_.metrics->storeWriteSeconds.observe(std::chrono::steady_clock::now() - job.queuedAt);
    job.finish(job, reply);
}

} // namespace parley::store
