// The peer's PostgreSQL store (--store postgres://...): chats, memberships, messages and read
// cursors in PostgreSQL through a `pg` pool, with Parley's schema and indexes (times are BIGINT
// milliseconds since the epoch, ids 24-hex TEXT compared byte by byte, COLLATE "C"). Every write is one statement or one
// transaction, committed (synchronous_commit as the server has it) before its promise
// resolves: the caller acknowledges only after that.
//
// Objects handed back have the in-memory store's shapes where the service shares code with it:
// a chat is { _id, type, title, createdBy, createdAt, updatedAt (ms), members: Map userId -> null
// in joining order }, a message { _id, chatId, senderId, body, clientId, t (ms), createdAt (ISO) }.

import pg from 'pg';

// BIGINT (int8) columns are milliseconds and counts: well inside a double's exact range.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

const SCHEMA = `
CREATE TABLE IF NOT EXISTS users (
    id            TEXT COLLATE "C" PRIMARY KEY,
    email         TEXT COLLATE "C" NOT NULL CONSTRAINT users_email_key UNIQUE,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    last_seen_at  BIGINT
);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT COLLATE "C" PRIMARY KEY,
    user_id    TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_user_id ON sessions (user_id);
CREATE TABLE IF NOT EXISTS chats (
    id         TEXT COLLATE "C" PRIMARY KEY,
    type       TEXT NOT NULL CHECK (type IN ('dm', 'group')),
    title      TEXT,
    created_by TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS memberships (
    chat_id                      TEXT COLLATE "C" NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    user_id                      TEXT COLLATE "C" NOT NULL,
    joined_at                    BIGINT NOT NULL,
    last_read_message_id         TEXT COLLATE "C",
    last_read_message_created_at BIGINT,
    last_read_at                 BIGINT,
    seq                          BIGINT GENERATED ALWAYS AS IDENTITY,
    PRIMARY KEY (chat_id, user_id)
);
CREATE INDEX IF NOT EXISTS memberships_user_id ON memberships (user_id);
CREATE TABLE IF NOT EXISTS messages (
    id         TEXT COLLATE "C" PRIMARY KEY,
    chat_id    TEXT COLLATE "C" NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    sender_id  TEXT COLLATE "C" NOT NULL,
    body       TEXT NOT NULL,
    client_id  TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    CONSTRAINT messages_idempotency_key UNIQUE (chat_id, sender_id, client_id)
);
CREATE INDEX IF NOT EXISTS messages_chat_created_id ON messages (chat_id, created_at, id);
`;

// A chat's members in joining order: by joined_at, then seq (the order of the inserts).
const MEMBER_IDS = `ARRAY(SELECT mm.user_id FROM memberships mm WHERE mm.chat_id = c.id
    ORDER BY mm.joined_at, mm.seq) AS member_ids`;
const CHAT_COLUMNS = `c.id, c.type, c.title, c.created_by, c.created_at, c.updated_at, ${MEMBER_IDS}`;
const MESSAGE_COLUMNS = 'id, chat_id, sender_id, body, client_id, created_at';

// The statements of the per-message paths are named: each connection prepares them once.
const Q = {
  isMember: {
    name: 'is_member',
    text: 'SELECT 1 FROM memberships WHERE chat_id = $1 AND user_id = $2',
  },
  // The membership check and the insert in one statement. A retry (the idempotency key is
  // taken) inserts nothing: `id` is then null and the caller fetches the first copy.
  append: {
    name: 'append',
    text: `WITH mb AS (SELECT 1 FROM memberships WHERE chat_id = $2 AND user_id = $3),
      ins AS (INSERT INTO messages (id, chat_id, sender_id, body, client_id, created_at)
              SELECT $1, $2, $3, $4, $5, $6 WHERE EXISTS (SELECT 1 FROM mb)
              ON CONFLICT (chat_id, sender_id, client_id) DO NOTHING RETURNING id)
      SELECT EXISTS (SELECT 1 FROM mb) AS member, (SELECT id FROM ins) AS id`,
  },
  byClientId: {
    name: 'by_client_id',
    text: `SELECT EXISTS (SELECT 1 FROM memberships WHERE chat_id = $1 AND user_id = $2) AS member, m.*
      FROM (SELECT 1) one LEFT JOIN LATERAL (SELECT ${MESSAGE_COLUMNS} FROM messages
        WHERE chat_id = $1 AND sender_id = $2 AND client_id = $3) m ON true`,
  },
  // Every chat of the user, newest activity first, with its unread count: messages of others
  // after the user's cursor (all of them without one).
  listChats: {
    name: 'list_chats',
    text: `SELECT ${CHAT_COLUMNS},
        (SELECT count(*) FROM messages x WHERE x.chat_id = c.id AND x.sender_id <> $1
           AND (mb.last_read_message_id IS NULL
                OR (x.created_at, x.id) > (mb.last_read_message_created_at, mb.last_read_message_id))) AS unread
      FROM memberships mb JOIN chats c ON c.id = mb.chat_id
      WHERE mb.user_id = $1 ORDER BY c.updated_at DESC, c.id DESC`,
  },
  chatOfMember: {
    name: 'chat_of_member',
    text: `SELECT ${CHAT_COLUMNS} FROM chats c
      WHERE c.id = $1 AND EXISTS (SELECT 1 FROM memberships WHERE chat_id = $1 AND user_id = $2)`,
  },
  // History pages: one row per message of the page, after the membership row; no row at all
  // when the user is not a member, one row of nulls for an empty page. $3 is limit + 1 (the
  // extra row says there is more).
  newest: {
    name: 'page_newest',
    text: `SELECT p.* FROM memberships mb LEFT JOIN LATERAL (
        SELECT ${MESSAGE_COLUMNS} FROM messages WHERE chat_id = $1
        ORDER BY created_at DESC, id DESC LIMIT $3) p ON true
      WHERE mb.chat_id = $1 AND mb.user_id = $2`,
  },
  before: {
    name: 'page_before',
    text: `SELECT p.* FROM memberships mb LEFT JOIN LATERAL (
        SELECT m.id, m.chat_id, m.sender_id, m.body, m.client_id, m.created_at
        FROM messages k JOIN messages m ON m.chat_id = k.chat_id AND (m.created_at, m.id) < (k.created_at, k.id)
        WHERE k.id = $4 AND k.chat_id = $1
        ORDER BY m.created_at DESC, m.id DESC LIMIT $3) p ON true
      WHERE mb.chat_id = $1 AND mb.user_id = $2`,
  },
  after: {
    name: 'page_after',
    text: `SELECT p.* FROM memberships mb LEFT JOIN LATERAL (
        SELECT m.id, m.chat_id, m.sender_id, m.body, m.client_id, m.created_at
        FROM messages k JOIN messages m ON m.chat_id = k.chat_id AND (m.created_at, m.id) > (k.created_at, k.id)
        WHERE k.id = $4 AND k.chat_id = $1
        ORDER BY m.created_at, m.id LIMIT $3) p ON true
      WHERE mb.chat_id = $1 AND mb.user_id = $2`,
  },
  // Forward only by (createdAt, id), checked in the UPDATE itself: a concurrent mark of the
  // same user re-checks the condition on the row it waited for. The CTEs read the snapshot
  // before the update.
  markRead: {
    name: 'mark_read',
    text: `WITH msg AS (SELECT id, created_at FROM messages WHERE id = $3 AND chat_id = $1),
      mb AS (SELECT last_read_message_id, last_read_at FROM memberships WHERE chat_id = $1 AND user_id = $2),
      upd AS (UPDATE memberships m SET last_read_message_id = msg.id, last_read_message_created_at = msg.created_at,
                last_read_at = $4
              FROM msg WHERE m.chat_id = $1 AND m.user_id = $2
                AND (m.last_read_message_id IS NULL
                     OR (m.last_read_message_created_at, m.last_read_message_id) < (msg.created_at, msg.id))
              RETURNING m.last_read_message_id, m.last_read_at)
      SELECT EXISTS (SELECT 1 FROM mb) AS member, EXISTS (SELECT 1 FROM msg) AS found,
        (SELECT last_read_message_id FROM upd) AS new_id, (SELECT last_read_at FROM upd) AS new_at,
        (SELECT last_read_message_id FROM mb) AS old_id, (SELECT last_read_at FROM mb) AS old_at`,
  },
};

const iso = (ms) => new Date(ms).toISOString();

function chatOf(row) {
  const members = new Map();
  for (const id of row.member_ids) members.set(id, null);
  return {
    _id: row.id,
    type: row.type,
    title: row.title,
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    members,
  };
}

function messageOf(row) {
  return {
    _id: row.id,
    chatId: row.chat_id,
    senderId: row.sender_id,
    body: row.body,
    clientId: row.client_id,
    t: row.created_at,
    createdAt: iso(row.created_at),
  };
}

export class PgStore {
  /** Connects, creates the tables and indexes that are missing, and returns the store. */
  static async open(uri, poolSize) {
    const pool = new pg.Pool({ connectionString: uri, max: poolSize });
    // An idle connection that the server drops must not crash the process: the pool replaces it.
    pool.on('error', (err) => console.error(`postgres: idle connection: ${err.message}`));
    const client = await pool.connect();
    try {
      // Two peers starting on one empty database would race on CREATE ... IF NOT EXISTS.
      await client.query('SELECT pg_advisory_lock(7304)');
      await client.query(SCHEMA);
      await client.query('SELECT pg_advisory_unlock(7304)');
    } finally {
      client.release();
    }
    return new PgStore(pool);
  }

  constructor(pool) {
    this.pool = pool;
  }

  close() {
    return this.pool.end();
  }

  async #transaction(work) {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const out = await work(client);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  async isMember(chatId, userId) {
    return (await this.pool.query({ ...Q.isMember, values: [chatId, userId] })).rowCount > 0;
  }

  /** The chat if `userId` is a member of it, else undefined. */
  async chatOfMember(chatId, userId, db = this.pool) {
    const { rows } = await db.query({ ...Q.chatOfMember, values: [chatId, userId] });
    return rows.length ? chatOf(rows[0]) : undefined;
  }

  async createChat({ id, type, title, memberIds, createdBy, at }) {
    await this.pool.query(
      `WITH c AS (INSERT INTO chats (id, type, title, created_by, created_at, updated_at)
                  VALUES ($1, $2, $3, $4, $5, $5) RETURNING id)
       INSERT INTO memberships (chat_id, user_id, joined_at)
       SELECT c.id, u.id, $5 FROM c, unnest($6::text[]) WITH ORDINALITY AS u (id, n) ORDER BY u.n`,
      [id, type, title, createdBy, at, [...memberIds]]);
    const members = new Map();
    for (const m of memberIds) members.set(m, null);
    return { _id: id, type, title, createdBy, createdAt: at, updatedAt: at, members };
  }

  /** [{ chat, unreadCount }], newest activity first. */
  async chatsOf(userId) {
    const { rows } = await this.pool.query({ ...Q.listChats, values: [userId] });
    return rows.map((r) => ({ chat: chatOf(r), unreadCount: r.unread }));
  }

  /** The renamed chat, or undefined if `actorId` is not a member. */
  async setTitle(chatId, actorId, title, at) {
    return this.#transaction(async (db) => {
      const { rowCount } = await db.query(
        `UPDATE chats SET title = $3, updated_at = $4 WHERE id = $1
           AND EXISTS (SELECT 1 FROM memberships WHERE chat_id = $1 AND user_id = $2)`,
        [chatId, actorId, title, at]);
      return rowCount ? this.chatOfMember(chatId, actorId, db) : undefined;
    });
  }

  /**
   * Adds `userId` if `actorId` is a member and the chat is a group with fewer than `maxMembers`.
   * Returns { chat, changed } or { refused: 'FORBIDDEN' | 'NOT_A_GROUP' | 'FULL' }.
   */
  async addMember(chatId, actorId, userId, at, maxMembers) {
    return this.#transaction(async (db) => {
      const chat = await this.#lockedChat(db, chatId, actorId);
      if (!chat) return { refused: 'FORBIDDEN' };
      if (chat.members.has(userId)) return { chat, changed: false };
      if (chat.type === 'dm') return { refused: 'NOT_A_GROUP' };
      if (chat.members.size >= maxMembers) return { refused: 'FULL' };
      await db.query('INSERT INTO memberships (chat_id, user_id, joined_at) VALUES ($1, $2, $3)', [chatId, userId, at]);
      await db.query('UPDATE chats SET updated_at = $2 WHERE id = $1', [chatId, at]);
      chat.members.set(userId, null);
      chat.updatedAt = at;
      return { chat, changed: true };
    });
  }

  /** Removes `userId`: { chat } or { refused: 'FORBIDDEN' | 'NOT_A_GROUP' | 'NOT_FOUND' }. */
  async removeMember(chatId, actorId, userId, at) {
    return this.#transaction(async (db) => {
      const chat = await this.#lockedChat(db, chatId, actorId);
      if (!chat) return { refused: 'FORBIDDEN' };
      if (!chat.members.has(userId)) return { refused: 'NOT_FOUND' };
      if (chat.type === 'dm') return { refused: 'NOT_A_GROUP' };
      // the read cursor goes with the membership
      await db.query('DELETE FROM memberships WHERE chat_id = $1 AND user_id = $2', [chatId, userId]);
      await db.query('UPDATE chats SET updated_at = $2 WHERE id = $1', [chatId, at]);
      chat.members.delete(userId);
      chat.updatedAt = at;
      return { chat };
    });
  }

  // The chat, locked against concurrent membership changes, if `actorId` is a member.
  async #lockedChat(db, chatId, actorId) {
    await db.query('SELECT 1 FROM chats WHERE id = $1 FOR UPDATE', [chatId]);
    return this.chatOfMember(chatId, actorId, db);
  }

  /** Users who share at least one chat with `userId`. */
  async contactsOf(userId) {
    const { rows } = await this.pool.query(
      `SELECT DISTINCT o.user_id FROM memberships mine JOIN memberships o ON o.chat_id = mine.chat_id
       WHERE mine.user_id = $1 AND o.user_id <> $1`, [userId]);
    return new Set(rows.map((r) => r.user_id));
  }

  /**
   * Stores the message if its sender is a member. Returns { member: false }, { member, created:
   * true, message } or, for a retry, { member, created: false, message: the first copy }.
   */
  async appendMessage(message) {
    const { _id, chatId, senderId, body, clientId, t } = message;
    const { rows } = await this.pool.query({ ...Q.append, values: [_id, chatId, senderId, body, clientId, t] });
    if (!rows[0].member) return { member: false };
    if (rows[0].id !== null) return { member: true, created: true, message };
    const first = await this.findByClientId(chatId, senderId, clientId);
    // The first copy's chat was deleted in between: not possible here (chats are never deleted).
    return { member: first.member, created: false, message: first.message };
  }

  /** { member, message (undefined if none) } for the idempotency key. */
  async findByClientId(chatId, senderId, clientId) {
    const { rows } = await this.pool.query({ ...Q.byClientId, values: [chatId, senderId, clientId] });
    const row = rows[0];
    return { member: row.member, message: row.id === null ? undefined : messageOf(row) };
  }

  /**
   * One page of the chat, oldest first, as the in-memory store pages it (a cursor that is not a
   * message of this chat pages nothing); undefined if `userId` is not a member.
   */
  async page(chatId, userId, { beforeId, afterId, limit }) {
    const q = afterId !== undefined ? Q.after : beforeId !== undefined ? Q.before : Q.newest;
    const values = [chatId, userId, limit + 1];
    if (q !== Q.newest) values.push(afterId ?? beforeId);
    const { rows } = await this.pool.query({ ...q, values });
    if (!rows.length) return undefined;
    const found = rows[0].id === null ? [] : rows;
    const hasMore = found.length > limit;
    const slice = hasMore ? found.slice(0, limit) : found;
    if (q !== Q.after) slice.reverse();
    return { messages: slice.map(messageOf), hasMore };
  }

  /**
   * Moves the read cursor forward to `messageId`: { member: false }, { member, found: false },
   * or { member, found, advanced, cursor: { messageId, readAt } }.
   */
  async markRead(chatId, userId, messageId, at) {
    const { rows } = await this.pool.query({ ...Q.markRead, values: [chatId, userId, messageId, at] });
    const r = rows[0];
    if (!r.member) return { member: false };
    if (!r.found) return { member: true, found: false };
    if (r.new_id !== null) return { member: true, found: true, advanced: true, cursor: { messageId: r.new_id, readAt: r.new_at } };
    return { member: true, found: true, advanced: false, cursor: { messageId: r.old_id, readAt: r.old_at } };
  }

  /** Every member's cursor that is set, or undefined if `userId` is not a member. */
  async readCursors(chatId, userId) {
    const { rows } = await this.pool.query(
      `SELECT o.user_id, o.last_read_message_id, o.last_read_at FROM memberships mb
       LEFT JOIN memberships o ON o.chat_id = mb.chat_id AND o.last_read_message_id IS NOT NULL
       WHERE mb.chat_id = $1 AND mb.user_id = $2`, [chatId, userId]);
    if (!rows.length) return undefined;
    return rows.filter((r) => r.user_id !== null)
      .map((r) => ({ userId: r.user_id, messageId: r.last_read_message_id, readAt: iso(r.last_read_at) }));
  }
}
