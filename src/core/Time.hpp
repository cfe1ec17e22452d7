#pragma once

#include <cstdint>
#include <string>

namespace parley::core {

/// Milliseconds since the Unix epoch, from the system clock.
std::int64_t nowMs() noexcept;

/// ISO 8601 UTC with milliseconds, as JavaScript's Date.toISOString(): 2026-11-25T21:51:46.123Z
std::string isoTime(std::int64_t epochMs);
/// isoTime appended to `out` (no string of its own).
void appendIsoTime(std::string& out, std::int64_t epochMs);

} // namespace parley::core
