#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace parley::chat {

inline constexpr std::size_t kMaxBodyLength = 8000;    // UTF-16 code units, as the seed (JavaScript) counts
inline constexpr std::size_t kMaxClientIdLength = 128; // a UUID is 36; leave room for other schemes
inline constexpr std::size_t kMaxTitleLength = 200;
inline constexpr std::size_t kMaxChatMembers = 5000; // the creator included; also when members are added

/// Length of UTF-8 text in UTF-16 code units (what JavaScript's string.length says):
/// 1 per code point below U+10000, 2 above. Invalid UTF-8 counts each bad byte as 1.
std::size_t utf16Length(std::string_view utf8) noexcept;

/// True if the text is empty or only Unicode whitespace (ASCII space/controls, NBSP, U+2000..200A, ...).
bool isBlank(std::string_view utf8) noexcept;

/// `obj[key]` as a string when it is one; nullopt otherwise (missing, or another type).
std::optional<std::string_view> stringField(const boost::json::object& obj, std::string_view key);

/// The first event argument as an object, or nullptr.
const boost::json::object* asObject(const boost::json::value* v);

} // namespace parley::chat
