#pragma once

#include <cstddef>
#include <cstdint>

namespace parley::store {

/// Every statement PgChatStore runs, prepared once on each connection under its name (the
/// enumerator's index), so that an operation sends only a name and its values. The text of all
/// of them is in PgStatements.cpp: the one place with SQL besides the migrations.
///
/// Values are always sent as text and typed by the statement ($n::bigint where PostgreSQL
/// could not infer the type). Every query that returns messages selects
/// id, chat_id, sender_id, body, client_id, created_at; every query that returns a chat selects
/// id, type, title, created_by, created_at, updated_at, member ids (a text array, join order).
enum class PgSql : std::uint8_t {
    Ping,
    InsertUser,
    FindUser,
    FindUserByEmail,
    InsertSession,
    FindSession,
    DeleteSession,
    TouchLastSeen,
    InsertChat,
    ChatById,
    ChatForMember,
    LockChat,
    ListChats,
    RenameChat,
    AddMember,
    RemoveMember,
    IsMember,
    ChatIdsOf,
    MembersSeen,
    AppendMessage,
    FindByClientId,
    HistoryCheck,
    HistoryNewest,
    HistoryBefore,
    HistoryAfter,
    HistoryBetween,
    MarkRead,
    ReadCursorOf,
    ReadCursors,
    SaveRecovery,
    EndRecovery,
    DeleteRecovery,
    ClaimRecovery,
    PruneRecovery,
    ReplayMemberChats,
    ReplayMessages,
    ReplayChats,
    ReplayCursors,
    LockOrderKeys,
};

inline constexpr std::size_t kPgSqlCount = static_cast<std::size_t>(PgSql::LockOrderKeys) + 1;

/// The statement's text.
const char* pgSqlText(PgSql sql) noexcept;

/// The statement's prepared name on every connection ("p0", "p1", ...).
const char* pgSqlName(PgSql sql) noexcept;

/// Run on each new connection before any statement: a completed write is a committed one.
inline constexpr const char* kPgSessionSetup = "SET synchronous_commit TO on";

} // namespace parley::store
