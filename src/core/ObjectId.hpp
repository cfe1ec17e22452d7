#pragma once

#include <string>
#include <string_view>

namespace parley::core {

/// MongoDB-style ObjectIds: 24 lowercase hex characters (4-byte seconds, 5-byte
/// process-random, 3-byte counter), so ids sort by creation time.
class ObjectId {
public:
    /// A new id. Thread-safe.
    static std::string generate();
    /// True if `text` is exactly 24 lowercase hex characters.
    static bool isValid(std::string_view text) noexcept;
};

} // namespace parley::core
