// JwtVerifier::verify on arbitrary token text: what a client sends as `auth.token`, `?token=`
// or `Authorization: Bearer`. Three verifiers cover every configured path: HS256 alone, HS256
// with a required issuer and audience, and ES256 with a P-256 public key.
#include "auth/Jwt.hpp"
#include "auth/SessionTokens.hpp"
#include "core/ObjectId.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace auth = parley::auth;

namespace {

// The seeds in fuzz/corpus/jwt/ are signed with this secret, or with the private half of this key.
constexpr std::string_view kSecret = "parley-fuzz-secret";
constexpr std::string_view kEcPublicKey = R"(-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE0me8gFVISCosSVAWC0H+aHgZmJ5r
mcaGRzE1uawHjBzt6NErKwxExoEZtWUwV0y+ZmxljOmrdXMBQv9sjH/9Yw==
-----END PUBLIC KEY-----
)";

void check(bool ok, const char* what) {
    if (ok) return;
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
}

const auth::JwtVerifier& verifier(int which) {
    static const auth::JwtVerifier hs{auth::JwtConfig{std::string(kSecret), {}, {}, {}}};
    static const auth::JwtVerifier hsClaims{auth::JwtConfig{std::string(kSecret), {}, "parley", "chat"}};
    static const auth::JwtVerifier es{auth::JwtConfig{{}, std::string(kEcPublicKey), {}, {}}};
    return which == 0 ? hs : which == 1 ? hsClaims : es;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view token(reinterpret_cast<const char*>(data), size);
    const bool shaped = auth::looksLikeJwt(token);
    for (int which = 0; which < 3; ++which) {
        auto claims = verifier(which).verify(token);
        if (!claims) continue;
        check(shaped, "a verified token looks like a JWT");
        check(parley::core::ObjectId::isValid(claims->subject), "a verified subject is an ObjectId");
    }
    // The other kind of token a client may send in the same places.
    if (auth::looksLikeSessionToken(token)) check(!shaped, "a token is a JWT or a session token, not both");
    (void)auth::hashSessionToken(token);
    return 0;
}
