#include "store/postgres/PgStatements.hpp"

#include <array>

namespace parley::store {

namespace {

// The member ids of chat `c`, in join order, as one text array.
#define PARLEY_PG_MEMBERS                                                                                              \
    "ARRAY(SELECT m.user_id FROM memberships AS m WHERE m.chat_id = c.id ORDER BY m.joined_at, m.seq)"
#define PARLEY_PG_CHAT_COLUMNS                                                                                         \
    "c.id, c.type, c.title, c.created_by, c.created_at, c.updated_at, " PARLEY_PG_MEMBERS ", c.event_seq"
#define PARLEY_PG_MESSAGE_COLUMNS "id, chat_id, sender_id, body, client_id, created_at"
#define PARLEY_PG_IS_MEMBER(chat, user)                                                                                \
    "EXISTS (SELECT 1 FROM memberships WHERE chat_id = " chat " AND user_id = " user ")"

// Indexed by PgSql. Each statement's contract is beside it; $n are in the order the store binds
// them (PgChatStore*.cpp).
constexpr std::array<const char*, kPgSqlCount> kTexts{
    // Ping
    "SELECT 1",
    // InsertUser: $1 id, $2 email (lower-case), $3 display name, $4 password hash, $5 created at.
    "INSERT INTO users (id, email, display_name, password_hash, created_at) VALUES ($1, $2, $3, $4, $5::bigint)",
    // FindUser: $1 id.
    "SELECT id, email, display_name, password_hash, created_at FROM users WHERE id = $1",
    // FindUserByEmail: $1 email (lower-case).
    "SELECT id, email, display_name, password_hash, created_at FROM users WHERE email = $1",
    // InsertSession: $1 token hash, $2 user id, $3 created at, $4 expires at.
    "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3::bigint, $4::bigint)",
    // FindSession: $1 token hash.
    "SELECT token_hash, user_id, created_at, expires_at FROM sessions WHERE token_hash = $1",
    // DeleteSession: $1 token hash; the command's row count tells whether there was one.
    "DELETE FROM sessions WHERE token_hash = $1",
    // TouchLastSeen: $1 user ids (a text array, no id twice, in order), $2 their times (a bigint
    // array, the same length).
    "INSERT INTO presence (user_id, last_seen_at) "
    "SELECT seen.user_id, seen.at FROM unnest($1::text[], $2::bigint[]) AS seen (user_id, at) ORDER BY seen.user_id "
    "ON CONFLICT (user_id) DO UPDATE SET last_seen_at = GREATEST(presence.last_seen_at, EXCLUDED.last_seen_at)",
    // InsertChat: $1 id, $2 type, $3 title, $4 created by, $5 created at, $6 updated at, $7 the
    // member ids (a text array, no id twice), all joined at $5 in the order given. The
    // memberships' foreign key is checked at the end of the statement, after the chat's insert.
    // Its creation is the chat's first event.
    "WITH chat AS (INSERT INTO chats (id, type, title, created_by, created_at, updated_at, event_seq) "
    "VALUES ($1, $2, $3, $4, $5::bigint, $6::bigint, 1) RETURNING id) "
    "INSERT INTO memberships (chat_id, user_id, joined_at) "
    "SELECT chat.id, member.id, $5::bigint FROM chat, unnest($7::text[]) WITH ORDINALITY AS member (id, position) "
    "ORDER BY member.position",
    // ChatById: $1 chat id.
    "SELECT " PARLEY_PG_CHAT_COLUMNS " FROM chats AS c WHERE c.id = $1",
    // ChatForMember: $1 chat id, $2 user id; no row unless the user is a member.
    "SELECT " PARLEY_PG_CHAT_COLUMNS " FROM chats AS c WHERE c.id = $1 AND " PARLEY_PG_IS_MEMBER("$1", "$2"),
    // LockChat: $1 chat id. Serialises membership changes and renames of one chat: the
    // statements after it in the same transaction read the chat as the last change committed it.
    // NO KEY UPDATE leaves the key-share locks of inserted messages' foreign keys unblocked.
    "SELECT 1 FROM chats WHERE id = $1 FOR NO KEY UPDATE",
    // ListChats: $1 user id. Every chat of the user with its unread count (the others' messages
    // after the user's cursor, all of them without one, by (created_at, id)) and its last
    // message (NULLs for none; the newest entry of the (chat_id, created_at, id) index), ordered
    // by last activity: the later of updated_at and the last message's time, newest first.
    "SELECT " PARLEY_PG_CHAT_COLUMNS ", (SELECT count(*) FROM messages AS msg "
    "WHERE msg.chat_id = c.id AND msg.sender_id <> $1 AND (msg.created_at, msg.id) > "
    "(COALESCE(mine.last_read_message_created_at, -9223372036854775808), COALESCE(mine.last_read_message_id, ''))), "
    "last.id, last.sender_id, last.body, last.client_id, last.created_at "
    "FROM memberships AS mine JOIN chats AS c ON c.id = mine.chat_id "
    "LEFT JOIN LATERAL (SELECT id, sender_id, body, client_id, created_at FROM messages WHERE chat_id = c.id "
    "ORDER BY created_at DESC, id DESC LIMIT 1) AS last ON true "
    "WHERE mine.user_id = $1 ORDER BY GREATEST(c.updated_at, COALESCE(last.created_at, 0)) DESC, c.id DESC",
    // RenameChat: $1 chat id, $2 actor id, $3 title (NULL clears it), $4 time; no row changed
    // unless the actor is a member. A rename is an event of the chat. Its time never goes back:
    // a change committed after another but timed before it takes the chat's time.
    "UPDATE chats SET title = $3, updated_at = GREATEST($4::bigint, updated_at), event_seq = event_seq + 1 "
    "WHERE id = $1 AND " PARLEY_PG_IS_MEMBER("$1", "$2"),
    // clang-format off
    // AddMember (after LockChat): $1 chat id, $2 actor id, $3 new member, $4 time, $5 the most
    // members. Adds only when every check passes (an add is an event of the chat), at the later
    // of $4 and the chat's time (so the member joins after every member before it); answers the
    // checks as actor_in, is_group, user_in, has_room, added (no row: no such chat).
    "WITH state AS (SELECT c.type = 'group' AS is_group, " PARLEY_PG_IS_MEMBER("$1", "$2") " AS actor_in, "
    PARLEY_PG_IS_MEMBER("$1", "$3") " AS user_in, "
    "(SELECT count(*) FROM memberships WHERE chat_id = $1) < $5::bigint AS has_room, "
    "GREATEST($4::bigint, c.updated_at) AS change_at FROM chats AS c WHERE c.id = $1), "
    "added AS (INSERT INTO memberships (chat_id, user_id, joined_at) SELECT $1, $3, state.change_at FROM state "
    "WHERE state.actor_in AND state.is_group AND NOT state.user_in AND state.has_room "
    "ON CONFLICT (chat_id, user_id) DO NOTHING RETURNING 1), "
    "touched AS (UPDATE chats SET updated_at = state.change_at, event_seq = event_seq + 1 FROM state "
    "WHERE id = $1 AND EXISTS (SELECT 1 FROM added) RETURNING 1) "
    "SELECT actor_in, is_group, user_in, has_room, EXISTS (SELECT 1 FROM added) FROM state",
    // RemoveMember (after LockChat): $1 chat id, $2 actor id, $3 member to remove, $4 time. The
    // member's read cursor lives in the row and goes with it; a removal is an event of the chat,
    // at the later of $4 and the chat's time. Answers actor_in, is_group, user_in, removed (no
    // row: no such chat).
    "WITH state AS (SELECT c.type = 'group' AS is_group, " PARLEY_PG_IS_MEMBER("$1", "$2") " AS actor_in, "
    PARLEY_PG_IS_MEMBER("$1", "$3") " AS user_in FROM chats AS c WHERE c.id = $1), "
    "removed AS (DELETE FROM memberships AS m USING state WHERE m.chat_id = $1 AND m.user_id = $3 "
    "AND state.actor_in AND state.is_group RETURNING 1), "
    "touched AS (UPDATE chats SET updated_at = GREATEST($4::bigint, updated_at), event_seq = event_seq + 1 "
    "WHERE id = $1 AND EXISTS (SELECT 1 FROM removed) RETURNING 1) "
    "SELECT actor_in, is_group, user_in, EXISTS (SELECT 1 FROM removed) FROM state",
    // clang-format on
    // IsMember: $1 chat id, $2 user id.
    "SELECT " PARLEY_PG_IS_MEMBER("$1", "$2"),
    // ChatIdsOf: $1 user id.
    "SELECT chat_id FROM memberships WHERE user_id = $1 ORDER BY chat_id",
    // MembersSeen: $1 chat id. Answers user id, last seen (NULL: never).
    "SELECT m.user_id, presence.last_seen_at FROM memberships AS m "
    "LEFT JOIN presence ON presence.user_id = m.user_id WHERE m.chat_id = $1 ORDER BY m.user_id",
    // AppendMessage: $1 id, $2 chat id, $3 sender id, $4 body, $5 client id, $6 proposed time.
    // The message's place (created_at, id) comes after the chat's last message: at $6 when that
    // sorts after it, else at the last one's time (+1 ms when $1 does not sort after its id). The
    // batch holds the chat's order lock (LockOrderKeys), so the last message read here is the
    // last one committed by any process: a chat's places are in commit order cluster-wide.
    // A stored message is an event of the chat: the chat's event_seq counts it (the row's lock
    // also orders the chat's messages after a change of it being committed, and before the next).
    // Answers is_member, created, then the message columns, then the message's event_seq (0 for
    // a retry): the new row, or for a retry the first copy; (false, false, NULLs...) for a
    // non-member. No row at all: the first copy was committed by another transaction after this
    // statement's snapshot (read it again).
    "WITH member AS (SELECT " PARLEY_PG_IS_MEMBER(
        "$2",
        "$3") " AS ok), "
              "place AS (SELECT CASE WHEN l.created_at IS NULL OR ($6::bigint, $1::text) > (l.created_at, l.id) "
              "THEN $6::bigint WHEN $1::text > l.id THEN l.created_at ELSE l.created_at + 1 END AS at "
              "FROM (SELECT 1) AS one LEFT JOIN (SELECT created_at, id FROM messages WHERE chat_id = $2 "
              "ORDER BY created_at DESC, id DESC LIMIT 1) AS l ON true), "
              "stored AS (INSERT INTO messages (" PARLEY_PG_MESSAGE_COLUMNS ") "
              "SELECT $1, $2, $3, $4, $5, place.at FROM member, place WHERE member.ok "
              "ON CONFLICT (chat_id, sender_id, client_id) DO NOTHING RETURNING " PARLEY_PG_MESSAGE_COLUMNS "), "
              "counted AS (UPDATE chats SET event_seq = event_seq + 1 WHERE id = $2 "
              "AND EXISTS (SELECT 1 FROM stored) RETURNING event_seq) "
              "SELECT true, true, " PARLEY_PG_MESSAGE_COLUMNS ", (SELECT event_seq FROM counted) FROM stored "
              "UNION ALL SELECT true, false, m.id, m.chat_id, m.sender_id, m.body, m.client_id, m.created_at, "
              "0::bigint "
              "FROM member, messages AS m WHERE member.ok AND NOT EXISTS (SELECT 1 FROM stored) "
              "AND m.chat_id = $2 AND m.sender_id = $3 AND m.client_id = $5 "
              "UNION ALL SELECT false, false, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM member WHERE NOT member.ok",
    // FindByClientId: $1 chat id, $2 sender id, $3 client id.
    "SELECT " PARLEY_PG_MESSAGE_COLUMNS " FROM messages WHERE chat_id = $1 AND sender_id = $2 AND client_id = $3",
    // HistoryCheck: $1 chat id, $2 user id, $3 `before` (or NULL), $4 `after` (or NULL). Answers
    // is_member, before_found, after_found (true for a NULL cursor).
    "SELECT " PARLEY_PG_IS_MEMBER(
        "$1", "$2") ", "
                    "$3::text IS NULL OR EXISTS (SELECT 1 FROM messages WHERE id = $3 AND chat_id = $1), "
                    "$4::text IS NULL OR EXISTS (SELECT 1 FROM messages WHERE id = $4 AND chat_id = $1)",
    // HistoryNewest: $1 chat id, $2 rows; newest first.
    "SELECT " PARLEY_PG_MESSAGE_COLUMNS " FROM messages WHERE chat_id = $1 "
    "ORDER BY created_at DESC, id DESC LIMIT $2::bigint",
    // HistoryBefore: $1 chat id, $2 cursor, $3 rows; newest first. A cursor that is not a
    // message of the chat compares with NULL: no rows.
    "SELECT " PARLEY_PG_MESSAGE_COLUMNS " FROM messages WHERE chat_id = $1 "
    "AND (created_at, id) < ((SELECT created_at FROM messages WHERE id = $2 AND chat_id = $1), $2) "
    "ORDER BY created_at DESC, id DESC LIMIT $3::bigint",
    // HistoryAfter: $1 chat id, $2 cursor, $3 rows; oldest first.
    "SELECT " PARLEY_PG_MESSAGE_COLUMNS " FROM messages WHERE chat_id = $1 "
    "AND (created_at, id) > ((SELECT created_at FROM messages WHERE id = $2 AND chat_id = $1), $2) "
    "ORDER BY created_at, id LIMIT $3::bigint",
    // HistoryBetween: $1 chat id, $2 `after`, $3 `before`, $4 rows; oldest first.
    "SELECT " PARLEY_PG_MESSAGE_COLUMNS " FROM messages WHERE chat_id = $1 "
    "AND (created_at, id) > ((SELECT created_at FROM messages WHERE id = $2 AND chat_id = $1), $2) "
    "AND (created_at, id) < ((SELECT created_at FROM messages WHERE id = $3 AND chat_id = $1), $3) "
    "ORDER BY created_at, id LIMIT $4::bigint",
    // MarkRead: $1 chat id, $2 user id, $3 message id, $4 time. Moves the cursor only forward, by
    // (created_at, id): the check is in the UPDATE's WHERE, so a concurrent move is re-checked
    // against the row it committed. Answers is_member, message_found, advanced.
    "WITH target AS (SELECT id, created_at FROM messages WHERE id = $3 AND chat_id = $1), "
    "moved AS (UPDATE memberships AS m SET last_read_message_id = target.id, "
    "last_read_message_created_at = target.created_at, last_read_at = $4::bigint FROM target "
    "WHERE m.chat_id = $1 AND m.user_id = $2 AND (m.last_read_message_id IS NULL OR "
    "(m.last_read_message_created_at, m.last_read_message_id) < (target.created_at, target.id)) RETURNING 1) "
    "SELECT " PARLEY_PG_IS_MEMBER("$1", "$2") ", EXISTS (SELECT 1 FROM target), EXISTS (SELECT 1 FROM moved)",
    // ReadCursorOf: $1 chat id, $2 user id.
    "SELECT user_id, last_read_message_id, last_read_message_created_at, last_read_at FROM memberships "
    "WHERE chat_id = $1 AND user_id = $2",
    // ReadCursors: $1 chat id; the cursors set, members in join order.
    "SELECT user_id, last_read_message_id, last_read_message_created_at, last_read_at FROM memberships "
    "WHERE chat_id = $1 AND last_read_message_id IS NOT NULL ORDER BY joined_at, seq",
    // SaveRecovery: $1 pid, $2 user id, $3 sid, $4 owner, $5 rooms (JSON), $6 created at, $7 time.
    // A row another owner holds is left alone: its first socket has been replaced.
    "INSERT INTO recovery_sessions (pid, user_id, sid, owner, rooms, created_at, updated_at) "
    "VALUES ($1, $2, $3, $4, $5, $6::bigint, $7::bigint) ON CONFLICT (pid) DO UPDATE SET rooms = excluded.rooms, "
    "updated_at = excluded.updated_at, disconnected_at = NULL WHERE recovery_sessions.owner = excluded.owner",
    // EndRecovery: $1 pid, $2 owner, $3 time.
    "UPDATE recovery_sessions SET disconnected_at = $3::bigint WHERE pid = $1 AND owner = $2",
    // DeleteRecovery: $1 pid.
    "DELETE FROM recovery_sessions WHERE pid = $1",
    // ClaimRecovery: $1 pid, $2 user id, $3 new owner, $4 time, $5 oldest age kept. Answers the
    // record as it was (pid, user_id, sid, owner, rooms, created_at, updated_at,
    // disconnected_at), no row when it is missing, another user's or too old. The row lock makes
    // a concurrent claim see this one's result.
    "WITH old AS (SELECT pid, user_id, sid, owner, rooms, created_at, updated_at, disconnected_at "
    "FROM recovery_sessions WHERE pid = $1 AND user_id = $2 AND COALESCE(disconnected_at, updated_at) >= $5::bigint "
    "FOR UPDATE) UPDATE recovery_sessions AS r SET owner = $3, updated_at = $4::bigint, disconnected_at = NULL "
    "FROM old WHERE r.pid = old.pid RETURNING old.pid, old.user_id, old.sid, old.owner, old.rooms, old.created_at, "
    "old.updated_at, old.disconnected_at",
    // PruneRecovery: $1 oldest age kept; the command's row count is how many went.
    "DELETE FROM recovery_sessions WHERE COALESCE(disconnected_at, updated_at) < $1::bigint",
    // ReplayMemberChats: $1 rooms (JSON {chatId: joinedAt}), $2 user id; the rooms whose chat
    // still has the user.
    "SELECT r.key FROM jsonb_each_text($1::jsonb) AS r JOIN memberships AS ms ON ms.chat_id = r.key "
    "AND ms.user_id = $2",
    // ReplayMessages: $1 rooms, $2 user id, $3 and $4 the position after which to start, $5 rows.
    // Each room of a chat still the user's is a range of the (chat_id, created_at, id) index,
    // from its joinedAt (and the membership's joined_at).
    "SELECT m.id, m.chat_id, m.sender_id, m.body, m.client_id, m.created_at "
    "FROM jsonb_each_text($1::jsonb) AS r JOIN memberships AS ms ON ms.chat_id = r.key AND ms.user_id = $2 "
    "JOIN messages AS m ON m.chat_id = r.key AND m.created_at >= r.value::bigint AND m.created_at >= ms.joined_at "
    "AND (m.created_at, m.id) > ($3::bigint, $4::text) ORDER BY m.created_at, m.id LIMIT $5::bigint",
    // ReplayChats: $1 user id, $2 time; the user's chats changed after it, oldest change first.
    "SELECT " PARLEY_PG_CHAT_COLUMNS " FROM memberships AS mine JOIN chats AS c ON c.id = mine.chat_id "
    "WHERE mine.user_id = $1 AND c.updated_at > $2::bigint ORDER BY c.updated_at, c.id",
    // ReplayCursors: $1 rooms, $2 user id, $3 time; the cursors moved after it in the rooms whose
    // chat still has the user, as chat_id then ReadCursors' columns.
    "SELECT ms.chat_id, ms.user_id, ms.last_read_message_id, ms.last_read_message_created_at, ms.last_read_at "
    "FROM memberships AS ms WHERE ms.chat_id IN (SELECT r.key FROM jsonb_each_text($1::jsonb) AS r "
    "JOIN memberships AS me ON me.chat_id = r.key AND me.user_id = $2) "
    "AND ms.last_read_message_id IS NOT NULL AND ms.last_read_at > $3::bigint ORDER BY ms.chat_id, ms.last_read_at",
    // LockOrderKeys: $1 the order keys of a batch (an int array). Takes the transaction's
    // advisory lock of each, in ascending order: batches of several processes that share keys
    // wait for each other and can never deadlock. The two-int form (class "parl"), apart from
    // the migrations' one-bigint lock.
    "SELECT count(pg_advisory_xact_lock(1885434476, k)) FROM (SELECT k FROM unnest($1::int[]) AS k ORDER BY k) AS keys",
};

constexpr bool allSet(const std::array<const char*, kPgSqlCount>& texts) {
    for (const char* text : texts)
        if (text == nullptr) return false;
    return true;
}
static_assert(allSet(kTexts), "one text per PgSql enumerator, in its order");

#undef PARLEY_PG_MEMBERS
#undef PARLEY_PG_CHAT_COLUMNS
#undef PARLEY_PG_MESSAGE_COLUMNS
#undef PARLEY_PG_IS_MEMBER

// The prepared statements' names, "p0", "p1", ...: generated, so that they follow the enum.
constexpr auto kNames = [] {
    static_assert(kPgSqlCount < 1000, "three digits at most");
    std::array<std::array<char, 5>, kPgSqlCount> names{};
    for (std::size_t i = 0; i < kPgSqlCount; ++i) {
        std::size_t at = 0;
        names[i][at++] = 'p';
        if (i >= 100) names[i][at++] = static_cast<char>('0' + i / 100);
        if (i >= 10) names[i][at++] = static_cast<char>('0' + i / 10 % 10);
        names[i][at] = static_cast<char>('0' + i % 10);
    }
    return names;
}();

} // namespace

const char* pgSqlText(PgSql sql) noexcept { return kTexts[static_cast<std::size_t>(sql)]; }

const char* pgSqlName(PgSql sql) noexcept { return kNames[static_cast<std::size_t>(sql)].data(); }

} // namespace parley::store
