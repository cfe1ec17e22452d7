#pragma once

#include <string>

namespace parley::core {

/// A random UUID v4, "8-4-4-4-12" lowercase hex. Thread-safe (libsodium's generator).
std::string newUuid();

} // namespace parley::core
