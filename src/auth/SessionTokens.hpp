#pragma once

#include <string>
#include <string_view>

namespace parley::auth {

/// A new opaque session token: "pst_" + 43 base64url characters (32 random bytes). Hand it to the
/// client once and store only hashSessionToken() of it. Throws std::runtime_error only if
/// libsodium cannot initialise.
std::string newSessionToken();

/// The lowercase hex SHA-256 (64 characters) of `token`: the form sessions are stored and looked up
/// by, so a leaked database does not yield usable tokens. Deterministic; accepts any input.
std::string hashSessionToken(std::string_view token);

/// True if `token` has the shape newSessionToken() produces ("pst_" + 43 base64url characters).
/// Shape only: whether a session exists is the store's question.
bool looksLikeSessionToken(std::string_view token);

} // namespace parley::auth
