-- Each chat counts the events it has broadcast (its creation, each change of it, each message
-- stored), in commit order: every process of a cluster delivers a chat's events in this order
-- whichever process committed them.
ALTER TABLE chats ADD COLUMN event_seq BIGINT NOT NULL DEFAULT 0;
