#pragma once

#include <string>
#include <string_view>

namespace parley::auth {

/// An Argon2id hash of `password` in libsodium's self-describing string form ("$argon2id$v=19$m=...").
/// Uses the INTERACTIVE limits (~64 MiB, a few tens of ms), so call it off the io threads.
/// Throws std::runtime_error if the memory for hashing cannot be allocated.
std::string hashPassword(std::string_view password);

/// True if `password` matches `hash` (a string from hashPassword). False for a wrong password and
/// for any malformed, truncated or unsupported hash. Costs as much as hashPassword.
bool verifyPassword(std::string_view hash, std::string_view password);

} // namespace parley::auth
