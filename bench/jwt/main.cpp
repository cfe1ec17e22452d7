// parley-jwt-bench: the CPU cost of JwtVerifier::verify for one valid token of each algorithm
// the server accepts (HS256, RS256 with a 2048-bit key, ES256 on P-256). The keys are made
// afresh at start with OpenSSL and the tokens signed here, so no key file is kept anywhere.
// Google Benchmark flags apply, e.g. --benchmark_min_time=2 --benchmark_repetitions=5.
#include "auth/Jwt.hpp"
#include "support/JwtSigning.hpp"

#include <benchmark/benchmark.h>
#include <sodium.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace {

namespace auth = parley::auth;
using parley::testsupport::b64url;
using parley::testsupport::derToJose;
using parley::testsupport::digestSign;
using parley::testsupport::ecKey;
using parley::testsupport::hmacSha256;
using parley::testsupport::pemOf;
using parley::testsupport::Pkey;
using parley::testsupport::rsaKey;

constexpr std::string_view kSecret = "parley-jwt-bench secret, long enough for HS256";
constexpr std::string_view kSubject = "65f1a2b3c4d5e6f708192a3b";

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
    c.token = input + "." + b64url(hmacSha256(kSecret, input));
    return c;
}

Case keyCase(EVP_PKEY* key, std::string_view alg, bool ecdsa) {
    Case c;
    c.verifier.emplace(auth::JwtConfig{{}, pemOf(key), {}, {}});
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
    const Pkey rsa = rsaKey(2048);
    const Pkey ec = ecKey("P-256");
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
