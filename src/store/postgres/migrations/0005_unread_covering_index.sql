-- A chat's messages in place order, carrying the sender: history pages and the last message walk
-- it as before, and an unread count (the others' messages after a cursor) can be an index-only
-- scan. It replaces the index without the sender.
CREATE INDEX messages_chat_place ON messages (chat_id, created_at, id) INCLUDE (sender_id);
DROP INDEX messages_chat_created_id;
