#pragma once

#include "store/sqlite/SqliteStore.hpp"

#include <gtest/gtest.h>

#include <string>

namespace parley::store::test {

// The store suites run on both VFSes SqliteStore can use: the server's WAL write buffer and
// SQLite's default, so that nothing the store promises depends on the custom one.
using Vfs = SqliteStore::Options::Vfs;

inline const auto kBothVfs = ::testing::Values(Vfs::WalWriteBuffer, Vfs::SqliteDefault);

inline std::string vfsName(const ::testing::TestParamInfo<Vfs>& info) {
    return info.param == Vfs::WalWriteBuffer ? "WalWriteBufferVfs" : "SqliteDefaultVfs";
}

inline SqliteStore::Options optionsFor(Vfs vfs) {
    SqliteStore::Options options;
    options.vfs = vfs;
    return options;
}

} // namespace parley::store::test
