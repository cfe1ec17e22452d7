#pragma once

#include <string>

struct sqlite3;

namespace parley::store {

/// SQLite's PRAGMA synchronous level FULL: the store's connections must be on it.
///
/// Every connection SqliteStore opens (the writer's and the checkpointer's) sets it, and the
/// store is only correct on it: the executor acknowledges a write once its commit returns, so
/// the commit must have synced the log (an acknowledged message survives power loss); the WAL
/// write buffer VFS holds a commit's frames until the log is synced, which on NORMAL happens
/// after other connections may already read them (WalWriteBuffer.hpp); and a checkpoint must
/// sync the database file before the log restarts over the frames it copied.
inline constexpr int kSynchronousFull = 2;

/// The connection's PRAGMA synchronous as SQLite reads it back (0 OFF, 1 NORMAL, 2 FULL,
/// 3 EXTRA), or -1 if it cannot be read.
int synchronousLevel(sqlite3* db) noexcept;

/// Throws StoreError, naming the setting and why it is refused, unless `db` (the database at
/// `path`) reads back synchronous=FULL. SqliteStore calls it when it opens a connection, so a
/// server whose store would run on anything else does not start.
void requireSynchronousFull(sqlite3* db, const std::string& path);

} // namespace parley::store
