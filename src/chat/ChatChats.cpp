// Chats and their members. Every change answers, and tells the members in chat:update, the chat
// as the store committed it, so two concurrent changes never broadcast each other's loss.

#include "chat/ChatService.hpp"

#include "chat/StoreFailure.hpp"
#include "chat/Validation.hpp"
#include "core/ObjectId.hpp"
#include "core/Time.hpp"

namespace parley::chat {

namespace {

std::optional<Failure> invalidId(const std::string& id, std::string_view name) {
    if (core::ObjectId::isValid(id)) return std::nullopt;
    return Failure{ErrorCode::ValidationError, std::string(name) + " must be a 24-character hex ObjectId"};
}

} // namespace

void ChatService::emitChatUpdate(const store::Chat& chat, const std::vector<std::string>& alsoTo) {
    socketio::BroadcastOptions opts;
    for (const auto& id : chat.memberIds) opts.rooms.push_back("user:" + id);
    for (const auto& id : alsoTo) opts.rooms.push_back("user:" + id);
    socketio::BroadcastOperator(nsp_, std::move(opts))
        .emit("chat:update", boost::json::array{boost::json::object{{"chat", chatJson(chat)}}});
}

void ChatService::listChats(boost::asio::io_context& ctx, std::string userId,
                            Reply<std::vector<store::ChatSummary>> done) {
    store_.listChats(ctx, std::move(userId),
                     [done = std::move(done)](store::Result<std::vector<store::ChatSummary>> r) {
                         if (!r) return done(storeFailure(r.error()));
                         done(std::move(*r));
                     });
}

void ChatService::createChat(boost::asio::io_context& ctx, const std::string& userId, NewChatRequest request,
                             Reply<store::Chat> done) {
    store::Chat c;
    c.id = core::ObjectId::generate();
    c.type = std::move(request.type);
    c.title = std::move(request.title);
    c.memberIds = std::move(request.memberIds);
    c.createdBy = userId;
    c.createdAt = c.updatedAt = core::nowMs();
    store_.createChat(ctx, std::move(c), [this, done = std::move(done)](store::Result<store::Chat> created) {
        if (!created) return done(storeFailure(created.error()));
        emitChatUpdate(*created);
        done(std::move(*created));
    });
}

void ChatService::getChat(boost::asio::io_context& ctx, std::string userId, std::string chatId,
                          Reply<store::Chat> done) {
    if (auto bad = invalidId(chatId, "chatId")) return done(*bad);
    store_.chatForMember(ctx, std::move(chatId), std::move(userId),
                         [done = std::move(done)](store::Result<store::Chat> c) {
                             if (!c) return done(storeFailure(c.error()));
                             done(std::move(*c));
                         });
}

void ChatService::renameChat(boost::asio::io_context& ctx, std::string userId, std::string chatId,
                             std::optional<std::string> title, Reply<store::Chat> done) {
    if (auto bad = invalidId(chatId, "chatId")) return done(*bad);
    store_.renameChat(ctx, std::move(chatId), std::move(userId), std::move(title), core::nowMs(),
                      [this, done = std::move(done)](store::Result<store::Chat> renamed) {
                          if (!renamed) return done(storeFailure(renamed.error()));
                          emitChatUpdate(*renamed);
                          done(std::move(*renamed));
                      });
}

void ChatService::addMember(boost::asio::io_context& ctx, std::string userId, std::string chatId, std::string newMember,
                            Reply<store::Chat> done) {
    if (auto bad = invalidId(chatId, "chatId")) return done(*bad);
    // The member cap holds on add as on create: the store checks it inside the write.
    store_.addMember(ctx, std::move(chatId), std::move(userId), std::move(newMember), core::nowMs(), kMaxChatMembers,
                     [this, done = std::move(done)](store::Result<store::MemberChange> change) {
                         answerChange(std::move(change), {}, done);
                     });
}

void ChatService::removeMember(boost::asio::io_context& ctx, std::string userId, std::string chatId,
                               std::string removed, Reply<store::Chat> done) {
    if (auto bad = invalidId(chatId, "chatId")) return done(*bad);
    if (auto bad = invalidId(removed, "userId")) return done(*bad);
    store_.removeMember(ctx, std::move(chatId), std::move(userId), removed, core::nowMs(),
                        [this, removed, done = std::move(done)](store::Result<store::MemberChange> change) {
                            // Its sockets leave the room at once, on every device.
                            if (change) nsp_.to("user:" + removed).socketsLeave({"chat:" + change->chat.id});
                            answerChange(std::move(change), {removed}, done);
                        });
}

void ChatService::answerChange(store::Result<store::MemberChange> change, const std::vector<std::string>& alsoTo,
                               const Reply<store::Chat>& done) {
    if (!change) return done(storeFailure(change.error(), "Not a member of this chat"));
    if (change->changed) emitChatUpdate(change->chat, alsoTo);
    done(std::move(change->chat));
}

} // namespace parley::chat
