#include "store/postgres/PgChatStore.hpp"

#include "store/Deliver.hpp"
#include "store/Email.hpp"
#include "store/postgres/PgAnswer.hpp"
#include "store/postgres/PgMigrations.hpp"
#include "store/postgres/PgPool.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <map>
#include <stdexcept>
#include <thread>
#include <unordered_set>
#include <utility>

// Construction, users, sessions, chats and memberships. Messages, read cursors and ping are in
// PgChatStoreMessages.cpp.

namespace parley::store {

namespace {

constexpr std::chrono::milliseconds kStartTimeout{10000};

// A member listed twice is one member, in its first place.
std::vector<std::string> withoutRepeats(const std::vector<std::string>& ids) {
    std::vector<std::string> out;
    out.reserve(ids.size());
    std::unordered_set<std::string_view> seen;
    for (const auto& id : ids)
        if (seen.insert(id).second) out.push_back(id);
    return out;
}

// The answer of AddMember / RemoveMember (after LockChat, before ChatById): the checks in the
// order SqliteChatStore makes them. Columns: actor_in, is_group, user_in, then for AddMember
// has_room, added; for RemoveMember removed.
Result<MemberChange> memberChange(const PgReply& reply, bool adding) {
    const PgRows state = reply.rows(1);
    const PgRows chat = reply.rows(2);
    if (state.size() == 0 || !state.boolean(0, 0) || chat.size() == 0) return failedWith<MemberChange>(Errc::Forbidden);
    const bool isGroup = state.boolean(0, 1);
    const bool userIn = state.boolean(0, 2);
    if (adding) {
        if (!isGroup) return failedWith<MemberChange>(Errc::NotAGroup);
        if (userIn) return MemberChange{chatFrom(chat, 0), false};
        if (!state.boolean(0, 3)) return failedWith<MemberChange>(Errc::ChatFull);
        return MemberChange{chatFrom(chat, 0), state.boolean(0, 4)};
    }
    if (!userIn) return failedWith<MemberChange>(Errc::NotFound);
    if (!isGroup) return failedWith<MemberChange>(Errc::NotAGroup);
    return MemberChange{chatFrom(chat, 0), state.boolean(0, 3)};
}

} // namespace

PgChatStore::PgChatStore(Options options) : options_(std::move(options)), work_(ioc_.get_executor()) {
    if (options_.uri.empty()) throw std::invalid_argument("postgres: no connection URI");
    PgPoolOptions pool;
    pool.uri = options_.uri;
    pool.size = options_.poolSize;
    pool.pipelineDepth = options_.pipelineDepth;
    pool.maxBatch = options_.maxBatch;
    pool.pacing = options_.pacing;
    pool.connectTimeout = options_.connectTimeout;
    pool.retryMax = options_.retryMax;
    pool.metrics = options_.metrics;
    pool_ = std::make_unique<PgPool>(ioc_, std::move(pool));
    boost::asio::post(ioc_, [this] { pool_->start(); });
    thread_ = std::thread([this] { ioc_.run(); });
}

PgChatStore::~PgChatStore() {
    boost::asio::post(ioc_, [this] { pool_->stop(); });
    work_.reset();
    thread_.join();
    pool_.reset();
}

bool PgChatStore::waitReady(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        // The answers come to waitAnswers_, which lives as long as the store: the store thread
        // may still be inside its post() when this thread has run the answer and moved on.
        waitAnswers_.restart();
        auto pending = boost::asio::make_work_guard(waitAnswers_); // until the answer is posted
        bool answered = false;
        ping(waitAnswers_, [&answered, &pending](Result<void> result) {
            answered = result.has_value();
            pending.reset();
        });
        waitAnswers_.run();
        if (answered) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

std::unique_ptr<PgJob> PgChatStore::newJob(bool write) const {
    auto job = std::make_unique<PgJob>();
    job->queuedAt = std::chrono::steady_clock::now();
    job->deadline = job->queuedAt + options_.operationTimeout;
    job->write = write;
    return job;
}

void PgChatStore::submit(std::unique_ptr<PgJob> job) {
    boost::asio::post(ioc_, [this, job = std::move(job)]() mutable { pool_->submit(std::move(job)); });
}

void PgChatStore::submitChatChange(std::string chatId, std::unique_ptr<PgJob> job) {
    boost::asio::post(ioc_, [this, chatId = std::move(chatId), job = std::move(job)]() mutable {
        auto [it, idle] = chatChanges_.try_emplace(chatId);
        if (!idle) return it->second.push_back(std::move(job));
        startChatChange(chatId, std::move(job));
    });
}

// The pool runs every job's finish exactly once, failed or not: the next change starts from it.
void PgChatStore::startChatChange(const std::string& chatId, std::unique_ptr<PgJob> job) {
    job->finish = [this, chatId, finish = std::move(job->finish)](PgJob& done, PgReply& reply) {
        finish(done, reply);
        auto it = chatChanges_.find(chatId);
        if (it == chatChanges_.end()) return;
        if (it->second.empty()) return void(chatChanges_.erase(it));
        auto next = std::move(it->second.front());
        it->second.pop_front();
        startChatChange(chatId, std::move(next));
    };
    pool_->submit(std::move(job));
}

// =============================================================================================
// Users and sessions
// =============================================================================================

void PgChatStore::createUser(boost::asio::io_context& ctx, User user, Done<void> done) {
    auto job = newJob(true);
    job->add(PgSql::InsertUser, {job->param(std::move(user.id)), job->param(storedEmail(user.email)),
                                 job->param(std::move(user.displayName)), job->param(std::move(user.passwordHash)),
                                 job->param(user.createdAt)});
    job->finish = answer<void>(
        ctx, std::move(done), "createUser", [](PgReply&) { return Result<void>(); }, "users_email_key");
    submit(std::move(job));
}

void PgChatStore::findUser(boost::asio::io_context& ctx, std::string id, Done<User> done) {
    auto job = newJob(false);
    job->add(PgSql::FindUser, {job->param(std::move(id))});
    job->finish = answer<User>(ctx, std::move(done), "findUser", [](PgReply& reply) -> Result<User> {
        const PgRows rows = reply.rows(0);
        if (rows.size() == 0) return failedWith<User>(Errc::NotFound);
        return userFrom(rows, 0);
    });
    submit(std::move(job));
}

void PgChatStore::findUserByEmail(boost::asio::io_context& ctx, std::string email, Done<User> done) {
    auto job = newJob(false);
    job->add(PgSql::FindUserByEmail, {job->param(storedEmail(email))});
    job->finish = answer<User>(ctx, std::move(done), "findUserByEmail", [](PgReply& reply) -> Result<User> {
        const PgRows rows = reply.rows(0);
        if (rows.size() == 0) return failedWith<User>(Errc::NotFound);
        return userFrom(rows, 0);
    });
    submit(std::move(job));
}

void PgChatStore::createSession(boost::asio::io_context& ctx, SessionRow session, Done<void> done) {
    auto job = newJob(true);
    job->add(PgSql::InsertSession, {job->param(std::move(session.tokenHash)), job->param(std::move(session.userId)),
                                    job->param(session.createdAt), job->param(session.expiresAt)});
    job->finish = answer<void>(ctx, std::move(done), "createSession", [](PgReply&) { return Result<void>(); });
    submit(std::move(job));
}

void PgChatStore::findSession(boost::asio::io_context& ctx, std::string tokenHash, Done<SessionRow> done) {
    auto job = newJob(false);
    job->add(PgSql::FindSession, {job->param(std::move(tokenHash))});
    job->finish = answer<SessionRow>(ctx, std::move(done), "findSession", [](PgReply& reply) -> Result<SessionRow> {
        const PgRows rows = reply.rows(0);
        if (rows.size() == 0) return failedWith<SessionRow>(Errc::NotFound);
        return sessionFrom(rows, 0);
    });
    submit(std::move(job));
}

void PgChatStore::deleteSession(boost::asio::io_context& ctx, std::string tokenHash, Done<void> done) {
    auto job = newJob(true);
    job->add(PgSql::DeleteSession, {job->param(std::move(tokenHash))});
    job->finish = answer<void>(ctx, std::move(done), "deleteSession", [](PgReply& reply) -> Result<void> {
        if (reply.rows(0).affected() == 0) return failedWith<void>(Errc::NotFound);
        return {};
    });
    submit(std::move(job));
}

void PgChatStore::touchLastSeen(boost::asio::io_context& ctx, std::vector<LastSeen> seen, Done<void> done) {
    // One row per user (an upsert may not touch a row twice), in user order: two nodes' lists
    // lock the rows they share in the same order, so they cannot deadlock.
    std::map<std::string, std::int64_t> latest;
    for (auto& s : seen) {
        auto [it, added] = latest.try_emplace(std::move(s.userId), s.at);
        if (!added) it->second = std::max(it->second, s.at);
    }
    if (latest.empty()) {
        deliver(ctx, done, Result<void>());
        return;
    }
    std::vector<std::string> users;
    std::string times = "{";
    users.reserve(latest.size());
    for (auto& [user, at] : latest) {
        if (times.size() > 1) times += ',';
        times += std::to_string(at);
        users.push_back(user);
    }
    times += '}';
    auto job = newJob(true);
    job->add(PgSql::TouchLastSeen, {job->param(pgTextArray(users)), job->param(std::move(times))});
    job->finish = answer<void>(ctx, std::move(done), "touchLastSeen", [](PgReply&) { return Result<void>(); });
    submit(std::move(job));
}

// =============================================================================================
// Chats and memberships
// =============================================================================================

void PgChatStore::createChat(boost::asio::io_context& ctx, Chat chat, Done<Chat> done) {
    chat.memberIds = withoutRepeats(chat.memberIds);
    auto job = newJob(true);
    job->add(PgSql::InsertChat,
             {job->param(chat.id), job->param(chat.type), job->param(chat.title), job->param(chat.createdBy),
              job->param(chat.createdAt), job->param(chat.updatedAt), job->param(pgTextArray(chat.memberIds))});
    // As committed: the statement stores exactly this, as the chat's first event.
    chat.eventSeq = 1;
    job->finish = answer<Chat>(ctx, std::move(done), "createChat",
                               [chat = std::move(chat)](PgReply&) mutable -> Result<Chat> { return std::move(chat); });
    submit(std::move(job));
}

void PgChatStore::chatForMember(boost::asio::io_context& ctx, std::string chatId, std::string userId, Done<Chat> done) {
    auto job = newJob(false);
    job->add(PgSql::ChatForMember, {job->param(std::move(chatId)), job->param(std::move(userId))});
    job->finish = answer<Chat>(ctx, std::move(done), "chatForMember", [](PgReply& reply) -> Result<Chat> {
        const PgRows rows = reply.rows(0);
        if (rows.size() == 0) return failedWith<Chat>(Errc::Forbidden);
        return chatFrom(rows, 0);
    });
    submit(std::move(job));
}

void PgChatStore::listChats(boost::asio::io_context& ctx, std::string userId, Done<std::vector<ChatSummary>> done) {
    auto job = newJob(false);
    job->add(PgSql::ListChats, {job->param(std::move(userId))});
    job->finish = answer<std::vector<ChatSummary>>(ctx, std::move(done), "listChats", [](PgReply& reply) {
        const PgRows rows = reply.rows(0);
        std::vector<ChatSummary> chats;
        chats.reserve(static_cast<std::size_t>(rows.size()));
        for (int row = 0; row < rows.size(); ++row) {
            ChatSummary summary{chatFrom(rows, row), rows.integer(row, 8), std::nullopt};
            if (!rows.isNull(row, 9))
                summary.lastMessage = Message{rows.text(row, 9),  summary.chat.id,    rows.text(row, 10),
                                              rows.text(row, 11), rows.text(row, 12), rows.integer(row, 13)};
            chats.push_back(std::move(summary));
        }
        return Result<std::vector<ChatSummary>>(std::move(chats));
    });
    submit(std::move(job));
}

// Lock, change, read back: one pipeline, one transaction, so the chat answered is the chat as
// committed, with any change another caller committed first.
void PgChatStore::renameChat(boost::asio::io_context& ctx, std::string chatId, std::string actorId,
                             std::optional<std::string> title, std::int64_t at, Done<Chat> done) {
    auto job = newJob(true);
    const auto chat = job->param(std::move(chatId));
    job->add(PgSql::LockChat, {chat});
    job->add(PgSql::RenameChat, {chat, job->param(std::move(actorId)), job->param(std::move(title)), job->param(at)});
    job->add(PgSql::ChatById, {chat});
    job->finish = answer<Chat>(ctx, std::move(done), "renameChat", [](PgReply& reply) -> Result<Chat> {
        if (reply.rows(1).affected() == 0 || reply.rows(2).size() == 0) return failedWith<Chat>(Errc::Forbidden);
        return chatFrom(reply.rows(2), 0);
    });
    std::string chatKey = job->params[chat].value_or("");
    submitChatChange(std::move(chatKey), std::move(job));
}

void PgChatStore::addMember(boost::asio::io_context& ctx, std::string chatId, std::string actorId, std::string userId,
                            std::int64_t at, std::size_t maxMembers, Done<MemberChange> done) {
    auto job = newJob(true);
    const auto chat = job->param(std::move(chatId));
    job->add(PgSql::LockChat, {chat});
    job->add(PgSql::AddMember, {chat, job->param(std::move(actorId)), job->param(std::move(userId)), job->param(at),
                                job->param(static_cast<std::int64_t>(maxMembers))});
    job->add(PgSql::ChatById, {chat});
    job->finish = answer<MemberChange>(ctx, std::move(done), "addMember",
                                       [](PgReply& reply) { return memberChange(reply, true); });
    std::string chatKey = job->params[chat].value_or("");
    submitChatChange(std::move(chatKey), std::move(job));
}

void PgChatStore::removeMember(boost::asio::io_context& ctx, std::string chatId, std::string actorId,
                               std::string userId, std::int64_t at, Done<MemberChange> done) {
    auto job = newJob(true);
    const auto chat = job->param(std::move(chatId));
    job->add(PgSql::LockChat, {chat});
    job->add(PgSql::RemoveMember,
             {chat, job->param(std::move(actorId)), job->param(std::move(userId)), job->param(at)});
    job->add(PgSql::ChatById, {chat});
    job->finish = answer<MemberChange>(ctx, std::move(done), "removeMember",
                                       [](PgReply& reply) { return memberChange(reply, false); });
    std::string chatKey = job->params[chat].value_or("");
    submitChatChange(std::move(chatKey), std::move(job));
}

void PgChatStore::isMember(boost::asio::io_context& ctx, std::string chatId, std::string userId, Done<bool> done) {
    auto job = newJob(false);
    job->add(PgSql::IsMember, {job->param(std::move(chatId)), job->param(std::move(userId))});
    job->finish = answer<bool>(ctx, std::move(done), "isMember",
                               [](PgReply& reply) { return Result<bool>(reply.rows(0).boolean(0, 0)); });
    submit(std::move(job));
}

void PgChatStore::chatIdsOf(boost::asio::io_context& ctx, std::string userId, Done<std::vector<std::string>> done) {
    auto job = newJob(false);
    job->add(PgSql::ChatIdsOf, {job->param(std::move(userId))});
    job->finish = answer<std::vector<std::string>>(ctx, std::move(done), "chatIdsOf", [](PgReply& reply) {
        const PgRows rows = reply.rows(0);
        std::vector<std::string> contacts;
        contacts.reserve(static_cast<std::size_t>(rows.size()));
        for (int row = 0; row < rows.size(); ++row) contacts.push_back(rows.text(row, 0));
        return Result<std::vector<std::string>>(std::move(contacts));
    });
    submit(std::move(job));
}

void PgChatStore::membersSeen(boost::asio::io_context& ctx, std::string chatId, Done<std::vector<ContactSeen>> done) {
    auto job = newJob(false);
    job->add(PgSql::MembersSeen, {job->param(std::move(chatId))});
    job->finish = answer<std::vector<ContactSeen>>(ctx, std::move(done), "membersSeen", [](PgReply& reply) {
        const PgRows rows = reply.rows(0);
        std::vector<ContactSeen> contacts;
        contacts.reserve(static_cast<std::size_t>(rows.size()));
        for (int row = 0; row < rows.size(); ++row) {
            auto& c = contacts.emplace_back(ContactSeen{rows.text(row, 0), std::nullopt});
            if (!rows.isNull(row, 1)) c.lastSeenAt = rows.integer(row, 1);
        }
        return Result<std::vector<ContactSeen>>(std::move(contacts));
    });
    submit(std::move(job));
}

// =============================================================================================
// Opening
// =============================================================================================

std::unique_ptr<ChatStore> openPostgres(const OpenOptions& options) {
    runPgMigrations(options.uri, kStartTimeout);
    PgChatStore::Options pg;
    pg.uri = options.uri;
    pg.poolSize = options.poolSize;
    pg.pacing.maxDelay = options.pacing.maxDelay;
    pg.operationTimeout = options.pgOperationTimeout;
    pg.metrics = options.metrics;
    auto store = std::make_unique<PgChatStore>(std::move(pg));
    if (!store->waitReady(kStartTimeout))
        throw std::runtime_error("postgres: the connection pool could not reach the database within 10 s");
    return store;
}

} // namespace parley::store
