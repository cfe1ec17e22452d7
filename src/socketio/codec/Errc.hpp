#pragma once

#include <boost/system/error_code.hpp>

namespace parley::socketio::codec {

/// Why a text or binary frame could not be read as a Socket.IO v5 packet.
enum class Errc {
    EmptyPacket = 1,       ///< nothing after the Engine.IO message type
    UnknownPacketType = 2, ///< first character not '0'..'6'
    BadAttachments = 3,    ///< binary type without "<count>-", or a count out of range
    InvalidJson = 4,       ///< the data part does not parse as JSON
    InvalidPayload = 5,    ///< JSON of the wrong shape for the packet type (e.g. `42{}`)
    BadPlaceholder = 6,    ///< a placeholder refers to an attachment that does not exist
    UnexpectedBinary = 7,  ///< a binary frame arrived while no binary packet was waiting for one
};

const boost::system::error_category& codecCategory() noexcept;

inline boost::system::error_code make_error_code(Errc e) noexcept { return {static_cast<int>(e), codecCategory()}; }

} // namespace parley::socketio::codec

template <>
struct boost::system::is_error_code_enum<parley::socketio::codec::Errc> : std::true_type {};
