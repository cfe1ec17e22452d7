#pragma once

#include "chat/RateLimiter.hpp"

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string_view>

namespace parley::chat {

/// The limits of password login (POST /v1/auth/login), one commented default each.
struct LoginLimits {
    // Attempts per client address per minute; 0: no limit. People log in a few times a day, so
    // even an office of a hundred behind one NAT arriving in the same minute stays under it,
    // while one client guessing passwords gets at most 100 guesses a minute.
    std::size_t perAddressPerMinute = 100;
    // Attempts without a success per account (email) within failureWindowMs; 0: no limit. A
    // person mistyping a password a few times is never refused; a guesser gets 10 tries per 5
    // minutes on one account (under 3,000 a day) from however many addresses it uses. A
    // success forgets the account's failures.
    std::size_t failuresPerAccount = 10;
    std::int64_t failureWindowMs = 5 * 60'000;
};

/// Admission of login attempts by client address and by account. Unknown emails are counted
/// exactly like accounts, so a refusal tells nothing about which emails have accounts.
/// Thread-safe: one mutex, held for a few hash-map operations.
class LoginThrottle {
public:
    explicit LoginThrottle(LoginLimits limits);

    enum class Refusal { None, Address, Account };
    struct Verdict {
        Refusal refusal = Refusal::None;
        std::int64_t retryAfterMs = 0; ///< when refused: the ms until an attempt may be admitted
        explicit operator bool() const noexcept { return refusal == Refusal::None; }
    };

    /// Admits an attempt for the account `email` from `address` at nowMs, counting it against
    /// both: against the account as a failure until succeeded(email) says otherwise, so that
    /// attempts still being checked count too. A refused attempt counts against neither.
    Verdict admit(std::string_view address, std::string_view email, std::int64_t nowMs);

    /// An admitted attempt for `email` had the right password: its failures are forgotten.
    void succeeded(std::string_view email);

private:
    static constexpr std::int64_t kAddressWindowMs = 60'000;

    const LoginLimits limits_;
    std::mutex mutex_;
    RateLimiter perAddress_; // guarded by mutex_, as everything below
    RateLimiter perAccount_;
    std::int64_t lastPrune_ = 0;
};

} // namespace parley::chat
