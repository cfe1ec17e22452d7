#pragma once

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace parley::cluster {

/// Why a Redis command or connection failed. An error *reply* of the server ("-ERR ...") is not
/// one of these: it is a successful RedisReply of Type::Error. Values start at 1 so that a
/// default error_code (0) always means success. close() completes what is pending with
/// boost::asio::error::operation_aborted rather than one of these.
enum class RedisErrc {
    BadAddress = 1,  ///< the redis:// URI does not parse (scheme, port range, db, percent-encoding)
    NotConnected,    ///< the connection is not established (connecting, backing off or closed)
    TooManyPending,  ///< RedisOptions::maxPending commands are already queued or in flight
    Timeout,         ///< a command, the connect or the handshake was not answered in time
    ConnectionLost,  ///< the connection failed or closed while the command was in flight
    ProtocolError,   ///< the server sent bytes that are not RESP, or a reply nobody asked for
    ReplyTooLarge,   ///< a reply exceeded the reader's bound (RedisReplyReader::kMaxReplyBytes)
    HandshakeFailed, ///< AUTH, SELECT, CLIENT SETNAME or a resubscription got an error reply
};

/// The category of every RedisErrc; its name is "redis".
const boost::system::error_category& redisCategory() noexcept;

/// Lets `boost::system::error_code ec = RedisErrc::Timeout;` work.
boost::system::error_code make_error_code(RedisErrc e) noexcept;

} // namespace parley::cluster

template <>
struct boost::system::is_error_code_enum<parley::cluster::RedisErrc> : std::true_type {};
