#pragma once

#include "socketio/Socket.hpp"

#include <memory>
#include <string>

namespace parley::chat {

/// The user a chat socket authenticated as: the "userId" of its data, which
/// ChatService::authenticateSocket sets before the socket connects; "" before then.
inline std::string userOf(const std::shared_ptr<socketio::Socket>& s) {
    const auto* v = s->data().if_contains("userId");
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

} // namespace parley::chat
