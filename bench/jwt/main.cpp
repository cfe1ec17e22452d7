// parley-jwt-bench: the CPU cost of JwtVerifier::verify for one valid token of each algorithm
// the server accepts (HS256, RS256 with a 2048-bit key, ES256 on P-256). The keys are made
// afresh at start with OpenSSL and the tokens signed here, so no key file is kept anywhere.
// Google Benchmark flags apply, e.g. --benchmark_min_time=2 --benchmark_repetitions=5.
#include "auth/Jwt.hpp"

#include <benchmark/benchmark.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <sodium.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace {

namespace auth = parley::auth;

constexpr std::string_view kSecret = "parley-jwt-bench secret, long enough for HS256";
constexpr std::string_view kSubject = "65f1a2b3c4d5e6f708192a3b";

struct PkeyFree {
    void operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

std::string b64url(std::string_view bytes) {
    constexpr int kVariant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
    std::string out(sodium_base64_ENCODED_LEN(bytes.size(), kVariant), '\0');
    sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                      kVariant);
    out.resize(std::strlen(out.c_str()));
    return out;
}

std::string publicPem(EVP_PKEY* key) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    if (!bio || PEM_write_bio_PUBKEY(bio.get(), key) != 1) throw std::runtime_error("PEM export failed");
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(length));
}

std::string digestSign(EVP_PKEY* key, std::string_view data) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    const auto* in = reinterpret_cast<const unsigned char*>(data.data());
    std::size_t length = 0;
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &length, in, data.size()) != 1)
        throw std::runtime_error("EVP_DigestSign setup failed");
    std::string signature(length, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length, in, data.size()) != 1)
        throw std::runtime_error("EVP_DigestSign failed");
    signature.resize(length);
    return signature;
}

// OpenSSL signs ECDSA in DER; JWS (RFC 7518 §3.4) wants R || S, 32 bytes each on P-256.
std::string derToJose(std::string_view der) {
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())),
                                                              &ECDSA_SIG_free);
    if (!sig) throw std::runtime_error("bad DER signature");
    const BIGNUM* r = nullptr;
    const BIGNUM* s = nullptr;
    ECDSA_SIG_get0(sig.get(), &r, &s);
    std::string out(64, '\0');
    BN_bn2binpad(r, reinterpret_cast<unsigned char*>(out.data()), 32);
    BN_bn2binpad(s, reinterpret_cast<unsigned char*>(out.data()) + 32, 32);
    return out;
}

// The claims of a login token: sub, iat and an exp a day ahead, so no run outlives it.
std::string signingInput(std::string_view alg) {
    const auto now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    const std::string header = R"({"alg":")" + std::string(alg) + R"(","typ":"JWT"})";
    const std::string claims = R"({"sub":")" + std::string(kSubject) + R"(","iat":)" + std::to_string(now) +
                               R"(,"exp":)" + std::to_string(now + 24 * 3600) + "}";
    return b64url(header) + "." + b64url(claims);
}

struct Case {
    std::optional<auth::JwtVerifier> verifier;
    std::string token;
};

Case hs256Case() {
    Case c;
    c.verifier.emplace(auth::JwtConfig{std::string(kSecret), {}, {}, {}});
    const std::string input = signingInput("HS256");
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    HMAC(EVP_sha256(), kSecret.data(), static_cast<int>(kSecret.size()),
         reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &length);
    c.token = input + "." + b64url(std::string_view(reinterpret_cast<const char*>(mac), length));
    return c;
}

Case keyCase(EVP_PKEY* key, std::string_view alg, bool ecdsa) {
    Case c;
    c.verifier.emplace(auth::JwtConfig{{}, publicPem(key), {}, {}});
    const std::string input = signingInput(alg);
    const std::string der = digestSign(key, input);
    c.token = input + "." + b64url(ecdsa ? derToJose(der) : der);
    return c;
}

void runVerify(benchmark::State& state, const Case& c) {
    if (const auto first = c.verifier->verify(c.token); !first) {
        state.SkipWithError(("the token does not verify: " + first.error().message()).c_str());
        return;
    }
    for (auto _ : state) {
        auto claims = c.verifier->verify(c.token);
        benchmark::DoNotOptimize(claims);
    }
}

} // namespace

int main(int argc, char** argv) {
    if (sodium_init() < 0) {
        std::fprintf(stderr, "parley-jwt-bench: sodium_init failed\n");
        return 1;
    }
    const Pkey rsa(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(2048)));
    const Pkey ec(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    if (!rsa || !ec) {
        std::fprintf(stderr, "parley-jwt-bench: key generation failed\n");
        return 1;
    }
    static const Case hs = hs256Case();
    static const Case rs = keyCase(rsa.get(), "RS256", false);
    static const Case es = keyCase(ec.get(), "ES256", true);

    benchmark::RegisterBenchmark("verify/HS256", [](benchmark::State& state) { runVerify(state, hs); });
    benchmark::RegisterBenchmark("verify/RS256", [](benchmark::State& state) { runVerify(state, rs); });
    benchmark::RegisterBenchmark("verify/ES256", [](benchmark::State& state) { runVerify(state, es); });

    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
