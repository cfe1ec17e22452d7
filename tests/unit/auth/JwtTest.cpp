#include "auth/Jwt.hpp"

#include "auth/Errc.hpp"
#include "core/ObjectId.hpp"
#include "support/JwtSigning.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace auth = parley::auth;
namespace json = boost::json;
using auth::Errc;
using auth::JwtConfig;
using auth::JwtVerifier;
using parley::testsupport::b64url;
using parley::testsupport::derToJose;
using parley::testsupport::digestSign;
using parley::testsupport::ecKey;
using parley::testsupport::ed25519Key;
using parley::testsupport::hmacSha256;
using parley::testsupport::pemOf;
using parley::testsupport::Pkey;
using parley::testsupport::rsaKey;

const std::string kSecret = "correct horse battery staple, but longer";
const std::string kSubject = "65f1a2b3c4d5e6f708192a3b";

// =====================================================================================================
// Building tokens by hand, so the tests do not trust the code under test to produce them
// =====================================================================================================

std::int64_t now() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

using Signer = std::function<std::string(std::string_view signingInput)>;

// header/payload are raw JSON text so tests can also send things a JSON library would never write.
std::string makeToken(std::string_view headerJson, std::string_view payloadJson, const Signer& sign) {
    std::string input = b64url(headerJson) + "." + b64url(payloadJson);
    const std::string signature = sign ? sign(input) : std::string();
    return input + "." + b64url(signature);
}

Signer hmacSigner(std::string key) {
    return [key = std::move(key)](std::string_view input) { return hmacSha256(key, input); };
}
Signer rsaSigner(EVP_PKEY* key) {
    return [key](std::string_view input) { return digestSign(key, input); };
}
Signer ecSigner(EVP_PKEY* key) {
    return [key](std::string_view input) { return derToJose(digestSign(key, input)); };
}

std::string header(std::string_view alg) { return json::serialize(json::object{{"alg", alg}, {"typ", "JWT"}}); }

// A claim set that passes every check of a default verifier; tests change one thing at a time.
json::object goodClaims() { return {{"sub", kSubject}, {"iat", now()}, {"exp", now() + 3600}}; }

std::string hs256(const json::object& claims, const std::string& secret = kSecret) {
    return makeToken(header("HS256"), json::serialize(claims), hmacSigner(secret));
}

::testing::AssertionResult failsWith(const boost::system::result<auth::Claims>& r, Errc expected) {
    const auto want = make_error_code(expected);
    if (r)
        return ::testing::AssertionFailure()
               << "accepted (sub=" << r->subject << "), expected '" << want.message() << "'";
    if (r.error() != want)
        return ::testing::AssertionFailure()
               << "got '" << r.error().message() << "', expected '" << want.message() << "'";
    return ::testing::AssertionSuccess();
}

// =====================================================================================================
// Fixture: RSA keygen is slow-ish, so keys are made once for the suite
// =====================================================================================================

class JwtTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        rsa_ = rsaKey(2048).release();
        otherRsa_ = rsaKey(2048).release();
        ec_ = ecKey("P-256").release();
        otherEc_ = ecKey("P-256").release();
        ASSERT_TRUE(rsa_ && otherRsa_ && ec_ && otherEc_);
    }
    static void TearDownTestSuite() {
        for (EVP_PKEY* key : {rsa_, otherRsa_, ec_, otherEc_}) EVP_PKEY_free(key);
    }

    static JwtVerifier secretVerifier(std::chrono::seconds leeway = std::chrono::seconds(30)) {
        JwtConfig config;
        config.secret = kSecret;
        config.leeway = leeway;
        return JwtVerifier(config);
    }
    static JwtVerifier keyVerifier(EVP_PKEY* key) {
        JwtConfig config;
        config.publicKeyPem = pemOf(key);
        return JwtVerifier(config);
    }

    static inline EVP_PKEY* rsa_ = nullptr;
    static inline EVP_PKEY* otherRsa_ = nullptr;
    static inline EVP_PKEY* ec_ = nullptr;
    static inline EVP_PKEY* otherEc_ = nullptr;
};

// =====================================================================================================
// Valid tokens
// =====================================================================================================

TEST_F(JwtTest, AcceptsHs256) {
    auto claims = goodClaims();
    const std::int64_t exp = claims["exp"].as_int64();
    const auto r = secretVerifier().verify(hs256(claims));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->subject, kSubject);
    EXPECT_EQ(r->expiresAt, exp);
}

TEST_F(JwtTest, AcceptsRs256) {
    const auto token = makeToken(header("RS256"), json::serialize(goodClaims()), rsaSigner(rsa_));
    const auto r = keyVerifier(rsa_).verify(token);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->subject, kSubject);
}

TEST_F(JwtTest, AcceptsEs256) {
    const auto token = makeToken(header("ES256"), json::serialize(goodClaims()), ecSigner(ec_));
    const auto r = keyVerifier(ec_).verify(token);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->subject, kSubject);
}

TEST_F(JwtTest, AcceptsHeaderWithoutTyp) {
    const auto token = makeToken(R"({"alg":"HS256"})", json::serialize(goodClaims()), hmacSigner(kSecret));
    EXPECT_TRUE(secretVerifier().verify(token));
}

TEST_F(JwtTest, VerifierWithSecretAndKeyAcceptsBoth) {
    JwtConfig config;
    config.secret = kSecret;
    config.publicKeyPem = pemOf(rsa_);
    const JwtVerifier verifier(config);
    EXPECT_TRUE(verifier.verify(hs256(goodClaims())));
    EXPECT_TRUE(verifier.verify(makeToken(header("RS256"), json::serialize(goodClaims()), rsaSigner(rsa_))));
}

TEST_F(JwtTest, MissingExpIsAcceptedWithZeroExpiry) {
    const auto r = secretVerifier().verify(hs256({{"sub", kSubject}}));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->expiresAt, 0);
}

TEST_F(JwtTest, MissingExpIsRefusedWhenRequired) {
    JwtConfig config;
    config.secret = kSecret;
    config.requireExp = true;
    const JwtVerifier verifier(config);
    EXPECT_TRUE(failsWith(verifier.verify(hs256({{"sub", kSubject}, {"iat", now()}})), Errc::MissingExpiry));
    EXPECT_TRUE(failsWith(verifier.verify(hs256({{"sub", kSubject}, {"exp", nullptr}})), Errc::Malformed))
        << "a null exp is no date";
    const auto r = verifier.verify(hs256(goodClaims()));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_GT(r->expiresAt, 0);
    auto expired = goodClaims();
    expired["exp"] = now() - 3600;
    EXPECT_TRUE(failsWith(verifier.verify(hs256(expired)), Errc::Expired)) << "required and present: still checked";
}

TEST_F(JwtTest, FractionalExpIsAccepted) {
    const std::int64_t whole = now() + 600;
    const auto r = secretVerifier().verify(hs256({{"sub", kSubject}, {"exp", static_cast<double>(whole) + 0.75}}));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->expiresAt, whole);
}

// =====================================================================================================
// Time claims
// =====================================================================================================

TEST_F(JwtTest, RejectsExpired) {
    auto claims = goodClaims();
    claims["exp"] = now() - 120;
    EXPECT_TRUE(failsWith(secretVerifier().verify(hs256(claims)), Errc::Expired));
}

TEST_F(JwtTest, RejectsNotYetValid) {
    auto claims = goodClaims();
    claims["nbf"] = now() + 120;
    EXPECT_TRUE(failsWith(secretVerifier().verify(hs256(claims)), Errc::NotYetValid));
}

TEST_F(JwtTest, AcceptsWithinLeeway) {
    auto claims = goodClaims();
    claims["exp"] = now() - 10;
    claims["nbf"] = now() + 10;
    EXPECT_TRUE(secretVerifier().verify(hs256(claims)));
}

TEST_F(JwtTest, ZeroLeewayIsStrict) {
    auto expired = goodClaims();
    expired["exp"] = now() - 5;
    EXPECT_TRUE(failsWith(secretVerifier(std::chrono::seconds(0)).verify(hs256(expired)), Errc::Expired));
    auto early = goodClaims();
    early["nbf"] = now() + 5;
    EXPECT_TRUE(failsWith(secretVerifier(std::chrono::seconds(0)).verify(hs256(early)), Errc::NotYetValid));
}

TEST_F(JwtTest, LeewayIsClampedToASaneRange) {
    auto expired = goodClaims();
    expired["exp"] = now() - 5;
    EXPECT_TRUE(failsWith(secretVerifier(std::chrono::seconds(-100)).verify(hs256(expired)), Errc::Expired));

    // An absurd leeway must neither overflow `now ± leeway` nor forgive more than a year.
    const auto lenient = secretVerifier(std::chrono::seconds::max());
    expired["exp"] = now() - 24 * 3600;
    EXPECT_TRUE(lenient.verify(hs256(expired)));
    expired["exp"] = now() - 2 * 365 * 24 * 3600;
    EXPECT_TRUE(failsWith(lenient.verify(hs256(expired)), Errc::Expired));
    auto early = goodClaims();
    early["nbf"] = now() + 2 * 365 * 24 * 3600;
    EXPECT_TRUE(failsWith(lenient.verify(hs256(early)), Errc::NotYetValid));
}

TEST_F(JwtTest, ValidUntilIsTheFirstMillisecondVerifyRefuses) {
    const std::int64_t t = now();
    auto claims = goodClaims();
    claims["exp"] = t;
    const auto strict = secretVerifier(std::chrono::seconds(0));
    const auto verified = strict.verify(hs256(claims));
    ASSERT_TRUE(verified);
    EXPECT_EQ(verified->expiresAt, t);
    // verify() compares whole seconds: exp itself is still valid, exp + 1 is not.
    EXPECT_EQ(strict.validUntilMs(*verified), (t + 1) * 1000);
    EXPECT_EQ(secretVerifier().validUntilMs(*verified), (t + 31) * 1000) << "the default 30 s leeway";
    EXPECT_EQ(strict.validUntilMs(parley::auth::Claims{"x", 0}), 0) << "no exp: never";
}

TEST_F(JwtTest, ValidUntilSaturatesInsteadOfOverflowing) {
    const auto lenient = secretVerifier(std::chrono::seconds::max());
    EXPECT_EQ(lenient.validUntilMs(parley::auth::Claims{"x", std::int64_t{1} << 62}), INT64_MAX);
    EXPECT_EQ(lenient.validUntilMs(parley::auth::Claims{"x", -(std::int64_t{1} << 62)}), 1);
    EXPECT_GT(lenient.validUntilMs(parley::auth::Claims{"x", 4'102'444'800}), 4'102'444'800'000);
}

TEST_F(JwtTest, NonNumericTimeClaimsAreMalformed) {
    auto exp = goodClaims();
    exp["exp"] = std::to_string(now() + 3600);
    EXPECT_TRUE(failsWith(secretVerifier().verify(hs256(exp)), Errc::Malformed));
    auto nbf = goodClaims();
    nbf["nbf"] = json::array{1, 2};
    EXPECT_TRUE(failsWith(secretVerifier().verify(hs256(nbf)), Errc::Malformed));
}

TEST_F(JwtTest, ExtremeTimeValuesDoNotOverflow) {
    const auto verifier = secretVerifier();
    EXPECT_TRUE(failsWith(verifier.verify(hs256({{"sub", kSubject}, {"exp", INT64_MIN}})), Errc::Expired));
    EXPECT_TRUE(verifier.verify(hs256({{"sub", kSubject}, {"exp", INT64_MAX}, {"nbf", INT64_MIN}})));
    // libjwt's Jansson cannot hold integers beyond int64, so the verifier refuses them up front.
    EXPECT_TRUE(failsWith(verifier.verify(hs256({{"sub", kSubject}, {"exp", UINT64_MAX}})), Errc::Malformed));
    EXPECT_TRUE(
        failsWith(verifier.verify(hs256({{"sub", kSubject}, {"x", json::array{UINT64_MAX}}})), Errc::Malformed));
    EXPECT_TRUE(failsWith(verifier.verify(hs256({{"sub", kSubject}, {"nbf", 1e300}})), Errc::NotYetValid));
    EXPECT_TRUE(failsWith(verifier.verify(hs256({{"sub", kSubject}, {"exp", -1e300}})), Errc::Expired));
}

// =====================================================================================================
// Signatures
// =====================================================================================================

TEST_F(JwtTest, RejectsWrongSecret) {
    EXPECT_TRUE(failsWith(secretVerifier().verify(hs256(goodClaims(), "another secret")), Errc::BadSignature));
}

TEST_F(JwtTest, RejectsWrongRsaKey) {
    const auto token = makeToken(header("RS256"), json::serialize(goodClaims()), rsaSigner(otherRsa_));
    EXPECT_TRUE(failsWith(keyVerifier(rsa_).verify(token), Errc::BadSignature));
}

TEST_F(JwtTest, RejectsWrongEcKey) {
    const auto token = makeToken(header("ES256"), json::serialize(goodClaims()), ecSigner(otherEc_));
    EXPECT_TRUE(failsWith(keyVerifier(ec_).verify(token), Errc::BadSignature));
}

TEST_F(JwtTest, RejectsTamperedPayload) {
    const auto token = hs256(goodClaims());
    auto forged = goodClaims();
    forged["sub"] = "0123456789abcdef01234567";
    const auto first = token.find('.');
    const auto second = token.find('.', first + 1);
    const auto tampered = token.substr(0, first + 1) + b64url(json::serialize(forged)) + token.substr(second);
    EXPECT_TRUE(failsWith(secretVerifier().verify(tampered), Errc::BadSignature));
}

TEST_F(JwtTest, RejectsTamperedSignature) {
    for (const auto& [token, verifier] :
         {std::pair{hs256(goodClaims()), secretVerifier()},
          std::pair{makeToken(header("RS256"), json::serialize(goodClaims()), rsaSigner(rsa_)), keyVerifier(rsa_)},
          std::pair{makeToken(header("ES256"), json::serialize(goodClaims()), ecSigner(ec_)), keyVerifier(ec_)}}) {
        // A character well inside the signature, swapped for another valid one, keeps the encoding canonical.
        std::string tampered = token;
        char& c = tampered[token.rfind('.') + 10];
        c = c == 'A' ? 'B' : 'A';
        EXPECT_TRUE(failsWith(verifier.verify(tampered), Errc::BadSignature)) << tampered;
    }
}

TEST_F(JwtTest, RejectsTruncatedTokens) {
    const auto token = hs256(goodClaims());
    const auto verifier = secretVerifier();
    // Cut inside the signature: either the encoding breaks (Malformed) or the MAC does.
    for (std::size_t cut = 1; cut <= 8; ++cut) {
        const auto r = verifier.verify(std::string_view(token).substr(0, token.size() - cut));
        ASSERT_FALSE(r) << "cut " << cut;
        EXPECT_TRUE(r.error() == make_error_code(Errc::Malformed) || r.error() == make_error_code(Errc::BadSignature))
            << r.error().message();
    }
    // Cut at or before the last dot: no longer three segments.
    EXPECT_TRUE(failsWith(verifier.verify(token.substr(0, token.rfind('.') + 1)), Errc::Malformed));
    EXPECT_TRUE(failsWith(verifier.verify(token.substr(0, token.rfind('.'))), Errc::Malformed));
    EXPECT_TRUE(failsWith(verifier.verify(token.substr(0, token.find('.'))), Errc::Malformed));
}

// =====================================================================================================
// Algorithm allow-list
// =====================================================================================================

TEST_F(JwtTest, RejectsAlgNoneWithAndWithoutSignature) {
    const auto payload = json::serialize(goodClaims());
    for (const char* none : {"none", "None", "NONE", "nOnE"}) {
        const auto h = json::serialize(json::object{{"alg", none}, {"typ", "JWT"}});
        const auto unsignedToken = makeToken(h, payload, nullptr); // "header.payload."
        ASSERT_EQ(unsignedToken.back(), '.');
        const auto signedToken = makeToken(h, payload, hmacSigner(kSecret));
        for (const auto& verifier : {secretVerifier(), keyVerifier(rsa_), keyVerifier(ec_)}) {
            EXPECT_TRUE(failsWith(verifier.verify(unsignedToken), Errc::AlgorithmNotAllowed)) << none;
            EXPECT_TRUE(failsWith(verifier.verify(signedToken), Errc::AlgorithmNotAllowed)) << none;
        }
    }
}

TEST_F(JwtTest, RejectsAlgorithmsOutsideTheAllowList) {
    const auto payload = json::serialize(goodClaims());
    for (const char* alg : {"HS384", "HS512", "RS384", "RS512", "ES384", "ES512", "PS256", "EdDSA", "hs256", "Hs256",
                            "HS256 ", "", "RS256", "ES256"}) {
        const auto token = makeToken(header(alg), payload, hmacSigner(kSecret));
        EXPECT_TRUE(failsWith(secretVerifier().verify(token), Errc::AlgorithmNotAllowed)) << alg;
    }
}

TEST_F(JwtTest, RejectsAlgorithmNotMatchingKeyType) {
    const auto payload = json::serialize(goodClaims());
    // An ES256 header against an RSA key and vice versa.
    EXPECT_TRUE(failsWith(keyVerifier(rsa_).verify(makeToken(header("ES256"), payload, ecSigner(ec_))),
                          Errc::AlgorithmNotAllowed));
    EXPECT_TRUE(failsWith(keyVerifier(ec_).verify(makeToken(header("RS256"), payload, rsaSigner(rsa_))),
                          Errc::AlgorithmNotAllowed));
    EXPECT_TRUE(failsWith(keyVerifier(rsa_).verify(makeToken(header("rs256"), payload, rsaSigner(rsa_))),
                          Errc::AlgorithmNotAllowed));
}

// The classic confusion attack: HMAC the token with the server's *public* key text as the secret.
TEST_F(JwtTest, RejectsHs256SignedWithPublicKeyPem) {
    const auto payload = json::serialize(goodClaims());
    for (EVP_PKEY* key : {rsa_, ec_}) {
        const std::string pem = pemOf(key);
        const auto token = makeToken(header("HS256"), payload, hmacSigner(pem));
        EXPECT_TRUE(failsWith(keyVerifier(key).verify(token), Errc::AlgorithmNotAllowed));
    }
    // With a secret configured too, HS256 is allowed but checked against the secret, never the PEM.
    JwtConfig config;
    config.secret = kSecret;
    config.publicKeyPem = pemOf(rsa_);
    const auto token = makeToken(header("HS256"), payload, hmacSigner(config.publicKeyPem));
    EXPECT_TRUE(failsWith(JwtVerifier(config).verify(token), Errc::BadSignature));
}

// RFC 7515 §4 allows a duplicated header name if the parser keeps the last one. Ours and libjwt's
// both do; what matters is that the two never disagree, so no signature is checked under an
// algorithm the allow-list did not approve.
TEST_F(JwtTest, DuplicatedAlgHeaderUsesLastMember) {
    JwtConfig config;
    config.secret = kSecret;
    config.publicKeyPem = pemOf(rsa_);
    const JwtVerifier verifier(config);
    const auto payload = json::serialize(goodClaims());

    const char* lastRs256 = R"({"alg":"HS256","alg":"RS256","typ":"JWT"})";
    EXPECT_TRUE(verifier.verify(makeToken(lastRs256, payload, rsaSigner(rsa_))));
    EXPECT_TRUE(failsWith(verifier.verify(makeToken(lastRs256, payload, hmacSigner(kSecret))), Errc::BadSignature));
    EXPECT_TRUE(
        failsWith(verifier.verify(makeToken(lastRs256, payload, hmacSigner(config.publicKeyPem))), Errc::BadSignature));

    const char* lastHs256 = R"({"alg":"RS256","alg":"HS256","typ":"JWT"})";
    EXPECT_TRUE(verifier.verify(makeToken(lastHs256, payload, hmacSigner(kSecret))));
    EXPECT_TRUE(failsWith(verifier.verify(makeToken(lastHs256, payload, rsaSigner(rsa_))), Errc::BadSignature));
    EXPECT_TRUE(
        failsWith(verifier.verify(makeToken(lastHs256, payload, hmacSigner(config.publicKeyPem))), Errc::BadSignature));

    // With only the public key configured, a last-member HS256 is the confusion attack again.
    EXPECT_TRUE(failsWith(keyVerifier(rsa_).verify(makeToken(lastHs256, payload, hmacSigner(config.publicKeyPem))),
                          Errc::AlgorithmNotAllowed));
}

TEST_F(JwtTest, RejectsBadHeaders) {
    const auto payload = json::serialize(goodClaims());
    const auto verifier = secretVerifier();
    for (const char* h : {R"({"typ":"JWT"})", R"({"alg":256})", R"({"alg":null})", R"({"alg":["HS256"]})",
                          R"({"alg":"HS256","typ":"at+jwt"})", R"({"alg":"HS256","typ":1})",
                          R"({"alg":"HS256","crit":["exp"]})", R"(["HS256"])", R"("HS256")", "{}", "{", ""}) {
        EXPECT_TRUE(failsWith(verifier.verify(makeToken(h, payload, hmacSigner(kSecret))), Errc::Malformed)) << h;
    }
}

TEST_F(JwtTest, EmptySignatureWithAllowedAlgorithmIsMalformed) {
    const auto token = makeToken(header("HS256"), json::serialize(goodClaims()), nullptr);
    EXPECT_TRUE(failsWith(secretVerifier().verify(token), Errc::Malformed));
}

// =====================================================================================================
// Issuer, audience, subject
// =====================================================================================================

TEST_F(JwtTest, ChecksIssuer) {
    JwtConfig config;
    config.secret = kSecret;
    config.issuer = "parley";
    const JwtVerifier verifier(config);
    auto claims = goodClaims();
    EXPECT_TRUE(failsWith(verifier.verify(hs256(claims)), Errc::WrongIssuer)); // missing
    claims["iss"] = "someone-else";
    EXPECT_TRUE(failsWith(verifier.verify(hs256(claims)), Errc::WrongIssuer));
    claims["iss"] = "Parley";
    EXPECT_TRUE(failsWith(verifier.verify(hs256(claims)), Errc::WrongIssuer));
    claims["iss"] = json::array{"parley"};
    EXPECT_TRUE(failsWith(verifier.verify(hs256(claims)), Errc::WrongIssuer));
    claims["iss"] = "parley";
    EXPECT_TRUE(verifier.verify(hs256(claims)));
}

TEST_F(JwtTest, ChecksAudience) {
    JwtConfig config;
    config.secret = kSecret;
    config.audience = "chat";
    const JwtVerifier verifier(config);
    auto claims = goodClaims();
    EXPECT_TRUE(failsWith(verifier.verify(hs256(claims)), Errc::WrongAudience)); // missing
    claims["aud"] = "billing";
    EXPECT_TRUE(failsWith(verifier.verify(hs256(claims)), Errc::WrongAudience));
    claims["aud"] = json::array{"billing", "admin"};
    EXPECT_TRUE(failsWith(verifier.verify(hs256(claims)), Errc::WrongAudience));
    claims["aud"] = json::array{};
    EXPECT_TRUE(failsWith(verifier.verify(hs256(claims)), Errc::WrongAudience));
    claims["aud"] = 7;
    EXPECT_TRUE(failsWith(verifier.verify(hs256(claims)), Errc::WrongAudience));
    claims["aud"] = "chat";
    EXPECT_TRUE(verifier.verify(hs256(claims)));
    claims["aud"] = json::array{"billing", 3, "chat"};
    EXPECT_TRUE(verifier.verify(hs256(claims)));
}

TEST_F(JwtTest, IgnoresIssuerAndAudienceWhenNotConfigured) {
    auto claims = goodClaims();
    claims["iss"] = "anyone";
    claims["aud"] = json::array{"x", "y"};
    EXPECT_TRUE(secretVerifier().verify(hs256(claims)));
}

TEST_F(JwtTest, RejectsBadSubject) {
    const auto verifier = secretVerifier();
    for (const json::value& sub :
         {json::value("alice"), json::value("65F1A2B3C4D5E6F708192A3B"), json::value("65f1a2b3c4d5e6f708192a3"),
          json::value("65f1a2b3c4d5e6f708192a3b0"), json::value("65f1a2b3c4d5e6f708192a3g"), json::value(""),
          json::value(12345), json::value(nullptr), json::value(json::array{kSubject})}) {
        auto claims = goodClaims();
        claims["sub"] = sub;
        EXPECT_TRUE(failsWith(verifier.verify(hs256(claims)), Errc::BadSubject)) << json::serialize(sub);
    }
    auto missing = goodClaims();
    missing.erase("sub");
    EXPECT_TRUE(failsWith(verifier.verify(hs256(missing)), Errc::BadSubject));
}

TEST_F(JwtTest, AcceptsGeneratedObjectIdSubject) {
    auto claims = goodClaims();
    const auto id = parley::core::ObjectId::generate();
    claims["sub"] = id;
    const auto r = secretVerifier().verify(hs256(claims));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->subject, id);
}

// =====================================================================================================
// Garbage
// =====================================================================================================

TEST_F(JwtTest, RejectsGarbageAsMalformed) {
    const auto verifier = secretVerifier();
    const auto goodPayload = b64url(json::serialize(goodClaims()));
    const auto goodHeader = b64url(header("HS256"));
    const std::vector<std::string> garbage = {
        "",
        "a.b",
        "...",
        "..",
        ".",
        "a.b.c",
        "a..c",
        ".b.c",
        "a.b.c.d",
        "abc",
        "Bearer " + hs256(goodClaims()),
        hs256(goodClaims()) + " ",
        hs256(goodClaims()) + ".",
        goodHeader + "=." + goodPayload + ".c2ln", // padding is not base64url-no-pad
        goodHeader + "." + goodPayload + "==.c2ln",
        goodHeader + "." + goodPayload + ".c2l+",                          // '+' belongs to the other alphabet
        goodHeader + "." + goodPayload + ".c",                             // impossible length
        goodHeader + "." + goodPayload + ".c2l",                           // non-zero trailing bits: not canonical
        goodHeader + "." + b64url(R"({"sub":"x","exp":1e999})") + ".c2ln", // overflows a double
        goodHeader + "." + b64url(R"({"sub":"x\u0000"})") + ".c2ln",       // NUL inside a string
        goodHeader + "." + b64url(R"({"s\u0000ub":"x"})") + ".c2ln",       // NUL inside a key
        goodHeader + "." + b64url("not json") + ".c2ln",
        goodHeader + "." + b64url("[1,2,3]") + ".c2ln", // JSON, but not an object
        goodHeader + "." + b64url("{\"sub\":1}trailing") + ".c2ln",
        goodHeader + "." + b64url(std::string("{}\0", 3)) + ".c2ln",
        b64url("\xff\xfe") + "." + goodPayload + ".c2ln",
        std::string("\0.\0.\0", 5),
        std::string(10000, 'a'),
        std::string(9000, '.'),
    };
    for (const auto& token : garbage)
        EXPECT_TRUE(failsWith(verifier.verify(token), Errc::Malformed)) << token.substr(0, 80);
}

TEST_F(JwtTest, RejectsHugeValidlySignedToken) {
    auto claims = goodClaims();
    claims["padding"] = std::string(9000, 'x');
    const auto token = hs256(claims);
    ASSERT_GT(token.size(), 8u * 1024u);
    EXPECT_TRUE(failsWith(secretVerifier().verify(token), Errc::Malformed));
}

TEST_F(JwtTest, GarbageLoopNeverThrows) {
    JwtConfig config;
    config.secret = kSecret;
    config.publicKeyPem = pemOf(rsa_);
    const JwtVerifier rsaAndSecret(config);
    const JwtVerifier ecOnly = keyVerifier(ec_);
    const std::vector<std::string> seeds = {
        hs256(goodClaims()),
        makeToken(header("RS256"), json::serialize(goodClaims()), rsaSigner(rsa_)),
        makeToken(header("ES256"), json::serialize(goodClaims()), ecSigner(ec_)),
        makeToken(R"({"alg":"none"})", json::serialize(goodClaims()), nullptr),
    };
    std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_....=+/{}\"\\: ";
    alphabet += '\0';
    alphabet += '\xff';
    const std::vector<std::string> fragments = {R"({"alg":"HS256"})",
                                                R"({"alg":"RS256"})",
                                                R"({"alg":"ES256"})",
                                                R"({"alg":"none"})",
                                                R"({"sub":")" + kSubject + R"("})",
                                                "{",
                                                "}",
                                                "[",
                                                "]",
                                                "\"",
                                                ",",
                                                ":",
                                                "null",
                                                "1e999",
                                                "-0",
                                                "\\u0000"};
    std::mt19937 rng(0x5eed);
    auto pick = [&rng](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); };

    int accepted = 0;
    for (int i = 0; i < 5000; ++i) {
        std::string token;
        switch (i % 4) {
        case 0: // random characters, dot-heavy alphabet
            for (std::size_t n = pick(120); n > 0; --n) token += alphabet[pick(alphabet.size())];
            break;
        case 1: { // a real token with a few byte mutations
            token = seeds[pick(seeds.size())];
            for (std::size_t n = 1 + pick(4); n > 0; --n) {
                const std::size_t at = pick(token.size());
                switch (pick(3)) {
                case 0: token[at] = alphabet[pick(alphabet.size())]; break;
                case 1: token.erase(at, 1); break;
                default: token.insert(at, 1, alphabet[pick(alphabet.size())]); break;
                }
                if (token.empty()) break;
            }
            break;
        }
        default: { // well-encoded segments holding JSON-ish fragments
            for (int segment = 0; segment < 3; ++segment) {
                std::string text;
                for (std::size_t n = pick(6); n > 0; --n) text += fragments[pick(fragments.size())];
                token += (segment ? "." : "") + b64url(text);
            }
            break;
        }
        }
        for (const JwtVerifier* verifier : {&rsaAndSecret, &ecOnly}) {
            boost::system::result<auth::Claims> r = Errc::Malformed;
            ASSERT_NO_THROW(r = verifier->verify(token)) << "iteration " << i;
            if (r) {
                ++accepted;
                EXPECT_TRUE(parley::core::ObjectId::isValid(r->subject));
            }
        }
        ASSERT_NO_THROW((void)auth::looksLikeJwt(token));
    }
    // A mutation can be a no-op (e.g. replacing a character by itself), so a few acceptances are fine.
    EXPECT_LT(accepted, 100);
}

TEST_F(JwtTest, VerifyIsThreadSafe) {
    JwtConfig config;
    config.secret = kSecret;
    config.publicKeyPem = pemOf(rsa_);
    const JwtVerifier verifier(config);
    const std::vector<std::string> good = {hs256(goodClaims()),
                                           makeToken(header("RS256"), json::serialize(goodClaims()), rsaSigner(rsa_))};
    const std::string bad = hs256(goodClaims(), "wrong");
    std::atomic<int> ok{0}, refused{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 100; ++i) {
                for (const auto& token : good) ok += verifier.verify(token) ? 1 : 0;
                refused += verifier.verify(bad) ? 0 : 1;
            }
        });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(ok.load(), 4 * 100 * 2);
    EXPECT_EQ(refused.load(), 4 * 100);
}

// =====================================================================================================
// Construction
// =====================================================================================================

TEST_F(JwtTest, ConstructorRejectsUnusableConfig) {
    EXPECT_THROW(JwtVerifier(JwtConfig{}), std::invalid_argument);

    JwtConfig garbage;
    garbage.publicKeyPem = "-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n";
    EXPECT_THROW((JwtVerifier(garbage)), std::invalid_argument);

    JwtConfig privateKey;
    privateKey.publicKeyPem = pemOf(rsa_, /*privateKey=*/true);
    EXPECT_THROW((JwtVerifier(privateKey)), std::invalid_argument);

    const Pkey weakRsa = rsaKey(1024);
    const Pkey p384 = ecKey("P-384");
    const Pkey ed = ed25519Key();
    for (EVP_PKEY* key : {weakRsa.get(), p384.get(), ed.get()}) {
        ASSERT_NE(key, nullptr);
        JwtConfig config;
        config.publicKeyPem = pemOf(key);
        EXPECT_THROW((JwtVerifier(config)), std::invalid_argument) << EVP_PKEY_get0_type_name(key);
    }
}

TEST_F(JwtTest, ConstructorAcceptsEachKeyKind) {
    EXPECT_NO_THROW(secretVerifier());
    EXPECT_NO_THROW(keyVerifier(rsa_));
    EXPECT_NO_THROW(keyVerifier(ec_));
}

// =====================================================================================================
// signJwt and looksLikeJwt
// =====================================================================================================

TEST_F(JwtTest, SignJwtRoundTrips) {
    JwtConfig config;
    config.secret = kSecret;
    config.issuer = "parley";
    config.audience = "chat";
    const auto token = auth::signJwt(kSecret, kSubject, std::chrono::hours(1), "parley", "chat");
    EXPECT_TRUE(auth::looksLikeJwt(token));
    const auto r = JwtVerifier(config).verify(token);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->subject, kSubject);
    EXPECT_NEAR(static_cast<double>(r->expiresAt), static_cast<double>(now() + 3600), 5.0);
}

TEST_F(JwtTest, SignJwtWithoutIssuerOrAudienceFailsThoseChecks) {
    const auto token = auth::signJwt(kSecret, kSubject, std::chrono::hours(1));
    EXPECT_TRUE(secretVerifier().verify(token));
    JwtConfig config;
    config.secret = kSecret;
    config.issuer = "parley";
    EXPECT_TRUE(failsWith(JwtVerifier(config).verify(token), Errc::WrongIssuer));
}

TEST_F(JwtTest, SignJwtNegativeTtlIsExpired) {
    const auto token = auth::signJwt(kSecret, kSubject, std::chrono::seconds(-3600));
    EXPECT_TRUE(failsWith(secretVerifier().verify(token), Errc::Expired));
}

TEST_F(JwtTest, SignJwtKeepsBinarySecretsWhole) {
    const std::string secret("key\0with\0nuls\0", 14); // a trailing NUL is part of it too
    const auto token = auth::signJwt(secret, kSubject, std::chrono::hours(1));
    JwtConfig config;
    config.secret = secret;
    EXPECT_TRUE(JwtVerifier(config).verify(token));
    config.secret = "key"; // what a C-string truncation would have signed with
    EXPECT_TRUE(failsWith(JwtVerifier(config).verify(token), Errc::BadSignature));
}

TEST_F(JwtTest, SignJwtRejectsBadArguments) {
    EXPECT_THROW(auth::signJwt("", kSubject, std::chrono::hours(1)), std::invalid_argument);
    EXPECT_THROW(auth::signJwt(kSecret, std::string("65f1a2b3\0", 9), std::chrono::hours(1)), std::invalid_argument);
}

TEST(LooksLikeJwt, ChecksShapeOnly) {
    EXPECT_TRUE(auth::looksLikeJwt("a.b.c"));
    EXPECT_TRUE(auth::looksLikeJwt("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.abc-_09"));
    EXPECT_FALSE(auth::looksLikeJwt(""));
    EXPECT_FALSE(auth::looksLikeJwt("a.b"));
    EXPECT_FALSE(auth::looksLikeJwt("a.b."));
    EXPECT_FALSE(auth::looksLikeJwt(".b.c"));
    EXPECT_FALSE(auth::looksLikeJwt("a..c"));
    EXPECT_FALSE(auth::looksLikeJwt("..."));
    EXPECT_FALSE(auth::looksLikeJwt("a.b.c.d"));
    EXPECT_FALSE(auth::looksLikeJwt("a.b.c="));
    EXPECT_FALSE(auth::looksLikeJwt("a.b+.c"));
    EXPECT_FALSE(auth::looksLikeJwt("pst_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"));
}

// =====================================================================================================
// Error category
// =====================================================================================================

TEST(AuthErrc, CategoryAndMessages) {
    const boost::system::error_code ec = Errc::Expired;
    EXPECT_STREQ(ec.category().name(), "auth");
    EXPECT_EQ(&ec.category(), &auth::errorCategory());
    EXPECT_EQ(ec.message(), "token expired");
    EXPECT_TRUE(ec.failed());
    EXPECT_EQ(ec, make_error_code(Errc::Expired));
    EXPECT_NE(ec, make_error_code(Errc::NotYetValid));
    for (int v = static_cast<int>(Errc::Malformed); v <= static_cast<int>(Errc::SessionExpired); ++v)
        EXPECT_FALSE(auth::errorCategory().message(v).empty()) << v;
    EXPECT_EQ(make_error_code(Errc::UnknownSession).message(), "unknown session");
}

} // namespace
