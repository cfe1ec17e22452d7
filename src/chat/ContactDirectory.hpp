#pragma once

#include "store/ChatStore.hpp"

#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace parley::chat {

/// What presence needs to know of who is whose contact, from memory: each user's chats, and each
/// chat's members with their lastSeenAt. A user's contacts are the members of its chats.
///
/// A chat's members are read from the store once and shared by every request for `membersFreshMs`
/// (requests that come while a read is under way wait for it rather than starting their own): a
/// storm of 5,000 connects into one 5,000-member chat reads that chat a few times, not 5,000
/// times. A user's chats are kept for `chatsFreshMs` (0: read for each use, as in a cluster, where
/// another process may change them at any moment). Changes this process commits (chatChanged)
/// apply at once; a chat's members changed by another process are seen when the entry ages out.
///
/// Lives on one thread (io thread 0): every call, and every `done`, on `home`.
class ContactDirectory {
public:
    using Members = std::shared_ptr<const std::vector<store::ContactSeen>>;
    /// A user's contacts, each once, by user id (byte order), the user left out: pointers into
    /// the members lists that `parts` keeps alive (nothing is copied per request).
    struct Contacts {
        std::vector<Members> parts;
        std::vector<const store::ContactSeen*> list;
    };
    using ChatsDone = std::function<void(store::Result<std::vector<std::string>>)>;
    using MembersDone = std::function<void(store::Result<Members>)>;
    using ContactsDone = std::function<void(store::Result<Contacts>)>;

    ContactDirectory(store::ChatStore& store, boost::asio::io_context& home, std::int64_t membersFreshMs = 1'000,
                     std::int64_t chatsFreshMs = 30'000);

    /// The chats of `userId`, by id: from memory while fresh, else read (and kept).
    void chatsOf(const std::string& userId, std::int64_t nowMs, ChatsDone done);
    /// What the store just said the user's chats are (a socket of the user connected).
    void setChatsOf(const std::string& userId, std::vector<std::string> chatIds, std::int64_t nowMs);
    /// The members of `chatId` with their lastSeenAt, by user id.
    void membersOf(const std::string& chatId, std::int64_t nowMs, MembersDone done);
    /// Every member of `chatIds` but `userId`, once each, by user id: the user's contacts.
    /// `userId` and `chatIds` need only live during the call.
    void contactsIn(const std::string& userId, const std::vector<std::string>& chatIds, std::int64_t nowMs,
                    ContactsDone done);

    /// This process committed a change of `chat` (created, member added or removed): its members
    /// are read again when next asked for, and the chats of its members and of `removed` follow.
    void chatChanged(const std::string& chatId, const std::vector<std::string>& memberIds,
                     const std::vector<std::string>& removed);

    /// Forgets entries that are no longer fresh (bounded memory); call it now and then.
    void prune(std::int64_t nowMs);

    std::size_t chatsKnown() const noexcept { return members_.size(); }
    std::size_t usersKnown() const noexcept { return chats_.size(); }
    /// How many times a chat's members were read from the store (for tests and metrics).
    std::uint64_t memberReads() const noexcept { return memberReads_; }

private:
    struct UserChats {
        std::vector<std::string> chatIds;
        std::int64_t readAt = 0;
    };
    struct ChatMembers {
        Members members;
        std::int64_t readAt = 0;
        bool reading = false;
        bool changedWhileReading = false; // the read under way is answered but not kept
        std::vector<MembersDone> waiting;
    };

    store::ChatStore& store_;
    boost::asio::io_context& home_;
    std::int64_t membersFreshMs_;
    std::int64_t chatsFreshMs_;
    std::unordered_map<std::string, UserChats> chats_;
    std::unordered_map<std::string, ChatMembers> members_;
    std::uint64_t memberReads_ = 0;
};

} // namespace parley::chat
