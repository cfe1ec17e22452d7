// Chats and their members. Every change answers, and tells the members in chat:update, the chat
// as the store committed it, so two concurrent changes never broadcast each other's loss.
//
// Order: the store completes the changes of a chat in commit order (SQLite's one writer; on
// PostgreSQL one change of a chat at a time, each after the previous one has finished). Their
// completions all come to io thread 0, which sends each chat:update in that order and only then
// hands the answer back to the caller's io thread: were they completed on the callers' threads,
// two updates could reach a member in the wrong order and leave it with a stale chat. In a
// cluster, each chat:update and message:new carries the chat's event count (Chat::eventSeq), by
// which every node delivers a chat's events in commit order whichever node committed them.

#include "chat/ChatService.hpp"

#include "chat/StoreFailure.hpp"
#include "chat/Validation.hpp"
#include "core/ObjectId.hpp"
#include "core/Time.hpp"

#include <boost/asio/post.hpp>

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
        .inOrder(chat.id, chat.eventSeq)
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
    store_.createChat(threads_.context(0), std::move(c),
                      [this, &ctx, done = std::move(done)](store::Result<store::Chat> created) {
                          if (created) {
                              presenceMembersChanged(*created, created->memberIds, {});
                              emitChatUpdate(*created);
                          }
                          answerOn(ctx, std::move(created), done);
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
    store_.renameChat(threads_.context(0), std::move(chatId), std::move(userId), std::move(title), core::nowMs(),
                      [this, &ctx, done = std::move(done)](store::Result<store::Chat> renamed) {
                          if (renamed) emitChatUpdate(*renamed);
                          answerOn(ctx, std::move(renamed), done);
                      });
}

void ChatService::addMember(boost::asio::io_context& ctx, std::string userId, std::string chatId, std::string newMember,
                            Reply<store::Chat> done) {
    if (auto bad = invalidId(chatId, "chatId")) return done(*bad);
    // The member cap holds on add as on create: the store checks it inside the write.
    store_.addMember(threads_.context(0), std::move(chatId), std::move(userId), newMember, core::nowMs(),
                     kMaxChatMembers,
                     [this, &ctx, newMember, done = std::move(done)](store::Result<store::MemberChange> change) {
                         if (change && change->changed) presenceMembersChanged(change->chat, {newMember}, {});
                         answerChange(ctx, std::move(change), {}, done);
                     });
}

void ChatService::removeMember(boost::asio::io_context& ctx, std::string userId, std::string chatId,
                               std::string removed, Reply<store::Chat> done) {
    if (auto bad = invalidId(chatId, "chatId")) return done(*bad);
    if (auto bad = invalidId(removed, "userId")) return done(*bad);
    store_.removeMember(threads_.context(0), std::move(chatId), std::move(userId), removed, core::nowMs(),
                        [this, &ctx, removed, done = std::move(done)](store::Result<store::MemberChange> change) {
                            // Its sockets leave the room at once, on every device.
                            if (change) nsp_.to("user:" + removed).socketsLeave({"chat:" + change->chat.id});
                            if (change && change->changed) presenceMembersChanged(change->chat, {}, {removed});
                            answerChange(ctx, std::move(change), {removed}, done);
                        });
}

void ChatService::answerChange(boost::asio::io_context& ctx, store::Result<store::MemberChange> change,
                               const std::vector<std::string>& alsoTo, const Reply<store::Chat>& done) {
    if (!change) return answerOn(ctx, change.error(), done);
    if (change->changed) emitChatUpdate(change->chat, alsoTo);
    answerOn(ctx, std::move(change->chat), done);
}

void ChatService::answerOn(boost::asio::io_context& ctx, store::Result<store::Chat> chat,
                           const Reply<store::Chat>& done) {
    boost::asio::post(ctx, [chat = std::move(chat), done]() mutable {
        if (!chat) return done(storeFailure(chat.error(), "Not a member of this chat"));
        done(std::move(*chat));
    });
}

} // namespace parley::chat
