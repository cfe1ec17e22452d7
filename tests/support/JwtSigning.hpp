#pragma once

// Signing JWTs by hand with OpenSSL, for the tests and benchmarks of auth::JwtVerifier: they
// must not trust the code under test to produce the tokens it is asked to verify.

#include <openssl/evp.h>

#include <memory>
#include <string>
#include <string_view>

namespace parley::testsupport {

struct PkeyFree {
    void operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

/// A fresh key pair (null if OpenSSL refuses): RSA of `bits`, EC on `curve` ("P-256"), Ed25519.
Pkey rsaKey(unsigned bits);
Pkey ecKey(const char* curve);
Pkey ed25519Key();

/// The public key as PEM (SubjectPublicKeyInfo), or the private key with `privateKey`.
/// Throws std::runtime_error if OpenSSL cannot export it.
std::string pemOf(EVP_PKEY* key, bool privateKey = false);

/// base64url without padding, as JWS segments are written (libsodium: call sodium_init first).
std::string b64url(std::string_view bytes);

/// HMAC-SHA256 of `data` under `key`: the raw 32 bytes of an HS256 signature.
std::string hmacSha256(std::string_view key, std::string_view data);

/// A SHA-256 signature of `data` with `key`, as OpenSSL writes it: the RS256 signature for an
/// RSA key, a DER ECDSA-Sig-Value for an EC key (see derToJose). Throws std::runtime_error.
std::string digestSign(EVP_PKEY* key, std::string_view data);

/// A DER ECDSA signature as JWS wants it (RFC 7518 section 3.4): R || S, 32 bytes each on
/// P-256. Throws std::runtime_error if `der` does not parse.
std::string derToJose(std::string_view der);

} // namespace parley::testsupport
