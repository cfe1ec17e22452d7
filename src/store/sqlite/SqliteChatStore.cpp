#include "store/sqlite/SqliteChatStore.hpp"

#include "core/ObjectId.hpp"
#include "core/Time.hpp"
#include "store/Deliver.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

namespace parley::store {

// =============================================================================================
// SqliteReaders: reader connections, one thread each, taking jobs from one queue
// =============================================================================================

class SqliteReaders {
public:
    using Job = std::function<void(SqliteStore&)>;

    SqliteReaders(const std::string& path, SqliteStore::Options options, std::size_t count) {
        options.reader = true;
        options.beforeReopen = nullptr;
        // Opened here, so that a database readers cannot open fails the start, not the first read.
        for (std::size_t i = 0; i < std::max<std::size_t>(count, 1); ++i)
            connections_.push_back(std::make_unique<SqliteStore>(path, options));
        for (auto& connection : connections_) threads_.emplace_back([this, db = connection.get()] { loop(*db); });
    }
    ~SqliteReaders() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        cv_.notify_all();
        for (auto& thread : threads_) thread.join();
    }
    SqliteReaders(const SqliteReaders&) = delete;
    SqliteReaders& operator=(const SqliteReaders&) = delete;

    /// Closes every reader connection, after the reads running now; the next read reopens its
    /// connection (SqliteStore::Options::beforeReopen says why).
    void closeAll() {
        std::unique_lock lock(mutex_);
        idle_.wait(lock, [this] { return busy_ == 0; });
        for (auto& connection : connections_) connection->closeConnection();
    }

    void post(Job job) {
        {
            std::lock_guard lock(mutex_);
            queue_.push_back(std::move(job));
        }
        cv_.notify_one();
    }

private:
    // Runs jobs until stopped with nothing queued (queued reads still get their answers).
    void loop(SqliteStore& db) {
        for (;;) {
            Job job;
            {
                std::unique_lock lock(mutex_);
                cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
                if (queue_.empty()) return;
                job = std::move(queue_.front());
                queue_.pop_front();
                ++busy_;
            }
            job(db);
            {
                std::lock_guard lock(mutex_);
                --busy_;
            }
            idle_.notify_all();
        }
    }

    std::mutex mutex_;
    std::condition_variable cv_;
    std::condition_variable idle_; // busy_ went down
    std::size_t busy_ = 0;         // readers running a job
    std::deque<Job> queue_;
    bool stopping_ = false;
    std::vector<std::unique_ptr<SqliteStore>> connections_;
    std::vector<std::thread> threads_;
};

// =============================================================================================
// Running operations
// =============================================================================================

namespace {

bool contains(const std::vector<std::string>& ids, const std::string& id) {
    return std::find(ids.begin(), ids.end(), id) != ids.end();
}

// The chat if `userId` is one of its members; Forbidden for a non-member and a missing chat alike.
Result<Chat> memberChat(Store& db, const std::string& chatId, const std::string& userId) {
    auto chat = db.findChat(chatId);
    if (!chat || !contains(chat->memberIds, userId)) return Errc::Forbidden;
    return std::move(*chat);
}

// The time of a change to `chat` proposed at `proposed`. Callers time a change before it queues
// for the writer, so one committed after another can carry an earlier time: it is moved up to
// the chat's, which keeps updatedAt from going back and a member added joining after every
// member before it (join order is commit order).
std::int64_t changeTime(const Chat& chat, std::int64_t proposed) { return std::max(proposed, chat.updatedAt); }

} // namespace

template <class T>
void SqliteChatStore::write(boost::asio::io_context& ctx, std::function<Result<T>(Store&)> fn, Done<T> done) {
    writer_->write<Result<T>>(ctx, std::move(fn), [done = std::move(done)](std::string error, Result<T> result) {
        if (!error.empty()) {
            spdlog::error("store: write failed: {}", error);
            return done(Errc::Internal);
        }
        done(std::move(result));
    });
}

template <class T>
void SqliteChatStore::read(boost::asio::io_context& ctx, std::function<Result<T>(SqliteStore&)> fn, Done<T> done) {
    readers_->post([&ctx, fn = std::move(fn), done = std::move(done)](SqliteStore& db) mutable {
        Result<T> result{Errc::Internal};
        try {
            db.beginRead();
            result = fn(db);
            db.endRead();
        } catch (const std::exception& e) {
            db.endRead();
            spdlog::error("store: read failed: {}", e.what());
            result = Errc::Internal;
        }
        deliver<T>(ctx, done, std::move(result));
    });
}

SqliteChatStore::SqliteChatStore(const std::string& path, Options options) {
    options.sqlite.beforeReopen = [this] {
        if (readers_) readers_->closeAll();
    };
    auto writer = std::make_unique<SqliteStore>(path, options.sqlite);
    migrationsRunAtOpen_ = writer->migrationsRunAtOpen();
    writer_ = std::make_unique<StoreExecutor>(std::move(writer), options.executor);
    readers_ = std::make_unique<SqliteReaders>(path, options.sqlite, options.readers);
}

// Readers first: nothing they do depends on the writer, and the writer's close checkpoints last.
SqliteChatStore::~SqliteChatStore() {
    readers_.reset();
    writer_.reset();
}

// =============================================================================================
// Users and sessions
// =============================================================================================

void SqliteChatStore::createUser(boost::asio::io_context& ctx, User user, Done<void> done) {
    write<void>(
        ctx,
        [user = std::move(user)](Store& db) -> Result<void> {
            // Checked in the same job as the insert: nothing writes between them.
            if (db.findUserByEmail(user.email)) return Errc::Duplicate;
            db.insertUser(user);
            return {};
        },
        std::move(done));
}

void SqliteChatStore::findUser(boost::asio::io_context& ctx, std::string id, Done<User> done) {
    read<User>(
        ctx,
        [id = std::move(id)](SqliteStore& db) -> Result<User> {
            if (auto user = db.findUser(id)) return std::move(*user);
            return Errc::NotFound;
        },
        std::move(done));
}

void SqliteChatStore::findUserByEmail(boost::asio::io_context& ctx, std::string email, Done<User> done) {
    read<User>(
        ctx,
        [email = std::move(email)](SqliteStore& db) -> Result<User> {
            if (auto user = db.findUserByEmail(email)) return std::move(*user);
            return Errc::NotFound;
        },
        std::move(done));
}

void SqliteChatStore::createSession(boost::asio::io_context& ctx, SessionRow session, Done<void> done) {
    write<void>(
        ctx,
        [session = std::move(session)](Store& db) -> Result<void> {
            db.insertSession(session);
            return {};
        },
        std::move(done));
}

void SqliteChatStore::findSession(boost::asio::io_context& ctx, std::string tokenHash, Done<SessionRow> done) {
    read<SessionRow>(
        ctx,
        [hash = std::move(tokenHash)](SqliteStore& db) -> Result<SessionRow> {
            if (auto session = db.findSession(hash)) return std::move(*session);
            return Errc::NotFound;
        },
        std::move(done));
}

void SqliteChatStore::deleteSession(boost::asio::io_context& ctx, std::string tokenHash, Done<void> done) {
    write<void>(
        ctx,
        [hash = std::move(tokenHash)](Store& db) -> Result<void> {
            if (!db.deleteSession(hash)) return Errc::NotFound;
            return {};
        },
        std::move(done));
}

void SqliteChatStore::touchLastSeen(boost::asio::io_context& ctx, std::vector<LastSeen> seen, Done<void> done) {
    write<void>(
        ctx,
        [seen = std::move(seen)](Store& db) -> Result<void> {
            for (const auto& s : seen) db.touchLastSeen(s.userId, s.at);
            return {};
        },
        std::move(done));
}

// =============================================================================================
// Chats and memberships
// =============================================================================================

void SqliteChatStore::createChat(boost::asio::io_context& ctx, Chat chat, Done<Chat> done) {
    write<Chat>(
        ctx,
        [chat = std::move(chat)](Store& db) -> Result<Chat> {
            db.insertChat(chat);
            // As committed: a member listed twice is stored once.
            if (auto stored = db.findChat(chat.id)) return std::move(*stored);
            return Errc::Internal;
        },
        std::move(done));
}

void SqliteChatStore::chatForMember(boost::asio::io_context& ctx, std::string chatId, std::string userId,
                                    Done<Chat> done) {
    read<Chat>(
        ctx,
        [chatId = std::move(chatId), userId = std::move(userId)](SqliteStore& db) {
            return memberChat(db, chatId, userId);
        },
        std::move(done));
}

void SqliteChatStore::listChats(boost::asio::io_context& ctx, std::string userId, Done<std::vector<ChatSummary>> done) {
    read<std::vector<ChatSummary>>(
        ctx,
        [userId = std::move(userId)](SqliteStore& db) -> Result<std::vector<ChatSummary>> {
            return db.chatSummaries(userId);
        },
        std::move(done));
}

void SqliteChatStore::renameChat(boost::asio::io_context& ctx, std::string chatId, std::string actorId,
                                 std::optional<std::string> title, std::int64_t proposed, Done<Chat> done) {
    write<Chat>(
        ctx,
        [chatId = std::move(chatId), actorId = std::move(actorId), title = std::move(title),
         proposed](Store& db) -> Result<Chat> {
            auto chat = memberChat(db, chatId, actorId);
            if (!chat) return chat;
            const std::int64_t at = changeTime(*chat, proposed);
            db.setTitle(chatId, title, at);
            chat->title = title;
            chat->updatedAt = at;
            return chat;
        },
        std::move(done));
}

void SqliteChatStore::addMember(boost::asio::io_context& ctx, std::string chatId, std::string actorId,
                                std::string userId, std::int64_t proposed, std::size_t maxMembers,
                                Done<MemberChange> done) {
    write<MemberChange>(
        ctx,
        [chatId = std::move(chatId), actorId = std::move(actorId), userId = std::move(userId), proposed,
         maxMembers](Store& db) -> Result<MemberChange> {
            auto chat = memberChat(db, chatId, actorId);
            if (!chat) return chat.error();
            if (chat->type != "group") return Errc::NotAGroup;
            if (contains(chat->memberIds, userId)) return MemberChange{std::move(*chat), false};
            if (chat->memberIds.size() >= maxMembers) return Errc::ChatFull;
            const std::int64_t at = changeTime(*chat, proposed);
            db.addMember(chatId, userId, at);
            chat->memberIds.push_back(userId);
            chat->updatedAt = at;
            return MemberChange{std::move(*chat), true};
        },
        std::move(done));
}

void SqliteChatStore::removeMember(boost::asio::io_context& ctx, std::string chatId, std::string actorId,
                                   std::string userId, std::int64_t proposed, Done<MemberChange> done) {
    write<MemberChange>(
        ctx,
        [chatId = std::move(chatId), actorId = std::move(actorId), userId = std::move(userId),
         proposed](Store& db) -> Result<MemberChange> {
            auto chat = memberChat(db, chatId, actorId);
            if (!chat) return chat.error();
            auto it = std::find(chat->memberIds.begin(), chat->memberIds.end(), userId);
            if (it == chat->memberIds.end()) return Errc::NotFound;
            if (chat->type != "group") return Errc::NotAGroup;
            const std::int64_t at = changeTime(*chat, proposed);
            db.removeMember(chatId, userId, at);
            chat->memberIds.erase(it);
            chat->updatedAt = at;
            return MemberChange{std::move(*chat), true};
        },
        std::move(done));
}

void SqliteChatStore::isMember(boost::asio::io_context& ctx, std::string chatId, std::string userId, Done<bool> done) {
    read<bool>(
        ctx,
        [chatId = std::move(chatId), userId = std::move(userId)](SqliteStore& db) -> Result<bool> {
            return db.isMember(chatId, userId);
        },
        std::move(done));
}

void SqliteChatStore::chatIdsOf(boost::asio::io_context& ctx, std::string userId, Done<std::vector<std::string>> done) {
    read<std::vector<std::string>>(
        ctx,
        [userId = std::move(userId)](SqliteStore& db) -> Result<std::vector<std::string>> {
            return db.chatIdsOf(userId);
        },
        std::move(done));
}

void SqliteChatStore::membersSeen(boost::asio::io_context& ctx, std::string chatId,
                                  Done<std::vector<ContactSeen>> done) {
    read<std::vector<ContactSeen>>(
        ctx,
        [chatId = std::move(chatId)](SqliteStore& db) -> Result<std::vector<ContactSeen>> {
            return db.membersSeen(chatId);
        },
        std::move(done));
}

// =============================================================================================
// Messages and read cursors
// =============================================================================================

void SqliteChatStore::appendMessage(boost::asio::io_context& ctx, NewMessage message, Done<Appended> done) {
    write<Appended>(
        ctx,
        [m = std::move(message)](Store& db) -> Result<Appended> {
            if (!db.isMember(m.chatId, m.senderId)) return Errc::Forbidden;
            // The id and time are taken here, in commit order: history pages by (createdAt, id),
            // and a page after the last message a client saw must not skip one committed later
            // with an earlier time.
            Message stored{core::ObjectId::generate(), m.chatId, m.senderId, m.body, m.clientId, core::nowMs()};
            try {
                // The unique key finds a retry: a new message (the common case) costs no lookup.
                db.insertMessage(stored);
                return Appended{true, std::move(stored)};
            } catch (const DuplicateMessage&) {
                // A retry: the statement changed nothing.
            }
            if (auto first = db.findByClientId(m.chatId, m.senderId, m.clientId)) return Appended{false, *first};
            return Errc::Internal;
        },
        std::move(done));
}

void SqliteChatStore::findByClientId(boost::asio::io_context& ctx, std::string chatId, std::string senderId,
                                     std::string clientId, Done<Message> done) {
    read<Message>(
        ctx,
        [chatId = std::move(chatId), senderId = std::move(senderId),
         clientId = std::move(clientId)](SqliteStore& db) -> Result<Message> {
            if (auto m = db.findByClientId(chatId, senderId, clientId)) return std::move(*m);
            return Errc::NotFound;
        },
        std::move(done));
}

void SqliteChatStore::history(boost::asio::io_context& ctx, std::string chatId, std::string userId, HistoryQuery query,
                              Done<MessagePage> done) {
    read<MessagePage>(
        ctx,
        [chatId = std::move(chatId), userId = std::move(userId),
         query = std::move(query)](SqliteStore& db) -> Result<MessagePage> {
            if (!db.isMember(chatId, userId)) return Errc::Forbidden;
            // A cursor of another chat and an unknown one are the same answer: nothing leaks.
            for (const auto* cursor : {&query.before, &query.after}) {
                if (!*cursor) continue;
                auto m = db.findMessage(**cursor);
                if (!m || m->chatId != chatId) return Errc::NotFound;
            }
            return db.messages(chatId, query.before, query.after, query.limit);
        },
        std::move(done));
}

void SqliteChatStore::markRead(boost::asio::io_context& ctx, std::string chatId, std::string userId,
                               std::string messageId, std::int64_t at, Done<ReadMark> done) {
    write<ReadMark>(
        ctx,
        [chatId = std::move(chatId), userId = std::move(userId), messageId = std::move(messageId),
         at](Store& db) -> Result<ReadMark> {
            if (!db.isMember(chatId, userId)) return Errc::Forbidden;
            auto message = db.findMessage(messageId);
            if (!message || message->chatId != chatId) return Errc::NotFound;
            auto current = db.readCursor(chatId, userId);
            // Forward only, by (createdAt, id).
            if (current && (current->messageCreatedAt > message->createdAt ||
                            (current->messageCreatedAt == message->createdAt && current->messageId >= message->id)))
                return ReadMark{false, std::move(*current)};
            ReadCursor cursor{userId, message->id, message->createdAt, at};
            db.setReadCursor(chatId, cursor);
            return ReadMark{true, std::move(cursor)};
        },
        std::move(done));
}

void SqliteChatStore::readCursors(boost::asio::io_context& ctx, std::string chatId, std::string userId,
                                  Done<std::vector<ReadCursor>> done) {
    read<std::vector<ReadCursor>>(
        ctx,
        [chatId = std::move(chatId), userId = std::move(userId)](SqliteStore& db) -> Result<std::vector<ReadCursor>> {
            if (!db.isMember(chatId, userId)) return Errc::Forbidden;
            return db.readCursors(chatId);
        },
        std::move(done));
}

// =============================================================================================
// Connection state recovery
// =============================================================================================

void SqliteChatStore::saveRecovery(boost::asio::io_context& ctx, RecoveryRecord record, Done<void> done) {
    write<void>(
        ctx,
        [record = std::move(record)](Store& db) -> Result<void> {
            db.saveRecovery(record);
            return {};
        },
        std::move(done));
}

void SqliteChatStore::endRecovery(boost::asio::io_context& ctx, std::string pid, std::string owner, std::int64_t at,
                                  Done<void> done) {
    write<void>(
        ctx,
        [pid = std::move(pid), owner = std::move(owner), at](Store& db) -> Result<void> {
            db.endRecovery(pid, owner, at);
            return {};
        },
        std::move(done));
}

void SqliteChatStore::deleteRecovery(boost::asio::io_context& ctx, std::string pid, Done<void> done) {
    write<void>(
        ctx,
        [pid = std::move(pid)](Store& db) -> Result<void> {
            db.deleteRecovery(pid);
            return {};
        },
        std::move(done));
}

// The check and the take-over are one job of the one writer: two claims of one pid never both
// see the record as it was.
void SqliteChatStore::claimRecovery(boost::asio::io_context& ctx, std::string pid, std::string userId,
                                    std::string owner, std::int64_t at, std::int64_t notBefore,
                                    Done<RecoveryRecord> done) {
    write<RecoveryRecord>(
        ctx,
        [pid = std::move(pid), userId = std::move(userId), owner = std::move(owner), at,
         notBefore](Store& db) -> Result<RecoveryRecord> {
            auto record = db.findRecovery(pid);
            if (!record || record->userId != userId || record->disconnectedAt.value_or(record->updatedAt) < notBefore)
                return Errc::NotFound;
            db.takeRecovery(pid, owner, at);
            return std::move(*record);
        },
        std::move(done));
}

void SqliteChatStore::pruneRecovery(boost::asio::io_context& ctx, std::int64_t notBefore, Done<std::int64_t> done) {
    write<std::int64_t>(
        ctx, [notBefore](Store& db) -> Result<std::int64_t> { return db.pruneRecovery(notBefore); }, std::move(done));
}

void SqliteChatStore::replay(boost::asio::io_context& ctx, ReplayRequest request, Done<Replay> done) {
    read<Replay>(
        ctx, [request = std::move(request)](SqliteStore& db) -> Result<Replay> { return db.replay(request); },
        std::move(done));
}

void SqliteChatStore::ping(boost::asio::io_context& ctx, Done<void> done) {
    // On the writer's thread, outside transactions: ready means the writer answers (a read-only
    // file still serves reads, as before).
    writer_->read<Result<void>>(
        ctx,
        [](Store& db) -> Result<void> {
            db.findChat("000000000000000000000000");
            return {};
        },
        [done = std::move(done)](std::string error, Result<void> result) {
            if (!error.empty()) {
                spdlog::warn("store: ping failed: {}", error);
                return done(Errc::Unavailable);
            }
            done(result);
        });
}

// The writer runs its queue in order, and a read after writes completes after their commit.
void SqliteChatStore::settle(boost::asio::io_context& ctx, Done<void> done) {
    writer_->read<int>(
        ctx, [](Store&) { return 0; }, [done = std::move(done)](const std::string&, int) { done(Result<void>()); });
}

} // namespace parley::store
