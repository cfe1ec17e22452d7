-- Parley's first schema on PostgreSQL: the tables and indexes of the SQLite schema. Times are
-- BIGINT milliseconds since the Unix epoch (UTC); ids are 24-hex ObjectIds stored as TEXT.
-- Ids and emails compare byte by byte (COLLATE "C"), as SQLite's do, whatever the database's
-- locale: history pages and cursors order by (created_at, id).

CREATE TABLE users (
    id            TEXT COLLATE "C" PRIMARY KEY,
    email         TEXT COLLATE "C" NOT NULL CONSTRAINT users_email_key UNIQUE, -- stored lower-case
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    last_seen_at  BIGINT
);

-- Opaque session tokens, stored only as their hash; they exist only for registered users.
CREATE TABLE sessions (
    token_hash TEXT COLLATE "C" PRIMARY KEY,
    user_id    TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE INDEX sessions_user_id ON sessions (user_id);

CREATE TABLE chats (
    id         TEXT COLLATE "C" PRIMARY KEY,
    type       TEXT NOT NULL CHECK (type IN ('dm', 'group')),
    title      TEXT,
    created_by TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- No foreign key to users: a JWT's sub is an identity even without a users row.
-- Members are listed by joined_at, then seq (insertion order: SQLite's rowid).
CREATE TABLE memberships (
    chat_id                      TEXT COLLATE "C" NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    user_id                      TEXT COLLATE "C" NOT NULL,
    joined_at                    BIGINT NOT NULL,
    last_read_message_id         TEXT COLLATE "C",
    last_read_message_created_at BIGINT,
    last_read_at                 BIGINT,
    seq                          BIGINT GENERATED ALWAYS AS IDENTITY,
    PRIMARY KEY (chat_id, user_id)
);

CREATE INDEX memberships_user_id ON memberships (user_id);

-- The unique key is the idempotency key of message:send: a retry finds the first copy.
CREATE TABLE messages (
    id         TEXT COLLATE "C" PRIMARY KEY,
    chat_id    TEXT COLLATE "C" NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    sender_id  TEXT COLLATE "C" NOT NULL,
    body       TEXT NOT NULL,
    client_id  TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    CONSTRAINT messages_idempotency_key UNIQUE (chat_id, sender_id, client_id)
);

-- History pages and unread counts walk a chat's messages in (created_at, id) order.
CREATE INDEX messages_chat_created_id ON messages (chat_id, created_at, id);
