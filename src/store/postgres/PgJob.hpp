#pragma once

#include "store/Errc.hpp"
#include "store/postgres/PgStatements.hpp"

#include <libpq-fe.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace parley::store {

struct PgResultFree {
    void operator()(PGresult* result) const noexcept { PQclear(result); }
};
using PgResultPtr = std::unique_ptr<PGresult, PgResultFree>;

/// Sends the server's notices on `conn` (e.g. "relation already exists, skipping") to the log at
/// debug, instead of libpq's default of printing them on stderr.
void logNotices(PGconn* conn) noexcept;

/// Reads one statement's rows (text format). Rows and columns count from 0.
class PgRows {
public:
    explicit PgRows(const PGresult* result) : result_(result) {}

    int size() const { return PQntuples(result_); }
    bool isNull(int row, int column) const { return PQgetisnull(result_, row, column) == 1; }
    std::string_view view(int row, int column) const {
        return {PQgetvalue(result_, row, column), static_cast<std::size_t>(PQgetlength(result_, row, column))};
    }
    std::string text(int row, int column) const { return std::string(view(row, column)); }
    std::optional<std::string> optionalText(int row, int column) const;
    std::int64_t integer(int row, int column) const;
    bool boolean(int row, int column) const { return view(row, column) == "t"; }
    /// The elements of a text array column (e.g. a chat's member ids).
    std::vector<std::string> textArray(int row, int column) const;
    /// Rows an INSERT, UPDATE or DELETE changed.
    std::int64_t affected() const;

private:
    const PGresult* result_;
};

/// Parses PostgreSQL's text form of a one-dimensional text array ("{a,\"b c\"}"); elements
/// that are NULL are left out.
std::vector<std::string> parsePgTextArray(std::string_view text);
/// The text form of a one-dimensional text array holding `items`, for a $n::text[] value.
std::string pgTextArray(const std::vector<std::string>& items);

/// What a job's statements answered: one result per statement, or why they did not run. Jobs
/// sent together as one transaction (PgConnection::runBatch) share one reply: each reads it
/// from its own first statement (select()), and a failure is every job's.
class PgReply {
public:
    static PgReply failure(Errc error) {
        PgReply reply;
        reply.error_ = error;
        return reply;
    }
    static PgReply ofResults(std::vector<PgResultPtr> results, PgResultPtr failed);

    bool ok() const { return !error_; }
    /// The error (only when !ok()): Unavailable for a lost connection or a deadline, the
    /// mapping of the failed statement's SQLSTATE otherwise.
    Errc error() const { return *error_; }
    /// The failed statement's SQLSTATE and constraint ("" when not given).
    std::string_view sqlState() const;
    std::string_view constraint() const;
    /// Logs a failure the caller does not map itself (Internal ones; never a secret; once per
    /// reply, however many jobs share it) and returns its Errc.
    Errc logged(std::string_view operation) const;

    /// The rows of the job's `statement`-th statement (from 0).
    PgRows rows(std::size_t statement) const { return PgRows(results_[first_ + statement].get()); }
    /// Makes rows(0) the result of statement `first` of the transaction (the job's first).
    void select(std::size_t first) { first_ = first; }

private:
    std::optional<Errc> error_;
    std::vector<PgResultPtr> results_;
    PgResultPtr failed_;
    std::size_t first_ = 0;
    mutable bool logged_ = false;
};

/// One operation for the pool: up to kMaxCalls prepared statements sent together with one
/// pipeline sync (so one round trip, and one implicit transaction: every statement commits at
/// the sync or none does), their values, and what to do with the reply.
struct PgJob {
    static constexpr std::size_t kMaxCalls = 4;
    static constexpr std::size_t kMaxParams = 8;
    static constexpr std::size_t kMaxArgs = 8; // InsertChat takes 7

    struct Call {
        PgSql sql = PgSql::Ping;
        std::uint8_t argc = 0;
        std::array<std::uint8_t, kMaxArgs> args{}; ///< indexes into params
    };

    /// Stores a value; returns its index for add().
    std::uint8_t param(std::string value);
    std::uint8_t param(std::int64_t value);
    std::uint8_t param(std::optional<std::string> value);
    /// Appends a statement taking the values `args` (indexes from param()) as $1, $2, ...
    void add(PgSql sql, std::initializer_list<std::uint8_t> args);

    std::array<Call, kMaxCalls> calls{};
    std::uint8_t callCount = 0;
    std::array<std::optional<std::string>, kMaxParams> params{};
    std::uint8_t paramCount = 0;
    /// Runs once on the store's thread, with the reply or the failure (the job is its own: a
    /// follow-up may take its values).
    std::function<void(PgJob&, PgReply&)> finish;
    std::chrono::steady_clock::time_point queuedAt{};
    std::chrono::steady_clock::time_point deadline{};
    /// An append's order key (PgPool::submitOrdered: a hash of its chat).
    std::size_t orderKey = 0;
    bool write = false;   ///< counted in Metrics when it commits
    bool keyHeld = false; ///< in flight as an ordered job: its key keeps the chat's later appends back
};

} // namespace parley::store
