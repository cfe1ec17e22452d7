#include "auth/Jwt.hpp"

#include "core/ObjectId.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cmath>
#include <limits>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <utility>

namespace parley::auth {

namespace {

// Real tokens are a few hundred bytes; the cap bounds the work an unauthenticated peer can ask for.
constexpr std::size_t kMaxTokenBytes = 8 * 1024;
// RFC 7518 §3.3: RS256 keys must be at least 2048 bits.
constexpr int kMinRsaBits = 2048;
// Far beyond any real clock skew; the cap keeps `now ± leeway` from overflowing.
constexpr std::int64_t kMaxLeewaySeconds = 365 * 24 * 3600;

using boost::system::result;

// The algorithms a verifier may allow (RFC 7518 §3.1); the configured keys decide which.
enum class Algorithm { Hs256, Rs256, Es256 };

// =====================================================================================================
// Shape: segments and base64url
// =====================================================================================================

bool isBase64UrlChar(char c) noexcept {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

bool isBase64Url(std::string_view text) noexcept {
    for (char c : text)
        if (!isBase64UrlChar(c)) return false;
    return true;
}

struct Segments {
    std::string_view header;
    std::string_view payload;
    std::string_view signature;
};

// Splits on exactly two dots. Only the signature may be empty here: an unsigned (`alg: none`) token
// should be reported as a refused algorithm, which needs its header parsed first.
std::optional<Segments> splitSegments(std::string_view token) noexcept {
    const auto first = token.find('.');
    if (first == std::string_view::npos) return std::nullopt;
    const auto second = token.find('.', first + 1);
    if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) return std::nullopt;
    Segments s{token.substr(0, first), token.substr(first + 1, second - first - 1), token.substr(second + 1)};
    if (s.header.empty() || s.payload.empty()) return std::nullopt;
    if (!isBase64Url(s.header) || !isBase64Url(s.payload) || !isBase64Url(s.signature)) return std::nullopt;
    return s;
}

// Strict unpadded base64url: libsodium refuses stray characters, impossible lengths and non-zero
// trailing bits, so one token has exactly one byte string (no malleable encodings).
std::optional<std::string> decodeBase64Url(std::string_view text) {
    std::string out(text.size() / 4 * 3 + 3, '\0');
    std::size_t length = 0;
    if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(), text.size(), nullptr,
                          &length, nullptr, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
        return std::nullopt;
    out.resize(length);
    return out;
}

std::string_view view(const boost::json::string& s) noexcept { return {s.data(), s.size()}; }

// JSON that many JWT libraries cannot hold or would read differently: integers beyond int64,
// reals that overflow a double and "\u0000" inside strings or names (a C string would end there).
// Such a header or claim set is Malformed whatever the algorithm, so a token means the same here
// as for the issuer's library, and no claim handed on can be cut short by a NUL.
bool portableJson(const boost::json::value& value) noexcept {
    switch (value.kind()) {
    case boost::json::kind::uint64: return false; // Boost.JSON uses uint64 only above INT64_MAX
    case boost::json::kind::double_: return std::isfinite(value.get_double());
    case boost::json::kind::string: return view(value.get_string()).find('\0') == std::string_view::npos;
    case boost::json::kind::array:
        for (const auto& element : value.get_array())
            if (!portableJson(element)) return false;
        return true;
    case boost::json::kind::object:
        for (const auto& member : value.get_object())
            if (member.key().find('\0') != boost::json::string_view::npos || !portableJson(member.value()))
                return false;
        return true;
    default: return true;
    }
}

std::optional<boost::json::object> decodeJsonObject(std::string_view segment) {
    const auto bytes = decodeBase64Url(segment);
    if (!bytes) return std::nullopt;
    boost::system::error_code ec;
    // Boost.JSON's default nesting limit (32) bounds the recursion in portableJson(). Of a
    // duplicated name, the last member is kept (RFC 7515 §4); header and claims are parsed only
    // here, so the `alg` checked below is the one the signature is verified under.
    boost::json::value value = boost::json::parse(*bytes, ec);
    if (ec || !value.is_object() || !portableJson(value)) return std::nullopt;
    return std::move(value.as_object());
}

const boost::json::string* findString(const boost::json::object& object, std::string_view key) noexcept {
    const auto* value = object.if_contains(key);
    return value ? value->if_string() : nullptr;
}

bool equalsIgnoreAsciiCase(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

// =====================================================================================================
// Claims
// =====================================================================================================

// A NumericDate (RFC 7519 §2) as whole seconds: nullopt when absent, Malformed when not a number.
// Fractions round down and huge reals saturate, so the comparisons in verify() cannot overflow.
result<std::optional<std::int64_t>> readNumericDate(const boost::json::object& claims, std::string_view key) {
    const auto* value = claims.if_contains(key);
    if (!value) return std::optional<std::int64_t>{};
    if (const auto* i = value->if_int64()) return std::optional<std::int64_t>{*i};
    if (const auto* d = value->if_double()) {
        // ±2^62 is far beyond any real date and keeps the double → int64 conversion defined.
        constexpr double kLimit = 4611686018427387904.0;
        if (!std::isfinite(*d)) return Errc::Malformed;
        const double clamped = std::floor(std::min(std::max(*d, -kLimit), kLimit));
        return std::optional<std::int64_t>{static_cast<std::int64_t>(clamped)};
    }
    return Errc::Malformed;
}

bool audienceContains(const boost::json::value* aud, std::string_view wanted) noexcept {
    if (!aud) return false;
    if (const auto* single = aud->if_string()) return view(*single) == wanted;
    if (const auto* many = aud->if_array()) {
        for (const auto& entry : *many)
            if (const auto* s = entry.if_string(); s && view(*s) == wanted) return true;
    }
    return false;
}

std::int64_t nowSeconds() noexcept {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// =====================================================================================================
// Signatures: HMAC-SHA256 with libsodium, RSA and ECDSA with OpenSSL's EVP on the parsed key
// =====================================================================================================

struct BioFree {
    void operator()(BIO* bio) const noexcept { BIO_free(bio); }
};
struct PkeyFree {
    void operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }
};
struct MdCtxFree {
    void operator()(EVP_MD_CTX* ctx) const noexcept { EVP_MD_CTX_free(ctx); }
};
struct EcdsaSigFree {
    void operator()(ECDSA_SIG* sig) const noexcept { ECDSA_SIG_free(sig); }
};
struct BnFree {
    void operator()(BIGNUM* bn) const noexcept { BN_free(bn); }
};

const unsigned char* bytesOf(std::string_view s) noexcept { return reinterpret_cast<const unsigned char*>(s.data()); }

using Mac = std::array<unsigned char, crypto_auth_hmacsha256_BYTES>;

// HMAC-SHA256 (RFC 7518 §3.2), what both HS256 signing and verifying compute.
Mac hmacSha256(std::string_view secret, std::string_view signingInput) noexcept {
    crypto_auth_hmacsha256_state state;
    Mac mac{};
    crypto_auth_hmacsha256_init(&state, bytesOf(secret), secret.size());
    crypto_auth_hmacsha256_update(&state, bytesOf(signingInput), signingInput.size());
    crypto_auth_hmacsha256_final(&state, mac.data());
    sodium_memzero(&state, sizeof state);
    return mac;
}

// Compared in constant time, so the time taken says nothing of how much of a forgery was right.
bool hs256Valid(std::string_view secret, std::string_view signingInput, std::string_view signature) noexcept {
    if (signature.size() != crypto_auth_hmacsha256_BYTES) return false;
    const Mac mac = hmacSha256(secret, signingInput);
    return sodium_memcmp(mac.data(), signature.data(), mac.size()) == 0;
}

// JWS carries an ES256 signature as R || S, 32 big-endian bytes each (RFC 7518 §3.4); OpenSSL
// verifies the DER encoding of the same pair. Any other length is no ES256 signature at all.
// Empty on a length that is not 64 (or when out of memory).
std::string es256ToDer(std::string_view joseSignature) {
    constexpr std::size_t kHalf = 32;
    if (joseSignature.size() != 2 * kHalf) return {};
    std::unique_ptr<BIGNUM, BnFree> r(BN_bin2bn(bytesOf(joseSignature), kHalf, nullptr));
    std::unique_ptr<BIGNUM, BnFree> s(BN_bin2bn(bytesOf(joseSignature.substr(kHalf)), kHalf, nullptr));
    std::unique_ptr<ECDSA_SIG, EcdsaSigFree> sig(ECDSA_SIG_new());
    if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) return {};
    (void)r.release(); // owned by sig from here on
    (void)s.release();
    // Two INTEGERs of at most 33 bytes in a SEQUENCE: 72 bytes at most.
    std::string der(80, '\0');
    auto* out = reinterpret_cast<unsigned char*>(der.data());
    const int length = i2d_ECDSA_SIG(sig.get(), &out);
    if (length <= 0 || static_cast<std::size_t>(length) > der.size()) return {};
    der.resize(static_cast<std::size_t>(length));
    return der;
}

// RS256 (RSASSA-PKCS1-v1_5) or ES256 (ECDSA over P-256, DER signature) with SHA-256, on a key
// parsed at start-up. EVP_DigestVerifyInit takes its own reference to the key and reads it only,
// so concurrent calls on one key are safe.
bool digestVerify(EVP_PKEY* key, std::string_view signingInput, std::string_view signature) noexcept {
    const std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
    const bool ok = ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) == 1 &&
                    EVP_DigestVerify(ctx.get(), bytesOf(signature), signature.size(), bytesOf(signingInput),
                                     signingInput.size()) == 1;
    // OpenSSL's error queue is per thread and shared with TLS on this io thread; a stale entry
    // left there by a refused signature can make a later SSL_get_error() misreport.
    if (!ok) ERR_clear_error();
    return ok;
}

std::string encodeBase64Url(std::string_view bytes) {
    constexpr int kVariant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
    std::string out(sodium_base64_ENCODED_LEN(bytes.size(), kVariant), '\0');
    sodium_bin2base64(out.data(), out.size(), bytesOf(bytes), bytes.size(), kVariant);
    out.resize(out.size() - 1); // the terminating NUL sodium counts in
    return out;
}

// =====================================================================================================
// The steps of JwtVerifier::verify: parse, choose the algorithm, check the signature, check the claims
// =====================================================================================================

// A token of the right shape, its header and claims parsed, not yet authenticated.
struct ParsedToken {
    boost::json::object claims;
    std::string alg;                      // the header's `alg`, as sent
    std::string_view signingInput;        // "header.payload" exactly as sent (RFC 7515 §5.2)
    std::optional<std::string> signature; // decoded; nullopt when the token carries none
};

// Shape only, every failure Malformed: size, segments, base64url, JSON objects, `alg` present,
// `typ` (if any) JWT, no `crit`. An empty signature is left for the caller to refuse after the
// algorithm, so that an `alg: none` token is reported as a refused algorithm.
result<ParsedToken> parseToken(std::string_view token) {
    if (token.size() > kMaxTokenBytes) return Errc::Malformed;
    const auto segments = splitSegments(token);
    if (!segments) return Errc::Malformed;
    const auto header = decodeJsonObject(segments->header);
    if (!header) return Errc::Malformed;
    auto claims = decodeJsonObject(segments->payload);
    if (!claims) return Errc::Malformed;
    std::optional<std::string> signature;
    if (!segments->signature.empty() && !(signature = decodeBase64Url(segments->signature))) return Errc::Malformed;

    const auto* alg = findString(*header, "alg");
    if (!alg) return Errc::Malformed;
    // RFC 7519 §5.1: a JWT may say so in `typ`; a token typed as anything else (e.g. an OAuth
    // access token, "at+jwt") is meant for another use and is not taken as a login.
    if (const auto* typ = header->if_contains("typ");
        typ && !(typ->is_string() && equalsIgnoreAsciiCase(view(typ->get_string()), "JWT")))
        return Errc::Malformed;
    // RFC 7515 §4.1.11: we implement no extensions, so any critical one makes the token unusable.
    if (header->contains("crit")) return Errc::Malformed;

    return ParsedToken{std::move(*claims), std::string(view(*alg)),
                       token.substr(0, segments->header.size() + 1 + segments->payload.size()), std::move(signature)};
}

// The algorithm allow-list. Decided by our configuration, never by the token, and matched
// exactly (case included): otherwise e.g. an HS256 token "signed" with our RSA public key PEM as
// the HMAC secret could be checked against that PEM. The PEM is never an HMAC key here.
std::optional<Algorithm> allowedAlgorithm(std::string_view alg, bool haveSecret, bool haveRsaKey, bool haveEcKey) {
    if (alg == "HS256" && haveSecret) return Algorithm::Hs256;
    if (alg == "RS256" && haveRsaKey) return Algorithm::Rs256;
    if (alg == "ES256" && haveEcKey) return Algorithm::Es256;
    return std::nullopt;
}

// `key` is the configured public key (null when none): the allow-list only lets RS256 and
// ES256 through when it is one of theirs.
bool signatureValid(Algorithm algorithm, std::string_view signingInput, std::string_view signature,
                    std::string_view secret, EVP_PKEY* key) {
    switch (algorithm) {
    case Algorithm::Hs256: return hs256Valid(secret, signingInput, signature);
    case Algorithm::Rs256: return digestVerify(key, signingInput, signature);
    case Algorithm::Es256: {
        const std::string der = es256ToDer(signature);
        return !der.empty() && digestVerify(key, signingInput, der);
    }
    }
    return false;
}

// What a verifier requires of the claims (JwtConfig's, leeway already clamped).
struct ClaimRules {
    std::string_view issuer;   // empty: any
    std::string_view audience; // empty: any
    std::int64_t leewaySeconds = 0;
    bool requireExp = false;
};

// In order: `exp` (Expired, MissingExpiry), `nbf` (NotYetValid), `iss`, `aud`, `sub`. An absent
// claim and one of the wrong type are told apart; fractional dates are accepted (rounded down).
result<Claims> checkClaims(const boost::json::object& claims, const ClaimRules& rules, std::int64_t now) {
    const auto exp = readNumericDate(claims, "exp");
    if (!exp) return exp.error();
    if (*exp && now - rules.leewaySeconds > **exp) return Errc::Expired;
    if (!*exp && rules.requireExp) return Errc::MissingExpiry;

    const auto nbf = readNumericDate(claims, "nbf");
    if (!nbf) return nbf.error();
    if (*nbf && **nbf > now + rules.leewaySeconds) return Errc::NotYetValid;

    if (!rules.issuer.empty()) {
        const auto* iss = findString(claims, "iss");
        if (!iss || view(*iss) != rules.issuer) return Errc::WrongIssuer;
    }
    if (!rules.audience.empty() && !audienceContains(claims.if_contains("aud"), rules.audience))
        return Errc::WrongAudience;

    const auto* sub = findString(claims, "sub");
    if (!sub || !core::ObjectId::isValid(view(*sub))) return Errc::BadSubject;

    return Claims{std::string(view(*sub)), exp->value_or(0)};
}

} // namespace

// =====================================================================================================
// JwtVerifier
// =====================================================================================================

std::int64_t JwtVerifier::validUntilMs(const Claims& claims) const noexcept {
    if (claims.expiresAt == 0) return 0;
    // Past this, `(exp + leeway + 1) * 1000` would overflow; no real token gets near it.
    constexpr std::int64_t kMaxSeconds = std::numeric_limits<std::int64_t>::max() / 1000 - kMaxLeewaySeconds - 1;
    if (claims.expiresAt > kMaxSeconds) return std::numeric_limits<std::int64_t>::max();
    // An exp at or before the epoch is still "has an expiry": at least 1 ms, never the 0 of none.
    if (claims.expiresAt < 0) return 1;
    return (claims.expiresAt + leewaySeconds_ + 1) * 1000;
}

JwtVerifier::JwtVerifier(JwtConfig config)
    : secret_(std::move(config.secret)), issuer_(std::move(config.issuer)), audience_(std::move(config.audience)),
      leewaySeconds_(std::clamp<std::int64_t>(config.leeway.count(), 0, kMaxLeewaySeconds)),
      requireExp_(config.requireExp) {
    const std::string& pem = config.publicKeyPem;
    if (secret_.empty() && pem.empty()) throw std::invalid_argument("auth: JwtConfig needs a secret or a public key");
    // BIO_new_mem_buf takes an int length; anything near it is no real secret or key.
    if (secret_.size() > INT_MAX || pem.size() > INT_MAX)
        throw std::invalid_argument("auth: JWT secret or key is too large");
    if (pem.empty()) return;

    // Parsed once, here: a bad key fails at start-up, not on the first login, and verify() works
    // on the EVP_PKEY without reading the PEM again.
    std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    std::unique_ptr<EVP_PKEY, PkeyFree> key(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr);
    ERR_clear_error();
    if (!key) throw std::invalid_argument("auth: publicKeyPem is not a PEM public key");

    switch (EVP_PKEY_get_base_id(key.get())) {
    case EVP_PKEY_RSA:
        if (EVP_PKEY_get_bits(key.get()) < kMinRsaBits)
            throw std::invalid_argument("auth: RSA public key is shorter than 2048 bits");
        keyType_ = KeyType::Rsa;
        break;
    case EVP_PKEY_EC: {
        // ES256 is defined only over P-256; any other curve could never verify a token.
        std::array<char, 64> group{};
        std::size_t groupLength = 0;
        if (EVP_PKEY_get_group_name(key.get(), group.data(), group.size(), &groupLength) != 1 ||
            std::string_view(group.data(), groupLength) != "prime256v1") {
            ERR_clear_error();
            throw std::invalid_argument("auth: EC public key is not on the P-256 curve");
        }
        keyType_ = KeyType::Ec;
        break;
    }
    default: throw std::invalid_argument("auth: publicKeyPem is neither an RSA nor an EC public key");
    }
    publicKey_ = std::shared_ptr<EVP_PKEY>(key.release(), PkeyFree{});
}

result<Claims> JwtVerifier::verify(std::string_view token) const {
    // Only allocation can throw below; refusing the token is the safe answer to that too.
    try {
        const auto parsed = parseToken(token);
        if (!parsed) return parsed.error();
        const auto algorithm =
            allowedAlgorithm(parsed->alg, !secret_.empty(), keyType_ == KeyType::Rsa, keyType_ == KeyType::Ec);
        if (!algorithm) return Errc::AlgorithmNotAllowed;
        // Every allowed algorithm signs, so an unsigned token can only be a broken one.
        if (!parsed->signature) return Errc::Malformed;
        if (!signatureValid(*algorithm, parsed->signingInput, *parsed->signature, secret_, publicKey_.get()))
            return Errc::BadSignature;
        // From the same parse the allow-list read, now authenticated.
        return checkClaims(parsed->claims, ClaimRules{issuer_, audience_, leewaySeconds_, requireExp_}, nowSeconds());
    } catch (const std::bad_alloc&) {
        return Errc::Malformed;
    }
}

// =====================================================================================================
// Signing and shape checks
// =====================================================================================================

std::string signJwt(std::string_view secret, std::string_view subject, std::chrono::seconds ttl,
                    std::string_view issuer, std::string_view audience) {
    // verify() refuses a NUL inside any string claim (portableJson), so such a token could never
    // be used; the secret is raw bytes and may hold any.
    for (std::string_view part : {subject, issuer, audience})
        if (part.find('\0') != std::string_view::npos)
            throw std::invalid_argument("auth: JWT fields must not contain NUL bytes");
    if (secret.empty()) throw std::invalid_argument("auth: cannot sign a JWT with an empty secret");
    if (secret.size() > INT_MAX) throw std::invalid_argument("auth: JWT secret is too large");

    const std::int64_t now = nowSeconds();
    boost::json::object claims;
    claims["sub"] = subject;
    claims["iat"] = now;
    claims["exp"] = now + static_cast<std::int64_t>(ttl.count());
    if (!issuer.empty()) claims["iss"] = issuer;
    if (!audience.empty()) claims["aud"] = audience;

    std::string token = encodeBase64Url(R"({"alg":"HS256","typ":"JWT"})");
    token += '.';
    token += encodeBase64Url(boost::json::serialize(claims));
    const Mac mac = hmacSha256(secret, token);
    token += '.';
    token += encodeBase64Url(std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size()));
    return token;
}

bool looksLikeJwt(std::string_view token) {
    const auto segments = splitSegments(token);
    return segments && !segments->signature.empty();
}

} // namespace parley::auth
