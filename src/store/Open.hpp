#pragma once

#include "store/ChatStore.hpp"
#include "store/CommitPacer.hpp"
#include "store/Metrics.hpp"

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace parley::store {

/// How the server opens its store (app/ fills it from --store and the tuning flags).
struct OpenOptions {
    /// "sqlite:PATH", or "postgres://user:pass@host:port/db" ("postgresql://" too, any libpq URI).
    std::string uri;
    /// How long a write may wait to share a commit (SQLite: CommitPacer; PostgreSQL: maxDelay
    /// only, for appends, PgPacer), and SQLite's slow-commit warning threshold (0: never).
    CommitPacer::Options pacing{};
    std::chrono::microseconds slowCommit{std::chrono::milliseconds(100)};
    /// PostgreSQL: connections in the pool (each Parley process opens this many; mind the
    /// server's max_connections).
    std::size_t poolSize = 4;
    /// PostgreSQL: the longest an operation waits (queued, or in flight on a server that does
    /// not answer) before it fails with Unavailable.
    std::chrono::milliseconds pgOperationTimeout{5000};
    /// Counts what the store does (parley_store_*); may be null.
    Metrics* metrics = nullptr;
};

/// Opens the store `options.uri` names: creates what is missing, runs pending migrations, and
/// returns it ready. Throws std::invalid_argument for a URI it cannot use and std::runtime_error
/// (with the reason) when the database cannot be opened.
std::unique_ptr<ChatStore> openChatStore(const OpenOptions& options);

} // namespace parley::store
