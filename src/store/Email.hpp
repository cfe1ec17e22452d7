#pragma once

#include <algorithm>
#include <string>
#include <string_view>

namespace parley::store {

/// An email as both backends store and look it up: ASCII letters lower-cased, since emails
/// compare case-insensitively (User::email is unique in this form).
inline std::string storedEmail(std::string_view email) {
    std::string out(email);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c); });
    return out;
}

} // namespace parley::store
