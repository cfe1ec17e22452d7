#pragma once

#include <boost/json/object.hpp>

#include <string>
#include <string_view>

namespace parley::chat {

/// The contract's error codes.
enum class ErrorCode { ValidationError, Forbidden, Unauthorized, RateLimited, NotFound, Internal };

/// The FORBIDDEN text for a non-member and for a chat that does not exist alike (no probing).
inline constexpr std::string_view kNotMemberMessage = "Not a member of this chat";

/// "VALIDATION_ERROR", "FORBIDDEN", ...
std::string_view toString(ErrorCode code) noexcept;

/// A random UUID v4 ("8-4-4-4-12" lowercase hex).
std::string newCorrelationId();

/// `{ok:false,error,message,correlationId}` with a new correlation id, which is also written
/// to the log with `context` (e.g. "message:send user=...") so a report can be traced.
/// INTERNAL is logged at error. Other codes are refusals, logged at info at a bounded rate per
/// client (the `user=` of the context) and overall; past it at debug, counted into a summary
/// line at info that names the first and last correlationId suppressed (see ErrorReply.cpp).
boost::json::object errorReply(ErrorCode code, std::string_view message, std::string_view context);

/// Logs the summary of the refusals suppressed since the last one, if any and if that one is a
/// second old. Call it about once a second, so that the count of a burst that has ended is
/// still written.
void flushRefusalLog();

} // namespace parley::chat
