#pragma once

#include <string>

namespace parley::test {

/// The URI of the scratch PostgreSQL server that ctest's `pg` fixture started
/// (scripts/pg-scratch in $PARLEY_TEST_PG_DIR). Throws std::runtime_error, saying how to get one,
/// when the variable is unset or names no running server.
std::string scratchPgUri();

/// Creates a new, empty database on that server and returns its URI: each test gets its own, so
/// tests never see each other's rows. The databases go with the server when the fixture stops it.
std::string freshPgDatabase();

} // namespace parley::test
