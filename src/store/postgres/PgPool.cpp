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
    : ioc_(ioc), options_(std::move(options)), pacer_(options_.pacing), paceTimer_(ioc), sweep_(ioc) {
    options_.size = std::max<std::size_t>(options_.size, 1);
    options_.pipelineDepth = std::max<std::size_t>(options_.pipelineDepth, 1);
    options_.maxBatch = std::max<std::size_t>(options_.maxBatch, 1);
    PARLEY_ASSERT(options_.size * options_.maxBatch < 65536, "a key slot counts every ordered job in flight");
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
    paceTimer_.cancel();
    for (auto& slot : slots_) {
        slot->retry.cancel();
        if (auto connection = std::move(slot->connection)) connection->close();
    }
    failQueued();
}

void PgPool::submit(std::unique_ptr<PgJob> job) {
    if (job->write) ++writesOpen_;
    if (stopped_ || down()) return fail(*job);
    queue_.push_back(std::move(job));
    dispatch();
}

void PgPool::submitOrdered(std::size_t key, std::unique_ptr<PgJob> job) {
    if (job->write) ++writesOpen_;
    if (stopped_ || down()) return fail(*job);
    job->orderKey = key;
    pacer_.arrived(Clock::now());
    ordered_.push_back(std::move(job));
    sendOrdered();
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

// A connection for a batch: one with no batch in flight, the least busy of them.
PgConnection* PgPool::pickForBatch() const {
    PgConnection* best = nullptr;
    for (const auto& slot : slots_) {
        PgConnection* connection = slot->connection.get();
        if (!connection || !connection->ready() || connection->batchesInFlight() > 0) continue;
        if (!best || connection->inFlight() < best->inFlight()) best = connection;
    }
    return best;
}

bool PgPool::down() const {
    if (!lastConnectFailed_) return false;
    return std::none_of(slots_.begin(), slots_.end(),
                        [](const auto& slot) { return slot->connection && slot->connection->ready(); });
}

void PgPool::dispatch() {
    sendOrdered();
    while (!queue_.empty()) {
        PgConnection* connection = pick();
        if (!connection) return;
        auto job = std::move(queue_.front());
        queue_.pop_front();
        connection->run(std::move(job));
    }
}

// Sends the queued ordered jobs in batches while a connection can take one and the pacer does
// not hold them. Called again on each answer and when the pacer's wait is over.
void PgPool::sendOrdered() {
    while (!ordered_.empty()) {
        PgConnection* connection = pickForBatch();
        if (!connection) return;
        const Clock::time_point at = pacer_.commitAt(ordered_.front()->queuedAt, ordered_.size());
        if (at > Clock::now()) return armPace(at);
        PgBatch batch = takeBatch();
        if (batch.empty()) return; // each queued key has a batch in flight
        connection->runBatch(std::move(batch));
    }
}

// The queued jobs, in order, whose keys have nothing in flight (up to maxBatch). A key that is
// busy stays busy for the whole scan, so all its queued jobs stay back together.
PgBatch PgPool::takeBatch() {
    PgBatch batch;
    batch.reserve(std::min(ordered_.size(), options_.maxBatch));
    auto scanned = ordered_.begin();
    for (; scanned != ordered_.end() && batch.size() < options_.maxBatch; ++scanned) {
        if (keysInFlight_[(*scanned)->orderKey % kKeySlots] == 0) batch.push_back(std::move(*scanned));
    }
    if (batch.size() == static_cast<std::size_t>(scanned - ordered_.begin()))
        ordered_.erase(ordered_.begin(), scanned);
    else
        ordered_.erase(std::remove(ordered_.begin(), scanned, nullptr), scanned);
    for (auto& job : batch) {
        ++keysInFlight_[job->orderKey % kKeySlots];
        job->keyHeld = true;
    }
    if (!batch.empty()) batch.insert(batch.begin(), lockJob(batch));
    return batch;
}

// The batch's first statement: the cluster-wide order lock of each of its keys (LockOrderKeys).
// 32 bits of a key are its lock: two keys on one lock only wait for each other more often.
std::unique_ptr<PgJob> PgPool::lockJob(const PgBatch& batch) {
    std::vector<std::int32_t> keys;
    keys.reserve(batch.size());
    for (const auto& job : batch)
        keys.push_back(static_cast<std::int32_t>(static_cast<std::uint32_t>(job->orderKey ^ (job->orderKey >> 32))));
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    std::string array = "{";
    for (const auto key : keys) {
        if (array.size() > 1) array += ',';
        array += std::to_string(key);
    }
    array += '}';
    auto job = std::make_unique<PgJob>();
    job->queuedAt = batch.front()->queuedAt;
    job->deadline = batch.front()->deadline;
    job->add(PgSql::LockOrderKeys, {job->param(std::move(array))});
    job->finish = [](PgJob&, PgReply&) {}; // the batch's jobs read its failure, if any, themselves
    return job;
}

// One wake-up at the earliest time asked for; a later one is asked for again then.
void PgPool::armPace(Clock::time_point at) {
    if (paceAt_ <= at) return;
    paceAt_ = at;
    paceTimer_.expires_at(at);
    paceTimer_.async_wait([this](boost::system::error_code ec) {
        if (ec || stopped_) return;
        paceAt_ = Clock::time_point::max();
        sendOrdered();
    });
}

void PgPool::releaseKey(PgJob& job) {
    if (!job.keyHeld) return;
    job.keyHeld = false;
    auto& count = keysInFlight_[job.orderKey % kKeySlots];
    PARLEY_ASSERT(count > 0, "a held key is counted");
    --count;
}

void PgPool::failQueued() {
    auto queued = std::move(queue_);
    queue_.clear();
    for (auto& job : queued) fail(*job);
    auto ordered = std::move(ordered_);
    ordered_.clear();
    for (auto& job : ordered) fail(*job);
}

void PgPool::fail(PgJob& job) {
    PgReply reply = PgReply::failure(Errc::Unavailable);
    job.finish(job, reply);
    settled(job);
}

void PgPool::whenWritesDone(std::function<void()> done) {
    if (writesOpen_ == 0) return done();
    writesDone_.push_back(std::move(done));
}

void PgPool::settled(const PgJob& job) {
    if (!job.write) return;
    PARLEY_ASSERT(writesOpen_ > 0, "a settled write was counted");
    if (--writesOpen_ > 0) return;
    auto waiting = std::move(writesDone_);
    writesDone_.clear();
    for (auto& done : waiting) done();
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
    expire(ordered_);
    bool dropped = false;
    for (auto& slot : slots_) {
        if (!slot->connection || slot->connection->oldestDeadline() > now) continue;
        // The database does not answer in time: what is in flight has an unknown outcome.
        spdlog::warn("postgres: an operation passed its deadline; dropping its connection");
        auto connection = std::move(slot->connection);
        connection->close();
        open(*slot);
        dropped = true;
    }
    if (dropped) dispatch(); // the keys of the jobs it carried are free again
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
void PgPool::answered(PgConnection&, PgBatch& jobs, std::size_t committedWrites,
                      std::chrono::steady_clock::duration took) {
    for (auto& job : jobs) releaseKey(*job);
    if (committedWrites > 0 && options_.metrics) {
        options_.metrics->storeCommits.fetch_add(1, std::memory_order_relaxed);
        options_.metrics->storeCommittedWrites.fetch_add(committedWrites, std::memory_order_relaxed);
        options_.metrics->storeCommitSeconds.observe(took);
    }
    if (!stopped_) dispatch();
}

void PgPool::finished(PgConnection&, PgJob& job, PgReply& reply) {
    releaseKey(job); // a job the connection failed without an answer
    if (job.write && reply.ok() && options_.metrics)
        options_.metrics->storeWriteSeconds.observe(std::chrono::steady_clock::now() - job.queuedAt);
    job.finish(job, reply);
    settled(job);
}

} // namespace parley::store
