#include "store/Open.hpp"

#include "store/postgres/PgChatStore.hpp"
#include "store/sqlite/SqliteChatStore.hpp"

#include <stdexcept>

namespace parley::store {

namespace {

std::unique_ptr<ChatStore> openSqlite(const std::string& path, const OpenOptions& options) {
    SqliteChatStore::Options sqlite;
    sqlite.executor.pacing = options.pacing;
    sqlite.executor.metrics = options.metrics;
    sqlite.executor.slowCommit = options.slowCommit;
    try {
        return std::make_unique<SqliteChatStore>(path, sqlite);
    } catch (const StoreError& e) {
        throw std::runtime_error(e.what());
    }
}

} // namespace

std::unique_ptr<ChatStore> openChatStore(const OpenOptions& options) {
    const std::string& uri = options.uri;
    if (uri.starts_with("sqlite:")) return openSqlite(uri.substr(7), options);
    if (uri.starts_with("postgres://") || uri.starts_with("postgresql://")) return openPostgres(options);
    throw std::invalid_argument("--store: expected sqlite:PATH or postgres://..., got '" + uri + "'");
}

} // namespace parley::store
