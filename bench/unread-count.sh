#!/usr/bin/env bash
# What one unread count costs in SQLite, with the messages' place index with and without the
# sender: 200,000 messages in 20 chats, one chat's 10,000 counted (the count chatSummaries runs
# for each chat of GET /v1/chats). Prints the plan and three timed runs of each.
# Usage: bench/unread-count.sh
set -euo pipefail
db=$(mktemp --suffix=.db)
trap 'rm -f "$db"' EXIT
sqlite3 "$db" <<'SQL'
CREATE TABLE messages (id TEXT PRIMARY KEY, chat_id TEXT NOT NULL, sender_id TEXT NOT NULL, body TEXT NOT NULL,
                       client_id TEXT NOT NULL, created_at INTEGER NOT NULL, UNIQUE (chat_id, sender_id, client_id));
CREATE INDEX messages_chat_created_id ON messages (chat_id, created_at, id);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000)
INSERT INTO messages SELECT printf('%024x', i), printf('c%d', i % 20), printf('u%d', i % 50),
  'a message body of some ordinary length, like people write', printf('k%d', i), 1700000000000 + i FROM n;
ANALYZE;
SQL
count() {
  sqlite3 "$db" <<'SQL'
.timer on
EXPLAIN QUERY PLAN SELECT COUNT(*) FROM messages AS msg WHERE msg.chat_id = 'c3' AND msg.sender_id <> 'u7'
  AND (msg.created_at, msg.id) > (-1, '');
SELECT COUNT(*) FROM messages AS msg WHERE msg.chat_id = 'c3' AND msg.sender_id <> 'u7' AND (msg.created_at, msg.id) > (-1, '');
SELECT COUNT(*) FROM messages AS msg WHERE msg.chat_id = 'c3' AND msg.sender_id <> 'u7' AND (msg.created_at, msg.id) > (-1, '');
SELECT COUNT(*) FROM messages AS msg WHERE msg.chat_id = 'c3' AND msg.sender_id <> 'u7' AND (msg.created_at, msg.id) > (-1, '');
SQL
}
echo "== the index without the sender (before migration 0004)"
count
sqlite3 "$db" "CREATE INDEX messages_chat_place ON messages (chat_id, created_at, id, sender_id); DROP INDEX messages_chat_created_id; ANALYZE;"
echo "== the index with the sender (migration 0004)"
count
echo "command: bench/unread-count.sh"
