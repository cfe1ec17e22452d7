#include "auth/Errc.hpp"

#include <string>

namespace parley::auth {

namespace {

class Category final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "auth"; }

    std::string message(int value) const override {
        switch (static_cast<Errc>(value)) {
        case Errc::Malformed: return "malformed token";
        case Errc::AlgorithmNotAllowed: return "token algorithm not allowed";
        case Errc::BadSignature: return "bad token signature";
        case Errc::Expired: return "token expired";
        case Errc::NotYetValid: return "token not yet valid";
        case Errc::WrongIssuer: return "wrong token issuer";
        case Errc::WrongAudience: return "wrong token audience";
        case Errc::BadSubject: return "bad token subject";
        case Errc::UnknownSession: return "unknown session";
        case Errc::SessionExpired: return "session expired";
        case Errc::MissingExpiry: return "token has no expiry";
        }
        return "unknown auth error";
    }
};

} // namespace

const boost::system::error_category& errorCategory() noexcept {
    // A function-local static gives one category object per process, which error_code equality relies on.
    static const Category category;
    return category;
}

boost::system::error_code make_error_code(Errc e) noexcept { return {static_cast<int>(e), errorCategory()}; }

} // namespace parley::auth
