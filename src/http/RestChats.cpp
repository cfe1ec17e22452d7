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

namespace {

// Answers a chat operation: the chat with `status`, or its error.
chat::Reply<store::Chat> answerChat(const RestCall& call, bhttp::status status = bhttp::status::ok) {
    return [call, status](chat::Outcome<store::Chat> c) {
        if (!c) return call.fail(c.error().code, c.error().message, c.error().cause);
        call.ok(chat::ChatService::chatJson(*c), status);
    };
}

} // namespace

// Every chat of the user, by last activity (newest first), each with its count of unread
// messages and its last message (null in a chat without messages).
void RestApi::listChats(const RestCall& call, const std::string& userId, const net::Request&, const PathParams&) {
    chat_.listChats(here(threads_), userId, [call](chat::Outcome<std::vector<store::ChatSummary>> rows) {
        if (!rows) return call.fail(rows.error().code, rows.error().message, rows.error().cause);
        boost::json::array out;
        for (const auto& r : *rows) {
            auto o = chat::ChatService::chatJson(r.chat);
            o["unreadCount"] = r.unreadCount;
            if (r.lastMessage)
                o["lastMessage"] = chat::ChatService::messageJson(*r.lastMessage);
            else
                o["lastMessage"] = nullptr;
            out.push_back(std::move(o));
        }
        call.ok(std::move(out));
    });
}

void RestApi::createChat(const RestCall& call, const std::string& userId, const net::Request& req, const PathParams&) {
    auto request = chat::parseNewChatRequest(objectOrNull(parseBody(req)), userId);
    if (!request) return call.fail(request.error().code, request.error().message);
    chat_.createChat(here(threads_), userId, std::move(*request), answerChat(call, bhttp::status::created));
}

void RestApi::getChat(const RestCall& call, const std::string& userId, const net::Request&, const PathParams& p) {
    chat_.getChat(here(threads_), userId, p[0], answerChat(call));
}

void RestApi::renameChat(const RestCall& call, const std::string& userId, const net::Request& req,
                         const PathParams& p) {
    auto update = chat::parseTitleUpdate(objectOrNull(parseBody(req)));
    if (!update) return call.fail(update.error().code, update.error().message);
    chat_.renameChat(here(threads_), userId, p[0], std::move(*update), answerChat(call));
}

// Adding a member twice answers the chat unchanged.
void RestApi::addMember(const RestCall& call, const std::string& userId, const net::Request& req, const PathParams& p) {
    auto newMember = chat::parseNewMember(objectOrNull(parseBody(req)));
    if (!newMember) return call.fail(newMember.error().code, newMember.error().message);
    chat_.addMember(here(threads_), userId, p[0], std::move(*newMember), answerChat(call));
}

// The removed member's sockets leave the chat's room, and it is told of the change too.
void RestApi::removeMember(const RestCall& call, const std::string& userId, const net::Request&, const PathParams& p) {
    chat_.removeMember(here(threads_), userId, p[0], p[1], answerChat(call));
}

} // namespace parley::http
