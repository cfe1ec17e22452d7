-- Connection state recovery: what a socket that may come back needs, keyed by its private id.
-- rooms is a JSON object {chatId: joinedAtMs}. owner names the socket that wrote the row last:
-- a late write of a socket that has been replaced by a recovered one changes nothing. A row
-- never marked disconnected (its process died) ages from updated_at.
CREATE TABLE recovery_sessions (
    pid             TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL,
    sid             TEXT NOT NULL,
    owner           TEXT NOT NULL,
    rooms           TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    disconnected_at INTEGER
);

-- The periodic prune deletes by age.
CREATE INDEX recovery_sessions_age ON recovery_sessions (COALESCE(disconnected_at, updated_at));
