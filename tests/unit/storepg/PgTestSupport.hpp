#pragma once

#include "store/ChatStore.hpp"
#include "store/Open.hpp"
#include "store/postgres/PgChatStore.hpp"
#include "store/postgres/PgJob.hpp"
#include "support/LongLivedContext.hpp"
#include "support/ScratchPg.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace parley::store::pgtest {

/// Runs one store operation on an io_context of the calling thread and returns what it
/// completed with (a test failure, and Internal, if nothing came within 30 s).
template <class T, class Start>
Result<T> await(Start&& start) {
    // One io_context per thread for the whole run: a store thread may still be inside the post()
    // of an answer when this thread has run it, so the context must not be destroyed after each
    // call (ThreadSanitizer sees that).
    static thread_local boost::asio::io_context& ctx = ::parley::test::longLivedContext();
    ctx.restart();
    auto pending = boost::asio::make_work_guard(ctx);
    std::optional<Result<T>> out;
    start(ctx, Done<T>([&](Result<T> result) {
              out.emplace(std::move(result));
              pending.reset();
          }));
    ctx.run_for(std::chrono::seconds(30));
    if (!out) {
        ADD_FAILURE() << "the operation did not complete";
        return Result<T>(boost::system::in_place_error, make_error_code(Errc::Internal));
    }
    return std::move(*out);
}

/// A store on a database of its own.
inline std::unique_ptr<ChatStore> openFresh(std::size_t poolSize = 4) {
    OpenOptions options;
    options.uri = test::freshPgDatabase();
    options.poolSize = poolSize;
    return openChatStore(options);
}

/// A 24-hex id made of `n`.
inline std::string oid(int n) {
    std::string digits = std::to_string(n);
    return std::string(24 - digits.size(), '0') + digits;
}

/// Runs `sql` on its own connection to `uri` and returns every row's values (text; "" for
/// NULL). A test failure, and no rows, when the query fails.
inline std::vector<std::vector<std::string>> pgQuery(const std::string& uri, const std::string& sql) {
    std::vector<std::vector<std::string>> rows;
    PGconn* conn = PQconnectdb(uri.c_str());
    PGresult* result = PQexec(conn, sql.c_str());
    if (PQresultStatus(result) == PGRES_TUPLES_OK) {
        for (int row = 0; row < PQntuples(result); ++row) {
            rows.emplace_back();
            for (int column = 0; column < PQnfields(result); ++column)
                rows.back().emplace_back(PQgetvalue(result, row, column));
        }
    } else {
        ADD_FAILURE() << sql << ": " << PQerrorMessage(conn);
    }
    PQclear(result);
    PQfinish(conn);
    return rows;
}

inline Chat group(const std::string& id, std::vector<std::string> members, std::int64_t at = 1000) {
    return Chat{id, "group", std::nullopt, members, members.front(), at, at};
}

} // namespace parley::store::pgtest
