#pragma once

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace parley::store {

/// Why a store operation did not happen (ChatStore.hpp says when each is given). Values start
/// at 1 so that a default error_code (0) always means success.
enum class Errc {
    NotFound = 1, ///< the message, member, session or user named does not exist
    Forbidden,    ///< the acting user is not a member of the chat (or the chat does not exist)
    Duplicate,    ///< a unique key is taken
    NotAGroup,    ///< a membership change on a chat that is not a group (a dm)
    ChatFull,     ///< adding a member to a chat that has its maximum already
    Unavailable,  ///< the database cannot be reached now; nothing happened
    Internal,     ///< the database failed the operation (logged by the store)
};

/// The category of every store::Errc; its name is "store".
const boost::system::error_category& errorCategory() noexcept;

/// Lets `boost::system::error_code ec = Errc::NotFound;` and `Result<T>{Errc::NotFound}` work.
boost::system::error_code make_error_code(Errc e) noexcept;

} // namespace parley::store

template <>
struct boost::system::is_error_code_enum<parley::store::Errc> : std::true_type {};
