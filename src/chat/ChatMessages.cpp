// message:send (socket and REST), history pages and read cursors.

#include "chat/ChatService.hpp"

#include "chat/StoreFailure.hpp"
#include "core/ObjectId.hpp"
#include "core/Time.hpp"

#include <boost/asio/post.hpp>
#include <boost/json/array.hpp>

#include <functional>

namespace parley::chat {

namespace {

constexpr std::string_view kRateLimitMessage = "Maximum 10 messages per 10 seconds";

} // namespace

void ChatService::sendMessage(boost::asio::io_context& ctx, const std::string& userId,
                              const boost::json::object* payload, std::optional<std::string_view> chatIdOverride,
                              std::function<void(std::optional<Failure>, SendOutcome)> done) {
    // Everything is validated before the store sees anything.
    auto request = parseSendRequest(payload, chatIdOverride);
    if (!request) return done(request.error(), {});
    // Until the answer below (storeMessage, answerRateLimited): a drain waits for it.
    sendsInFlight_.fetch_add(1);
    store::NewMessage m;
    m.chatId = std::move(request->chatId);
    m.senderId = userId;
    m.body = std::move(request->body);
    m.clientId = std::move(request->clientId);
    // The store takes the id and the stored time itself, in commit order; this time is the
    // rate limiter's.
    m.createdAt = core::nowMs();
    if (auto now = limit_.tryAcquire(m.senderId, m.createdAt))
        return admitted(ctx, std::move(m), *now, std::move(done));
    // The answer comes later (a limit shared by the cluster): it runs on ctx.
    const std::string sender = m.senderId;
    const std::int64_t at = m.createdAt;
    limit_.acquire(ctx, sender, at, [this, &ctx, m = std::move(m), done = std::move(done)](Admission a) mutable {
        admitted(ctx, std::move(m), a, std::move(done));
    });
}

void ChatService::admitted(boost::asio::io_context& ctx, store::NewMessage m, const Admission& admission,
                           std::function<void(std::optional<Failure>, SendOutcome)> done) {
    if (!admission.admitted) return answerRateLimited(ctx, std::move(m), admission.retryAfterMs, std::move(done));
    storeMessage(ctx, std::move(m), admission, std::move(done));
}

// The slot taken for the message is given back unless a new message was stored: a retry is
// answered whatever the limiter says and is not counted, and a refused send counts nothing.
//
// Order: the store completes a chat's appends in commit order, and all of them on one io thread
// (the chat's, by its id), which broadcasts each in that order and then hands the answer back
// to the sender's thread. Were they completed on the senders' threads, two messages of a chat
// from senders on two threads could reach a member in the other order, and a member that left
// between them would not have the earlier one replayed (its offset already past it).
void ChatService::storeMessage(boost::asio::io_context& ctx, store::NewMessage m, const Admission& admission,
                               std::function<void(std::optional<Failure>, SendOutcome)> done) {
    std::string sender = m.senderId;
    boost::asio::io_context& chatCtx = threads_.context(std::hash<std::string>{}(m.chatId) % threads_.size());
    // On the sender's thread: the answer, then the drain's count.
    auto answer = [this, &ctx, &chatCtx, done = std::move(done)](std::optional<Failure> failure,
                                                                 SendOutcome out) mutable {
        auto finish = [this, done = std::move(done), failure = std::move(failure), out = std::move(out)]() mutable {
            done(std::move(failure), std::move(out));
            sendsInFlight_.fetch_sub(1);
        };
        if (&ctx == &chatCtx) return finish();
        boost::asio::post(ctx, std::move(finish));
    };
    store_.appendMessage(chatCtx, std::move(m),
                         [this, sender = std::move(sender), admission,
                          answer = std::move(answer)](store::Result<store::Appended> appended) mutable {
                             if (!appended || !appended->created) limit_.refund(sender, admission);
                             if (!appended) {
                                 auto failure = storeFailure(appended.error());
                                 if (failure.code == ErrorCode::Internal)
                                     failure.message = "Could not store the message";
                                 return answer(std::move(failure), {});
                             }
                             SendOutcome out{appended->created, std::move(appended->message)};
                             if (out.created) {
                                 if (metrics_) metrics_->messagesStored.fetch_add(1, std::memory_order_relaxed);
                                 boost::json::array args{messageJson(out.message)};
                                 // With recovery on, the message's offset is its last argument (Recovery.hpp).
                                 if (recovery_) args.emplace_back(offsetOf(out.message));
                                 // In the chat's event order on every node of a cluster (Chat::eventSeq).
                                 nsp_.to("chat:" + out.message.chatId)
                                     .inOrder(out.message.chatId, appended->eventSeq)
                                     .emit("message:new", args);
                             }
                             answer(std::nullopt, std::move(out));
                         });
}

void ChatService::answerRateLimited(boost::asio::io_context& ctx, store::NewMessage m, std::int64_t retryAfterMs,
                                    std::function<void(std::optional<Failure>, SendOutcome)> done) {
    store_.findByClientId(
        ctx, m.chatId, m.senderId, m.clientId,
        [this, retryAfterMs, done = std::move(done)](store::Result<store::Message> first) {
            if (first)
                done(std::nullopt, SendOutcome{false, std::move(*first)});
            else if (first.error() == store::Errc::NotFound)
                done(Failure{ErrorCode::RateLimited, std::string(kRateLimitMessage), {}, retryAfterMs}, {});
            else
                done(storeFailure(first.error()), {});
            sendsInFlight_.fetch_sub(1);
        });
}

void ChatService::history(boost::asio::io_context& ctx, std::string userId, std::string chatId,
                          const HistoryQuery& query, Reply<store::MessagePage> done) {
    if (!core::ObjectId::isValid(chatId))
        return done(Failure{ErrorCode::ValidationError, "chatId must be a 24-character hex ObjectId"});
    store_.history(ctx, std::move(chatId), std::move(userId),
                   store::HistoryQuery{query.before, query.after, query.limit},
                   [done = std::move(done)](store::Result<store::MessagePage> page) {
                       if (!page) return done(storeFailure(page.error(), "No such message in this chat"));
                       done(std::move(*page));
                   });
}

void ChatService::readCursors(boost::asio::io_context& ctx, std::string userId, std::string chatId,
                              Reply<std::vector<store::ReadCursor>> done) {
    if (!core::ObjectId::isValid(chatId))
        return done(Failure{ErrorCode::ValidationError, "chatId must be a 24-character hex ObjectId"});
    store_.readCursors(ctx, std::move(chatId), std::move(userId),
                       [done = std::move(done)](store::Result<std::vector<store::ReadCursor>> cursors) {
                           if (!cursors) return done(storeFailure(cursors.error()));
                           done(std::move(*cursors));
                       });
}

} // namespace parley::chat
