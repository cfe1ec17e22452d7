// Typing indicators: typing:start / typing:stop relayed as typing:update to the chat's room (not
// to the typist's own sockets), and each typing episode ended by exactly one stop: the client's,
// or the server's when the socket disconnects, leaves the room or stays silent for the timeout
// (TypingTracker, on the socket's own io thread).

#include "chat/ChatService.hpp"
#include "chat/SocketUser.hpp"
#include "core/Time.hpp"

#include <boost/json/array.hpp>

namespace parley::chat {

void ChatService::emitTyping(const std::string& userId, const std::string& chatId, const char* state) {
    nsp_.to("chat:" + chatId)
        .except("user:" + userId)
        .volatileFlag()
        .emit("typing:update",
              boost::json::array{boost::json::object{{"chatId", chatId}, {"userId", userId}, {"state", state}}});
}

// Fire-and-forget: invalid payloads and non-members are ignored without a word. A stop is told
// only when it ends an episode of this socket (one began with a start a member sent).
void ChatService::typing(const SocketPtr& s, const socketio::Event& e, bool starting) {
    auto chatId = parseChatRef(e.args);
    if (!chatId) return;
    const std::string userId = userOf(s);
    if (!starting) {
        if (typists_.stop(*s, *chatId)) emitTyping(userId, *chatId, "stop");
        return;
    }
    // In the room means membership was checked at room:join (and removal leaves it).
    if (s->inRoom("chat:" + *chatId)) {
        typists_.start(*s, userId, *chatId);
        return emitTyping(userId, *chatId, "start");
    }
    // Outside its rooms each start is a store read: bounded per socket, past it ignored.
    if (!budgetsHere().take(s.get(), core::nowMs(), config_.storeBudget)) return;
    store_.isMember(s->context(), *chatId, userId, [this, s, userId, chatId = *chatId](store::Result<bool> member) {
        // A socket gone meanwhile starts nothing: no one would end the episode.
        if (!member || !*member || !s->connected()) return;
        typists_.start(*s, userId, chatId);
        emitTyping(userId, chatId, "start");
    });
}

} // namespace parley::chat
