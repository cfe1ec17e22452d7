#include "store/postgres/PgConnection.hpp"

#include "core/Assert.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <array>
#include <utility>

namespace parley::store {

using WaitType = boost::asio::posix::stream_descriptor::wait_type;

PgConnection::PgConnection(boost::asio::io_context& ioc, Owner& owner, std::string uri,
                           std::chrono::milliseconds connectTimeout)
    : ioc_(ioc), owner_(owner), uri_(std::move(uri)), connectTimeout_(connectTimeout), socket_(ioc),
      connectTimer_(ioc) {}

PgConnection::~PgConnection() {
    // The socket is libpq's: only PQfinish closes it.
    if (socket_.is_open()) socket_.release();
    if (conn_) PQfinish(conn_);
}

void PgConnection::connect() {
    PARLEY_ASSERT(state_ == State::Idle, "connect() is called once");
    // The URI is expanded into its parameters (expand_dbname = 1).
    const std::array<const char*, 3> keywords{"fallback_application_name", "dbname", nullptr};
    const std::array<const char*, 3> values{"parley", uri_.c_str(), nullptr};
    conn_ = PQconnectStartParams(keywords.data(), values.data(), 1);
    logNotices(conn_);
    state_ = State::Connecting;
    // libpq leaves the timing of a non-blocking connection to its caller.
    connectTimer_.expires_after(connectTimeout_);
    connectTimer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
        if (!ec && (self->state_ == State::Connecting || self->state_ == State::Preparing))
            self->fail("no connection within " + std::to_string(self->connectTimeout_.count()) + " ms");
    });
    if (conn_ == nullptr || PQstatus(conn_) == CONNECTION_BAD) {
        boost::asio::post(ioc_, [self = shared_from_this()] { self->fail(self->lastError()); });
        return;
    }
    // Right after PQconnectStart, libpq waits for the socket to be writable.
    adoptSocket();
    socket_.async_wait(WaitType::wait_write, [self = shared_from_this()](boost::system::error_code ec) {
        if (!ec && self->state_ == State::Connecting) self->pollConnect();
    });
}

void PgConnection::pollConnect() {
    const PostgresPollingStatusType status = PQconnectPoll(conn_);
    if (status == PGRES_POLLING_FAILED) return fail(lastError());
    if (status == PGRES_POLLING_OK) return prepareStatements();
    // libpq may open another socket (the next address of the host): wait on the current one.
    adoptSocket();
    const auto wait = status == PGRES_POLLING_READING ? WaitType::wait_read : WaitType::wait_write;
    socket_.async_wait(wait, [self = shared_from_this()](boost::system::error_code ec) {
        if (!ec && self->state_ == State::Connecting) self->pollConnect();
    });
}

void PgConnection::adoptSocket() {
    // Registered afresh each time: a socket libpq closed and reopened may reuse the number.
    if (socket_.is_open()) socket_.release();
    boost::system::error_code ec;
    socket_.assign(PQsocket(conn_), ec);
}

// Sets the session up and prepares every statement in one pipeline: one round trip.
void PgConnection::prepareStatements() {
    state_ = State::Preparing;
    adoptSocket();
    if (PQsetnonblocking(conn_, 1) != 0 || PQenterPipelineMode(conn_) != 1) return fail(lastError());
    bool sent = PQsendQueryParams(conn_, kPgSessionSetup, 0, nullptr, nullptr, nullptr, nullptr, 0) == 1;
    for (std::size_t i = 0; sent && i < kPgSqlCount; ++i) {
        const auto sql = static_cast<PgSql>(i);
        sent = PQsendPrepare(conn_, pgSqlName(sql), pgSqlText(sql), 0, nullptr) == 1;
    }
    if (!sent || PQpipelineSync(conn_) != 1) return fail(lastError());
    inFlight_.emplace_back();
    if (!flush()) return;
    waitRead();
}

void PgConnection::run(std::unique_ptr<PgJob> job) {
    Sent entry;
    entry.jobs.push_back(std::move(job));
    send(std::move(entry));
}

void PgConnection::runBatch(PgBatch jobs) {
    PARLEY_ASSERT(!jobs.empty(), "a batch has jobs");
    Sent entry;
    entry.jobs = std::move(jobs);
    entry.batch = true;
    send(std::move(entry));
}

void PgConnection::send(Sent entry) {
    PARLEY_ASSERT(ready(), "jobs go to ready connections only");
    bool sent = true;
    for (const auto& job : entry.jobs) {
        sent = sent && sendCalls(*job);
        entry.statements += job->callCount;
        entry.deadline = std::min(entry.deadline, job->deadline);
    }
    sent = sent && PQpipelineSync(conn_) == 1;
    entry.results.reserve(entry.statements);
    entry.sentAt = std::chrono::steady_clock::now();
    inFlight_.push_back(std::move(entry));
    // A failure is reported from the io_context, not from inside the owner's call.
    const int flushed = sent ? PQflush(conn_) : -1;
    if (flushed < 0) {
        boost::asio::post(ioc_, [self = shared_from_this(), why = lastError()] { self->fail(why); });
        return;
    }
    if (flushed == 1) waitWrite();
}

bool PgConnection::sendCalls(const PgJob& job) {
    for (std::size_t i = 0; i < job.callCount; ++i) {
        const PgJob::Call& call = job.calls[i];
        std::array<const char*, PgJob::kMaxArgs> values{};
        for (std::size_t a = 0; a < call.argc; ++a) {
            const auto& param = job.params[call.args[a]];
            values[a] = param ? param->c_str() : nullptr;
        }
        if (PQsendQueryPrepared(conn_, pgSqlName(call.sql), call.argc, values.data(), nullptr, nullptr, 0) != 1)
            return false;
    }
    return true;
}

bool PgConnection::flush() {
    const int flushed = PQflush(conn_);
    if (flushed < 0) {
        fail(lastError());
        return false;
    }
    if (flushed == 1) waitWrite();
    return true;
}

// A read wait is always pending while connected, also when idle: that is how a connection the
// server closed is noticed before a job is sent on it.
void PgConnection::waitRead() {
    if (readWaiting_) return;
    readWaiting_ = true;
    socket_.async_wait(WaitType::wait_read, [self = shared_from_this()](boost::system::error_code ec) {
        self->readWaiting_ = false;
        if (!ec && self->state_ != State::Closed) self->onReadable();
    });
}

void PgConnection::waitWrite() {
    if (writeWaiting_) return;
    writeWaiting_ = true;
    socket_.async_wait(WaitType::wait_write, [self = shared_from_this()](boost::system::error_code ec) {
        self->writeWaiting_ = false;
        if (!ec && self->state_ != State::Closed) self->flush();
    });
}

void PgConnection::onReadable() {
    if (PQconsumeInput(conn_) != 1) return fail(lastError());
    if (!drainResults()) return;
    if (PQstatus(conn_) == CONNECTION_BAD) return fail(lastError());
    if (!flush()) return;
    waitRead();
}

// Takes every result libpq has complete. Each statement's results end with a null, which only
// separates them; two nulls in a row mean nothing more is ready.
bool PgConnection::drainResults() {
    int nulls = 0;
    while (state_ != State::Closed && !inFlight_.empty() && PQisBusy(conn_) == 0) {
        PgResultPtr result(PQgetResult(conn_));
        if (!result) {
            if (++nulls > 1) break;
            continue;
        }
        nulls = 0;
        accept(std::move(result));
    }
    return state_ != State::Closed;
}

void PgConnection::accept(PgResultPtr result) {
    Sent& sent = inFlight_.front();
    switch (PQresultStatus(result.get())) {
    case PGRES_PIPELINE_SYNC: return complete();
    case PGRES_PIPELINE_ABORTED: return; // skipped after an earlier statement failed
    case PGRES_FATAL_ERROR:
    case PGRES_BAD_RESPONSE:
    case PGRES_NONFATAL_ERROR:
        if (!sent.failed) sent.failed = std::move(result);
        return;
    default: sent.results.push_back(std::move(result)); return;
    }
}

void PgConnection::complete() {
    Sent sent = std::move(inFlight_.front());
    inFlight_.pop_front();
    if (sent.jobs.empty()) {
        if (sent.failed)
            return fail(std::string("preparing the statements: ") + PQresultErrorMessage(sent.failed.get()));
        state_ = State::Ready;
        connectTimer_.cancel();
        owner_.connected(*this);
        return;
    }
    PgReply reply = sent.results.size() == sent.statements || sent.failed
                        ? PgReply::ofResults(std::move(sent.results), std::move(sent.failed))
                        : PgReply::failure(Errc::Internal);
    std::size_t committedWrites = 0;
    if (reply.ok())
        for (const auto& job : sent.jobs) committedWrites += job->write ? 1 : 0;
    owner_.answered(*this, sent.jobs, committedWrites, std::chrono::steady_clock::now() - sent.sentAt);
    // The results are in the order of the statements: each job's start where the previous ends.
    std::size_t first = 0;
    for (const auto& job : sent.jobs) {
        reply.select(first);
        first += job->callCount;
        owner_.finished(*this, *job, reply);
    }
}

void PgConnection::fail(const std::string& why) {
    if (state_ == State::Closed) return;
    auto keep = shared_from_this(); // the owner may drop its reference in the callback
    const bool wasConnecting = state_ == State::Connecting || state_ == State::Preparing;
    close();
    if (wasConnecting)
        owner_.connectFailed(*this, why);
    else
        owner_.lost(*this, why);
}

void PgConnection::close() {
    if (state_ == State::Closed) return;
    auto keep = shared_from_this();
    state_ = State::Closed;
    connectTimer_.cancel();
    if (socket_.is_open()) socket_.release(); // cancels the waits; libpq closes the socket
    if (conn_) PQfinish(conn_);
    conn_ = nullptr;
    finishAllUnavailable();
}

void PgConnection::finishAllUnavailable() {
    auto sent = std::move(inFlight_);
    inFlight_.clear();
    for (auto& entry : sent) {
        for (const auto& job : entry.jobs) {
            PgReply reply = PgReply::failure(Errc::Unavailable);
            owner_.finished(*this, *job, reply);
        }
    }
}

std::chrono::steady_clock::time_point PgConnection::oldestDeadline() const {
    auto oldest = std::chrono::steady_clock::time_point::max();
    for (const auto& entry : inFlight_) oldest = std::min(oldest, entry.deadline);
    return oldest;
}

std::size_t PgConnection::batchesInFlight() const {
    return static_cast<std::size_t>(
        std::count_if(inFlight_.begin(), inFlight_.end(), [](const Sent& entry) { return entry.batch; }));
}

std::string PgConnection::lastError() const {
    if (conn_ == nullptr) return "out of memory";
    // libpq's messages span lines; a log line is one line.
    std::string message;
    for (const char* c = PQerrorMessage(conn_); *c != '\0'; ++c) {
        const bool space = *c == '\n' || *c == '\t';
        if (space && (message.empty() || message.back() == ' ')) continue;
        message.push_back(space ? ' ' : *c);
    }
    while (!message.empty() && message.back() == ' ') message.pop_back();
    return message;
}

} // namespace parley::store
