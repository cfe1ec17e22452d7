#pragma once

#include <array>
#include <string_view>

namespace parley::store {

// The numbered schema migrations, compiled into the binary so that `parley` needs no files
// beside it. The .sql files in migrations/ are the source of truth: edit a file there, paste it
// here verbatim, and SqliteMigrationsTest checks that the two copies are identical. A migration
// that has shipped is never edited; a change is a new number. The names carry "Sqlite" because
// the PostgreSQL backend keeps its own list in the same namespace.

struct SqliteMigration {
    int version;           // the NNNN of NNNN_name.sql; applied in ascending order
    std::string_view name; // the file name without .sql
    std::string_view sql;
};

inline constexpr std::array kSqliteMigrations{
    SqliteMigration{1, "0001_initial", R"sql(-- Parley's first schema. Times are INTEGER milliseconds since the Unix epoch (UTC); ids are
-- 24-hex ObjectIds stored as TEXT.

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,   -- stored lower-case by the store
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER
);

-- Opaque session tokens, stored only as their hash; they exist only for registered users.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE INDEX sessions_user_id ON sessions (user_id);

CREATE TABLE chats (
    id         TEXT PRIMARY KEY,
    type       TEXT NOT NULL CHECK (type IN ('dm', 'group')),
    title      TEXT,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- No foreign key to users: a JWT's sub is an identity even without a users row.
-- A rowid table on purpose: members are listed by joined_at, then rowid (insertion order).
CREATE TABLE memberships (
    chat_id                      TEXT NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    user_id                      TEXT NOT NULL,
    joined_at                    INTEGER NOT NULL,
    last_read_message_id         TEXT,
    last_read_message_created_at INTEGER,
    last_read_at                 INTEGER,
    PRIMARY KEY (chat_id, user_id)
);

CREATE INDEX memberships_user_id ON memberships (user_id);

-- The unique key is the idempotency key of message:send: a retry finds the first copy.
CREATE TABLE messages (
    id         TEXT PRIMARY KEY,
    chat_id    TEXT NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    sender_id  TEXT NOT NULL,
    body       TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (chat_id, sender_id, client_id)
);

-- History pages and unread counts walk a chat's messages in (created_at, id) order.
CREATE INDEX messages_chat_created_id ON messages (chat_id, created_at, id);
)sql"},
};

} // namespace parley::store
