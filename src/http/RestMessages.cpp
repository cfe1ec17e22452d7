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
    chat_.history(here(threads_), userId, p[0], *query, [call](chat::Outcome<store::MessagePage> page) {
        if (!page) return call.fail(page.error().code, page.error().message, page.error().cause);
        boost::json::array messages;
        for (const auto& m : page->messages) messages.push_back(chat::ChatService::messageJson(m));
        call.ok(boost::json::object{{"messages", std::move(messages)}, {"hasMore", page->hasMore}});
    });
}

// The same operation as the socket's message:send: 201 for a new message, 200 for a retry.
void RestApi::postMessage(const RestCall& call, const std::string& userId, const net::Request& req,
                          const PathParams& p) {
    if (!core::ObjectId::isValid(p[0]))
        return call.fail(ErrorCode::ValidationError, "chatId must be a 24-character hex ObjectId");
    // Draining: not taken (nothing stored), so sending it again to another node is safe. A
    // deploy is no fault: the reply has the contract's shape but is not logged.
    if (chat_.draining())
        return call.reply(bhttp::status::service_unavailable,
                          boost::json::object{{"ok", false},
                                              {"error", chat::toString(ErrorCode::Internal)},
                                              {"message", "The server is restarting: send again"},
                                              {"correlationId", chat::newCorrelationId()}});
    auto body = parseBody(req);
    chat_.sendMessage(here(threads_), userId, objectOrNull(body), std::string_view(p[0]),
                      [call](std::optional<chat::Failure> failure, chat::SendOutcome out) {
                          if (failure && failure->code == ErrorCode::RateLimited)
                              return call.rateLimited(failure->message, failure->retryAfterMs);
                          if (failure) return call.fail(failure->code, failure->message, failure->cause);
                          call.ok(boost::json::object{{"clientId", out.message.clientId}, {"serverId", out.message.id}},
                                  out.created ? bhttp::status::created : bhttp::status::ok);
                      });
}

void RestApi::listReadCursors(const RestCall& call, const std::string& userId, const net::Request&,
                              const PathParams& p) {
    chat_.readCursors(here(threads_), userId, p[0], [call](chat::Outcome<std::vector<store::ReadCursor>> cursors) {
        if (!cursors) return call.fail(cursors.error().code, cursors.error().message, cursors.error().cause);
        boost::json::array out;
        for (const auto& rc : *cursors)
            out.push_back(boost::json::object{
                {"userId", rc.userId}, {"messageId", rc.messageId}, {"readAt", core::isoTime(rc.readAt)}});
        call.ok(std::move(out));
    });
}

} // namespace parley::http
