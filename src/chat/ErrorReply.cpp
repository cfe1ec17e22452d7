#include "chat/ErrorReply.hpp"

#include "core/Uuid.hpp"

#include <spdlog/spdlog.h>

namespace parley::chat {

std::string_view toString(ErrorCode code) noexcept {
    switch (code) {
    case ErrorCode::ValidationError: return "VALIDATION_ERROR";
    case ErrorCode::Forbidden: return "FORBIDDEN";
    case ErrorCode::Unauthorized: return "UNAUTHORIZED";
    case ErrorCode::RateLimited: return "RATE_LIMITED";
    case ErrorCode::NotFound: return "NOT_FOUND";
    case ErrorCode::Internal: return "INTERNAL";
    }
    return "INTERNAL";
}

unsigned httpStatus(ErrorCode code) noexcept {
    switch (code) {
    case ErrorCode::ValidationError: return 400;
    case ErrorCode::Forbidden: return 403;
    case ErrorCode::Unauthorized: return 401;
    case ErrorCode::RateLimited: return 429;
    case ErrorCode::NotFound: return 404;
    case ErrorCode::Internal: return 500;
    }
    return 500;
}

std::string newCorrelationId() { return core::newUuid(); }

boost::json::object errorReply(ErrorCode code, std::string_view message, std::string_view context) {
    std::string correlationId = newCorrelationId();
    if (code == ErrorCode::Internal)
        spdlog::error("{} correlationId={} {}: {}", toString(code), correlationId, context, message);
    else
        spdlog::info("{} correlationId={} {}: {}", toString(code), correlationId, context, message);
    return boost::json::object{{"ok", false},
                               {"error", toString(code)},
                               {"message", message},
                               {"correlationId", std::move(correlationId)}};
}

} // namespace parley::chat
