#pragma once

#include "socketio/codec/Packet.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <utility>

namespace parley::socketio::codec::test {

/// Decodes `text`, failing the test (and returning an empty packet) if it is refused. The text
/// is shown escaped: it may hold control bytes.
inline Packet mustDecode(std::string_view text) {
    auto r = decode(text);
    EXPECT_TRUE(r) << "refused: " << ::testing::PrintToString(std::string(text)) << " -> "
                   << (r ? "" : r.error().message());
    return r ? std::move(*r) : Packet{};
}

} // namespace parley::socketio::codec::test
