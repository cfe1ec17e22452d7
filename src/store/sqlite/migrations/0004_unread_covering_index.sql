-- A chat's messages in place order, with the sender: history pages and the last message walk its
-- prefix as before, and an unread count (the others' messages after a cursor) reads the index
-- alone, never the rows. It replaces the index without the sender.
CREATE INDEX messages_chat_place ON messages (chat_id, created_at, id, sender_id);
DROP INDEX messages_chat_created_id;
