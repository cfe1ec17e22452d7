// /v1/chats/:chatId/messages (history and sending) and /v1/chats/:chatId/read-cursors.

#include "http/RestApi.hpp"

#include "chat/Payloads.hpp"
#include "core/ObjectId.hpp"
#include "core/Time.hpp"
#include "http/RestCall.hpp"

namespace parley::http {

namespace bhttp = boost::beast::http;
using chat::ErrorCode;

// A page of history before or after a cursor. The cursor must name a message of this chat. It is
// checked in the same store job as the page, and an unknown id and a message of another chat get
// the same answer, so that the reply tells nothing about other chats.
void RestApi::listMessages(const RestCall& call, const std::string& userId, const net::Request& req,
                           const PathParams& p) {
    auto query = chat::parseHistoryQuery(req.target());
    if (!query) return call.fail(query.error().code, query.error().message);
    withMembership(call, userId, p[0], [this, call, query = *query](const store::Chat& c) {
        chat_.store().read<std::optional<store::MessagePage>>(
            here(threads_),
            [id = c.id, query](store::Store& s) -> std::optional<store::MessagePage> {
                if (const auto& cursor = query.before ? query.before : query.after) {
                    auto m = s.findMessage(*cursor);
                    if (!m || m->chatId != id) return std::nullopt;
                }
                return s.messages(id, query.before, query.after, query.limit);
            },
            [call](std::string error, std::optional<store::MessagePage> found) {
                if (!error.empty()) return call.internal(error);
                if (!found) return call.fail(ErrorCode::NotFound, "No such message in this chat");
                boost::json::array messages;
                for (const auto& m : found->messages) messages.push_back(chat::ChatService::messageJson(m));
                call.ok(boost::json::object{{"messages", std::move(messages)}, {"hasMore", found->hasMore}});
            });
    });
}

// The same operation as the socket's message:send: 201 for a new message, 200 for a retry.
void RestApi::postMessage(const RestCall& call, const std::string& userId, const net::Request& req,
                          const PathParams& p) {
    if (!core::ObjectId::isValid(p[0]))
        return call.fail(ErrorCode::ValidationError, "chatId must be a 24-character hex ObjectId");
    auto body = parseBody(req);
    chat_.sendMessage(here(threads_), userId, objectOrNull(body), std::string_view(p[0]),
                      [call](std::optional<chat::Failure> failure, chat::SendOutcome out) {
                          if (failure) return call.fail(failure->code, failure->message, failure->cause);
                          call.ok(boost::json::object{{"clientId", out.message.clientId}, {"serverId", out.message.id}},
                                  out.created ? bhttp::status::created : bhttp::status::ok);
                      });
}

void RestApi::listReadCursors(const RestCall& call, const std::string& userId, const net::Request&,
                              const PathParams& p) {
    withMembership(call, userId, p[0], [this, call](const store::Chat& c) {
        chat_.store().read<std::vector<store::ReadCursor>>(
            here(threads_), [id = c.id](store::Store& s) { return s.readCursors(id); },
            [call](std::string error, std::vector<store::ReadCursor> cursors) {
                if (!error.empty()) return call.internal(error);
                boost::json::array out;
                for (const auto& rc : cursors)
                    out.push_back(boost::json::object{
                        {"userId", rc.userId}, {"messageId", rc.messageId}, {"readAt", core::isoTime(rc.readAt)}});
                call.ok(std::move(out));
            });
    });
}

} // namespace parley::http
