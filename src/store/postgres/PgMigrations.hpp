#pragma once

#include <chrono>
#include <string>

namespace parley::store {

/// The key of the session-level advisory lock held while migrations run: several processes
/// starting at once on one database apply each migration exactly once, one after the other.
inline constexpr long long kPgMigrationLock = 0x7061726c6579; // "parley"

/// Connects to `uri` (blocking: this runs at start-up, before the store's pool), takes the
/// migration lock, and applies the migrations of kPostgresMigrations not yet recorded in
/// schema_migrations, each in its own transaction with its record. Returns how many ran.
/// Throws std::runtime_error with the reason when the database cannot be reached within
/// `connectTimeout` or a migration fails (that migration is rolled back).
int runPgMigrations(const std::string& uri, std::chrono::milliseconds connectTimeout);

} // namespace parley::store
