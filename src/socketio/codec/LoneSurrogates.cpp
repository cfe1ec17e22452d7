#include "socketio/codec/LoneSurrogates.hpp"

#include <algorithm>

namespace parley::socketio::codec {

namespace {

constexpr std::string_view kReplacement = "\\ufffd";
constexpr std::size_t kEscapeLength = 6; // \uXXXX

int hexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// The code unit of the \uXXXX escape at `at`, or -1 if there is none.
int escapeAt(std::string_view s, std::size_t at) {
    if (at + kEscapeLength > s.size() || s[at] != '\\' || s[at + 1] != 'u') return -1;
    int unit = 0;
    for (std::size_t i = at + 2; i < at + kEscapeLength; ++i) {
        const int h = hexValue(s[i]);
        if (h < 0) return -1;
        unit = unit * 16 + h;
    }
    return unit;
}

bool isHigh(int unit) { return unit >= 0xD800 && unit <= 0xDBFF; }
bool isLow(int unit) { return unit >= 0xDC00 && unit <= 0xDFFF; }

} // namespace

std::optional<std::string> replaceLoneSurrogates(std::string_view json) {
    std::string out;
    bool replaced = false;
    std::size_t copied = 0; // json[copied, i) is still to be appended to `out`
    std::size_t i = 0;
    while (i < json.size()) {
        if (json[i] != '\\') {
            ++i;
            continue;
        }
        const int unit = escapeAt(json, i);
        if (unit < 0) {
            // Any other escape (\\, \", \n ...) is two characters; skipping both keeps an escaped
            // backslash followed by "ud800" from being read as an escape.
            i += 2;
            continue;
        }
        if (isHigh(unit) && isLow(escapeAt(json, i + kEscapeLength))) {
            i += 2 * kEscapeLength; // a proper pair
            continue;
        }
        if (isHigh(unit) || isLow(unit)) {
            out.append(json.substr(copied, i - copied));
            out.append(kReplacement);
            replaced = true;
            copied = i + kEscapeLength;
        }
        i += kEscapeLength;
    }
    if (!replaced) return std::nullopt;
    out.append(json.substr(std::min(copied, json.size())));
    return out;
}

} // namespace parley::socketio::codec
