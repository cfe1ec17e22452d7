#include "chat/StoreFailure.hpp"

#include "chat/Validation.hpp"
#include "store/Errc.hpp"

#include <string>

namespace parley::chat {

Failure storeFailure(const boost::system::error_code& ec, std::string_view notFound) {
    if (ec.category() == store::errorCategory()) {
        switch (static_cast<store::Errc>(ec.value())) {
        case store::Errc::Forbidden: return Failure{ErrorCode::Forbidden, std::string(kNotMemberMessage)};
        case store::Errc::NotFound: return Failure{ErrorCode::NotFound, std::string(notFound)};
        case store::Errc::NotAGroup: return Failure{ErrorCode::ValidationError, "a dm has exactly two members"};
        case store::Errc::ChatFull:
            return Failure{ErrorCode::ValidationError, "at most " + std::to_string(kMaxChatMembers) + " members"};
        case store::Errc::Duplicate: return Failure{ErrorCode::ValidationError, "Already exists"};
        case store::Errc::Unavailable:
            return Failure{ErrorCode::Internal, "Service temporarily unavailable", ec.message()};
        case store::Errc::Internal: break;
        }
    }
    return Failure{ErrorCode::Internal, "Internal error", ec.message()};
}

} // namespace parley::chat
