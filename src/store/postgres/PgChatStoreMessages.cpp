#include "store/postgres/PgAnswer.hpp"
#include "store/postgres/PgChatStore.hpp"
#include "store/postgres/PgPool.hpp"

#include "core/ObjectId.hpp"
#include "core/Time.hpp"

#include <algorithm>
#include <functional>
#include <utility>

// Messages, read cursors and ping.

namespace parley::store {

namespace {

// The values of an AppendMessage job, by index.
constexpr std::uint8_t kId = 0;
constexpr std::uint8_t kChat = 1;
constexpr std::uint8_t kSender = 2;
constexpr std::uint8_t kBody = 3;
constexpr std::uint8_t kClient = 4;
constexpr std::uint8_t kCreatedAt = 5;

// A chat's order key: the same in every process (it names the chat's lock in the database,
// PgPool), so FNV-1a rather than std::hash, whose values are the library's to choose.
std::size_t orderKeyOf(std::string_view chatId) {
    std::uint64_t hash = 14695981039346656037ULL;
    for (const char c : chatId) {
        hash ^= static_cast<unsigned char>(c);
        hash *= 1099511628211ULL;
    }
    return static_cast<std::size_t>(hash);
}

Result<MessagePage> pageFrom(const PgReply& reply, std::int64_t fetch, bool newestFirst) {
    const PgRows check = reply.rows(0);
    if (!check.boolean(0, 0)) return failedWith<MessagePage>(Errc::Forbidden);
    // A cursor of another chat and an unknown one are the same answer: nothing leaks.
    if (!check.boolean(0, 1) || !check.boolean(0, 2)) return failedWith<MessagePage>(Errc::NotFound);
    const PgRows rows = reply.rows(1);
    MessagePage page;
    page.messages.reserve(static_cast<std::size_t>(rows.size()));
    for (int row = 0; row < rows.size(); ++row) page.messages.push_back(messageFrom(rows, row));
    // Each page query asks for one row more than the page: its presence is hasMore. It is the
    // farthest in the paging direction, so the last read.
    if (static_cast<std::int64_t>(page.messages.size()) == fetch) {
        page.hasMore = true;
        page.messages.pop_back();
    }
    if (newestFirst) std::reverse(page.messages.begin(), page.messages.end());
    return page;
}

} // namespace

// The id and time proposed by the caller are not used: submitAppend proposes them in this
// process's commit order, and the statement moves the time on past the chat's last message.
// The statement never fails for a reason of its own (a non-member or a retry is an answer, not
// an error), so appends can share a transaction.
void PgChatStore::appendMessage(boost::asio::io_context& ctx, NewMessage message, Done<Appended> done) {
    auto job = newJob(true);
    const std::size_t chatHash = orderKeyOf(message.chatId);
    job->param(std::string());
    job->param(std::move(message.chatId));
    job->param(std::move(message.senderId));
    job->param(std::move(message.body));
    job->param(std::move(message.clientId));
    job->param(std::int64_t{0});
    job->add(PgSql::AppendMessage, {kId, kChat, kSender, kBody, kClient, kCreatedAt});
    job->finish = [this, &ctx, done = std::move(done)](PgJob& self, PgReply& reply) mutable {
        if (!reply.ok()) return deliver<Appended>(ctx, done, failedWith<Appended>(reply.logged("appendMessage")));
        const PgRows rows = reply.rows(0);
        if (rows.size() > 0) {
            if (!rows.boolean(0, 0)) return deliver<Appended>(ctx, done, failedWith<Appended>(Errc::Forbidden));
            return deliver<Appended>(ctx, done,
                                     Appended{rows.boolean(0, 1), messageFrom(rows, 0, 2), rows.integer(0, 8)});
        }
        // The same retry was committed by another transaction during this one: read its copy.
        findByClientId(ctx, std::move(*self.params[kChat]), std::move(*self.params[kSender]),
                       std::move(*self.params[kClient]), [&ctx, done = std::move(done)](Result<Message> first) mutable {
                           if (first) return deliver<Appended>(ctx, done, Appended{false, std::move(*first)});
                           deliver<Appended>(ctx, done,
                                             failedWith<Appended>(first.error() == Errc::NotFound ? Errc::Internal
                                                                                                  : Errc::Unavailable));
                       });
    };
    submitAppend(chatHash, std::move(job));
}

void PgChatStore::submitAppend(std::size_t chatHash, std::unique_ptr<PgJob> job) {
    boost::asio::post(ioc_, [this, chatHash, job = std::move(job)]() mutable {
        // Queued in the pool right after this, so the order of the times and ids taken
        // here is the order of a chat's commits. The clock never goes back here, and an id that
        // does not sort after the last one (the clock stepped back, the counter wrapped) moves
        // the time on by 1 ms.
        std::string id = core::ObjectId::generate();
        std::int64_t at = std::max(core::nowMs(), lastCreatedAt_);
        if (at == lastCreatedAt_ && id <= lastId_) ++at;
        lastCreatedAt_ = at;
        lastId_.assign(id);
        job->params[kId] = std::move(id);
        job->params[kCreatedAt] = std::to_string(at);
        pool_->submitOrdered(chatHash, std::move(job));
    });
}

void PgChatStore::findByClientId(boost::asio::io_context& ctx, std::string chatId, std::string senderId,
                                 std::string clientId, Done<Message> done) {
    auto job = newJob(false);
    job->add(PgSql::FindByClientId,
             {job->param(std::move(chatId)), job->param(std::move(senderId)), job->param(std::move(clientId))});
    job->finish = answer<Message>(ctx, std::move(done), "findByClientId", [](PgReply& reply) -> Result<Message> {
        const PgRows rows = reply.rows(0);
        if (rows.size() == 0) return failedWith<Message>(Errc::NotFound);
        return messageFrom(rows, 0);
    });
    submit(std::move(job));
}

// The checks (membership, cursors) and the page in one pipeline: one round trip.
void PgChatStore::history(boost::asio::io_context& ctx, std::string chatId, std::string userId, HistoryQuery query,
                          Done<MessagePage> done) {
    auto job = newJob(false);
    const std::int64_t fetch = std::int64_t{std::max(query.limit, 0)} + 1;
    const bool hasBefore = query.before.has_value();
    const bool hasAfter = query.after.has_value();
    const auto chat = job->param(std::move(chatId));
    const auto before = job->param(std::move(query.before));
    const auto after = job->param(std::move(query.after));
    const auto rows = job->param(fetch);
    job->add(PgSql::HistoryCheck, {chat, job->param(std::move(userId)), before, after});
    if (hasBefore && hasAfter)
        job->add(PgSql::HistoryBetween, {chat, after, before, rows});
    else if (hasBefore)
        job->add(PgSql::HistoryBefore, {chat, before, rows});
    else if (hasAfter)
        job->add(PgSql::HistoryAfter, {chat, after, rows});
    else
        job->add(PgSql::HistoryNewest, {chat, rows});
    // Backward pages (before, or the newest) are read newest first.
    job->finish = answer<MessagePage>(ctx, std::move(done), "history",
                                      [fetch, hasAfter](PgReply& reply) { return pageFrom(reply, fetch, !hasAfter); });
    submit(std::move(job));
}

// The move and the cursor as committed, in one pipeline: the second statement sees a move that
// another transaction committed while the first waited for the row.
void PgChatStore::markRead(boost::asio::io_context& ctx, std::string chatId, std::string userId, std::string messageId,
                           std::int64_t at, Done<ReadMark> done) {
    auto job = newJob(true);
    const auto chat = job->param(std::move(chatId));
    const auto user = job->param(std::move(userId));
    job->add(PgSql::MarkRead, {chat, user, job->param(std::move(messageId)), job->param(at)});
    job->add(PgSql::ReadCursorOf, {chat, user});
    job->finish = answer<ReadMark>(ctx, std::move(done), "markRead", [](PgReply& reply) -> Result<ReadMark> {
        const PgRows state = reply.rows(0);
        if (!state.boolean(0, 0)) return failedWith<ReadMark>(Errc::Forbidden);
        if (!state.boolean(0, 1)) return failedWith<ReadMark>(Errc::NotFound);
        const PgRows cursor = reply.rows(1);
        if (cursor.size() == 0 || cursor.isNull(0, 1)) return failedWith<ReadMark>(Errc::Forbidden); // removed since
        return ReadMark{state.boolean(0, 2), cursorFrom(cursor, 0)};
    });
    submit(std::move(job));
}

void PgChatStore::readCursors(boost::asio::io_context& ctx, std::string chatId, std::string userId,
                              Done<std::vector<ReadCursor>> done) {
    auto job = newJob(false);
    const auto chat = job->param(std::move(chatId));
    job->add(PgSql::IsMember, {chat, job->param(std::move(userId))});
    job->add(PgSql::ReadCursors, {chat});
    job->finish = answer<std::vector<ReadCursor>>(ctx, std::move(done), "readCursors",
                                                  [](PgReply& reply) -> Result<std::vector<ReadCursor>> {
                                                      if (!reply.rows(0).boolean(0, 0))
                                                          return failedWith<std::vector<ReadCursor>>(Errc::Forbidden);
                                                      const PgRows rows = reply.rows(1);
                                                      std::vector<ReadCursor> cursors;
                                                      cursors.reserve(static_cast<std::size_t>(rows.size()));
                                                      for (int row = 0; row < rows.size(); ++row)
                                                          cursors.push_back(cursorFrom(rows, row));
                                                      return cursors;
                                                  });
    submit(std::move(job));
}

void PgChatStore::ping(boost::asio::io_context& ctx, Done<void> done) {
    auto job = newJob(false);
    job->add(PgSql::Ping, {});
    job->finish = answer<void>(ctx, std::move(done), "ping", [](PgReply&) { return Result<void>(); });
    submit(std::move(job));
}

// After the writes posted to the store thread before it (a chat change waiting for an earlier
// one is submitted by that one's finish, so it is counted before the earlier one is done).
void PgChatStore::settle(boost::asio::io_context& ctx, Done<void> done) {
    boost::asio::post(ioc_, [this, &ctx, done = std::move(done)]() mutable {
        pool_->whenWritesDone([&ctx, done = std::move(done)]() mutable { deliver<void>(ctx, done, Result<void>()); });
    });
}

} // namespace parley::store
