#include "store/RecoveryRooms.hpp"
#include "store/postgres/PgAnswer.hpp"
#include "store/postgres/PgChatStore.hpp"
#include "store/postgres/PgPool.hpp"

#include <algorithm>
#include <limits>
#include <string>
#include <utility>

// Connection state recovery: the records of recoverable sockets and the replay read.
//
// The writes of one record (save, end, claim) run one at a time and in the order they were
// made (submitChatChange, keyed by the pid): a socket's join and leave, or a replaced socket's
// end and its successor's claim, are never reordered by the pool's connections.

namespace parley::store {

namespace {

std::string recordKey(const std::string& pid) { return "recovery:" + pid; }

Result<RecoveryRecord> recordFrom(const PgRows& rows) {
    if (rows.size() == 0) return failedWith<RecoveryRecord>(Errc::NotFound);
    auto rooms = decodeRecoveryRooms(rows.view(0, 4));
    if (!rooms) return failedWith<RecoveryRecord>(Errc::Internal);
    RecoveryRecord record{rows.text(0, 0),   rows.text(0, 1),    rows.text(0, 2),    rows.text(0, 3),
                          std::move(*rooms), rows.integer(0, 5), rows.integer(0, 6), std::nullopt};
    if (!rows.isNull(0, 7)) record.disconnectedAt = rows.integer(0, 7);
    return record;
}

Result<Replay> replayFrom(const PgReply& reply, std::int64_t fetch) {
    Replay out;
    const PgRows chats = reply.rows(0);
    for (int row = 0; row < chats.size(); ++row) out.memberChats.push_back(chats.text(row, 0));
    const PgRows messages = reply.rows(1);
    if (messages.size() == fetch) {
        out.truncated = true;
    } else {
        out.messages.reserve(static_cast<std::size_t>(messages.size()));
        for (int row = 0; row < messages.size(); ++row) out.messages.push_back(messageFrom(messages, row));
    }
    const PgRows changed = reply.rows(2);
    for (int row = 0; row < changed.size(); ++row) out.chats.push_back(chatFrom(changed, row));
    const PgRows cursors = reply.rows(3);
    for (int row = 0; row < cursors.size(); ++row)
        out.cursors.push_back(
            ChatReadCursor{cursors.text(row, 0), ReadCursor{cursors.text(row, 1), cursors.text(row, 2),
                                                            cursors.integer(row, 3), cursors.integer(row, 4)}});
    return out;
}

} // namespace

void PgChatStore::saveRecovery(boost::asio::io_context& ctx, RecoveryRecord record, Done<void> done) {
    auto job = newJob(true);
    std::string key = recordKey(record.pid);
    job->add(PgSql::SaveRecovery, {job->param(std::move(record.pid)), job->param(std::move(record.userId)),
                                   job->param(std::move(record.sid)), job->param(std::move(record.owner)),
                                   job->param(encodeRecoveryRooms(record.rooms)), job->param(record.createdAt),
                                   job->param(record.updatedAt)});
    job->finish = answer<void>(ctx, std::move(done), "saveRecovery", [](PgReply&) { return Result<void>(); });
    submitChatChange(std::move(key), std::move(job));
}

void PgChatStore::endRecovery(boost::asio::io_context& ctx, std::string pid, std::string owner, std::int64_t at,
                              Done<void> done) {
    auto job = newJob(true);
    std::string key = recordKey(pid);
    job->add(PgSql::EndRecovery, {job->param(std::move(pid)), job->param(std::move(owner)), job->param(at)});
    job->finish = answer<void>(ctx, std::move(done), "endRecovery", [](PgReply&) { return Result<void>(); });
    submitChatChange(std::move(key), std::move(job));
}

void PgChatStore::deleteRecovery(boost::asio::io_context& ctx, std::string pid, Done<void> done) {
    auto job = newJob(true);
    std::string key = recordKey(pid);
    job->add(PgSql::DeleteRecovery, {job->param(std::move(pid))});
    job->finish = answer<void>(ctx, std::move(done), "deleteRecovery", [](PgReply&) { return Result<void>(); });
    submitChatChange(std::move(key), std::move(job));
}

void PgChatStore::claimRecovery(boost::asio::io_context& ctx, std::string pid, std::string userId, std::string owner,
                                std::int64_t at, std::int64_t notBefore, Done<RecoveryRecord> done) {
    auto job = newJob(true);
    std::string key = recordKey(pid);
    job->add(PgSql::ClaimRecovery, {job->param(std::move(pid)), job->param(std::move(userId)),
                                    job->param(std::move(owner)), job->param(at), job->param(notBefore)});
    job->finish = answer<RecoveryRecord>(ctx, std::move(done), "claimRecovery",
                                         [](PgReply& reply) { return recordFrom(reply.rows(0)); });
    submitChatChange(std::move(key), std::move(job));
}

void PgChatStore::pruneRecovery(boost::asio::io_context& ctx, std::int64_t notBefore, Done<std::int64_t> done) {
    auto job = newJob(true);
    job->add(PgSql::PruneRecovery, {job->param(notBefore)});
    job->finish = answer<std::int64_t>(ctx, std::move(done), "pruneRecovery",
                                       [](PgReply& reply) { return Result<std::int64_t>(reply.rows(0).affected()); });
    submit(std::move(job));
}

// The four reads in one pipeline: one round trip.
void PgChatStore::replay(boost::asio::io_context& ctx, ReplayRequest request, Done<Replay> done) {
    auto job = newJob(false);
    const std::int64_t fetch = std::int64_t{std::max(request.limit, 0)} + 1;
    const auto rooms = job->param(encodeRecoveryRooms(request.rooms));
    const auto user = job->param(std::move(request.userId));
    const auto afterAt =
        job->param(request.after ? request.after->createdAt : std::numeric_limits<std::int64_t>::min());
    const auto afterId = job->param(request.after ? std::move(request.after->id) : std::string());
    const auto since = job->param(request.since);
    job->add(PgSql::ReplayMemberChats, {rooms, user});
    job->add(PgSql::ReplayMessages, {rooms, user, afterAt, afterId, job->param(fetch)});
    job->add(PgSql::ReplayChats, {user, since});
    job->add(PgSql::ReplayCursors, {rooms, user, since});
    job->finish =
        answer<Replay>(ctx, std::move(done), "replay", [fetch](PgReply& reply) { return replayFrom(reply, fetch); });
    submit(std::move(job));
}

} // namespace parley::store
