#include "store/sqlite/Synchronous.hpp"

#include "store/Store.hpp"

#include <sqlite3.h>

namespace parley::store {

namespace {

const char* levelName(int level) {
    switch (level) {
    case 0: return "OFF";
    case 1: return "NORMAL";
    case 2: return "FULL";
    case 3: return "EXTRA";
    default: return "unreadable";
    }
}

} // namespace

int synchronousLevel(sqlite3* db) noexcept {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, "PRAGMA synchronous", -1, &stmt, nullptr) != SQLITE_OK) return -1;
    int level = -1;
    if (sqlite3_step(stmt) == SQLITE_ROW) level = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);
    return level;
}

void requireSynchronousFull(sqlite3* db, const std::string& path) {
    const int level = synchronousLevel(db);
    if (level == kSynchronousFull) return;
    throw StoreError("sqlite: " + path + ": PRAGMA synchronous is " + levelName(level) + " (" + std::to_string(level) +
                     "), refusing to run on anything but FULL (2): a write is acknowledged once its commit "
                     "returns, and only FULL syncs the log at every commit, which the WAL write buffer VFS "
                     "and the checkpointer rely on as well");
}

} // namespace parley::store
