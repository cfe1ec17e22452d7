#pragma once

#include "chat/Payloads.hpp"

#include <boost/system/error_code.hpp>

#include <string_view>

namespace parley::chat {

/// The contract error for a store operation that failed with `ec` (a store::Errc):
/// Forbidden → FORBIDDEN (a non-member and a missing chat alike), NotFound → NOT_FOUND with
/// `notFound`, NotAGroup and ChatFull → VALIDATION_ERROR, Unavailable and Internal → INTERNAL
/// (the store's reason goes to the log only).
Failure storeFailure(const boost::system::error_code& ec, std::string_view notFound = "Not found");

} // namespace parley::chat
