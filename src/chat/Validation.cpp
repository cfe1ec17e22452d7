#include "chat/Validation.hpp"

namespace parley::chat {

std::size_t utf16Length(std::string_view s) noexcept {
    std::size_t units = 0;
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
        if (i + len > s.size()) len = 1;
        units += len == 4 ? 2 : 1;
        i += len;
    }
    return units;
}

namespace {
// Decodes one UTF-8 code point at i (advancing i); invalid bytes decode as themselves.
char32_t next(std::string_view s, std::size_t& i) {
    const auto c = static_cast<unsigned char>(s[i]);
    auto cont = [&](std::size_t k) { return static_cast<char32_t>(static_cast<unsigned char>(s[i + k]) & 0x3F); };
    if (c < 0x80) {
        i += 1;
        return c;
    }
    if ((c >> 5) == 0x6 && i + 1 < s.size()) {
        char32_t cp = ((c & 0x1Fu) << 6) | cont(1);
        i += 2;
        return cp;
    }
    if ((c >> 4) == 0xE && i + 2 < s.size()) {
        char32_t cp = ((c & 0x0Fu) << 12) | (cont(1) << 6) | cont(2);
        i += 3;
        return cp;
    }
    if ((c >> 3) == 0x1E && i + 3 < s.size()) {
        char32_t cp = ((c & 0x07u) << 18) | (cont(1) << 12) | (cont(2) << 6) | cont(3);
        i += 4;
        return cp;
    }
    i += 1;
    return c;
}

// What JavaScript's String.prototype.trim() removes.
bool isSpace(char32_t cp) {
    return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
           cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000 || cp == 0xFEFF;
}
} // namespace

bool isBlank(std::string_view s) noexcept {
    for (std::size_t i = 0; i < s.size();)
        if (!isSpace(next(s, i))) return false;
    return true;
}

std::optional<std::string_view> stringField(const boost::json::object& obj, std::string_view key) {
    const auto* v = obj.if_contains(key);
    if (!v || !v->is_string()) return std::nullopt;
    const auto& str = v->get_string();
    return std::string_view(str.data(), str.size());
}

const boost::json::object* asObject(const boost::json::value* v) { return v ? v->if_object() : nullptr; }

} // namespace parley::chat
