#pragma once

#include "auth/Errc.hpp"

#include <boost/system/result.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

struct evp_pkey_st; // OpenSSL's EVP_PKEY

namespace parley::auth {

/// What a JwtVerifier accepts. At least one of `secret` and `publicKeyPem` must be set.
struct JwtConfig {
    std::string secret;       ///< HS256 shared secret; empty disables HS256
    std::string publicKeyPem; ///< SPKI PEM of an RSA (>= 2048 bit, RS256) or P-256 (ES256) key; empty disables both
    std::string issuer;       ///< if non-empty, `iss` must equal it
    std::string audience;     ///< if non-empty, `aud` (a string or an array of strings) must contain it
    std::chrono::seconds leeway{30}; ///< clock skew tolerated on `exp`/`nbf`; clamped to [0, 1 year]
    /// If true, a token without `exp` is refused (MissingExpiry): it would be valid forever. The
    /// server turns it on (--jwt-require-exp); off, such a token is accepted with expiresAt 0.
    bool requireExp = false;
};

/// The claims a verified token vouches for.
struct Claims {
    std::string subject;        ///< `sub`: a user's ObjectId (24 lowercase hex)
    std::int64_t expiresAt = 0; ///< `exp` in Unix seconds, or 0 if the token has no `exp`
};

/// Verifies compact JWS tokens against one configuration. The allowed algorithms follow from the
/// configured keys alone (HS256 for a secret, RS256 for an RSA key, ES256 for an EC key), never
/// from the token, so `none` and algorithm-confusion tokens are refused before any crypto runs.
class JwtVerifier {
public:
    /// Throws std::invalid_argument when neither a secret nor a key is given, or when the PEM is
    /// not an RSA (>= 2048 bit) or P-256 EC public key.
    explicit JwtVerifier(JwtConfig config);

    /// Checks, in order: shape (Malformed), `alg` (AlgorithmNotAllowed), signature (BadSignature),
    /// `exp` (Expired, or MissingExpiry if required and absent), `nbf` (NotYetValid), `iss` (WrongIssuer), `aud`
    /// (WrongAudience), `sub` (BadSubject). Returns the claims if every check passes. Thread-safe; never throws.
    boost::system::result<Claims> verify(std::string_view token) const;

    /// The first Unix millisecond at which verify() refuses a token with these claims as Expired
    /// (`exp` + leeway + 1 s, since verify() compares whole seconds), or 0 for a token without
    /// `exp`. A live connection that holds the token ends then, the moment a new CONNECT with it
    /// would be refused. Saturates at INT64_MAX for an `exp` too far away to count in ms.
    std::int64_t validUntilMs(const Claims& claims) const noexcept;

private:
    enum class KeyType { None, Rsa, Ec };

    std::string secret_;
    /// The public key parsed once from the PEM; null when none is configured. verify() only reads
    /// it, each call through a context of its own (OpenSSL locks the key's internal caches), so
    /// any number of threads may verify at once.
    std::shared_ptr<evp_pkey_st> publicKey_;
    KeyType keyType_ = KeyType::None;
    std::string issuer_;
    std::string audience_;
    std::int64_t leewaySeconds_ = 0;
    bool requireExp_ = false;
};

/// An HS256-signed token with `sub`, `iat`, `exp` (now + ttl) and, when non-empty, `iss` and `aud`.
/// For `parley token` and login. Throws std::invalid_argument for an empty secret or a subject,
/// issuer or audience containing a NUL byte (verify() would refuse the token), std::bad_alloc when
/// out of memory.
std::string signJwt(std::string_view secret, std::string_view subject, std::chrono::seconds ttl,
                    std::string_view issuer = {}, std::string_view audience = {});

/// True if `token` is three non-empty base64url segments separated by two dots. Shape only: says
/// nothing of the content; use it to tell a JWT from a session token before picking a verifier.
bool looksLikeJwt(std::string_view token);

} // namespace parley::auth
