#pragma once

#include "engineio/codec/Packet.hpp"

#include <boost/system/result.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace parley::engineio::codec {

/// The record separator between packets of a polling payload.
inline constexpr char kRecordSeparator = '\x1e';

/// Decodes an HTTP long-polling body: records separated by \x1e, text packets as is,
/// binary packets as "b" + base64. Fails on the first malformed record.
boost::system::result<std::vector<Packet>> decodePayload(std::string_view body);

/// Appends one already-serialized packet to a payload under construction. `bytes` is the
/// text packet (type digit included) or, when `binary`, the raw message bytes.
void appendToPayload(std::string& payload, std::string_view bytes, bool binary);

/// Base64 (standard alphabet, padded) as used by polling binary records.
std::string base64Encode(std::string_view bytes);
boost::system::result<std::string> base64Decode(std::string_view text);

} // namespace parley::engineio::codec
