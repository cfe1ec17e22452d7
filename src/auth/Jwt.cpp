#include "auth/Jwt.hpp"

#include "core/ObjectId.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cmath>
#include <cstdlib>
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

std::string_view view(const boost::json::string& s) noexcept {
    return {s.data(), s.size()};
}

// For RS256 and ES256, libjwt parses the same bytes again with Jansson, which refuses integers
// beyond int64, reals that overflow a double and "\u0000" inside strings. Refusing them here too
// (for every algorithm, so that none accepts what another refuses) keeps both parsers agreeing on
// every token we pass on: such input is reported as Malformed, not as a libjwt failure.
bool janssonCompatible(const boost::json::value& value) noexcept {
    switch (value.kind()) {
    case boost::json::kind::uint64:
        return false; // Boost.JSON uses uint64 only above INT64_MAX
    case boost::json::kind::double_:
        return std::isfinite(value.get_double());
    case boost::json::kind::string:
        return view(value.get_string()).find('\0') == std::string_view::npos;
    case boost::json::kind::array:
        for (const auto& element : value.get_array())
            if (!janssonCompatible(element)) return false;
        return true;
    case boost::json::kind::object:
        for (const auto& member : value.get_object())
            if (member.key().find('\0') != boost::json::string_view::npos || !janssonCompatible(member.value()))
                return false;
        return true;
    default:
        return true;
    }
}

std::optional<boost::json::object> decodeJsonObject(std::string_view segment) {
    const auto bytes = decodeBase64Url(segment);
    if (!bytes) return std::nullopt;
    boost::system::error_code ec;
    // Boost.JSON's default nesting limit (32) bounds the recursion in janssonCompatible().
    boost::json::value value = boost::json::parse(*bytes, ec);
    if (ec || !value.is_object() || !janssonCompatible(value)) return std::nullopt;
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
// OpenSSL / libjwt handles
// =====================================================================================================

struct BioFree {
    void operator()(BIO* bio) const noexcept { BIO_free(bio); }
};
struct PkeyFree {
    void operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }
};
struct JwtFree {
    void operator()(jwt_t* jwt) const noexcept { jwt_free(jwt); }
};
using JwtPtr = std::unique_ptr<jwt_t, JwtFree>;

const unsigned char* bytesOf(const std::string& s) noexcept {
    return reinterpret_cast<const unsigned char*>(s.data());
}

// HS256 (RFC 7518 section 3.2) with libsodium: the HMAC-SHA256 libjwt would compute, without
// its second JSON parse and OpenSSL 3's per-call algorithm fetch, which were most of a
// connection's token cost. Compared in constant time.
bool hs256Valid(const std::string& secret, std::string_view signingInput, std::string_view signature) noexcept {
    if (signature.size() != crypto_auth_hmacsha256_BYTES) return false;
    crypto_auth_hmacsha256_state state;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_init(&state, bytesOf(secret), secret.size());
    crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(signingInput.data()), signingInput.size());
    crypto_auth_hmacsha256_final(&state, mac);
    const bool ok = sodium_memcmp(mac, signature.data(), sizeof mac) == 0;
    sodium_memzero(&state, sizeof state);
    return ok;
}

// RS256 and ES256 through libjwt. Errc{} when the signature holds.
Errc verifyWithLibjwt(std::string_view token, const std::string& key, jwt_alg_t expected) {
    // jwt_decode wants a NUL-terminated string; the size cap keeps this copy small.
    const std::string terminated(token);
    jwt_t* raw = nullptr;
    const int rc = jwt_decode(&raw, terminated.c_str(), bytesOf(key), static_cast<int>(key.size()));
    const JwtPtr decoded(raw);
    if (rc != 0 || !decoded) {
        // OpenSSL's error queue is per thread and shared with TLS on this io thread; a stale
        // entry there can make a later SSL_get_error() misreport.
        ERR_clear_error();
        return Errc::BadSignature;
    }
    // Boost.JSON and Jansson both keep the last of duplicated members today; should they ever
    // disagree on `alg`, the algorithm libjwt actually verified with must still be the allowed one.
    if (jwt_get_alg(decoded.get()) != expected) return Errc::AlgorithmNotAllowed;
    return Errc{};
}

} // namespace

// =====================================================================================================
// JwtVerifier
// =====================================================================================================

JwtVerifier::JwtVerifier(JwtConfig config)
    : secret_(std::move(config.secret)), publicKeyPem_(std::move(config.publicKeyPem)),
      issuer_(std::move(config.issuer)), audience_(std::move(config.audience)),
      leewaySeconds_(std::clamp<std::int64_t>(config.leeway.count(), 0, kMaxLeewaySeconds)),
      requireExp_(config.requireExp) {
    if (secret_.empty() && publicKeyPem_.empty())
        throw std::invalid_argument("auth: JwtConfig needs a secret or a public key");
    // libjwt takes key lengths as int.
    if (secret_.size() > INT_MAX || publicKeyPem_.size() > INT_MAX)
        throw std::invalid_argument("auth: JWT secret or key is too large");
    if (publicKeyPem_.empty()) return;

    // Parse once here so a bad key fails at start-up, not on the first login; libjwt re-reads the
    // PEM text on every verify, so only the key's type is kept.
    std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(publicKeyPem_.data(), static_cast<int>(publicKeyPem_.size())));
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
    default:
        throw std::invalid_argument("auth: publicKeyPem is neither an RSA nor an EC public key");
    }
}

result<Claims> JwtVerifier::verify(std::string_view token) const {
    // Only allocation can throw below; refusing the token is the safe answer to that too.
    try {
        // ---- Shape ----
        if (token.size() > kMaxTokenBytes) return Errc::Malformed;
        const auto segments = splitSegments(token);
        if (!segments) return Errc::Malformed;
        const auto header = decodeJsonObject(segments->header);
        if (!header) return Errc::Malformed;
        const auto claims = decodeJsonObject(segments->payload);
        if (!claims) return Errc::Malformed;
        std::optional<std::string> signature;
        if (!segments->signature.empty() && !(signature = decodeBase64Url(segments->signature))) return Errc::Malformed;

        const auto* alg = findString(*header, "alg");
        if (!alg) return Errc::Malformed;
        // libjwt refuses any `typ` but "JWT"; checking it here keeps that from surfacing as BadSignature.
        if (const auto* typ = header->if_contains("typ");
            typ && !(typ->is_string() && equalsIgnoreAsciiCase(view(typ->get_string()), "JWT")))
            return Errc::Malformed;
        // RFC 7515 §4.1.11: we implement no extensions, so any critical one makes the token unusable.
        if (header->contains("crit")) return Errc::Malformed;

        // ---- Algorithm allow-list ----
        // Decided by our configuration, never by the token: libjwt 1.10 verifies with whatever `alg`
        // the header names (case-insensitively), so e.g. an HS256 token "signed" with our RSA public
        // key PEM as the HMAC secret would pass if it reached libjwt with that PEM.
        jwt_alg_t expected = JWT_ALG_INVAL;
        const std::string* key = nullptr;
        const std::string_view algName = view(*alg);
        if (algName == "HS256" && !secret_.empty()) {
            expected = JWT_ALG_HS256;
            key = &secret_;
        } else if (algName == "RS256" && keyType_ == KeyType::Rsa) {
            expected = JWT_ALG_RS256;
            key = &publicKeyPem_;
        } else if (algName == "ES256" && keyType_ == KeyType::Ec) {
            expected = JWT_ALG_ES256;
            key = &publicKeyPem_;
        } else {
            return Errc::AlgorithmNotAllowed;
        }
        // Every allowed algorithm signs, so an unsigned token can only be a broken one.
        if (segments->signature.empty()) return Errc::Malformed;

        // ---- Signature ----
        if (expected == JWT_ALG_HS256) {
            const auto signingInput = token.substr(0, segments->header.size() + 1 + segments->payload.size());
            if (!hs256Valid(secret_, signingInput, *signature)) return Errc::BadSignature;
        } else if (auto ec = verifyWithLibjwt(token, *key, expected); ec != Errc{}) {
            return ec;
        }


        // ---- Claims ----
        // Read from our own parse of the now-authenticated payload: libjwt 1.10's grant getters
        // cannot tell an absent claim from one of the wrong type, and reject fractional dates.
        const std::int64_t now = nowSeconds();
        const auto exp = readNumericDate(*claims, "exp");
        if (!exp) return exp.error();
        if (*exp && now - leewaySeconds_ > **exp) return Errc::Expired;
        if (!*exp && requireExp_) return Errc::MissingExpiry;

        const auto nbf = readNumericDate(*claims, "nbf");
        if (!nbf) return nbf.error();
        if (*nbf && **nbf > now + leewaySeconds_) return Errc::NotYetValid;

        if (!issuer_.empty()) {
            const auto* iss = findString(*claims, "iss");
            if (!iss || view(*iss) != issuer_) return Errc::WrongIssuer;
        }
        if (!audience_.empty() && !audienceContains(claims->if_contains("aud"), audience_)) return Errc::WrongAudience;

        const auto* sub = findString(*claims, "sub");
        if (!sub || !core::ObjectId::isValid(view(*sub))) return Errc::BadSubject;

        return Claims{std::string(view(*sub)), exp->value_or(0)};
    } catch (const std::bad_alloc&) {
        return Errc::Malformed;
    }
}

// =====================================================================================================
// Signing and shape checks
// =====================================================================================================

std::string signJwt(std::string_view secret, std::string_view subject, std::chrono::seconds ttl,
                    std::string_view issuer, std::string_view audience) {
    // libjwt reads these as C strings, so an embedded NUL would silently shorten them (the secret
    // is passed with its length and may hold any bytes).
    for (std::string_view part : {subject, issuer, audience})
        if (part.find('\0') != std::string_view::npos)
            throw std::invalid_argument("auth: JWT fields must not contain NUL bytes");
    if (secret.empty()) throw std::invalid_argument("auth: cannot sign a JWT with an empty secret");
    if (secret.size() > INT_MAX) throw std::invalid_argument("auth: JWT secret is too large");

    jwt_t* raw = nullptr;
    if (jwt_new(&raw) != 0 || !raw) throw std::runtime_error("auth: jwt_new failed");
    const JwtPtr jwt(raw);

    const std::int64_t now = nowSeconds();
    const std::string sub(subject), iss(issuer), aud(audience), key(secret);
    bool ok = jwt_add_grant(jwt.get(), "sub", sub.c_str()) == 0 &&
              jwt_add_grant_int(jwt.get(), "iat", static_cast<long>(now)) == 0 &&
              jwt_add_grant_int(jwt.get(), "exp", static_cast<long>(now + ttl.count())) == 0;
    if (ok && !iss.empty()) ok = jwt_add_grant(jwt.get(), "iss", iss.c_str()) == 0;
    if (ok && !aud.empty()) ok = jwt_add_grant(jwt.get(), "aud", aud.c_str()) == 0;
    if (ok) ok = jwt_set_alg(jwt.get(), JWT_ALG_HS256, bytesOf(key), static_cast<int>(key.size())) == 0;
    if (!ok) throw std::runtime_error("auth: building the JWT failed");

    char* encoded = jwt_encode_str(jwt.get());
    ERR_clear_error();
    if (!encoded) throw std::runtime_error("auth: jwt_encode_str failed");
    // libjwt 1.10 allocates with malloc and has no jwt_free_str yet.
    const std::unique_ptr<char, decltype(&std::free)> owned(encoded, &std::free);
    return std::string(owned.get());
}

bool looksLikeJwt(std::string_view token) {
    const auto segments = splitSegments(token);
    return segments && !segments->signature.empty();
}

} // namespace parley::auth
