-- When each identity was last seen (it connected, disconnected or pinged): every identity that
-- connects has a row, local users and those known only by a JWT (no users row) alike. This
-- table supersedes users.last_seen_at, whose values are copied here; that column is no longer
-- written.

CREATE TABLE presence (
    user_id      TEXT COLLATE "C" PRIMARY KEY,
    last_seen_at BIGINT NOT NULL
);

INSERT INTO presence (user_id, last_seen_at) SELECT id, last_seen_at FROM users WHERE last_seen_at IS NOT NULL;
