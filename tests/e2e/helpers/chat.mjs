// Helpers for the chat-contract end-to-end tests (tests/e2e/chat/).
//
//   const srv = await startChatServer();          // parley serve on a fresh data dir + JWT secret
//   const alice = srv.user();                     // { id, token } — a random ObjectId sub, signed JWT
//   const s = await srv.connect(alice);           // socket.io-client socket, connected, s.rec = Recorder
//   const chat = await srv.createChat(alice, { memberIds: [bob.id] });
//   const ack = await emitAck(s, 'room:join', { chatId: chat._id });
//   ...
//   await srv.stop();                             // closes every socket, stops the server, removes the dir
//
// Standalone exports (makeToken, objectId, connect, api, createChat, ...) work without the context.
//
// Two environment variables run the same files another way:
//   PARLEY_E2E_CLUSTER=N       every context is N `parley serve` on one Redis and one PostgreSQL
//                              database behind nginx round-robin (helpers/chat-cluster.mjs; needs
//                              PARLEY_E2E_PG_DIR). ctx.url is nginx's; ctx.nodes[i].url each node;
//                              ctx.onNode(i) the same context bound to node i (for what a node
//                              counts on its own: the login budgets); ctx.metrics() sums /metrics
//                              over the nodes; logs() is every node's log.
//   PARLEY_E2E_TRANSPORT=polling|websocket
//                              the transports of a socket whose test names none: ['polling'] or
//                              ['websocket'] (the default).

import assert from 'node:assert/strict';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { io } from 'socket.io-client';
import { startServer, binaryPath, flagValue, scaled, waitFor, waitForAny } from './server.mjs';
import { releaseStoreOf, storeArgsFor } from './pg.mjs';
import { CLUSTER_NODES, startChatCluster } from './chat-cluster.mjs';
import { Recorder } from './clients.mjs';

// ---------------------------------------------------------------------------------------
// Ids, tokens, formats
// ---------------------------------------------------------------------------------------

export const OBJECT_ID_RE = /^[0-9a-f]{24}$/;
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** A random MongoDB-style ObjectId: 4-byte seconds + 8 random bytes, 24 lowercase hex. */
export function objectId() {
  const secs = Math.floor(Date.now() / 1000).toString(16).padStart(8, '0');
  return secs + randomBytes(8).toString('hex');
}

function b64url(data) {
  return Buffer.from(data).toString('base64url');
}

/**
 * Signs a JWT for `sub`.
 *   expOffset: seconds from now for `exp` (default 3600; negative = expired; null = no exp)
 *   secret:    HS256 key (required unless alg is 'none')
 *   alg:       'HS256' (default) or 'none' (unsigned, empty signature)
 *   payload:   extra / overriding claims
 */
export function makeToken(sub, { expOffset = 3600, secret, alg = 'HS256', iat, payload = {} } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const claims = { sub, iat: iat ?? now };
  if (expOffset !== null) claims.exp = now + expOffset;
  Object.assign(claims, payload);
  if (sub === undefined) delete claims.sub;
  const header = { alg, typ: 'JWT' };
  const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  if (alg === 'none') return `${signingInput}.`;
  if (alg !== 'HS256') throw new Error(`makeToken: unsupported alg ${alg}`);
  if (!secret) throw new Error('makeToken: secret required');
  const sig = createHmac('sha256', secret).update(signingInput).digest('base64url');
  return `${signingInput}.${sig}`;
}

export function assertObjectId(v, what = 'id') {
  assert.equal(typeof v, 'string', `${what} is a string (got ${JSON.stringify(v)})`);
  assert.match(v, OBJECT_ID_RE, `${what} is a 24-lowercase-hex ObjectId`);
}

export function assertIso(v, what = 'timestamp') {
  assert.equal(typeof v, 'string', `${what} is a string (got ${JSON.stringify(v)})`);
  assert.match(v, ISO_RE, `${what} is an ISO-8601 timestamp`);
  assert.ok(Number.isFinite(Date.parse(v)), `${what} parses as a date`);
}

/** Asserts `{ok:true}` (no data) or `{ok:true,data}`; returns data. */
export function assertOk(ack, what = 'ack') {
  assert.ok(ack && typeof ack === 'object', `${what}: an object (got ${JSON.stringify(ack)})`);
  assert.equal(ack.ok, true, `${what}: ok:true (got ${JSON.stringify(ack)})`);
  return ack.data;
}

/** Asserts the error envelope {ok:false,error:code,message,correlationId}; returns it. */
export function assertError(ack, code, what = 'reply') {
  assert.ok(ack && typeof ack === 'object', `${what}: an object (got ${JSON.stringify(ack)})`);
  assert.equal(ack.ok, false, `${what}: ok:false (got ${JSON.stringify(ack)})`);
  assert.equal(ack.error, code, `${what}: error code (got ${JSON.stringify(ack)})`);
  assert.equal(typeof ack.message, 'string', `${what}: message is a string (got ${JSON.stringify(ack)})`);
  assert.ok(ack.message.length > 0, `${what}: message is not empty`);
  assert.equal(typeof ack.correlationId, 'string', `${what}: correlationId is a string (got ${JSON.stringify(ack)})`);
  assert.match(ack.correlationId, UUID_RE, `${what}: correlationId is a UUID`);
  assert.deepEqual(Object.keys(ack).sort(), ['correlationId', 'error', 'message', 'ok'],
    `${what}: exactly the envelope keys (got ${JSON.stringify(ack)})`);
  return ack;
}

/** Asserts a refused connection's connect_error is UNAUTHORIZED with the error envelope as data; returns the data. */
export function assertUnauthorized(err, what) {
  assert.ok(err instanceof Error, `${what}: connect_error is an Error`);
  assert.equal(err.message, 'UNAUTHORIZED', `${what}: connect_error.message (data ${JSON.stringify(err.data)})`);
  return assertError(err.data, 'UNAUTHORIZED', `${what}: connect_error.data`);
}

/** Asserts an HTTP answer {status, body} is the error envelope with `status` and `code`. */
export function assertHttpError(res, status, code, what = 'response') {
  assert.equal(res.status, status, `${what}: HTTP status (body ${res.text?.slice(0, 300)})`);
  return assertError(res.body, code, what);
}

/** Asserts an HTTP answer is {ok:true,data} with `status`; returns data. */
export function assertHttpOk(res, status = 200, what = 'response') {
  assert.equal(res.status, status, `${what}: HTTP status (body ${res.text?.slice(0, 300)})`);
  assert.ok(res.body && typeof res.body === 'object', `${what}: JSON body (got ${res.text?.slice(0, 300)})`);
  assert.equal(res.body.ok, true, `${what}: ok:true (got ${res.text?.slice(0, 300)})`);
  return res.body.data;
}

/** Asserts a message in the message:new shape. */
export function assertMessageShape(m, what = 'message') {
  assert.ok(m && typeof m === 'object', `${what}: an object`);
  assertObjectId(m._id, `${what}._id`);
  assertObjectId(m.chatId, `${what}.chatId`);
  assertObjectId(m.senderId, `${what}.senderId`);
  assert.equal(typeof m.body, 'string', `${what}.body is a string`);
  assertIso(m.createdAt, `${what}.createdAt`);
}

/** Asserts a chat in the chat:update shape. */
export function assertChatShape(c, what = 'chat') {
  assert.ok(c && typeof c === 'object', `${what}: an object (got ${JSON.stringify(c)})`);
  assertObjectId(c._id, `${what}._id`);
  assert.ok(c.type === 'dm' || c.type === 'group', `${what}.type is dm|group (got ${c.type})`);
  assert.ok(c.title === null || typeof c.title === 'string', `${what}.title is string|null (got ${JSON.stringify(c.title)})`);
  assert.ok(Array.isArray(c.memberIds), `${what}.memberIds is an array`);
  for (const id of c.memberIds) assertObjectId(id, `${what}.memberIds[]`);
  assertObjectId(c.createdBy, `${what}.createdBy`);
  assertIso(c.createdAt, `${what}.createdAt`);
  assertIso(c.updatedAt, `${what}.updatedAt`);
}

export const sorted = (a) => [...a].sort();

// ---------------------------------------------------------------------------------------
// Sockets
// ---------------------------------------------------------------------------------------

const liveSockets = new Set();

export { CLUSTER_NODES };

/** The transports of a socket whose test names none (PARLEY_E2E_TRANSPORT; see the header). */
export const DEFAULT_TRANSPORTS = (() => {
  const v = process.env.PARLEY_E2E_TRANSPORT || 'websocket';
  if (v !== 'polling' && v !== 'websocket') throw new Error(`PARLEY_E2E_TRANSPORT must be polling or websocket (got '${v}')`);
  return [v];
})();

function tokenOf(who) {
  return typeof who === 'object' && who !== null ? who.token : who;
}

/**
 * Creates a socket.io-client socket and resolves once it is connected; rejects with an Error
 * carrying the connect_error (`.connectError`) otherwise. Every socket gets `socket.rec`, a
 * Recorder attached before connecting (so no event is missed).
 *   token: a token string, or a { token } user; undefined/null = no auth object
 *   opts:  transports (DEFAULT_TRANSPORTS), auth (overrides {token}), query, any io() option
 */
export async function connect(url, token, opts = {}) {
  const socket = openSocket(url, token, opts);
  const { event, args } = await waitForAny(socket, ['connect', 'connect_error'], opts.timeoutMs ?? 6000)
    .catch((e) => { socket.close(); throw e; });
  if (event === 'connect_error') {
    socket.close();
    const err = args[0];
    const e = new Error(`connect_error: ${err?.message} ${JSON.stringify(err?.data ?? null)}`);
    e.connectError = err;
    throw e;
  }
  return socket;
}

/** Opens a socket without waiting (tracked and recorded). */
export function openSocket(url, token, { transports = DEFAULT_TRANSPORTS, auth, query, timeoutMs, ...extra } = {}) {
  void timeoutMs;
  const options = { transports, forceNew: true, reconnection: false, timeout: scaled(5000), ...extra };
  const t = tokenOf(token);
  if (auth !== undefined) options.auth = auth;
  else if (t !== undefined && t !== null) options.auth = { token: t };
  if (query !== undefined) options.query = query;
  const socket = io(url, options);
  socket.rec = new Recorder(socket);
  socket.arrivals = []; // { event, payload, at } — arrival times, for the time-based rules
  socket.onAny((event, payload) => { socket.arrivals.push({ event, payload, at: Date.now() }); });
  liveSockets.add(socket);
  return socket;
}

/** Resolves with the connect_error Error of a connection attempt that must be refused. */
export async function connectRefused(url, token, opts = {}) {
  const socket = openSocket(url, token, opts);
  try {
    const { event, args } = await waitForAny(socket, ['connect', 'connect_error'], opts.timeoutMs ?? 6000);
    if (event === 'connect') throw new Error('connection was accepted but must be refused');
    return args[0];
  } finally {
    socket.close();
  }
}

/** Disconnects every socket opened through these helpers. */
export function closeAllSockets() {
  for (const s of liveSockets) {
    try { s.io.reconnection(false); s.disconnect(); s.io.engine?.close(); } catch { /* ignore */ }
  }
  liveSockets.clear();
}

/** Disconnects one socket and waits for its 'disconnect' (client side). */
export async function disconnectSocket(socket) {
  socket.disconnect();
  liveSockets.delete(socket);
}

/** emitWithAck with a timeout; `payload` omitted (arguments.length 2) sends no payload at all. */
export function emitAck(socket, event, ...payload) {
  const ms = scaled(5000);
  return socket.timeout(ms).emitWithAck(event, ...payload)
    .catch((e) => { throw new Error(`no ack for '${event}' within ${ms} ms (${e.message})`); });
}

/** Waits for a recorded/incoming `event` on `socket` whose payload matches; resolves with the payload. */
export async function nextEvent(socket, event, match = () => true, timeoutMs = 3000) {
  const args = await socket.rec.next(event, (a) => match(a[0]), timeoutMs);
  return args[0];
}

/** All recorded payloads of `event` on `socket` (matching `match`). */
export function recorded(socket, event, match = () => true) {
  return socket.rec.all(event).map((a) => a[0]).filter((p) => match(p));
}

/** When (Date.now()) did this exact payload object arrive on `socket`? */
export function arrivedAt(socket, payload) {
  const hit = socket.arrivals?.find((a) => a.payload === payload);
  if (!hit) throw new Error('arrivedAt: payload not recorded on this socket');
  return hit.at;
}

/** Joins `chatId`, asserting {ok:true}. */
export async function join(socket, chatId) {
  const ack = await emitAck(socket, 'room:join', { chatId });
  assert.deepEqual(ack, { ok: true }, `room:join ${chatId}`);
}

/** Sends a message over the socket, asserting success; returns { clientId, serverId, body }. */
export async function send(socket, chatId, body = `m-${randomUUID()}`, clientId = randomUUID()) {
  const ack = await emitAck(socket, 'message:send', { chatId, body, clientId });
  const data = assertOk(ack, `message:send ${JSON.stringify(body).slice(0, 40)}`);
  assert.equal(data?.clientId, clientId, 'ack echoes clientId');
  assertObjectId(data?.serverId, 'serverId');
  return { clientId, serverId: data.serverId, body };
}

// ---------------------------------------------------------------------------------------
// REST
// ---------------------------------------------------------------------------------------

/**
 * One REST call. `body` is JSON-encoded unless `opts.rawBody` is given (sent verbatim).
 * Resolves { status, body (parsed JSON or undefined), text, headers }.
 */
export async function api(url, token, method, p, body, opts = {}) {
  const headers = { ...(opts.headers ?? {}) };
  const t = tokenOf(token);
  if (t !== undefined && t !== null) headers.authorization = `Bearer ${t}`;
  let payload;
  if (opts.rawBody !== undefined) {
    payload = opts.rawBody;
    headers['content-type'] ??= 'application/json';
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(url + p, { method, headers, body: payload, signal: AbortSignal.timeout(scaled(opts.timeoutMs ?? 6000)) });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, body: json, text, headers: res.headers };
}

/** POST /v1/chats; asserts 201 and returns the chat. */
export async function createChat(url, token, { type = 'group', title, memberIds = [] } = {}) {
  const req = { type, memberIds };
  if (title !== undefined) req.title = title;
  const res = await api(url, token, 'POST', '/v1/chats', req);
  const chat = assertHttpOk(res, 201, 'POST /v1/chats');
  assertChatShape(chat, 'created chat');
  return chat;
}

/** GET /v1/chats/:id/messages with a query object; asserts 200 and returns {messages, hasMore}. */
export async function getMessages(url, token, chatId, query = {}) {
  const qs = new URLSearchParams(query).toString();
  const res = await api(url, token, 'GET', `/v1/chats/${chatId}/messages${qs ? `?${qs}` : ''}`);
  const data = assertHttpOk(res, 200, `GET messages ${qs}`);
  assert.ok(Array.isArray(data?.messages), 'data.messages is an array');
  assert.equal(typeof data.hasMore, 'boolean', 'data.hasMore is a boolean');
  return data;
}

// ---------------------------------------------------------------------------------------
// CLI
// ---------------------------------------------------------------------------------------

/**
 * Runs the parley binary with `args`; resolves { stdout, stderr }, rejects on non-zero exit.
 * On PostgreSQL (PARLEY_E2E_PG_DIR), a command with a --data-dir and no --store gets the store
 * of that dir, as its server does.
 */
export async function runCli(args, timeoutMs = 15000) {
  if (!args.some((a) => a === '--store' || a.startsWith('--store=')) && flagValue(args, '--data-dir') !== undefined) {
    args = [...args, ...await storeArgsFor(flagValue(args, '--data-dir'))];
  }
  return new Promise((resolve, reject) => {
    execFile(binaryPath('parley'), args, { timeout: scaled(timeoutMs) }, (err, stdout, stderr) => {
      if (err) {
        err.message += `\nstdout: ${stdout}\nstderr: ${stderr}`;
        reject(err);
      } else resolve({ stdout, stderr });
    });
  });
}

/** Last line of `text` that parses as JSON. */
export function lastJsonLine(text) {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  for (let i = lines.length - 1; i >= 0; i--) {
    try { return JSON.parse(lines[i]); } catch { /* next */ }
  }
  try { return JSON.parse(text); } catch { /* fallthrough */ }
  throw new Error(`no JSON in CLI output: ${text}`);
}

// ---------------------------------------------------------------------------------------
// Server context
// ---------------------------------------------------------------------------------------

/**
 * Starts `parley serve --data-dir <fresh temp dir> --jwt-secret <random>` (+ args), with
 * `--store <store>` when given (else the run's default: helpers/pg.mjs). `launcher` and
 * `executable` go to startServer (another program in place of the parley binary). With
 * PARLEY_E2E_CLUSTER=N, N of them behind nginx (see the header). `--jwt-public-key` in args
 * replaces the secret (the context then signs no tokens).
 * Returns a context with url/port/dir/secret/logs() and convenience methods bound to it.
 */
export async function startChatServer({ args = [], env = {}, dir: givenDir, secret: givenSecret, store, launcher, executable } = {}) {
  // A given dir/secret (a restart on the same database) is not owned: stop() leaves it in place.
  const ownDir = givenDir === undefined;
  const dir = givenDir ?? await mkdtemp(path.join(os.tmpdir(), 'parley-chat-'));
  const publicKey = flagValue(args, '--jwt-public-key') !== undefined;
  const secret = publicKey ? undefined : givenSecret ?? randomBytes(32).toString('hex');
  const serveArgs = ['serve', '--data-dir', dir, ...(secret ? ['--jwt-secret', secret] : []), ...args];
  let backend;
  try {
    backend = CLUSTER_NODES > 0
      ? await startChatCluster({ serveArgs, env, store, launcher, executable })
      : await startSingle({ serveArgs, env, store, launcher, executable });
  } catch (e) {
    if (ownDir) await releaseDir(dir);
    throw e;
  }
  const onUrl = (url) => ({
    url,
    /** A fresh identity: { id, token } (no local row). */
    user(opts = {}) {
      const id = objectId();
      return { id, token: makeToken(id, { secret, ...opts }) };
    },
    token(sub, opts = {}) { return makeToken(sub, { secret, ...opts }); },
    connect(who, opts) { return connect(url, who, opts); },
    connectRefused(who, opts) { return connectRefused(url, who, opts); },
    api(who, method, p, body, opts) { return api(url, who, method, p, body, opts); },
    createChat(who, spec) { return createChat(url, who, spec); },
    getMessages(who, chatId, query) { return getMessages(url, who, chatId, query); },
  });
  const nodeUrls = backend.nodes.map((n) => n.url);
  const ctx = {
    ...onUrl(backend.url),
    port: backend.port,
    dir,
    secret,
    server: backend.nodes[0].server,
    nodes: backend.nodes,
    cluster: CLUSTER_NODES > 0,
    logs: () => backend.logs(),
    /** This context with every url-bound method on node `i` alone (the context itself on one process). */
    onNode(i) { return CLUSTER_NODES > 0 ? { ...ctx, ...onUrl(nodeUrls[i]) } : ctx; },
    /** GET /metrics of every node, each sample summed over them, in the first node's layout. */
    metricsText: () => summedMetricsText(nodeUrls),
    /** The numeric samples of metricsText() without labels, by name. */
    async metrics() { return metricValues(await summedMetricsText(nodeUrls)); },
    /** parley user add; returns the printed user JSON. */
    async addUser({ email, password, name }) {
      const { stdout } = await runCli(['user', 'add', '--data-dir', dir, ...(store ? ['--store', store] : []),
        '--email', email, '--password', password, '--name', name]);
      return lastJsonLine(stdout);
    },
    /** parley token --user ID; returns the printed JWT. */
    async cliToken(userId) {
      const { stdout } = await runCli(['token', '--data-dir', dir, ...(store ? ['--store', store] : []),
        '--jwt-secret', secret, '--user', userId]);
      const tok = stdout.trim().split('\n').map((l) => l.trim()).filter(Boolean).pop();
      return tok;
    },
    /** kill -9 the server (every node of a cluster); resolves once it is gone. */
    kill9: () => backend.kill9(),
    /** Removes the data dir (for a dir this context owns). */
    async removeDir() { await releaseDir(dir); },
    async stop() {
      closeAllSockets();
      // The data dir (and its database) goes once the server is down, with the rest of a cluster.
      await backend.stop(ownDir ? () => releaseDir(dir) : undefined);
    },
  };
  return ctx;
}

/** One `parley serve`, as the backend of a chat context (the shape of startChatCluster's). */
async function startSingle({ serveArgs, env, store, launcher, executable }) {
  const server = await startServer({
    bin: 'parley',
    args: [...serveArgs, ...(store ? ['--store', store] : [])],
    env,
    launcher,
    executable,
  });
  let killed = false;
  return {
    url: server.url,
    port: server.port,
    nodes: [{ url: server.url, port: server.port, server }],
    logs: () => server.logs(),
    async kill9() {
      killed = true;
      const gone = new Promise((resolve) => {
        if (server.proc.exitCode !== null || server.proc.signalCode !== null) resolve();
        else server.proc.once('exit', resolve);
      });
      server.proc.kill('SIGKILL');
      await gone;
    },
    async stop(alongside) {
      try {
        if (!killed) await server.stop();
      } finally {
        await alongside?.();
      }
    },
  };
}

const SAMPLE_RE = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/;

/** The /metrics text of `urls` (each answered 200, text/plain) with every sample summed. */
async function summedMetricsText(urls) {
  const texts = await Promise.all(urls.map(async (u) => {
    const res = await fetch(`${u}/metrics`, { signal: AbortSignal.timeout(scaled(5000)) });
    assert.equal(res.status, 200, `GET ${u}/metrics`);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/, `GET ${u}/metrics content-type`);
    return res.text();
  }));
  if (texts.length === 1) return texts[0];
  const sums = new Map();
  for (const text of texts.slice(1)) {
    for (const line of text.split('\n')) {
      const m = SAMPLE_RE.exec(line);
      if (m) sums.set(m[1], (sums.get(m[1]) ?? 0) + Number(m[2]));
    }
  }
  return texts[0].split('\n').map((line) => {
    const m = SAMPLE_RE.exec(line);
    return m ? `${m[1]} ${Number(m[2]) + (sums.get(m[1]) ?? 0)}` : line;
  }).join('\n');
}

/** The unlabelled integer samples of a /metrics text, by name (as helpers/server.mjs metrics()). */
function metricValues(text) {
  const values = {};
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+) (-?\d+)$/.exec(line);
    if (m) values[m[1]] = Number(m[2]);
  }
  return values;
}

/** Removes a data dir, and its database when the run is on PostgreSQL. */
async function releaseDir(dir) {
  await rm(dir, { recursive: true, force: true });
  await releaseStoreOf(dir);
}

/**
 * A chat where every given user is a member, created by `owner` (via REST). Each extra user in
 * `others` is included in memberIds. Returns the chat.
 */
export async function groupOf(ctx, owner, others, title) {
  return ctx.createChat(owner, { type: 'group', title: title ?? `g-${randomUUID().slice(0, 8)}`, memberIds: others.map((u) => u.id) });
}

// --- Connection state recovery: a client away and back ----------------------------------------

/** Reconnection that retries at once and keeps retrying, for tests that make a client come back. */
export const RECONNECT = { reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 200, randomizationFactor: 0 };

/**
 * Drops the socket's transport (a RECONNECT socket); it keeps trying to reconnect to `deadUrl`,
 * where nothing listens, until comeBack().
 */
export async function dropTransport(socket, deadUrl) {
  socket.io.uri = deadUrl;
  const gone = waitFor(socket, 'disconnect');
  socket.io.engine.close();
  await gone;
}

/** Lets a socket that is away reconnect, to `url`; resolves once it is connected again. */
export async function comeBack(socket, url) {
  const back = waitFor(socket, 'connect', 8000);
  socket.io.uri = url;
  await back;
}

export { randomUUID };
