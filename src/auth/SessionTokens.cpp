#include "auth/SessionTokens.hpp"

#include "auth/SodiumInit.hpp"

#include <sodium.h>

#include <array>

namespace parley::auth {

namespace {

// The prefix lets secret scanners and our own routing tell session tokens from JWTs at a glance.
constexpr std::string_view kPrefix = "pst_";
// 32 bytes = 256 bits, beyond guessing; unpadded base64url of 32 bytes is 43 characters.
constexpr std::size_t kRandomBytes = 32;
constexpr std::size_t kEncodedChars = 43;

} // namespace

std::string newSessionToken() {
    detail::ensureSodium();
    std::array<unsigned char, kRandomBytes> random{};
    randombytes_buf(random.data(), random.size());
    std::array<char, sodium_base64_ENCODED_LEN(kRandomBytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING)> encoded{};
    sodium_bin2base64(encoded.data(), encoded.size(), random.data(), random.size(),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    // The random bytes are the secret itself; do not leave them on the stack.
    sodium_memzero(random.data(), random.size());
    std::string token(kPrefix);
    token.append(encoded.data(), kEncodedChars);
    sodium_memzero(encoded.data(), encoded.size());
    return token;
}

std::string hashSessionToken(std::string_view token) {
    std::array<unsigned char, crypto_hash_sha256_BYTES> digest{};
    crypto_hash_sha256(digest.data(), reinterpret_cast<const unsigned char*>(token.data()), token.size());
    std::array<char, crypto_hash_sha256_BYTES * 2 + 1> hex{};
    sodium_bin2hex(hex.data(), hex.size(), digest.data(), digest.size());
    return std::string(hex.data(), crypto_hash_sha256_BYTES * 2);
}

bool looksLikeSessionToken(std::string_view token) {
    if (token.size() != kPrefix.size() + kEncodedChars || token.substr(0, kPrefix.size()) != kPrefix) return false;
    for (char c : token.substr(kPrefix.size())) {
        const bool ok =
            (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
        if (!ok) return false;
    }
    return true;
}

} // namespace parley::auth
