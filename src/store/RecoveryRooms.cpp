#include "store/RecoveryRooms.hpp"

#include <charconv>

namespace parley::store {

namespace {

bool plainId(std::string_view id) {
    if (id.empty()) return false;
    for (char c : id) {
        const bool ok =
            (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

} // namespace

std::string encodeRecoveryRooms(const std::vector<RecoveryRoom>& rooms) {
    std::string out = "{";
    for (const auto& room : rooms) {
        if (!plainId(room.chatId)) continue;
        if (out.size() > 1) out += ',';
        out += '"';
        out += room.chatId;
        out += "\":";
        out += std::to_string(room.joinedAt);
    }
    out += '}';
    return out;
}

std::optional<std::vector<RecoveryRoom>> decodeRecoveryRooms(std::string_view text) {
    if (text.size() < 2 || text.front() != '{' || text.back() != '}') return std::nullopt;
    std::vector<RecoveryRoom> rooms;
    std::string_view rest = text.substr(1, text.size() - 2);
    while (!rest.empty()) {
        // "<id>":<digits> then ',' or the end.
        if (rest.front() != '"') return std::nullopt;
        const auto close = rest.find('"', 1);
        if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':') return std::nullopt;
        RecoveryRoom room{std::string(rest.substr(1, close - 1)), 0};
        if (!plainId(room.chatId)) return std::nullopt;
        const char* first = rest.data() + close + 2;
        const char* last = rest.data() + rest.size();
        auto [end, ec] = std::from_chars(first, last, room.joinedAt);
        if (ec != std::errc() || end == first) return std::nullopt;
        rooms.push_back(std::move(room));
        rest.remove_prefix(static_cast<std::size_t>(end - rest.data()));
        if (!rest.empty()) {
            if (rest.front() != ',' || rest.size() == 1) return std::nullopt;
            rest.remove_prefix(1);
        }
    }
    return rooms;
}

} // namespace parley::store
