// The REST API (/v1/...): login, chats, messages (paging, sending), envelopes and status codes.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  startChatServer, closeAllSockets, emitAck, assertError, assertHttpOk, assertHttpError,
  assertChatShape, assertMessageShape, assertObjectId, join, send, nextEvent, recorded, groupOf,
  objectId, randomUUID, sorted,
} from '../helpers/chat.mjs';

let srv;
before(async () => { srv = await startChatServer(); });
after(async () => { await srv?.stop(); });
afterEach(() => closeAllSockets());

const postMsg = (who, chatId, body, clientId = randomUUID()) =>
  srv.api(who, 'POST', `/v1/chats/${chatId}/messages`, { body, clientId });

describe('POST /v1/auth/login', () => {
  const password = 'pa55 word with spaces ✓';
  let email; let user;
  before(async () => {
    email = `user-${randomUUID().slice(0, 8)}@example.com`;
    user = await srv.addUser({ email, password, name: 'Ada Lovelace' });
  });

  it('`parley user add` prints the user {_id,email,displayName}', () => {
    assertObjectId(user._id, 'user._id');
    assert.equal(user.email, email);
    assert.equal(user.displayName, 'Ada Lovelace');
  });

  it('returns {token, sessionToken, user}; both tokens work as bearer', async () => {
    const res = await srv.api(null, 'POST', '/v1/auth/login', { email, password });
    const data = assertHttpOk(res, 200, 'login');
    assert.equal(typeof data.token, 'string');
    assert.equal(typeof data.sessionToken, 'string');
    assert.notEqual(data.token, data.sessionToken);
    assert.deepEqual(data.user, user);
    const c1 = await srv.createChat(data.token, { type: 'group', title: 'via jwt', memberIds: [] });
    assert.equal(c1.createdBy, user._id);
    const list = assertHttpOk(await srv.api(data.sessionToken, 'GET', '/v1/chats'), 200, 'GET /v1/chats with sessionToken');
    assert.ok(list.some((c) => c._id === c1._id));
    // the sessionToken also authenticates a socket as the same user
    const s = await srv.connect(data.sessionToken);
    await join(s, c1._id);
    const m = await send(s, c1._id, 'hi');
    assert.equal((await nextEvent(s, 'message:new', (p) => p._id === m.serverId)).senderId, user._id);
  });

  it('wrong password / unknown email -> 401 UNAUTHORIZED with the same message; missing fields -> 400', async () => {
    const e1 = assertHttpError(await srv.api(null, 'POST', '/v1/auth/login', { email, password: 'wrong' }), 401, 'UNAUTHORIZED', 'wrong password');
    const e2 = assertHttpError(await srv.api(null, 'POST', '/v1/auth/login', { email: 'nobody@example.com', password }), 401, 'UNAUTHORIZED', 'unknown email');
    assert.equal(e1.message, e2.message, 'no account probing');
    assertHttpError(await srv.api(null, 'POST', '/v1/auth/login', { email }), 400, 'VALIDATION_ERROR', 'missing password');
    assertHttpError(await srv.api(null, 'POST', '/v1/auth/login', {}), 400, 'VALIDATION_ERROR', 'empty object');
  });
});

describe('chats', () => {
  it('GET /v1/chats lists exactly my chats, each with unreadCount', async () => {
    const a = srv.user(); const b = srv.user(); const c = srv.user();
    const ab = await groupOf(srv, a, [b]);
    const ac = await srv.createChat(a, { type: 'dm', memberIds: [c.id] });
    await groupOf(srv, b, [c]); // not mine: must not be listed
    const list = assertHttpOk(await srv.api(a, 'GET', '/v1/chats'), 200);
    assert.deepEqual(sorted(list.map((x) => x._id)), sorted([ab._id, ac._id]));
    for (const x of list) {
      assertChatShape(x);
      assert.equal(x.unreadCount, 0);
    }
    await postMsg(b, ab._id, 'unread for a');
    const again = assertHttpOk(await srv.api(a, 'GET', '/v1/chats'), 200);
    assert.equal(again.find((x) => x._id === ab._id).unreadCount, 1);
    const empty = assertHttpOk(await srv.api(srv.user(), 'GET', '/v1/chats'), 200);
    assert.deepEqual(empty, []);
  });

  it('GET /v1/chats is ordered by last activity, each chat with its lastMessage (null without one)', async () => {
    const a = srv.user(); const b = srv.user();
    // Times are in milliseconds: each step starts on a later millisecond than the one before, so
    // that the order asked for is the activity's, never a tie's (the server shares this clock).
    const laterThan = async (iso) => { while (Date.now() <= Date.parse(iso)) await new Promise((r) => setImmediate(r)); };
    const older = await groupOf(srv, a, [b], 'older');
    await laterThan(older.updatedAt);
    const newer = await groupOf(srv, a, [b], 'newer');
    await laterThan(newer.updatedAt);
    const ids = (list) => list.map((x) => x._id);
    let list = assertHttpOk(await srv.api(a, 'GET', '/v1/chats'), 200);
    assert.deepEqual(ids(list), [newer._id, older._id], 'the newest chat first');
    for (const x of list) assert.equal(x.lastMessage, null, 'no message yet: lastMessage is null');

    // A message in the older chat brings it to the top, carrying that message.
    const sent = assertHttpOk(await postMsg(b, older._id, 'bring it up'), 201);
    list = assertHttpOk(await srv.api(a, 'GET', '/v1/chats'), 200);
    assert.deepEqual(ids(list), [older._id, newer._id]);
    assertMessageShape(list[0].lastMessage, 'lastMessage');
    assert.equal(list[0].lastMessage._id, sent.serverId);
    assert.equal(list[0].lastMessage.chatId, older._id);
    assert.equal(list[0].lastMessage.senderId, b.id);
    assert.equal(list[0].lastMessage.body, 'bring it up');
    assert.equal(list[0].unreadCount, 1);
    assert.equal(list[1].lastMessage, null);
    await laterThan(list[0].lastMessage.createdAt);

    // A rename is activity too: the renamed chat comes first, without a message.
    assertHttpOk(await srv.api(a, 'PATCH', `/v1/chats/${newer._id}`, { title: 'renamed' }));
    list = assertHttpOk(await srv.api(a, 'GET', '/v1/chats'), 200);
    assert.deepEqual(ids(list), [newer._id, older._id]);
    assert.equal(list[0].lastMessage, null);
    assert.equal(list[1].lastMessage._id, sent.serverId, 'the other chat keeps its last message');
  });

  it('GET /v1/chats/:id for a member; 403 otherwise; 400 for a bad id', async () => {
    const a = srv.user(); const b = srv.user();
    const chat = await groupOf(srv, a, [b], 'visible');
    const got = assertHttpOk(await srv.api(b, 'GET', `/v1/chats/${chat._id}`));
    assert.deepEqual(got, { ...chat, ...(got.unreadCount !== undefined ? { unreadCount: got.unreadCount } : {}) });
    assertHttpError(await srv.api(srv.user(), 'GET', `/v1/chats/${chat._id}`), 403, 'FORBIDDEN');
    assertHttpError(await srv.api(a, 'GET', `/v1/chats/${objectId().toUpperCase()}x`), 400, 'VALIDATION_ERROR');
  });

  it('POST /v1/chats validation', async () => {
    const a = srv.user();
    assertHttpError(await srv.api(a, 'POST', '/v1/chats', { type: 'group' }), 400, 'VALIDATION_ERROR', 'no memberIds');
    assertHttpError(await srv.api(a, 'POST', '/v1/chats', { memberIds: [] }), 400, 'VALIDATION_ERROR', 'no type');
    assertHttpError(await srv.api(a, 'POST', '/v1/chats', { type: 'group', title: 5, memberIds: [] }), 400, 'VALIDATION_ERROR', 'title not a string');
  });

  it('POST members / DELETE members: non-members are refused with 403', async () => {
    const a = srv.user(); const b = srv.user(); const o = srv.user();
    const chat = await groupOf(srv, a, [b]);
    assertHttpError(await srv.api(o, 'POST', `/v1/chats/${chat._id}/members`, { userId: o.id }), 403, 'FORBIDDEN');
    assertHttpError(await srv.api(o, 'DELETE', `/v1/chats/${chat._id}/members/${b.id}`), 403, 'FORBIDDEN');
    assertHttpError(await srv.api(a, 'POST', `/v1/chats/${chat._id}/members`, { userId: 'x' }), 400, 'VALIDATION_ERROR');
    const got = assertHttpOk(await srv.api(a, 'GET', `/v1/chats/${chat._id}`));
    assert.deepEqual(sorted(got.memberIds), sorted([a.id, b.id]));
  });
});

describe('messages', () => {
  it('POST /v1/chats/:id/messages -> 201 {clientId,serverId} and message:new to the room', async () => {
    const a = srv.user(); const b = srv.user();
    const chat = await groupOf(srv, a, [b]);
    const sa = await srv.connect(a); const sb = await srv.connect(b);
    await join(sa, chat._id); await join(sb, chat._id);
    const clientId = randomUUID();
    const res = await postMsg(a, chat._id, 'over REST', clientId);
    const data = assertHttpOk(res, 201, 'POST message');
    assert.deepEqual(Object.keys(data).sort(), ['clientId', 'serverId']);
    assert.equal(data.clientId, clientId);
    assertObjectId(data.serverId);
    for (const s of [sa, sb]) {
      const m = await nextEvent(s, 'message:new', (p) => p._id === data.serverId);
      assertMessageShape(m);
      assert.deepEqual([m.chatId, m.body, m.senderId, m.clientId], [chat._id, 'over REST', a.id, clientId]);
    }
  });

  it('REST and socket share idempotency: the same clientId is the same message, no second broadcast', async () => {
    const a = srv.user(); const b = srv.user();
    const chat = await groupOf(srv, a, [b]);
    const sa = await srv.connect(a); const sb = await srv.connect(b);
    await join(sa, chat._id); await join(sb, chat._id);
    const viaSocket = await send(sa, chat._id, 'dup?');
    const retry = await postMsg(a, chat._id, 'dup?', viaSocket.clientId);
    assert.ok(retry.status === 200 || retry.status === 201, `retry status ${retry.status}`);
    assert.deepEqual(retry.body, { ok: true, data: { clientId: viaSocket.clientId, serverId: viaSocket.serverId } });
    const viaRest = assertHttpOk(await postMsg(a, chat._id, 'rest first'), 201);
    const sockRetry = await emitAck(sa, 'message:send', { chatId: chat._id, body: 'rest first', clientId: viaRest.clientId });
    assert.deepEqual(sockRetry, { ok: true, data: viaRest });
    const restRetry = await postMsg(a, chat._id, 'rest first', viaRest.clientId);
    assert.equal(restRetry.body?.data?.serverId, viaRest.serverId);
    const sentinel = await send(sa, chat._id, 'sentinel');
    await nextEvent(sb, 'message:new', (p) => p._id === sentinel.serverId);
    assert.deepEqual(recorded(sb, 'message:new').map((p) => p._id), [viaSocket.serverId, viaRest.serverId, sentinel.serverId]);
  });

  it('REST and socket share the rate limit', async () => {
    const a = srv.user(); const b = srv.user();
    const chat = await groupOf(srv, a, [b]);
    const sa = await srv.connect(a); await join(sa, chat._id);
    const first = await send(sa, chat._id, 's0');
    for (let i = 1; i < 5; i++) await send(sa, chat._id, `s${i}`);
    for (let i = 5; i < 10; i++) assertHttpOk(await postMsg(a, chat._id, `r${i}`), 201);
    const limited = await postMsg(a, chat._id, 'r10');
    assertHttpError(limited, 429, 'RATE_LIMITED');
    // Retry-After: the whole seconds until the oldest of the ten sends leaves the 10 s window.
    const retryAfter = Number(limited.headers.get('retry-after'));
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 10, `Retry-After ${limited.headers.get('retry-after')}`);
    const e = assertError(await emitAck(sa, 'message:send', { chatId: chat._id, body: 's10', clientId: randomUUID() }), 'RATE_LIMITED');
    assert.equal(e.message, 'Maximum 10 messages per 10 seconds');
    // a REST retry while limited is still answered
    const retry = await postMsg(a, chat._id, 's0', first.clientId);
    assert.equal(retry.body?.ok, true, `retry while limited: ${retry.text}`);
    assert.equal(retry.body.data.serverId, first.serverId);
  });

  it('REST send validation: empty / whitespace / too long body, missing clientId -> 400; non-member -> 403', async () => {
    const a = srv.user(); const b = srv.user();
    const chat = await groupOf(srv, a, [b]);
    assertHttpError(await postMsg(a, chat._id, ''), 400, 'VALIDATION_ERROR', 'empty');
    assertHttpError(await postMsg(a, chat._id, ' \n\t '), 400, 'VALIDATION_ERROR', 'whitespace');
    assertHttpError(await postMsg(a, chat._id, 'x'.repeat(8001)), 400, 'VALIDATION_ERROR', '8001');
    assertHttpError(await postMsg(a, chat._id, '😀'.repeat(4001)), 400, 'VALIDATION_ERROR', '4001 emoji');
    assertHttpError(await srv.api(a, 'POST', `/v1/chats/${chat._id}/messages`, { body: 'x' }), 400, 'VALIDATION_ERROR', 'no clientId');
    assertHttpOk(await postMsg(a, chat._id, '😀'.repeat(4000)), 201, '4000 emoji');
    assertHttpError(await postMsg(srv.user(), chat._id, 'intruder'), 403, 'FORBIDDEN', 'non-member send');
    assertHttpError(await postMsg(a, objectId(), 'nowhere'), 403, 'FORBIDDEN', 'non-existent chat');
  });

  describe('GET /v1/chats/:id/messages paging', () => {
    let a; let b; let chat; let ids;
    before(async () => {
      a = srv.user(); b = srv.user();
      chat = await groupOf(srv, a, [b]);
      ids = [];
      for (let i = 0; i < 12; i++) {
        const who = i % 2 ? b : a; // 6 each, under the rate limit
        const d = assertHttpOk(await postMsg(who, chat._id, `p${i}`), 201);
        ids.push(d.serverId);
      }
    });

    it('no cursor: the newest page, oldest first (default limit 50)', async () => {
      const all = await srv.getMessages(a, chat._id);
      assert.deepEqual(all.messages.map((m) => m._id), ids);
      assert.deepEqual(all.messages.map((m) => m.body), ids.map((_, i) => `p${i}`));
      assert.equal(all.hasMore, false);
      all.messages.forEach((m) => assertMessageShape(m));
      const newest = await srv.getMessages(b, chat._id, { limit: '5' });
      assert.deepEqual(newest.messages.map((m) => m._id), ids.slice(7));
      assert.equal(newest.hasMore, true);
    });

    it('before pages backwards', async () => {
      const p1 = await srv.getMessages(a, chat._id, { before: ids[7], limit: '5' });
      assert.deepEqual(p1.messages.map((m) => m._id), ids.slice(2, 7));
      assert.equal(p1.hasMore, true);
      const p2 = await srv.getMessages(a, chat._id, { before: ids[2], limit: '5' });
      assert.deepEqual(p2.messages.map((m) => m._id), ids.slice(0, 2));
      assert.equal(p2.hasMore, false);
      const p3 = await srv.getMessages(a, chat._id, { before: ids[0] });
      assert.deepEqual(p3, { messages: [], hasMore: false });
    });

    it('after pages forwards', async () => {
      const p1 = await srv.getMessages(a, chat._id, { after: ids[2], limit: '4' });
      assert.deepEqual(p1.messages.map((m) => m._id), ids.slice(3, 7));
      assert.equal(p1.hasMore, true);
      const p2 = await srv.getMessages(a, chat._id, { after: ids[6], limit: '5' });
      assert.deepEqual(p2.messages.map((m) => m._id), ids.slice(7, 12));
      assert.equal(p2.hasMore, false, 'exactly the rest: no more');
      const p3 = await srv.getMessages(a, chat._id, { after: ids[11] });
      assert.deepEqual(p3, { messages: [], hasMore: false });
    });

    it('limit bounds: 1 and 100 ok; 0, 101, -1, abc -> 400', async () => {
      const one = await srv.getMessages(a, chat._id, { limit: '1' });
      assert.deepEqual(one.messages.map((m) => m._id), [ids[11]]);
      assert.equal(one.hasMore, true);
      const hundred = await srv.getMessages(a, chat._id, { limit: '100' });
      assert.equal(hundred.messages.length, 12);
      for (const bad of ['0', '101', '-1', 'abc', '1.5']) {
        assertHttpError(await srv.api(a, 'GET', `/v1/chats/${chat._id}/messages?limit=${bad}`), 400, 'VALIDATION_ERROR', `limit=${bad}`);
      }
      assertHttpError(await srv.api(a, 'GET', `/v1/chats/${chat._id}/messages?before=nope`), 400, 'VALIDATION_ERROR', 'bad before');
      assertHttpError(await srv.api(a, 'GET', `/v1/chats/${chat._id}/messages?after=nope`), 400, 'VALIDATION_ERROR', 'bad after');
    });

    it('non-member -> 403', async () => {
      assertHttpError(await srv.api(srv.user(), 'GET', `/v1/chats/${chat._id}/messages`), 403, 'FORBIDDEN');
    });
  });
});

describe('envelope', () => {
  it('every JSON answer is {ok:true,data} or the error envelope, as application/json', async () => {
    const a = srv.user();
    const okRes = await srv.api(a, 'GET', '/v1/chats');
    assert.equal(okRes.status, 200);
    assert.match(okRes.headers.get('content-type') ?? '', /application\/json/);
    assert.deepEqual(Object.keys(okRes.body).sort(), ['data', 'ok']);
    const errRes = await srv.api(null, 'GET', '/v1/chats');
    assert.match(errRes.headers.get('content-type') ?? '', /application\/json/);
    assertError(errRes.body, 'UNAUTHORIZED');
  });
});
