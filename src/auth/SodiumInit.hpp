#pragma once

// Internal to parley_auth (not part of its interface): included only by its .cpp files.

#include <sodium.h>

#include <stdexcept>

namespace parley::auth::detail {

/// Runs sodium_init() once per process before the first libsodium call that needs it (random
/// bytes, Argon2). Throws std::runtime_error if libsodium cannot initialise (no entropy source).
inline void ensureSodium() {
    // A function-local static makes the first call thread-safe; sodium_init() itself is idempotent.
    static const bool ready = sodium_init() >= 0;
    if (!ready) throw std::runtime_error("auth: libsodium failed to initialise");
}

} // namespace parley::auth::detail
