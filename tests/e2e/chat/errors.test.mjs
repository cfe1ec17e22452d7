// Every error code a client can reach, always as {ok:false,error,message,correlationId} with a
// UUID correlationId that also appears in the server log.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  startChatServer, closeAllSockets, emitAck, assertOk, assertError, assertHttpError, join, send,
  groupOf, objectId, randomUUID, UUID_RE,
} from '../helpers/chat.mjs';
import { scaled, until } from '../helpers/server.mjs';

let srv;
before(async () => { srv = await startChatServer(); });
after(async () => { await srv?.stop(); });
afterEach(() => closeAllSockets());

/** Whether `correlationId` shows up in the server's log within `timeoutMs` (scaled). */
async function inLog(correlationId, timeoutMs = 2000) {
  return until(() => srv.logs(), (log) => log.includes(correlationId), scaled(timeoutMs), 'the log line')
    .then(() => true, () => false);
}

describe('error codes over the socket', () => {
  it('VALIDATION_ERROR for every acknowledged event sent without a payload or with a wrong shape', async () => {
    const s = await srv.connect(srv.user());
    for (const ev of ['room:join', 'room:leave', 'message:send', 'receipt:read']) {
      assertError(await emitAck(s, ev), 'VALIDATION_ERROR', `${ev} with no payload`);
      assertError(await emitAck(s, ev, 'a string'), 'VALIDATION_ERROR', `${ev} with a string payload`);
      assertError(await emitAck(s, ev, 17), 'VALIDATION_ERROR', `${ev} with a number payload`);
      assertError(await emitAck(s, ev, { chatId: 'nope' }), 'VALIDATION_ERROR', `${ev} with a bad chatId`);
    }
    assert.equal(s.connected, true, 'never a disconnect');
    assertOk(await emitAck(s, 'presence:ping', {}));
  });

  it('FORBIDDEN: joining, sending to, reading in a chat you are not in', async () => {
    const a = srv.user(); const b = srv.user();
    const chat = await groupOf(srv, a, [b]);
    const sa = await srv.connect(a); await join(sa, chat._id);
    const m = await send(sa, chat._id, 'x');
    const so = await srv.connect(srv.user());
    assertError(await emitAck(so, 'room:join', { chatId: chat._id }), 'FORBIDDEN', 'room:join');
    assertError(await emitAck(so, 'message:send', { chatId: chat._id, body: 'x', clientId: randomUUID() }), 'FORBIDDEN', 'message:send');
    assertError(await emitAck(so, 'receipt:read', { chatId: chat._id, messageId: m.serverId }), 'FORBIDDEN', 'receipt:read');
  });

  it('UNAUTHORIZED: a refused connection carries the envelope in connect_error.data', async () => {
    const err = await srv.connectRefused('nope');
    assert.equal(err.message, 'UNAUTHORIZED');
    const env = assertError(err.data, 'UNAUTHORIZED', 'connect_error.data');
    assert.ok(await inLog(env.correlationId), 'UNAUTHORIZED correlationId in the server log');
  });

  it('RATE_LIMITED: the 11th message within 10 s', async () => {
    const a = srv.user(); const b = srv.user();
    const chat = await groupOf(srv, a, [b]);
    const s = await srv.connect(a); await join(s, chat._id);
    for (let i = 0; i < 10; i++) await send(s, chat._id, `r${i}`);
    const e = assertError(await emitAck(s, 'message:send', { chatId: chat._id, body: 'r10', clientId: randomUUID() }), 'RATE_LIMITED');
    assert.equal(e.message, 'Maximum 10 messages per 10 seconds');
    assert.ok(await inLog(e.correlationId), 'RATE_LIMITED correlationId in the server log');
  });

  it('NOT_FOUND: a read receipt for a message that does not exist', async () => {
    const a = srv.user(); const b = srv.user();
    const chat = await groupOf(srv, a, [b]);
    const s = await srv.connect(a);
    const e = assertError(await emitAck(s, 'receipt:read', { chatId: chat._id, messageId: objectId() }), 'NOT_FOUND');
    assert.ok(await inLog(e.correlationId), 'NOT_FOUND correlationId in the server log');
  });

  // INTERNAL (a server fault, e.g. the database failing mid-request) cannot be provoked from a
  // client without breaking the server on purpose; it shares the envelope code path checked above.
  it.skip('INTERNAL: not reachable from a well-behaved client against a healthy server');

  it('every error has a fresh UUID correlationId that is in the server log', async () => {
    const s = await srv.connect(srv.user());
    const ids = [];
    for (let i = 0; i < 5; i++) {
      const e = assertError(await emitAck(s, 'room:join', { chatId: `bad-${i}` }), 'VALIDATION_ERROR');
      assert.match(e.correlationId, UUID_RE);
      ids.push(e.correlationId);
    }
    const f = assertError(await emitAck(s, 'room:join', { chatId: objectId() }), 'FORBIDDEN');
    ids.push(f.correlationId);
    assert.equal(new Set(ids).size, ids.length, 'correlationIds are unique');
    for (const id of ids) assert.ok(await inLog(id), `correlationId ${id} in the server log`);
  });
});

describe('error codes over REST', () => {
  it('401 UNAUTHORIZED without / with a bad bearer token', async () => {
    const e1 = assertHttpError(await srv.api(null, 'GET', '/v1/chats'), 401, 'UNAUTHORIZED', 'no bearer');
    const e2 = assertHttpError(await srv.api('garbage', 'GET', '/v1/chats'), 401, 'UNAUTHORIZED', 'garbage bearer');
    assertHttpError(await srv.api(srv.token(objectId(), { expOffset: -3600 }), 'GET', '/v1/chats'), 401, 'UNAUTHORIZED', 'expired');
    assertHttpError(await srv.api(srv.token('alice'), 'GET', '/v1/chats'), 401, 'UNAUTHORIZED', 'sub not an ObjectId');
    assertHttpError(await srv.api(null, 'GET', '/v1/chats', undefined, { headers: { authorization: 'Basic abc' } }), 401, 'UNAUTHORIZED', 'not a bearer');
    assert.notEqual(e1.correlationId, e2.correlationId);
    assert.ok(await inLog(e2.correlationId), 'REST correlationId in the server log');
  });

  it('400 VALIDATION_ERROR: malformed JSON, wrong shapes, bad ids', async () => {
    const a = srv.user();
    assertHttpError(await srv.api(a, 'POST', '/v1/chats', undefined, { rawBody: '{"type":' }), 400, 'VALIDATION_ERROR', 'malformed JSON');
    assertHttpError(await srv.api(a, 'POST', '/v1/chats', undefined, { rawBody: '[]' }), 400, 'VALIDATION_ERROR', 'array body');
    assertHttpError(await srv.api(a, 'POST', '/v1/chats', { type: 'channel', memberIds: [] }), 400, 'VALIDATION_ERROR', 'bad type');
    assertHttpError(await srv.api(a, 'POST', '/v1/chats', { type: 'group', memberIds: ['x'] }), 400, 'VALIDATION_ERROR', 'bad member id');
    assertHttpError(await srv.api(a, 'POST', '/v1/chats', { type: 'group', memberIds: 'x' }), 400, 'VALIDATION_ERROR', 'memberIds not an array');
    assertHttpError(await srv.api(a, 'GET', '/v1/chats/not-an-id'), 400, 'VALIDATION_ERROR', 'bad chat id');
    assertHttpError(await srv.api(a, 'GET', '/v1/chats/not-an-id/messages'), 400, 'VALIDATION_ERROR', 'bad chat id (messages)');
  });

  it('403 FORBIDDEN: non-member, and a non-existent chat looks the same', async () => {
    const a = srv.user(); const b = srv.user();
    const chat = await groupOf(srv, a, [b]);
    const o = srv.user();
    const e1 = assertHttpError(await srv.api(o, 'GET', `/v1/chats/${chat._id}`), 403, 'FORBIDDEN', 'non-member');
    const e2 = assertHttpError(await srv.api(o, 'GET', `/v1/chats/${objectId()}`), 403, 'FORBIDDEN', 'non-existent');
    assert.equal(e1.message, e2.message);
  });

  it('404 for an unknown route', async () => {
    const res = await srv.api(srv.user(), 'GET', '/v1/no-such-thing');
    assert.equal(res.status, 404);
    if (res.body !== undefined) assertError(res.body, 'NOT_FOUND', 'unknown route');
  });

  it('429 RATE_LIMITED on the REST send path', async () => {
    const a = srv.user(); const b = srv.user();
    const chat = await groupOf(srv, a, [b]);
    for (let i = 0; i < 10; i++) {
      const r = await srv.api(a, 'POST', `/v1/chats/${chat._id}/messages`, { body: `h${i}`, clientId: randomUUID() });
      assert.equal(r.status, 201, `send ${i}: ${r.text}`);
    }
    const e = assertHttpError(await srv.api(a, 'POST', `/v1/chats/${chat._id}/messages`, { body: 'h10', clientId: randomUUID() }),
      429, 'RATE_LIMITED');
    assert.equal(e.message, 'Maximum 10 messages per 10 seconds');
  });
});

describe('correlation ids in the server log', () => {
  it('every error reply, socket or REST, has its correlationId in a server log line', async () => {
    const a = srv.user(); const b = srv.user();
    const chat = await groupOf(srv, a, [b]);
    const s = await srv.connect(a);
    const got = [];
    got.push(['socket VALIDATION_ERROR', assertError(await emitAck(s, 'message:send', { chatId: chat._id, body: '', clientId: randomUUID() }), 'VALIDATION_ERROR')]);
    got.push(['socket FORBIDDEN', assertError(await emitAck(s, 'room:join', { chatId: objectId() }), 'FORBIDDEN')]);
    got.push(['socket NOT_FOUND', assertError(await emitAck(s, 'receipt:read', { chatId: chat._id, messageId: objectId() }), 'NOT_FOUND')]);
    got.push(['connect UNAUTHORIZED', assertError((await srv.connectRefused('bad')).data, 'UNAUTHORIZED')]);
    got.push(['REST 400', assertHttpError(await srv.api(a, 'GET', '/v1/chats/zzz'), 400, 'VALIDATION_ERROR')]);
    got.push(['REST 401', assertHttpError(await srv.api(null, 'GET', '/v1/chats'), 401, 'UNAUTHORIZED')]);
    got.push(['REST 401 login', assertHttpError(await srv.api(null, 'POST', '/v1/auth/login', { email: 'x@example.com', password: 'y' }), 401, 'UNAUTHORIZED')]);
    got.push(['REST 403', assertHttpError(await srv.api(srv.user(), 'GET', `/v1/chats/${chat._id}`), 403, 'FORBIDDEN')]);
    const nf = await srv.api(a, 'GET', '/v1/no-such-route');
    if (nf.body !== undefined) got.push(['REST 404', assertHttpError(nf, 404, 'NOT_FOUND')]);
    for (let i = 0; i < 10; i++) await srv.api(b, 'POST', `/v1/chats/${chat._id}/messages`, { body: `x${i}`, clientId: randomUUID() });
    got.push(['REST 429', assertHttpError(await srv.api(b, 'POST', `/v1/chats/${chat._id}/messages`, { body: 'x', clientId: randomUUID() }), 429, 'RATE_LIMITED')]);
    const sb = await srv.connect(b);
    got.push(['socket RATE_LIMITED', assertError(await emitAck(sb, 'message:send', { chatId: chat._id, body: 'x', clientId: randomUUID() }), 'RATE_LIMITED')]);
    const missing = [];
    for (const [what, e] of got) if (!(await inLog(e.correlationId, 500))) missing.push(`${what} (${e.correlationId})`);
    assert.deepEqual(missing, [], 'errors whose correlationId is not in the server log');
  });
});
