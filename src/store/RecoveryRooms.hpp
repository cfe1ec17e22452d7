#pragma once

#include "store/Types.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace parley::store {

/// The rooms of a RecoveryRecord as both backends store them and as the replay queries read
/// them: a JSON object {"<chatId>":<joinedAtMs>,...}. Chat ids are ObjectIds (hex), so no
/// character of theirs needs escaping; the encoder leaves out any id that is not plain
/// [0-9A-Za-z_-], rather than write text a query could misread.
std::string encodeRecoveryRooms(const std::vector<RecoveryRoom>& rooms);

/// The rooms encodeRecoveryRooms wrote; nullopt for any other text.
std::optional<std::vector<RecoveryRoom>> decodeRecoveryRooms(std::string_view text);

} // namespace parley::store
