#pragma once

#include <span>
#include <string_view>

namespace parley::store {

// The numbered PostgreSQL schema migrations, compiled in from migrations/NNNN_name.sql by
// cmake/EmbedSqlMigrations.cmake (as the SQLite ones are): the .sql files are the only copy. A
// migration that has shipped is never edited; a change is a new number.

struct PostgresMigration {
    int version;           // the NNNN of NNNN_name.sql; applied in ascending order
    std::string_view name; // the file name without .sql
    std::string_view sql;  // one or more statements, run in one transaction
};

/// Every migrations/NNNN_name.sql, in ascending order of NNNN (numbers unique, from 1).
extern const std::span<const PostgresMigration> kPostgresMigrations;

} // namespace parley::store
