#pragma once

#include <boost/system/error_code.hpp>

namespace parley::engineio::codec {

/// Why bytes from a client could not be read as Engine.IO packets.
enum class Errc {
    EmptyPacket = 1,       ///< a frame or payload record with no type character
    UnknownPacketType = 2, ///< the type character is not '0'..'6'
    BadBase64 = 3,         ///< a "b"-prefixed polling record whose base64 does not decode
    PayloadTooLarge = 4,   ///< more bytes than maxPayload
};

const boost::system::error_category& codecCategory() noexcept;

inline boost::system::error_code make_error_code(Errc e) noexcept { return {static_cast<int>(e), codecCategory()}; }

} // namespace parley::engineio::codec

template <>
struct boost::system::is_error_code_enum<parley::engineio::codec::Errc> : std::true_type {};
