#!/usr/bin/env node
// Parley benchmark peer: the Parley chat contract (seed/realtime-messaging.md + the "Chat
// contract decisions" and "REST API" sections of DESIGN.md) on Node.js with socket.io 4.8,
// all state in memory. It is what a team would write on Node; the benchmarks run it side by
// side with Parley under the same load.
//
//   node bench/peer/server.mjs --port 3001 --host 127.0.0.1 --jwt-secret SECRET
//
// Flags (each also read from its PARLEY_* environment twin): --port (3001, 0 = any free port),
// --host (127.0.0.1), --jwt-secret (required), --ping-interval ms (25000), --ping-timeout ms
// (20000), --max-payload bytes (1000000), --store postgres://... (in memory without it),
// --redis redis://HOST:PORT (@socket.io/redis-adapter: broadcasts, remote room operations and
// server-side events shared with every other socket.io server on that Redis, Parley included),
// --recovery-window S (0 = off: socket.io's in-memory connectionStateRecovery, sessions and
// missed broadcasts kept S seconds, as Parley's flag of that name; the Redis adapter keeps no
// sessions, so nothing recovers with --redis).
// A leading `serve` and unknown flags such as `--data-dir DIR` are accepted and ignored, so
// Parley's own test helpers can start it.

import http from 'node:http';
import { createHmac, createSecretKey, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { Server } from 'socket.io';

// =============================================================================================
// Configuration
// =============================================================================================

const VALUE_FLAGS = new Set(['port', 'host', 'jwt-secret', 'ping-interval', 'ping-timeout', 'max-payload', 'store', 'pool-size', 'redis', 'recovery-window']);

function parseArgs(argv) {
  const args = [...argv];
  if (args[0] === 'serve') args.shift();
  if (args.length > 0 && !args[0].startsWith('--')) {
    throw new Error(`unsupported command '${args[0]}': the peer only serves (no local users, no CLI tools)`);
  }
  const flags = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith('--')) continue; // a stray positional: ignored
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    let value;
    if (eq >= 0) value = arg.slice(eq + 1);
    else if (i + 1 < args.length && !args[i + 1].startsWith('--')) value = args[++i];
    if (VALUE_FLAGS.has(name)) {
      if (value === undefined) throw new Error(`--${name} needs a value`);
      flags[name] = value;
    }
    // anything else (--data-dir, --threads, ...) is accepted and ignored
  }
  const pick = (name, fallback) => {
    if (flags[name] !== undefined) return flags[name];
    const env = process.env[`PARLEY_${name.toUpperCase().replaceAll('-', '_')}`];
    return env !== undefined && env !== '' ? env : fallback;
  };
  const int = (name, fallback, min) => {
    const raw = pick(name, String(fallback));
    if (!/^\d+$/.test(raw) || Number(raw) < min) throw new Error(`--${name} must be an integer >= ${min} (got '${raw}')`);
    return Number(raw);
  };
  const config = {
    port: int('port', 3001, 0),
    host: pick('host', '127.0.0.1'),
    jwtSecret: pick('jwt-secret', undefined),
    pingInterval: int('ping-interval', 25000, 1),
    pingTimeout: int('ping-timeout', 20000, 1),
    maxPayload: int('max-payload', 1_000_000, 1),
    // A postgres:// or postgresql:// URI: chats and messages in PostgreSQL. Any other store
    // (Parley's sqlite:PATH) is ignored, as --data-dir is: the peer then keeps all in memory.
    store: /^postgres(ql)?:\/\//.test(pick('store', '')) ? pick('store', '') : null,
    poolSize: int('pool-size', 10, 1),
    redis: pick('redis', '') || null,
    // Seconds a dropped client can come back in and recover (socket.io's connectionStateRecovery,
    // in this process's memory); 0 = off, the default. Parley's flag of the same name defaults
    // to 120: a comparison of the two passes it explicitly.
    recoveryWindow: int('recovery-window', 0, 0),
  };
  if (config.port > 65535) throw new Error('--port must be 0..65535');
  if (!config.jwtSecret) throw new Error('--jwt-secret (or PARLEY_JWT_SECRET) is required');
  if (config.redis !== null && !/^rediss?:\/\//.test(config.redis)) {
    throw new Error(`--redis must be a redis:// URI (got '${config.redis}')`);
  }
  return config;
}

// =============================================================================================
// Contract constants
// =============================================================================================

const MAX_BODY_LENGTH = 8000; // UTF-16 code units (JavaScript string length)
const MAX_CLIENT_ID_LENGTH = 128;
const MAX_TITLE_LENGTH = 200;
const MAX_MEMBERS = 5000;
const RATE_LIMIT = 10;
const RATE_WINDOW_MS = 10_000;
const RATE_LIMITED_MESSAGE = 'Maximum 10 messages per 10 seconds';
const PRESENCE_WINDOW_MS = 2000;
const PRUNE_INTERVAL_MS = 30_000;
const JWT_LEEWAY_S = 30; // clock skew tolerated on exp / nbf
const MAX_TOKEN_LENGTH = 8192;
const NOT_MEMBER = 'Not a member of this chat'; // the same text for a chat that does not exist
const DEFAULT_PAGE = 50;
const MAX_PAGE = 100;

// =============================================================================================
// Small helpers: ids, time, errors
// =============================================================================================

const OBJECT_ID_RE = /^[0-9a-f]{24}$/;
const isObjectId = (v) => typeof v === 'string' && OBJECT_ID_RE.test(v);
const isPlainObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v) && !Buffer.isBuffer(v);
const iso = (ms) => new Date(ms).toISOString();

// MongoDB-style ObjectId: 4-byte seconds, 5 bytes random per process, 3-byte counter.
const PROCESS_RANDOM = randomBytes(5).toString('hex');
let objectIdCounter = randomBytes(3).readUIntBE(0, 3);
function newObjectId() {
  const seconds = Math.floor(Date.now() / 1000) >>> 0;
  objectIdCounter = (objectIdCounter + 1) & 0xffffff;
  return seconds.toString(16).padStart(8, '0') + PROCESS_RANDOM + objectIdCounter.toString(16).padStart(6, '0');
}

const HTTP_STATUS = {
  VALIDATION_ERROR: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  RATE_LIMITED: 429,
  INTERNAL: 500,
};

/** The error envelope; its correlationId goes to the log line for this error. */
function errorReply(code, message, context) {
  const correlationId = randomUUID();
  console.log(`${new Date().toISOString()} ${code} correlationId=${correlationId} ${context}: ${message}`);
  return { ok: false, error: code, message, correlationId };
}

/** A failed operation: code + message, turned into an envelope by the transport. */
class Failure {
  constructor(code, message) {
    this.code = code;
    this.message = message;
  }
}
const fail = (code, message) => new Failure(code, message);

// =============================================================================================
// JWT (HS256 only; "none" and every other alg refused)
// =============================================================================================

const B64URL_RE = /^[A-Za-z0-9_-]+$/;

function decodeJsonSegment(segment) {
  try {
    const value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return isPlainObject(value) ? value : null;
  } catch {
    return null;
  }
}

function makeJwtVerifier(secret) {
  const key = createSecretKey(Buffer.from(secret, 'utf8'));
  /** Returns { userId } or { reason }. */
  return function verify(token) {
    if (typeof token !== 'string' || token.length === 0) return { reason: 'Missing token' };
    if (token.length > MAX_TOKEN_LENGTH) return { reason: 'Invalid token: too long' };
    const parts = token.split('.');
    if (parts.length !== 3) return { reason: 'Invalid token' };
    const [headerPart, payloadPart, signaturePart] = parts;
    if (!B64URL_RE.test(headerPart) || !B64URL_RE.test(payloadPart) || !B64URL_RE.test(signaturePart)) {
      return { reason: 'Invalid token: malformed' };
    }
    const header = decodeJsonSegment(headerPart);
    if (!header) return { reason: 'Invalid token: malformed header' };
    if (header.alg !== 'HS256') return { reason: 'Invalid token: algorithm not allowed' };

    const expected = createHmac('sha256', key).update(`${headerPart}.${payloadPart}`).digest();
    const given = Buffer.from(signaturePart, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected) ||
        given.toString('base64url') !== signaturePart) {
      return { reason: 'Invalid token: bad signature' };
    }

    const claims = decodeJsonSegment(payloadPart);
    if (!claims) return { reason: 'Invalid token: malformed claims' };
    const now = Date.now() / 1000;
    if (claims.exp !== undefined) {
      if (typeof claims.exp !== 'number' || !Number.isFinite(claims.exp)) return { reason: 'Invalid token: bad exp' };
      if (now - JWT_LEEWAY_S > claims.exp) return { reason: 'Invalid token: expired' };
    }
    if (claims.nbf !== undefined) {
      if (typeof claims.nbf !== 'number' || !Number.isFinite(claims.nbf)) return { reason: 'Invalid token: bad nbf' };
      if (claims.nbf > now + JWT_LEEWAY_S) return { reason: 'Invalid token: not yet valid' };
    }
    if (!isObjectId(claims.sub)) return { reason: 'Invalid token: sub must be an ObjectId' };
    return { userId: claims.sub };
  };
}

// =============================================================================================
// In-memory store
// =============================================================================================

/** Total order of messages in a chat: (createdAt, id). */
function compareMessages(a, b) {
  if (a.t !== b.t) return a.t - b.t;
  return a._id < b._id ? -1 : a._id > b._id ? 1 : 0;
}

class Store {
  constructor() {
    /** chatId -> chat { _id, type, title, createdBy, createdAt, updatedAt (ms), members, messages, byClientId, sentBy } */
    this.chats = new Map();
    /** messageId -> message { _id, chatId, senderId, body, clientId, t (ms), createdAt (ISO) } */
    this.messages = new Map();
    /** userId -> Set of chatIds */
    this.userChats = new Map();
  }

  // ---- chats and memberships --------------------------------------------------------------

  createChat({ type, title, memberIds, createdBy }) {
    const now = Date.now();
    const chat = {
      _id: newObjectId(),
      type,
      title,
      createdBy,
      createdAt: now,
      updatedAt: now,
      members: new Map(), // userId -> { cursor: null | { messageId, t, readAt } }, in joining order
      messages: [], // sorted by (t, _id)
      byClientId: new Map(), // senderId + clientId -> message (senderId has a fixed length of 24)
      sentBy: new Map(), // userId -> number of messages sent (for unread counts)
    };
    this.chats.set(chat._id, chat);
    for (const id of memberIds) this.#addMembership(chat, id);
    return chat;
  }

  #addMembership(chat, userId) {
    chat.members.set(userId, { cursor: null });
    let set = this.userChats.get(userId);
    if (!set) this.userChats.set(userId, (set = new Set()));
    set.add(chat._id);
  }

  addMember(chat, userId) {
    this.#addMembership(chat, userId);
    chat.updatedAt = Date.now();
  }

  removeMember(chat, userId) {
    chat.members.delete(userId); // the read cursor goes with the membership
    const set = this.userChats.get(userId);
    if (set) {
      set.delete(chat._id);
      if (set.size === 0) this.userChats.delete(userId);
    }
    chat.updatedAt = Date.now();
  }

  setTitle(chat, title) {
    chat.title = title;
    chat.updatedAt = Date.now();
  }

  /** The chat if `userId` is a member of it, else undefined (non-member and unknown look alike). */
  chatOfMember(chatId, userId) {
    const chat = this.chats.get(chatId);
    return chat && chat.members.has(userId) ? chat : undefined;
  }

  chatsOf(userId) {
    const ids = this.userChats.get(userId);
    if (!ids) return [];
    const list = [];
    for (const id of ids) list.push(this.chats.get(id));
    // newest activity first, as Parley lists them
    return list.sort((a, b) => b.updatedAt - a.updatedAt || (a._id < b._id ? 1 : a._id > b._id ? -1 : 0));
  }

  /** Users who share at least one chat with `userId`. */
  contactsOf(userId) {
    const contacts = new Set();
    const ids = this.userChats.get(userId);
    if (ids) {
      for (const id of ids) {
        for (const member of this.chats.get(id).members.keys()) if (member !== userId) contacts.add(member);
      }
    }
    return contacts;
  }

  // ---- messages -----------------------------------------------------------------------------

  findByClientId(chat, senderId, clientId) {
    return chat.byClientId.get(senderId + clientId);
  }

  insertMessage(chat, senderId, body, clientId) {
    const t = Date.now();
    const message = { _id: newObjectId(), chatId: chat._id, senderId, body, clientId, t, createdAt: iso(t) };
    const list = chat.messages;
    if (list.length === 0 || compareMessages(list[list.length - 1], message) < 0) {
      list.push(message);
    } else {
      // The clock stepped back (or the id counter wrapped): keep the (createdAt, id) order.
      list.splice(this.#lowerBound(list, message), 0, message);
    }
    this.messages.set(message._id, message);
    chat.byClientId.set(senderId + clientId, message);
    chat.sentBy.set(senderId, (chat.sentBy.get(senderId) ?? 0) + 1);
    return message;
  }

  /** First index whose message is not before `key` in (createdAt, id) order. */
  #lowerBound(list, key) {
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareMessages(list[mid], key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** A message of `chat`, or undefined (also for a message of another chat). */
  messageIn(chat, messageId) {
    const message = this.messages.get(messageId);
    return message && message.chatId === chat._id ? message : undefined;
  }

  /**
   * One page of `chat`, oldest first: the newest `limit` (no cursor), the `limit` before
   * `beforeId`, or the `limit` after `afterId`. A cursor that is not a message of this chat
   * pages nothing.
   */
  page(chat, { beforeId, afterId, limit }) {
    const list = chat.messages;
    let start;
    let end;
    let hasMore;
    if (afterId !== undefined) {
      const cursor = this.messageIn(chat, afterId);
      if (!cursor) return { messages: [], hasMore: false };
      start = this.#lowerBound(list, cursor) + 1;
      end = Math.min(list.length, start + limit);
      hasMore = end < list.length;
    } else {
      if (beforeId !== undefined) {
        const cursor = this.messageIn(chat, beforeId);
        if (!cursor) return { messages: [], hasMore: false };
        end = this.#lowerBound(list, cursor);
      } else {
        end = list.length;
      }
      start = Math.max(0, end - limit);
      hasMore = start > 0;
    }
    const messages = [];
    for (let i = start; i < end; i++) messages.push(messageJson(list[i]));
    return { messages, hasMore };
  }

  // ---- read cursors -------------------------------------------------------------------------

  /**
   * Moves `userId`'s cursor in `chat` to `message` if that is forward by (createdAt, id).
   * Returns { advanced, cursor }.
   */
  markRead(chat, userId, message) {
    const membership = chat.members.get(userId);
    const current = membership.cursor;
    if (current && compareMessages({ t: current.t, _id: current.messageId }, message) >= 0) {
      return { advanced: false, cursor: current };
    }
    membership.cursor = { messageId: message._id, t: message.t, readAt: Date.now() };
    return { advanced: true, cursor: membership.cursor };
  }

  readCursors(chat) {
    const out = [];
    for (const [userId, { cursor }] of chat.members) {
      if (cursor) out.push({ userId, messageId: cursor.messageId, readAt: iso(cursor.readAt) });
    }
    return out;
  }

  /** Messages of others after the user's read cursor. */
  unreadCount(chat, userId) {
    const cursor = chat.members.get(userId)?.cursor;
    const list = chat.messages;
    if (!cursor) return list.length - (chat.sentBy.get(userId) ?? 0);
    const key = { t: cursor.t, _id: cursor.messageId };
    let count = 0;
    for (let i = list.length - 1; i >= 0 && compareMessages(list[i], key) > 0; i--) {
      if (list[i].senderId !== userId) count++;
    }
    return count;
  }
}

// ---- wire shapes ------------------------------------------------------------------------------

function messageJson(m) {
  return { chatId: m.chatId, _id: m._id, body: m.body, senderId: m.senderId, createdAt: m.createdAt, clientId: m.clientId };
}

function chatJson(c) {
  return {
    _id: c._id,
    type: c.type,
    title: c.title,
    memberIds: [...c.members.keys()],
    createdBy: c.createdBy,
    createdAt: iso(c.createdAt),
    updatedAt: iso(c.updatedAt),
  };
}

// =============================================================================================
// Sliding-window rate limiter (a timestamp per accepted event, at most `limit` per key)
// =============================================================================================

class RateLimiter {
  constructor(limit, windowMs) {
    this.limit = limit;
    this.windowMs = windowMs;
    this.events = new Map(); // key -> ascending timestamps
  }

  tryAcquire(key, now = Date.now()) {
    let times = this.events.get(key);
    if (!times) this.events.set(key, (times = []));
    // an event exactly windowMs old has left the window
    while (times.length > 0 && times[0] <= now - this.windowMs) times.shift();
    if (times.length >= this.limit) return false;
    times.push(now);
    return true;
  }

  /** Gives back the event acquired last (a send that turned out not to count). */
  release(key) {
    this.events.get(key)?.pop();
  }

  prune(now = Date.now()) {
    for (const [key, times] of this.events) {
      if (times.length === 0 || times[times.length - 1] <= now - this.windowMs) this.events.delete(key);
    }
  }
}

// =============================================================================================
// Presence: online while any socket of the user is connected; at most one broadcast per window
// per user (leading at once, one trailing if the final state differs from the last one sent)
// =============================================================================================

class PresenceTracker {
  constructor(windowMs, broadcast) {
    this.windowMs = windowMs;
    this.broadcast = broadcast; // (userId, 'online' | 'offline') => void
    this.users = new Map(); // userId -> { sockets, lastSent, lastSentAt, timer }
  }

  connect(userId) {
    let state = this.users.get(userId);
    if (!state) this.users.set(userId, (state = { sockets: 0, lastSent: 'offline', lastSentAt: -Infinity, timer: null }));
    state.sockets++;
    this.#changed(userId, state);
  }

  disconnect(userId) {
    const state = this.users.get(userId);
    if (!state || state.sockets === 0) return;
    state.sockets--;
    this.#changed(userId, state);
  }

  #current(state) {
    return state.sockets > 0 ? 'online' : 'offline';
  }

  #send(userId, state, status, now) {
    state.lastSent = status;
    state.lastSentAt = now;
    this.broadcast(userId, status);
  }

  #changed(userId, state) {
    if (state.timer) return; // a trailing check is due; it sends whatever the state is then
    const current = this.#current(state);
    if (current === state.lastSent) return;
    const now = Date.now();
    if (now - state.lastSentAt >= this.windowMs) {
      this.#send(userId, state, current, now);
      return;
    }
    state.timer = setTimeout(() => {
      state.timer = null;
      const final = this.#current(state);
      if (final !== state.lastSent) this.#send(userId, state, final, Date.now());
    }, state.lastSentAt + this.windowMs - now);
  }

  /** Forgets users who are offline, said so, and whose window is over. */
  prune(now = Date.now()) {
    for (const [userId, s] of this.users) {
      if (s.sockets === 0 && s.lastSent === 'offline' && !s.timer && now - s.lastSentAt >= this.windowMs) {
        this.users.delete(userId);
      }
    }
  }

  stop() {
    for (const s of this.users.values()) if (s.timer) clearTimeout(s.timer);
  }
}

// =============================================================================================
// The chat service: everything both the socket handlers and the REST API use
// =============================================================================================

function validationError(message) {
  return fail('VALIDATION_ERROR', message);
}

const CHAT_ID_ERROR = 'chatId must be a 24-character hex ObjectId';

/** The chatId of an event payload, or a Failure. */
function chatIdOf(payload) {
  if (!isPlainObject(payload)) return validationError('Payload must be an object');
  if (!isObjectId(payload.chatId)) return validationError(CHAT_ID_ERROR);
  return payload.chatId;
}

/**
 * onAck(event, handler) registers an acknowledged event on `socket`: handler(payload) returns a
 * reply or a Failure (or a promise of one); never a disconnect.
 */
function ackHandlerOf(socket, userId) {
  return (event, handler) => {
    socket.on(event, (...args) => {
      const ack = typeof args[args.length - 1] === 'function' ? args.pop() : undefined;
      const reply = (result) => {
        if (!ack) return;
        ack(result instanceof Failure ? errorReply(result.code, result.message, `${event} user=${userId}`) : result);
      };
      const internal = (err) => {
        console.error(`${event}: ${err?.stack ?? err}`);
        return fail('INTERNAL', 'Internal error');
      };
      let result;
      try {
        result = handler(args[0]);
      } catch (err) {
        result = internal(err);
      }
      if (result instanceof Promise) result.then(reply, (err) => reply(internal(err)));
      else reply(result);
    });
  };
}

/** The chatId of a message:send payload whose body and clientId are valid, or a Failure. */
function sendTargetOf(payload, chatIdFromPath) {
  if (!isPlainObject(payload)) return validationError('Payload must be an object');
  let chatId = chatIdFromPath;
  if (chatId === undefined) {
    chatId = chatIdOf(payload);
    if (chatId instanceof Failure) return chatId;
  }
  const { body, clientId } = payload;
  if (typeof body !== 'string') return validationError('body must be a string');
  if (body.length === 0 || body.trim().length === 0) return validationError('body must not be empty');
  if (body.length > MAX_BODY_LENGTH) return validationError(`body must be at most ${MAX_BODY_LENGTH} characters`);
  if (typeof clientId !== 'string' || clientId.length === 0 || clientId.length > MAX_CLIENT_ID_LENGTH) {
    return validationError(`clientId must be a non-empty string of at most ${MAX_CLIENT_ID_LENGTH} characters`);
  }
  return chatId;
}

class ChatService {
  constructor(io, store) {
    this.io = io;
    this.store = store;
    this.limiter = new RateLimiter(RATE_LIMIT, RATE_WINDOW_MS);
    this.presence = new PresenceTracker(PRESENCE_WINDOW_MS, (userId, status) => this.broadcastPresence(userId, status));
    this.lastSeenAt = new Map(); // userId -> ms of the last presence:ping
    this.pruneTimer = setInterval(() => {
      const now = Date.now();
      this.limiter.prune(now);
      this.presence.prune(now);
    }, PRUNE_INTERVAL_MS);
    this.pruneTimer.unref();
  }

  stop() {
    clearInterval(this.pruneTimer);
    this.presence.stop();
  }

  /**
   * message:send and POST /v1/chats/:id/messages. Returns a Failure or { created, message };
   * a new message is broadcast as message:new to chat:<id> before this returns.
   */
  sendMessage(userId, payload, chatIdFromPath) {
    const chatId = sendTargetOf(payload, chatIdFromPath);
    if (chatId instanceof Failure) return chatId;
    const { body, clientId } = payload;
    const chat = this.store.chatOfMember(chatId, userId);
    if (!chat) return fail('FORBIDDEN', NOT_MEMBER);
    // A retry is answered before the limiter and does not count against it.
    const existing = this.store.findByClientId(chat, userId, clientId);
    if (existing) return { created: false, message: existing };
    if (!this.limiter.tryAcquire(userId)) return fail('RATE_LIMITED', RATE_LIMITED_MESSAGE);
    const message = this.store.insertMessage(chat, userId, body, clientId);
    this.io.to(`chat:${chat._id}`).emit('message:new', messageJson(message));
    return { created: true, message };
  }

  /** chat:update {chat} to user:<id> of every member, plus `alsoTo` (removed members). */
  emitChatUpdate(chat, alsoTo = []) {
    const rooms = [];
    for (const id of chat.members.keys()) rooms.push(`user:${id}`);
    for (const id of alsoTo) rooms.push(`user:${id}`);
    if (rooms.length > 0) this.io.to(rooms).emit('chat:update', { chat: chatJson(chat) });
  }

  broadcastPresence(userId, status) {
    const contacts = this.store.contactsOf(userId);
    if (contacts.size === 0) return;
    const rooms = [];
    for (const id of contacts) rooms.push(`user:${id}`);
    this.io.to(rooms).emit('presence:update', { userId, status, timestamp: new Date().toISOString() });
  }

  // ---- socket events -------------------------------------------------------------------------

  /** Registers the contract's handlers on one authenticated socket. */
  attach(socket) {
    const userId = socket.data.userId;
    const io = this.io;
    const store = this.store;

    const onAck = ackHandlerOf(socket, userId);

    onAck('room:join', (payload) => {
      const chatId = chatIdOf(payload);
      if (chatId instanceof Failure) return chatId;
      if (!store.chatOfMember(chatId, userId)) return fail('FORBIDDEN', NOT_MEMBER);
      socket.join(`chat:${chatId}`);
      return { ok: true };
    });

    onAck('room:leave', (payload) => {
      const chatId = chatIdOf(payload);
      if (chatId instanceof Failure) return chatId;
      socket.leave(`chat:${chatId}`);
      return { ok: true };
    });

    onAck('message:send', (payload) => {
      const result = this.sendMessage(userId, payload);
      if (result instanceof Failure) return result;
      return { ok: true, data: { clientId: result.message.clientId, serverId: result.message._id } };
    });

    onAck('receipt:read', (payload) => {
      const chatId = chatIdOf(payload);
      if (chatId instanceof Failure) return chatId;
      if (!isObjectId(payload.messageId)) return validationError('messageId must be a 24-character hex ObjectId');
      const chat = store.chatOfMember(chatId, userId);
      if (!chat) return fail('FORBIDDEN', NOT_MEMBER);
      const message = store.messageIn(chat, payload.messageId);
      if (!message) return fail('NOT_FOUND', 'No such message in this chat');
      const { advanced, cursor } = store.markRead(chat, userId, message);
      const readAt = iso(cursor.readAt);
      if (advanced) {
        io.to(`chat:${chatId}`).emit('receipt:update', { chatId, messageId: cursor.messageId, userId, readAt });
      }
      return { ok: true, data: { readAt } };
    });

    onAck('presence:ping', (payload) => {
      if (!isPlainObject(payload)) return validationError('Payload must be an object');
      const now = Date.now();
      this.lastSeenAt.set(userId, now);
      return { ok: true, data: { serverTime: iso(now) } };
    });

    // Fire-and-forget: bad payloads and non-members are ignored without a word.
    const typing = (state) => (payload) => {
      if (!isPlainObject(payload) || !isObjectId(payload.chatId)) return;
      const chatId = payload.chatId;
      const room = `chat:${chatId}`;
      // Being in the room means membership was checked at room:join (removal leaves the room).
      if (!socket.rooms.has(room) && !store.chatOfMember(chatId, userId)) return;
      io.to(room).except(`user:${userId}`).emit('typing:update', { chatId, userId, state });
    };
    socket.on('typing:start', typing('start'));
    socket.on('typing:stop', typing('stop'));
  }
}

// =============================================================================================
// The chat service on PostgreSQL (--store postgres://...): the same contract, every chat,
// membership, message and read cursor in the database. A send is acknowledged and broadcast
// only once its INSERT has committed; joins, reads and REST ask the database each time.
// =============================================================================================

class PgChatService extends ChatService {
  /**
   * message:send and POST /v1/chats/:id/messages: resolves to a Failure or { created, message }.
   * The membership check and the insert are one statement; a retry is answered with the stored
   * first copy and does not count against the limiter.
   */
  async sendMessage(userId, payload, chatIdFromPath) {
    const chatId = sendTargetOf(payload, chatIdFromPath);
    if (chatId instanceof Failure) return chatId;
    const { body, clientId } = payload;
    if (!this.limiter.tryAcquire(userId)) {
      const { member, message } = await this.store.findByClientId(chatId, userId, clientId);
      if (!member) return fail('FORBIDDEN', NOT_MEMBER);
      return message ? { created: false, message } : fail('RATE_LIMITED', RATE_LIMITED_MESSAGE);
    }
    const t = Date.now();
    const message = { _id: newObjectId(), chatId, senderId: userId, body, clientId, t, createdAt: iso(t) };
    let stored;
    try {
      stored = await this.store.appendMessage(message);
    } catch (err) {
      this.limiter.release(userId);
      throw err;
    }
    if (!stored.created) this.limiter.release(userId);
    if (!stored.member) return fail('FORBIDDEN', NOT_MEMBER);
    if (stored.created) this.io.to(`chat:${chatId}`).emit('message:new', messageJson(message));
    return { created: stored.created, message: stored.message };
  }

  broadcastPresence(userId, status) {
    const timestamp = new Date().toISOString();
    this.store.contactsOf(userId).then((contacts) => {
      if (contacts.size === 0) return;
      const rooms = [];
      for (const id of contacts) rooms.push(`user:${id}`);
      this.io.to(rooms).emit('presence:update', { userId, status, timestamp });
    }, (err) => console.error(`presence of ${userId}: ${err?.stack ?? err}`));
  }

  attach(socket) {
    const userId = socket.data.userId;
    const { io, store } = this;
    const onAck = ackHandlerOf(socket, userId);

    onAck('room:join', async (payload) => {
      const chatId = chatIdOf(payload);
      if (chatId instanceof Failure) return chatId;
      if (!(await store.isMember(chatId, userId))) return fail('FORBIDDEN', NOT_MEMBER);
      socket.join(`chat:${chatId}`);
      return { ok: true };
    });

    onAck('room:leave', (payload) => {
      const chatId = chatIdOf(payload);
      if (chatId instanceof Failure) return chatId;
      socket.leave(`chat:${chatId}`);
      return { ok: true };
    });

    // One socket's sends are stored, broadcast and acknowledged in the order they were sent:
    // each waits for the one before it (the pool would otherwise commit them in any order).
    let sendsBefore = Promise.resolve();
    onAck('message:send', (payload) => {
      const result = sendsBefore.then(() => this.sendMessage(userId, payload)).then((r) => (r instanceof Failure
        ? r : { ok: true, data: { clientId: r.message.clientId, serverId: r.message._id } }));
      sendsBefore = result.catch(() => {});
      return result;
    });

    onAck('receipt:read', async (payload) => {
      const chatId = chatIdOf(payload);
      if (chatId instanceof Failure) return chatId;
      if (!isObjectId(payload.messageId)) return validationError('messageId must be a 24-character hex ObjectId');
      const mark = await store.markRead(chatId, userId, payload.messageId, Date.now());
      if (!mark.member) return fail('FORBIDDEN', NOT_MEMBER);
      if (!mark.found) return fail('NOT_FOUND', 'No such message in this chat');
      const readAt = iso(mark.cursor.readAt);
      if (mark.advanced) {
        io.to(`chat:${chatId}`).emit('receipt:update', { chatId, messageId: mark.cursor.messageId, userId, readAt });
      }
      return { ok: true, data: { readAt } };
    });

    onAck('presence:ping', (payload) => {
      if (!isPlainObject(payload)) return validationError('Payload must be an object');
      const now = Date.now();
      this.lastSeenAt.set(userId, now);
      return { ok: true, data: { serverTime: iso(now) } };
    });

    // Fire-and-forget: bad payloads and non-members are ignored without a word.
    const typing = (state) => (payload) => {
      if (!isPlainObject(payload) || !isObjectId(payload.chatId)) return;
      const chatId = payload.chatId;
      const room = `chat:${chatId}`;
      const emit = () => io.to(room).except(`user:${userId}`).emit('typing:update', { chatId, userId, state });
      // Being in the room means membership was checked at room:join (removal leaves the room).
      if (socket.rooms.has(room)) {
        emit();
        return;
      }
      store.isMember(chatId, userId).then((member) => member && emit(),
        (err) => console.error(`typing: ${err?.stack ?? err}`));
    };
    socket.on('typing:start', typing('start'));
    socket.on('typing:stop', typing('stop'));
  }

  /** The REST routes that touch the store, on the database (registered over the in-memory ones). */
  overrideRoutes(route) {
    const { store } = this;
    const memberChat = async (chatId, userId) => {
      if (!isObjectId(chatId)) return validationError(CHAT_ID_ERROR);
      return (await store.chatOfMember(chatId, userId)) ?? fail('FORBIDDEN', NOT_MEMBER);
    };
    const refusal = (refused) => (refused === 'FORBIDDEN' ? fail('FORBIDDEN', NOT_MEMBER)
      : refused === 'NOT_FOUND' ? fail('NOT_FOUND', NOT_MEMBER)
        : refused === 'FULL' ? validationError(`at most ${MAX_MEMBERS} members`)
          : validationError('a dm has exactly two members'));

    route('GET', '/v1/chats', async ({ userId }) => {
      const list = await store.chatsOf(userId);
      return [200, list.map(({ chat, unreadCount }) => ({ ...chatJson(chat), unreadCount }))];
    });

    route('POST', '/v1/chats', async ({ userId, body }) => {
      const wanted = newChatOf(userId, body);
      if (wanted instanceof Failure) return wanted;
      const chat = await store.createChat({ ...wanted, id: newObjectId(), at: Date.now() });
      this.emitChatUpdate(chat);
      return [201, chatJson(chat)];
    });

    route('GET', '/v1/chats/:chatId', async ({ userId, params }) => {
      const chat = await memberChat(params[0], userId);
      return chat instanceof Failure ? chat : [200, chatJson(chat)];
    });

    route('PATCH', '/v1/chats/:chatId', async ({ userId, body, params }) => {
      if (!body || !Object.hasOwn(body, 'title')) return validationError('Body must be an object with a title');
      const title = titleOf(body.title);
      if (title instanceof Failure) return title;
      if (!isObjectId(params[0])) return validationError(CHAT_ID_ERROR);
      const chat = await store.setTitle(params[0], userId, title, Date.now());
      if (!chat) return fail('FORBIDDEN', NOT_MEMBER);
      this.emitChatUpdate(chat);
      return [200, chatJson(chat)];
    });

    route('POST', '/v1/chats/:chatId/members', async ({ userId, body, params }) => {
      const newMember = body?.userId;
      if (!isObjectId(newMember)) return validationError('userId must be a 24-character hex ObjectId');
      if (!isObjectId(params[0])) return validationError(CHAT_ID_ERROR);
      const change = await store.addMember(params[0], userId, newMember, Date.now(), MAX_MEMBERS);
      if (change.refused) return refusal(change.refused);
      if (change.changed) this.emitChatUpdate(change.chat);
      return [200, chatJson(change.chat)];
    });

    route('DELETE', '/v1/chats/:chatId/members/:userId', async ({ userId, params }) => {
      const removed = params[1];
      if (!isObjectId(removed)) return validationError('userId must be a 24-character hex ObjectId');
      if (!isObjectId(params[0])) return validationError(CHAT_ID_ERROR);
      const change = await store.removeMember(params[0], userId, removed, Date.now());
      if (change.refused) return refusal(change.refused);
      // every device of the removed member leaves the chat room at once
      this.io.in(`user:${removed}`).socketsLeave(`chat:${params[0]}`);
      this.emitChatUpdate(change.chat, [removed]);
      return [200, chatJson(change.chat)];
    });

    route('GET', '/v1/chats/:chatId/messages', async ({ userId, params, query }) => {
      const page = pageQueryOf(query);
      if (page instanceof Failure) return page;
      if (!isObjectId(params[0])) return validationError(CHAT_ID_ERROR);
      const found = await store.page(params[0], userId, page);
      if (!found) return fail('FORBIDDEN', NOT_MEMBER);
      return [200, { messages: found.messages.map(messageJson), hasMore: found.hasMore }];
    });

    route('POST', '/v1/chats/:chatId/messages', async ({ userId, body, params }) => {
      if (!isObjectId(params[0])) return validationError(CHAT_ID_ERROR);
      const result = await this.sendMessage(userId, body, params[0]);
      if (result instanceof Failure) return result;
      return [result.created ? 201 : 200, { clientId: result.message.clientId, serverId: result.message._id }];
    });

    route('GET', '/v1/chats/:chatId/read-cursors', async ({ userId, params }) => {
      if (!isObjectId(params[0])) return validationError(CHAT_ID_ERROR);
      const cursors = await store.readCursors(params[0], userId);
      return cursors ? [200, cursors] : fail('FORBIDDEN', NOT_MEMBER);
    });
  }
}

// =============================================================================================
// REST API
// =============================================================================================

const MAX_REQUEST_BODY = 1_000_000;

function sendJson(res, status, value) {
  const text = JSON.stringify(value);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'access-control-allow-origin': '*',
  });
  res.end(text);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_REQUEST_BODY) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The parsed JSON object of a request body, or undefined. */
function parseObject(text) {
  if (!text) return undefined;
  try {
    const value = JSON.parse(text);
    return isPlainObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function bearerOf(req) {
  const header = req.headers.authorization;
  if (typeof header !== 'string' || header.length < 7) return '';
  const scheme = header.slice(0, 7);
  return scheme === 'Bearer ' || scheme === 'bearer ' ? header.slice(7) : '';
}

/** Title of a create / PATCH body: a string of at most 200 units, or null. */
function titleOf(value) {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string' || value.length > MAX_TITLE_LENGTH) {
    return validationError(`title must be a string of at most ${MAX_TITLE_LENGTH} characters or null`);
  }
  return value;
}

/** The chat a POST /v1/chats body asks for ({ type, title, memberIds, createdBy }), or a Failure. */
function newChatOf(userId, body) {
  if (!body) return validationError('Body must be a JSON object');
  const { type, memberIds } = body;
  if (type !== 'dm' && type !== 'group') return validationError('type must be "dm" or "group"');
  const title = titleOf(body.title);
  if (title instanceof Failure) return title;
  if (!Array.isArray(memberIds)) return validationError('memberIds must be an array of ObjectIds');
  const members = new Set([userId]); // the creator is always a member
  for (const id of memberIds) {
    if (!isObjectId(id)) return validationError('memberIds must be an array of ObjectIds');
    members.add(id);
  }
  if (members.size > MAX_MEMBERS) return validationError(`at most ${MAX_MEMBERS} members`);
  if (type === 'dm' && members.size !== 2) return validationError('a dm has exactly two members');
  return { type, title, memberIds: members, createdBy: userId };
}

/** The { beforeId, afterId, limit } of a history request's query, or a Failure. */
function pageQueryOf(query) {
  const before = query.get('before');
  const after = query.get('after');
  if (before !== null && after !== null) return validationError('use before or after, not both');
  if ((before !== null && !isObjectId(before)) || (after !== null && !isObjectId(after))) {
    return validationError('before/after must be a message id');
  }
  let limit = DEFAULT_PAGE;
  const rawLimit = query.get('limit');
  if (rawLimit !== null) {
    limit = /^\d{1,4}$/.test(rawLimit) ? Number(rawLimit) : NaN;
    if (!(limit >= 1 && limit <= MAX_PAGE)) return validationError(`limit must be 1..${MAX_PAGE}`);
  }
  return { beforeId: before ?? undefined, afterId: after ?? undefined, limit };
}

function makeRestHandler(service, verifyToken) {
  const { store } = service;

  // A member's chat, or the Failure for a bad id / non-member / unknown chat.
  const memberChat = (chatId, userId) => {
    if (!isObjectId(chatId)) return validationError(CHAT_ID_ERROR);
    return store.chatOfMember(chatId, userId) ?? fail('FORBIDDEN', NOT_MEMBER);
  };

  // Each route: [method, pattern segments, handler({userId, body, params, query}), authed]
  // A handler returns a Failure, or [status, data].
  const routes = [];
  // A later route of the same method and pattern replaces the earlier one.
  const route = (method, pattern, handler, { authed = true } = {}) => {
    const at = routes.findIndex((r) => r.method === method && r.pattern === pattern);
    if (at >= 0) routes.splice(at, 1);
    routes.push({ method, pattern, segments: pattern.split('/').filter(Boolean), handler, authed });
  };

  route('GET', '/healthz', () => [200, { status: 'ok' }], { authed: false });
  route('GET', '/readyz', () => [200, { status: 'ready' }], { authed: false });

  // The peer has no local users: every well-formed login is refused.
  route('POST', '/v1/auth/login', ({ body }) => {
    if (!body) return validationError('Body must be a JSON object');
    const { email, password } = body;
    if (typeof email !== 'string' || email === '' || typeof password !== 'string' || password === '') {
      return validationError('email and password are required');
    }
    return fail('UNAUTHORIZED', 'Wrong email or password');
  }, { authed: false });

  route('GET', '/v1/chats', ({ userId }) => {
    const list = store.chatsOf(userId).map((chat) => ({ ...chatJson(chat), unreadCount: store.unreadCount(chat, userId) }));
    return [200, list];
  });

  route('POST', '/v1/chats', ({ userId, body }) => {
    const wanted = newChatOf(userId, body);
    if (wanted instanceof Failure) return wanted;
    const chat = store.createChat(wanted);
    service.emitChatUpdate(chat);
    return [201, chatJson(chat)];
  });

  route('GET', '/v1/chats/:chatId', ({ userId, params }) => {
    const chat = memberChat(params[0], userId);
    return chat instanceof Failure ? chat : [200, chatJson(chat)];
  });

  route('PATCH', '/v1/chats/:chatId', ({ userId, body, params }) => {
    if (!body || !Object.hasOwn(body, 'title')) return validationError('Body must be an object with a title');
    const title = titleOf(body.title);
    if (title instanceof Failure) return title;
    const chat = memberChat(params[0], userId);
    if (chat instanceof Failure) return chat;
    store.setTitle(chat, title);
    service.emitChatUpdate(chat);
    return [200, chatJson(chat)];
  });

  route('POST', '/v1/chats/:chatId/members', ({ userId, body, params }) => {
    const newMember = body?.userId;
    if (!isObjectId(newMember)) return validationError('userId must be a 24-character hex ObjectId');
    const chat = memberChat(params[0], userId);
    if (chat instanceof Failure) return chat;
    if (chat.type === 'dm') return validationError('a dm has exactly two members');
    if (chat.members.has(newMember)) return [200, chatJson(chat)];
    if (chat.members.size >= MAX_MEMBERS) return validationError(`at most ${MAX_MEMBERS} members`);
    store.addMember(chat, newMember);
    service.emitChatUpdate(chat);
    return [200, chatJson(chat)];
  });

  route('DELETE', '/v1/chats/:chatId/members/:userId', ({ userId, params }) => {
    const removed = params[1];
    if (!isObjectId(removed)) return validationError('userId must be a 24-character hex ObjectId');
    const chat = memberChat(params[0], userId);
    if (chat instanceof Failure) return chat;
    if (!chat.members.has(removed)) return fail('NOT_FOUND', NOT_MEMBER);
    if (chat.type === 'dm') return validationError('a dm has exactly two members');
    store.removeMember(chat, removed);
    // every device of the removed member leaves the chat room at once
    service.io.in(`user:${removed}`).socketsLeave(`chat:${chat._id}`);
    service.emitChatUpdate(chat, [removed]);
    return [200, chatJson(chat)];
  });

  route('GET', '/v1/chats/:chatId/messages', ({ userId, params, query }) => {
    const page = pageQueryOf(query);
    if (page instanceof Failure) return page;
    const chat = memberChat(params[0], userId);
    if (chat instanceof Failure) return chat;
    return [200, store.page(chat, page)];
  });

  route('POST', '/v1/chats/:chatId/messages', ({ userId, body, params }) => {
    if (!isObjectId(params[0])) return validationError(CHAT_ID_ERROR);
    const result = service.sendMessage(userId, body, params[0]);
    if (result instanceof Failure) return result;
    return [result.created ? 201 : 200, { clientId: result.message.clientId, serverId: result.message._id }];
  });

  route('GET', '/v1/chats/:chatId/read-cursors', ({ userId, params }) => {
    const chat = memberChat(params[0], userId);
    return chat instanceof Failure ? chat : [200, store.readCursors(chat)];
  });

  service.overrideRoutes?.(route);

  const match = (segments) => {
    const found = [];
    for (const r of routes) {
      if (r.segments.length !== segments.length) continue;
      const params = [];
      let ok = true;
      for (let i = 0; i < segments.length && ok; i++) {
        if (r.segments[i][0] === ':') params.push(segments[i]);
        else ok = r.segments[i] === segments[i];
      }
      if (ok) found.push({ route: r, params });
    }
    return found;
  };

  return async function handle(req, res) {
    const context = `${req.method} ${req.url}`;
    const failWith = (failure) => sendJson(res, HTTP_STATUS[failure.code] ?? 500, errorReply(failure.code, failure.message, context));
    try {
      const target = req.url ?? '/';
      const q = target.indexOf('?');
      const pathname = q >= 0 ? target.slice(0, q) : target;
      const query = new URLSearchParams(q >= 0 ? target.slice(q + 1) : '');
      const segments = pathname.split('/').filter(Boolean);

      if (req.method === 'OPTIONS' && pathname.startsWith('/v1/')) {
        res.writeHead(204, {
          'access-control-allow-origin': '*',
          'access-control-allow-methods': 'GET,POST,PATCH,DELETE,OPTIONS',
          'access-control-allow-headers': 'Authorization,Content-Type',
          'access-control-max-age': '86400',
        });
        res.end();
        return;
      }

      const candidates = match(segments);
      const hit = candidates.find((c) => c.route.method === req.method);
      if (!hit) {
        req.resume();
        const message = candidates.length > 0 ? 'Method not allowed' : 'No such route';
        sendJson(res, candidates.length > 0 ? 405 : 404, errorReply('NOT_FOUND', message, context));
        return;
      }

      const text = await readBody(req);
      if (text === null) {
        res.setHeader('connection', 'close');
        failWith(validationError(`Body larger than ${MAX_REQUEST_BODY} bytes`));
        return;
      }
      let userId;
      if (hit.route.authed) {
        const auth = verifyToken(bearerOf(req));
        if (!auth.userId) {
          failWith(fail('UNAUTHORIZED', auth.reason));
          return;
        }
        userId = auth.userId;
      }
      let result = hit.route.handler({ userId, body: parseObject(text), params: hit.params, query });
      if (result instanceof Promise) result = await result;
      if (result instanceof Failure) failWith(result);
      else sendJson(res, result[0], { ok: true, data: result[1] });
    } catch (err) {
      console.error(`${context}: ${err?.stack ?? err}`);
      if (!res.headersSent) failWith(fail('INTERNAL', 'Internal error'));
      else res.destroy();
    }
  };
}

// =============================================================================================
// Redis mode
// =============================================================================================

const REDIS_START_TIMEOUT_MS = 10_000;

/** Rejects after `ms` with `what` unless `promise` settles first. */
function deadline(promise, ms, what) {
  let timer;
  const expired = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/**
 * Connects the publishing and the subscribing client of @socket.io/redis-adapter (classic
 * PUBLISH/PSUBSCRIBE, key prefix "socket.io"). Each client logs the first error of an outage
 * and reconnects on its own; the adapter's subscriptions are renewed on reconnect.
 */
async function openRedis(url) {
  const { createClient } = await import('redis');
  const { createAdapter } = await import('@socket.io/redis-adapter');
  const pub = createClient({ url });
  const sub = pub.duplicate();
  for (const [name, client] of [['pub', pub], ['sub', sub]]) {
    let failing = false;
    client.on('error', (err) => {
      if (!failing) console.error(`peer: redis ${name}: ${err.message}`);
      failing = true;
    });
    client.on('ready', () => { failing = false; });
  }
  await deadline(Promise.all([pub.connect(), sub.connect()]), REDIS_START_TIMEOUT_MS, `redis ${url}`);
  const close = async () => {
    await Promise.allSettled([pub.quit(), sub.quit()]);
  };
  return { pub, adapter: guarded(createAdapter(pub, sub)), close };
}

/**
 * The adapter class `make` builds, except that a message it cannot handle is dropped with a log
 * line. Stock @socket.io/redis-adapter 8.3 throws out of its Redis listeners on a malformed
 * broadcast (garbage, truncated msgpack) and rejects on a request with fields missing: the
 * process would exit on anything anyone publishes on the adapter's channels.
 */
function guarded(make) {
  const dropped = (err) => {
    console.error(`peer: redis: dropped a malformed adapter message (${String(err?.message).slice(0, 200)})`);
  };
  // socket.io calls `new Adapter(nsp)`: a plain function that returns the adapter object.
  return function GuardedRedisAdapter(nsp) {
    const adapter = make(nsp);
    const onmessage = adapter.onmessage;
    adapter.onmessage = function guardedMessage(...args) {
      try {
        onmessage.apply(this, args);
      } catch (err) {
        dropped(err);
      }
    };
    const onrequest = adapter.onrequest;
    adapter.onrequest = function guardedRequest(...args) {
      return Promise.resolve().then(() => onrequest.apply(this, args)).catch(dropped);
    };
    return adapter;
  };
}

/**
 * Resolves once the adapter of namespace "/" is subscribed: the adapter subscribes without
 * waiting, and its per-server response channel (named by its uid) is the last subscription it
 * asks for, on the same connection as the others.
 */
async function redisSubscribed(io, pub) {
  const channel = `socket.io-response#/#${io.of('/').adapter.uid}#`;
  const until = Date.now() + REDIS_START_TIMEOUT_MS;
  for (;;) {
    const reply = await pub.sendCommand(['PUBSUB', 'NUMSUB', channel]);
    if (Number(reply[1]) >= 1) return;
    if (Date.now() > until) throw new Error(`redis: not subscribed to ${channel} within ${REDIS_START_TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * The server-side event every server of a mixed cluster answers (README: "Redis mode"): a
 * server that receives `parley:ping` with an ack answers its name and the number of sockets
 * connected to this process's "/" namespace.
 */
function answerParleyPing(io) {
  io.on('parley:ping', (...args) => {
    const ack = args[args.length - 1];
    if (typeof ack === 'function') ack({ server: 'node-peer', sockets: io.of('/').sockets.size });
  });
}

// =============================================================================================
// Main
// =============================================================================================

async function main() {
  let config;
  try {
    config = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`peer: ${err.message}`);
    process.exit(2);
  }

  const verifyToken = makeJwtVerifier(config.jwtSecret);
  let store;
  if (config.store) {
    const { PgStore } = await import('./postgres.mjs');
    try {
      store = await PgStore.open(config.store, config.poolSize);
    } catch (err) {
      console.error(`peer: cannot open ${config.store}: ${err.message}`);
      process.exit(1);
    }
  } else {
    store = new Store();
  }

  let redis = null;
  if (config.redis) {
    try {
      redis = await openRedis(config.redis);
    } catch (err) {
      console.error(`peer: cannot connect to ${config.redis}: ${err.message}`);
      process.exit(1);
    }
  }

  let restHandler = null;
  const httpServer = http.createServer((req, res) => restHandler(req, res));

  // socket.io attaches to the same HTTP server and takes /socket.io/ for itself.
  const io = new Server(httpServer, {
    cors: { origin: '*' },
    serveClient: false,
    pingInterval: config.pingInterval,
    pingTimeout: config.pingTimeout,
    maxHttpBufferSize: config.maxPayload,
    ...(redis ? { adapter: redis.adapter } : {}),
    // socket.io's in-memory recovery (its SessionAwareAdapter): a socket closed by its transport
    // is kept with its rooms and data, and every broadcast event without an ack and not volatile
    // gets an offset as its last argument and a copy in memory for the window. message:new is
    // such a broadcast (io.to(chat room).emit). A recovered socket skips the auth middleware
    // (skipMiddlewares: its data, the user id, comes back with it) and is sent what it missed.
    ...(config.recoveryWindow > 0
      ? { connectionStateRecovery: { maxDisconnectionDuration: config.recoveryWindow * 1000, skipMiddlewares: true } }
      : {}),
  });
  answerParleyPing(io);
  if (redis) {
    try {
      await redisSubscribed(io, redis.pub);
    } catch (err) {
      console.error(`peer: ${err.message}`);
      process.exit(1);
    }
  }

  const service = config.store ? new PgChatService(io, store) : new ChatService(io, store);
  restHandler = makeRestHandler(service, verifyToken);

  io.use((socket, next) => {
    const { auth, query } = socket.handshake;
    let token = auth?.token;
    if (typeof token !== 'string') token = typeof query?.token === 'string' ? query.token : undefined;
    const result = verifyToken(token);
    if (!result.userId) {
      const err = new Error('UNAUTHORIZED');
      err.data = errorReply('UNAUTHORIZED', result.reason, `connect from ${socket.handshake.address}`);
      next(err);
      return;
    }
    socket.data.userId = result.userId;
    next();
  });

  io.on('connection', (socket) => {
    const userId = socket.data.userId;
    socket.join(`user:${userId}`);
    service.attach(socket);
    service.presence.connect(userId);
    socket.on('disconnect', () => service.presence.disconnect(userId));
  });

  httpServer.on('error', (err) => {
    console.error(`peer: ${err.message}`);
    process.exit(1);
  });

  httpServer.listen(config.port, config.host, () => {
    const { address, port } = httpServer.address();
    console.log(`listening on ${address}:${port}`);
  });

  let stopping = false;
  const shutdown = (signal) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: shutting down`);
    service.stop();
    setTimeout(() => process.exit(0), 2000).unref();
    // disconnects every socket and closes the HTTP server, then the database pool and Redis
    io.close(() => Promise.allSettled([store.close?.(), redis?.close()]).finally(() => process.exit(0)));
    httpServer.closeAllConnections?.();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main();
