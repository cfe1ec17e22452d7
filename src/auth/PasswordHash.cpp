#include "auth/PasswordHash.hpp"

#include "auth/SodiumInit.hpp"

#include <sodium.h>

#include <array>
#include <stdexcept>

namespace parley::auth {

std::string hashPassword(std::string_view password) {
    detail::ensureSodium();
    std::array<char, crypto_pwhash_STRBYTES> out{};
    // Argon2id named explicitly rather than relying on crypto_pwhash_ALG_DEFAULT, so stored hashes
    // keep the same algorithm whatever libsodium's default becomes.
    if (crypto_pwhash_str_alg(out.data(), password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) != 0)
        throw std::runtime_error("auth: out of memory while hashing a password");
    return std::string(out.data());
}

bool verifyPassword(std::string_view hash, std::string_view password) {
    detail::ensureSodium();
    // libsodium reads the hash as a C string of at most STRBYTES - 1 characters; anything longer or
    // with an embedded NUL cannot be one of ours.
    if (hash.empty() || hash.size() >= crypto_pwhash_STRBYTES || hash.find('\0') != std::string_view::npos)
        return false;
    std::array<char, crypto_pwhash_STRBYTES> terminated{};
    hash.copy(terminated.data(), hash.size());
    return crypto_pwhash_str_verify(terminated.data(), password.data(), password.size()) == 0;
}

} // namespace parley::auth
