#pragma once

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace parley::auth {

/// Why a credential was refused. Values start at 1 so a default error_code (0) always means success.
enum class Errc {
    Malformed = 1,       ///< not a well-formed token: bad segments, bad base64url, header/payload not a JSON object
    AlgorithmNotAllowed, ///< the header's `alg` is not one this verifier accepts for its configured key
    BadSignature,        ///< the signature does not verify with the configured secret or key
    Expired,             ///< `exp` is in the past by more than the allowed leeway
    NotYetValid,         ///< `nbf` is in the future by more than the allowed leeway
    WrongIssuer,         ///< `iss` is missing or differs from the configured issuer
    WrongAudience,       ///< `aud` is missing or does not contain the configured audience
    BadSubject,          ///< `sub` is missing, not a string, or not a 24-hex ObjectId
    UnknownSession,      ///< no stored session matches the presented session token
    SessionExpired,      ///< the session token matched a stored session that has expired
    MissingExpiry,       ///< the token has no `exp` and the verifier requires one
};

/// The category of every auth::Errc; its name is "auth".
const boost::system::error_category& errorCategory() noexcept;

/// Lets `boost::system::error_code ec = Errc::Expired;` and `result<T>{Errc::Expired}` work.
boost::system::error_code make_error_code(Errc e) noexcept;

} // namespace parley::auth

template <>
struct boost::system::is_error_code_enum<parley::auth::Errc> : std::true_type {};
