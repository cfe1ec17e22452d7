#pragma once

// The fixture of the ChatStore contract suite: every test runs once per backend ("sqlite": a
// database file in a fresh temp dir; "postgres": a fresh database on the scratch server that
// ctest's `pg` fixture starts), on a store opened through openChatStore as the server opens it.
// Each operation is driven through a wrapper that waits for its completion on this test's
// io_context and checks the completion rules on every call: exactly once, never inside the
// call that started it, on a thread that runs the io_context it was given.

#include "../store/TempDir.hpp"
#include "core/ObjectId.hpp"
#include "store/ChatStore.hpp"
#include "store/Open.hpp"
#include "support/ScratchPg.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace parley::store::test {

inline std::string newId() { return core::ObjectId::generate(); }

/// Opens the backend a test runs on.
inline std::unique_ptr<ChatStore> openBackend(const std::string& backend, const TempDir& dir) {
    OpenOptions options;
    options.uri =
        backend == "sqlite" ? "sqlite:" + (dir.path() / "parley.db").string() : ::parley::test::freshPgDatabase();
    return openChatStore(options);
}

// --- Readable comparisons: each value as one line, so a failing EXPECT_EQ shows the difference.

inline std::string describe(const std::optional<std::string>& text) { return text ? '"' + *text + '"' : "null"; }

inline std::string describe(const std::vector<std::string>& ids) {
    std::string out = "[";
    for (const auto& id : ids) out += (out.size() > 1 ? "," : "") + id;
    return out + "]";
}

inline std::string describe(const User& u) {
    std::ostringstream out;
    out << "User{" << u.id << ' ' << u.email << " '" << u.displayName << "' " << u.passwordHash << ' ' << u.createdAt
        << '}';
    return out.str();
}

inline std::string describe(const SessionRow& s) {
    std::ostringstream out;
    out << "Session{" << s.tokenHash << ' ' << s.userId << ' ' << s.createdAt << ' ' << s.expiresAt << '}';
    return out.str();
}

inline std::string describe(const Chat& c) {
    std::ostringstream out;
    out << "Chat{" << c.id << ' ' << c.type << ' ' << describe(c.title) << ' ' << describe(c.memberIds) << " by "
        << c.createdBy << ' ' << c.createdAt << ' ' << c.updatedAt << '}';
    return out.str();
}

inline std::string describe(const Message& m) {
    std::ostringstream out;
    out << "Message{" << m.id << " in " << m.chatId << " from " << m.senderId << " '" << m.body << "' " << m.clientId
        << ' ' << m.createdAt << '}';
    return out.str();
}

inline std::string describe(const ReadCursor& c) {
    std::ostringstream out;
    out << "ReadCursor{" << c.userId << " at " << c.messageId << ' ' << c.messageCreatedAt << " read " << c.readAt
        << '}';
    return out.str();
}

template <class T>
std::vector<std::string> describeAll(const std::vector<T>& values) {
    std::vector<std::string> out;
    out.reserve(values.size());
    for (const auto& v : values) out.push_back(describe(v));
    return out;
}

inline std::vector<std::string> idsOf(const std::vector<Message>& messages) {
    std::vector<std::string> ids;
    ids.reserve(messages.size());
    for (const auto& m : messages) ids.push_back(m.id);
    return ids;
}

inline std::vector<std::string> sorted(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
}

/// Passes when `r` holds a value; otherwise names the error.
template <class T>
::testing::AssertionResult ok(const Result<T>& r) {
    if (r.has_value()) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "failed with store error " << r.error().value() << " ("
                                         << r.error().message() << ")";
}

/// Passes when `r` failed with exactly `e`.
template <class T>
::testing::AssertionResult failsWith(const Result<T>& r, Errc e) {
    if (r.has_value())
        return ::testing::AssertionFailure() << "succeeded, expected store error " << static_cast<int>(e);
    if (r.error() == e) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "failed with store error " << r.error().value() << " ("
                                         << r.error().message() << "), expected " << static_cast<int>(e) << " ("
                                         << make_error_code(e).message() << ")";
}

/**
 * Runs one operation to completion on `ctx` (which only this thread runs) and returns its
 * result, checking on the way that the completion ran exactly once, on this thread, and only
 * after the call that started the operation had returned.
 */
template <class T, class Start>
Result<T> complete(boost::asio::io_context& ctx, Start&& start) {
    std::mutex mutex;
    std::optional<Result<T>> out;
    std::atomic<bool> returned{false};
    std::atomic<int> calls{0};
    const auto self = std::this_thread::get_id();
    start(Done<T>([&](Result<T> r) {
        EXPECT_TRUE(returned.load()) << "the completion ran inside the call that started the operation";
        EXPECT_EQ(std::this_thread::get_id(), self) << "the completion ran off the io_context it was given";
        EXPECT_EQ(++calls, 1) << "the completion ran more than once";
        std::lock_guard lock(mutex);
        out.emplace(std::move(r));
    }));
    returned = true;
    // The previous call's guard, released, left the io_context stopped (out of work).
    ctx.restart();
    auto guard = boost::asio::make_work_guard(ctx);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    for (;;) {
        {
            std::lock_guard lock(mutex);
            if (out) break;
        }
        if (std::chrono::steady_clock::now() > deadline) {
            ADD_FAILURE() << "the operation did not complete within 20 s";
            return Result<T>{Errc::Internal};
        }
        ctx.run_one_for(std::chrono::milliseconds(50));
    }
    ctx.poll(); // a second completion already queued would show here
    std::lock_guard lock(mutex);
    return std::move(*out);
}

class ChatStoreContract : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override { store_ = openBackend(GetParam(), dir_); }
    void TearDown() override { store_.reset(); }

    ChatStore& store() { return *store_; }

    // --- One wrapper per operation, in the order of ChatStore.hpp --------------------------------
    Result<void> createUser(User u) {
        return complete<void>(ctx_, [&](Done<void> d) { store().createUser(ctx_, std::move(u), std::move(d)); });
    }
    Result<User> findUser(std::string id) {
        return complete<User>(ctx_, [&](Done<User> d) { store().findUser(ctx_, std::move(id), std::move(d)); });
    }
    Result<User> findUserByEmail(std::string email) {
        return complete<User>(ctx_,
                              [&](Done<User> d) { store().findUserByEmail(ctx_, std::move(email), std::move(d)); });
    }
    Result<void> createSession(SessionRow s) {
        return complete<void>(ctx_, [&](Done<void> d) { store().createSession(ctx_, std::move(s), std::move(d)); });
    }
    Result<SessionRow> findSession(std::string hash) {
        return complete<SessionRow>(
            ctx_, [&](Done<SessionRow> d) { store().findSession(ctx_, std::move(hash), std::move(d)); });
    }
    Result<void> deleteSession(std::string hash) {
        return complete<void>(ctx_, [&](Done<void> d) { store().deleteSession(ctx_, std::move(hash), std::move(d)); });
    }
    Result<void> touchLastSeen(std::string userId, std::int64_t at) {
        return touchLastSeen(std::vector<LastSeen>{{std::move(userId), at}});
    }
    Result<void> touchLastSeen(std::vector<LastSeen> seen) {
        return complete<void>(ctx_, [&](Done<void> d) { store().touchLastSeen(ctx_, std::move(seen), std::move(d)); });
    }
    Result<Chat> createChat(Chat c) {
        return complete<Chat>(ctx_, [&](Done<Chat> d) { store().createChat(ctx_, std::move(c), std::move(d)); });
    }
    Result<Chat> chatForMember(std::string chatId, std::string userId) {
        return complete<Chat>(ctx_, [&](Done<Chat> d) {
            store().chatForMember(ctx_, std::move(chatId), std::move(userId), std::move(d));
        });
    }
    Result<std::vector<ChatSummary>> listChats(std::string userId) {
        return complete<std::vector<ChatSummary>>(
            ctx_, [&](Done<std::vector<ChatSummary>> d) { store().listChats(ctx_, std::move(userId), std::move(d)); });
    }
    Result<Chat> renameChat(std::string chatId, std::string actorId, std::optional<std::string> title,
                            std::int64_t at) {
        return complete<Chat>(ctx_, [&](Done<Chat> d) {
            store().renameChat(ctx_, std::move(chatId), std::move(actorId), std::move(title), at, std::move(d));
        });
    }
    Result<MemberChange> addMember(std::string chatId, std::string actorId, std::string userId, std::int64_t at,
                                   std::size_t maxMembers = 1000) {
        return complete<MemberChange>(ctx_, [&](Done<MemberChange> d) {
            store().addMember(ctx_, std::move(chatId), std::move(actorId), std::move(userId), at, maxMembers,
                              std::move(d));
        });
    }
    Result<MemberChange> removeMember(std::string chatId, std::string actorId, std::string userId, std::int64_t at) {
        return complete<MemberChange>(ctx_, [&](Done<MemberChange> d) {
            store().removeMember(ctx_, std::move(chatId), std::move(actorId), std::move(userId), at, std::move(d));
        });
    }
    Result<bool> isMember(std::string chatId, std::string userId) {
        return complete<bool>(
            ctx_, [&](Done<bool> d) { store().isMember(ctx_, std::move(chatId), std::move(userId), std::move(d)); });
    }
    Result<std::vector<std::string>> chatIdsOf(std::string userId) {
        return complete<std::vector<std::string>>(
            ctx_, [&](Done<std::vector<std::string>> d) { store().chatIdsOf(ctx_, std::move(userId), std::move(d)); });
    }
    Result<std::vector<ContactSeen>> membersSeen(std::string chatId) {
        return complete<std::vector<ContactSeen>>(ctx_, [&](Done<std::vector<ContactSeen>> d) {
            store().membersSeen(ctx_, std::move(chatId), std::move(d));
        });
    }
    Result<Appended> appendMessage(NewMessage m) {
        return complete<Appended>(ctx_,
                                  [&](Done<Appended> d) { store().appendMessage(ctx_, std::move(m), std::move(d)); });
    }
    Result<Message> findByClientId(std::string chatId, std::string senderId, std::string clientId) {
        return complete<Message>(ctx_, [&](Done<Message> d) {
            store().findByClientId(ctx_, std::move(chatId), std::move(senderId), std::move(clientId), std::move(d));
        });
    }
    Result<MessagePage> history(std::string chatId, std::string userId, HistoryQuery query) {
        return complete<MessagePage>(ctx_, [&](Done<MessagePage> d) {
            store().history(ctx_, std::move(chatId), std::move(userId), std::move(query), std::move(d));
        });
    }
    Result<ReadMark> markRead(std::string chatId, std::string userId, std::string messageId, std::int64_t at) {
        return complete<ReadMark>(ctx_, [&](Done<ReadMark> d) {
            store().markRead(ctx_, std::move(chatId), std::move(userId), std::move(messageId), at, std::move(d));
        });
    }
    Result<std::vector<ReadCursor>> readCursors(std::string chatId, std::string userId) {
        return complete<std::vector<ReadCursor>>(ctx_, [&](Done<std::vector<ReadCursor>> d) {
            store().readCursors(ctx_, std::move(chatId), std::move(userId), std::move(d));
        });
    }
    Result<void> ping() {
        return complete<void>(ctx_, [&](Done<void> d) { store().ping(ctx_, std::move(d)); });
    }

    // --- Building blocks ---------------------------------------------------------------------------
    /// A group (or dm) created by members.front() at `at`, stored; fails the test if refused.
    Chat makeChat(std::vector<std::string> members, std::int64_t at = 1000, std::string type = "group") {
        Chat c;
        c.id = newId();
        c.type = std::move(type);
        c.title = "chat " + c.id.substr(18);
        c.createdBy = members.front();
        c.memberIds = std::move(members);
        c.createdAt = c.updatedAt = at;
        auto stored = createChat(c);
        EXPECT_TRUE(ok(stored));
        return stored ? *stored : c;
    }

    /// A message from `sender` in `chatId` at `at` with a fresh clientId, stored (id given back).
    Message send(const std::string& chatId, const std::string& sender, std::int64_t at, std::string id = newId()) {
        NewMessage m{std::move(id), chatId, sender, "body " + std::to_string(at), newId(), at};
        auto r = appendMessage(m);
        EXPECT_TRUE(ok(r));
        if (r) EXPECT_TRUE(r->created);
        return r ? r->message : Message{};
    }

    // ctx_ outlives the store: a store's threads may still post to it while it shuts down.
    boost::asio::io_context ctx_;
    TempDir dir_;
    std::unique_ptr<ChatStore> store_;
};

} // namespace parley::store::test
