#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace parley::socketio::codec {

/// JavaScript strings may hold lone UTF-16 surrogates (a string sliced through an emoji), and
/// JSON.stringify writes them as "\ud83d"-style escapes, which Boost.JSON refuses: valid JSON
/// text must decode to valid Unicode. Returns `json` with the escape of every lone surrogate
/// replaced by "\ufffd" (U+FFFD, what a JavaScript TextEncoder and a UTF-8 database make of it),
/// or nullopt when `json` has no such escape. Escaped surrogate pairs, escaped backslashes and
/// every other byte are left as they are. Pure; accepts any input.
std::optional<std::string> replaceLoneSurrogates(std::string_view json);

} // namespace parley::socketio::codec
