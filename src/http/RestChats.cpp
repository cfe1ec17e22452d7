// /v1/chats: list, create, read and rename chats, add and remove members.

#include "http/RestApi.hpp"

#include "chat/Payloads.hpp"
#include "chat/Validation.hpp"
#include "core/ObjectId.hpp"
#include "core/Time.hpp"
#include "http/RestCall.hpp"

#include <algorithm>

namespace parley::http {

namespace bhttp = boost::beast::http;
using chat::ErrorCode;

// Every chat of the user, each with its count of unread messages.
void RestApi::listChats(const RestCall& call, const std::string& userId, const net::Request&, const PathParams&) {
    struct Row {
        store::Chat chat;
        std::int64_t unread = 0;
    };
    chat_.store().read<std::vector<Row>>(
        here(threads_),
        [userId](store::Store& s) {
            std::vector<Row> rows;
            for (auto& c : s.chatsOfUser(userId)) {
                const auto unread = s.unreadCount(c.id, userId);
                rows.push_back(Row{std::move(c), unread});
            }
            return rows;
        },
        [call](std::string error, std::vector<Row> rows) {
            if (!error.empty()) return call.internal(error);
            boost::json::array out;
            for (const auto& r : rows) {
                auto o = chat::ChatService::chatJson(r.chat);
                o["unreadCount"] = r.unread;
                out.push_back(std::move(o));
            }
            call.ok(std::move(out));
        });
}

void RestApi::createChat(const RestCall& call, const std::string& userId, const net::Request& req, const PathParams&) {
    auto request = chat::parseNewChatRequest(objectOrNull(parseBody(req)), userId);
    if (!request) return call.fail(request.error().code, request.error().message);
    store::Chat c;
    c.type = std::move(request->type);
    c.title = std::move(request->title);
    c.memberIds = std::move(request->memberIds);
    c.id = core::ObjectId::generate();
    c.createdBy = userId;
    c.createdAt = c.updatedAt = core::nowMs();
    saveChat(
        call, c,
        [c](store::Store& s) {
            s.insertChat(c);
            return true;
        },
        bhttp::status::created);
}

void RestApi::getChat(const RestCall& call, const std::string& userId, const net::Request&, const PathParams& p) {
    withMembership(call, userId, p[0], [call](const store::Chat& c) { call.ok(chat::ChatService::chatJson(c)); });
}

void RestApi::renameChat(const RestCall& call, const std::string& userId, const net::Request& req,
                         const PathParams& p) {
    auto update = chat::parseTitleUpdate(objectOrNull(parseBody(req)));
    if (!update) return call.fail(update.error().code, update.error().message);
    withMembership(call, userId, p[0], [this, call, title = std::move(*update)](store::Chat c) {
        c.title = title;
        c.updatedAt = core::nowMs();
        saveChat(
            call, c,
            [c](store::Store& s) {
                s.setTitle(c.id, c.title, c.updatedAt);
                return true;
            },
            bhttp::status::ok);
    });
}

// Adding a member twice answers the chat unchanged.
void RestApi::addMember(const RestCall& call, const std::string& userId, const net::Request& req, const PathParams& p) {
    auto newMember = chat::parseNewMember(objectOrNull(parseBody(req)));
    if (!newMember) return call.fail(newMember.error().code, newMember.error().message);
    withMembership(call, userId, p[0], [this, call, newMember = std::move(*newMember)](store::Chat c) {
        if (c.type == "dm") return call.fail(ErrorCode::ValidationError, "a dm has exactly two members");
        if (std::find(c.memberIds.begin(), c.memberIds.end(), newMember) != c.memberIds.end())
            return call.ok(chat::ChatService::chatJson(c));
        if (c.memberIds.size() >= chat::kMaxChatMembers)
            return call.fail(ErrorCode::ValidationError, "at most 1000 members");
        c.memberIds.push_back(newMember);
        c.updatedAt = core::nowMs();
        saveChat(
            call, c, [c, newMember](store::Store& s) { return s.addMember(c.id, newMember, c.updatedAt); },
            bhttp::status::ok);
    });
}

// The removed member's sockets leave the chat's room, and it is told of the change too.
void RestApi::removeMember(const RestCall& call, const std::string& userId, const net::Request&, const PathParams& p) {
    const std::string& removed = p[1];
    if (!core::ObjectId::isValid(removed))
        return call.fail(ErrorCode::ValidationError, "userId must be a 24-character hex ObjectId");
    withMembership(call, userId, p[0], [this, call, removed](store::Chat c) {
        auto it = std::find(c.memberIds.begin(), c.memberIds.end(), removed);
        if (it == c.memberIds.end()) return call.fail(ErrorCode::NotFound, "Not a member of this chat");
        if (c.type == "dm") return call.fail(ErrorCode::ValidationError, "a dm has exactly two members");
        c.memberIds.erase(it);
        c.updatedAt = core::nowMs();
        chat_.store().write<bool>(
            here(threads_), [c, removed](store::Store& s) { return s.removeMember(c.id, removed, c.updatedAt); },
            [this, call, c, removed](std::string error, bool) {
                if (!error.empty()) return call.internal(error);
                chat_.leaveChatRoom(c.id, removed);
                chat_.emitChatUpdate(c, {removed});
                call.ok(chat::ChatService::chatJson(c));
            });
    });
}

void RestApi::saveChat(const RestCall& call, const store::Chat& chat, std::function<bool(store::Store&)> write,
                       bhttp::status status) {
    chat_.store().write<bool>(here(threads_), std::move(write), [this, call, chat, status](std::string error, bool) {
        if (!error.empty()) return call.internal(error);
        chat_.emitChatUpdate(chat);
        call.ok(chat::ChatService::chatJson(chat), status);
    });
}

} // namespace parley::http
