#pragma once

#include <cstddef>
#include <string>

namespace parley::core {

/// A random UUID v4, "8-4-4-4-12" lowercase hex. Thread-safe (libsodium's generator).
std::string newUuid();

/// `length` random characters of [0-9A-Za-z] (e.g. a cluster node's id). Thread-safe.
std::string randomAlnum(std::size_t length);

} // namespace parley::core
