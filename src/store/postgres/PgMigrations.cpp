#include "store/postgres/PgMigrations.hpp"

#include "core/Time.hpp"
#include "store/postgres/Migrations.hpp"
#include "store/postgres/PgJob.hpp"

#include <libpq-fe.h>
#include <spdlog/spdlog.h>

#include <array>
#include <memory>
#include <stdexcept>
#include <string_view>

namespace parley::store {

namespace {

struct ConnFinish {
    void operator()(PGconn* conn) const noexcept { PQfinish(conn); }
};
using Conn = std::unique_ptr<PGconn, ConnFinish>;

struct ResultClear {
    void operator()(PGresult* result) const noexcept { PQclear(result); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultClear>;

std::string trimmed(std::string message) {
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
    return message;
}

// Runs `sql` (one or more statements, no values); throws with `what` on failure.
ResultPtr exec(PGconn* conn, const std::string& sql, std::string_view what) {
    ResultPtr result(PQexec(conn, sql.c_str()));
    const auto status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
        throw std::runtime_error("postgres: " + std::string(what) + ": " + trimmed(PQerrorMessage(conn)));
    return result;
}

Conn connect(const std::string& uri, std::chrono::milliseconds timeout) {
    const std::string seconds = std::to_string(std::max<long long>(1, (timeout.count() + 999) / 1000));
    const std::array<const char*, 4> keywords{"fallback_application_name", "dbname", "connect_timeout", nullptr};
    const std::array<const char*, 4> values{"parley", uri.c_str(), seconds.c_str(), nullptr};
    Conn conn(PQconnectdbParams(keywords.data(), values.data(), 1));
    if (!conn) throw std::runtime_error("postgres: cannot connect: out of memory");
    logNotices(conn.get());
    // The message names the host and port, never the password.
    if (PQstatus(conn.get()) != CONNECTION_OK)
        throw std::runtime_error("postgres: cannot connect: " + trimmed(PQerrorMessage(conn.get())));
    return conn;
}

int applied(PGconn* conn) {
    auto result = exec(conn, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", "reading schema_migrations");
    return std::atoi(PQgetvalue(result.get(), 0, 0));
}

void apply(PGconn* conn, const PostgresMigration& migration) {
    exec(conn, "BEGIN", "starting a migration");
    try {
        exec(conn, std::string(migration.sql), "migration " + std::string(migration.name));
        const std::string version = std::to_string(migration.version);
        const std::string name(migration.name);
        const std::string at = std::to_string(core::nowMs());
        const std::array<const char*, 3> values{version.c_str(), name.c_str(), at.c_str()};
        ResultPtr record(PQexecParams(conn,
                                      "INSERT INTO schema_migrations (version, name, applied_at) "
                                      "VALUES ($1::integer, $2, $3::bigint)",
                                      3, nullptr, values.data(), nullptr, nullptr, 0));
        if (!record || PQresultStatus(record.get()) != PGRES_COMMAND_OK)
            throw std::runtime_error("postgres: recording migration " + name + ": " + trimmed(PQerrorMessage(conn)));
        exec(conn, "COMMIT", "committing migration " + name);
    } catch (...) {
        ResultPtr(PQexec(conn, "ROLLBACK"));
        throw;
    }
    spdlog::info("postgres: applied migration {}", migration.name);
}

} // namespace

int runPgMigrations(const std::string& uri, std::chrono::milliseconds connectTimeout) {
    Conn conn = connect(uri, connectTimeout);
    exec(conn.get(), "SET synchronous_commit TO on", "setting synchronous_commit");
    // Held by this session until it ends (also when this process dies): another process
    // migrating the same database waits here, then finds the work done.
    exec(conn.get(), "SELECT pg_advisory_lock(" + std::to_string(kPgMigrationLock) + ")", "taking the migration lock");
    // The bookkeeping table cannot be a numbered migration: it says which ones ran.
    exec(conn.get(),
         "CREATE TABLE IF NOT EXISTS schema_migrations "
         "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
         "creating schema_migrations");
    const int current = applied(conn.get());
    int ran = 0;
    for (const auto& migration : kPostgresMigrations) {
        if (migration.version <= current) continue;
        apply(conn.get(), migration);
        ++ran;
    }
    exec(conn.get(), "SELECT pg_advisory_unlock(" + std::to_string(kPgMigrationLock) + ")", "releasing the lock");
    return ran;
}

} // namespace parley::store
