#pragma once

#include <span>
#include <string_view>

namespace parley::store {

// The numbered schema migrations, compiled into the binary so that `parley` needs no files
// beside it. The .sql files in migrations/ are the only copy: the build embeds each one, byte
// for byte, in a generated source (cmake/EmbedSqlMigrations.cmake, run again whenever a .sql
// file changes or is added), which defines kSqliteMigrations. A migration that has shipped is
// never edited; a change is a new number. The names carry "Sqlite" because the PostgreSQL
// backend keeps its own list in the same namespace.

struct SqliteMigration {
    int version;           // the NNNN of NNNN_name.sql; applied in ascending order
    std::string_view name; // the file name without .sql
    std::string_view sql;
};

/// Every migrations/NNNN_name.sql, in ascending order of NNNN (numbers unique, from 1: the
/// generator refuses anything else).
extern const std::span<const SqliteMigration> kSqliteMigrations;

} // namespace parley::store
