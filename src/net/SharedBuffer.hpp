#pragma once

#include <memory>
#include <string>

namespace parley::net {

/// Immutable, reference-counted bytes: encoded once, handed to any number of connections.
using SharedBuffer = std::shared_ptr<const std::string>;

inline SharedBuffer makeSharedBuffer(std::string bytes) {
    return std::make_shared<const std::string>(std::move(bytes));
}

/// One outbound WebSocket message or polling record.
struct Frame {
    SharedBuffer bytes;
    bool binary = false;
    bool isVolatile = false; ///< may be dropped when the client is behind (typing, presence)
};

} // namespace parley::net
