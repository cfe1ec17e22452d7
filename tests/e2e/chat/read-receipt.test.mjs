// receipt:read -> {ok:true,data:{readAt}}, receipt:update broadcast, forward-only cursor,
// read-cursors and unreadCount over REST.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  startChatServer, closeAllSockets, emitAck, assertOk, assertError, assertIso, assertHttpOk,
  join, send, nextEvent, recorded, groupOf, objectId,
} from '../helpers/chat.mjs';

let srv;
before(async () => { srv = await startChatServer(); });
after(async () => { await srv?.stop(); });
afterEach(() => closeAllSockets());

/** a and b in a chat, joined; a has sent 3 messages. */
async function setup() {
  const a = srv.user(); const b = srv.user();
  const chat = await groupOf(srv, a, [b]);
  const sa = await srv.connect(a); const sb = await srv.connect(b);
  await join(sa, chat._id); await join(sb, chat._id);
  const m = [];
  for (let i = 1; i <= 3; i++) m.push(await send(sa, chat._id, `m${i}`));
  await nextEvent(sb, 'message:new', (p) => p._id === m[2].serverId);
  return { a, b, chat, sa, sb, m: m.map((x) => x.serverId) };
}

async function unreadCount(who, chatId) {
  const list = assertHttpOk(await srv.api(who, 'GET', '/v1/chats'), 200, 'GET /v1/chats');
  const entry = list.find((c) => c._id === chatId);
  assert.ok(entry, `chat ${chatId} listed`);
  assert.equal(typeof entry.unreadCount, 'number', `unreadCount is a number (got ${JSON.stringify(entry)})`);
  return entry.unreadCount;
}

async function cursors(who, chatId) {
  const data = assertHttpOk(await srv.api(who, 'GET', `/v1/chats/${chatId}/read-cursors`), 200, 'GET read-cursors');
  assert.ok(Array.isArray(data), 'read-cursors data is an array');
  return data;
}

describe('receipt:read', () => {
  it('acks {ok:true,data:{readAt}} and broadcasts receipt:update to the room', async () => {
    const { b, chat, sa, sb, m } = await setup();
    const before = Date.now();
    const ack = await emitAck(sb, 'receipt:read', { chatId: chat._id, messageId: m[1] });
    const data = assertOk(ack);
    assert.deepEqual(Object.keys(data), ['readAt']);
    assertIso(data.readAt, 'readAt');
    const t = Date.parse(data.readAt);
    assert.ok(t >= before - 5000 && t <= Date.now() + 5000, 'readAt is about now');
    const upd = await nextEvent(sa, 'receipt:update', (p) => p.messageId === m[1]);
    assert.deepEqual(upd, { chatId: chat._id, messageId: m[1], userId: b.id, readAt: data.readAt });
  });

  it('moving backwards (or re-reading the same message) acks the existing readAt and broadcasts nothing', async () => {
    const { b, chat, sa, sb, m } = await setup();
    const first = assertOk(await emitAck(sb, 'receipt:read', { chatId: chat._id, messageId: m[1] }));
    await nextEvent(sa, 'receipt:update', (p) => p.messageId === m[1]);

    const back = assertOk(await emitAck(sb, 'receipt:read', { chatId: chat._id, messageId: m[0] }));
    assert.equal(back.readAt, first.readAt, 'older message: the existing readAt');
    const same = assertOk(await emitAck(sb, 'receipt:read', { chatId: chat._id, messageId: m[1] }));
    assert.equal(same.readAt, first.readAt, 'same message: the existing readAt');

    // sentinel: a forward move from the same socket is broadcast; nothing else before it
    const fwd = assertOk(await emitAck(sb, 'receipt:read', { chatId: chat._id, messageId: m[2] }));
    await nextEvent(sa, 'receipt:update', (p) => p.messageId === m[2]);
    assert.deepEqual(recorded(sa, 'receipt:update').map((p) => p.messageId), [m[1], m[2]]);
    assert.ok(Date.parse(fwd.readAt) >= Date.parse(first.readAt));

    const mine = (await cursors(b, chat._id)).find((c) => c.userId === b.id);
    assert.deepEqual(mine, { userId: b.id, messageId: m[2], readAt: fwd.readAt });
  });

  it("a message of another chat or an unknown message -> NOT_FOUND; the cursor doesn't move", async () => {
    const { a, b, chat, sa, sb } = await setup();
    const other = await groupOf(srv, a, [b]);
    await join(sa, other._id);
    const foreign = await send(sa, other._id, 'elsewhere');
    assertError(await emitAck(sb, 'receipt:read', { chatId: chat._id, messageId: foreign.serverId }), 'NOT_FOUND', 'message of another chat');
    assertError(await emitAck(sb, 'receipt:read', { chatId: chat._id, messageId: objectId() }), 'NOT_FOUND', 'unknown message');
    assert.equal(await unreadCount(b, chat._id), 3);
  });

  it('invalid payloads -> VALIDATION_ERROR; non-member -> FORBIDDEN', async () => {
    const { chat, m } = await setup();
    const so = await srv.connect(srv.user()); // a non-member: the payload shape is checked first
    const sb2 = so;
    for (const [name, payload] of [
      ['bad messageId', { chatId: chat._id, messageId: 'x' }],
      ['missing messageId', { chatId: chat._id }],
      ['bad chatId', { chatId: 'x', messageId: m[0] }],
      ['missing chatId', { messageId: m[0] }],
      ['numbers', { chatId: 1, messageId: 2 }],
    ]) {
      assertError(await emitAck(sb2, 'receipt:read', payload), 'VALIDATION_ERROR', name);
    }
    assertError(await emitAck(sb2, 'receipt:read'), 'VALIDATION_ERROR', 'no payload');
    assertError(await emitAck(so, 'receipt:read', { chatId: chat._id, messageId: m[0] }), 'FORBIDDEN', 'non-member');
  });

  it('receipt:update reaches every member socket in the room (a member added later too)', async () => {
    const { b, chat, sa, m } = await setup();
    const c = srv.user();
    const add = await srv.api(srv.token(chat.createdBy), 'POST', `/v1/chats/${chat._id}/members`, { userId: c.id });
    assert.ok(add.status === 200 || add.status === 201, `add member: HTTP ${add.status} ${add.text}`);
    const sc = await srv.connect(c); await join(sc, chat._id);
    const sb2 = await srv.connect(b); await join(sb2, chat._id);
    const { readAt } = assertOk(await emitAck(sb2, 'receipt:read', { chatId: chat._id, messageId: m[0] }));
    assert.deepEqual(await nextEvent(sc, 'receipt:update'), { chatId: chat._id, messageId: m[0], userId: b.id, readAt });
    assert.deepEqual(await nextEvent(sa, 'receipt:update'), { chatId: chat._id, messageId: m[0], userId: b.id, readAt });
  });
});

describe('cursor order for messages created in the same instant', () => {
  it('pipelined messages: the cursor compares (createdAt, id), so an earlier one never moves it back', async () => {
    const a = srv.user(); const b = srv.user();
    const chat = await groupOf(srv, a, [b]);
    const sa = await srv.connect(a); const sb = await srv.connect(b);
    await join(sa, chat._id); await join(sb, chat._id);
    const acks = await Promise.all(Array.from({ length: 8 }, (_, i) =>
      emitAck(sa, 'message:send', { chatId: chat._id, body: `burst ${i}`, clientId: `burst-${i}-${a.id}` })));
    const ids = acks.map((x) => assertOk(x).serverId);
    const { messages } = await srv.getMessages(b, chat._id);
    assert.deepEqual(messages.map((m) => m._id), ids, 'stored order = send order');
    const top = assertOk(await emitAck(sb, 'receipt:read', { chatId: chat._id, messageId: ids[5] }));
    for (const i of [4, 0, 3, 5]) {
      const r = assertOk(await emitAck(sb, 'receipt:read', { chatId: chat._id, messageId: ids[i] }));
      assert.equal(r.readAt, top.readAt, `reading burst ${i} after burst 5 is not an advance`);
    }
    const cur = (await cursors(b, chat._id)).find((c) => c.userId === b.id);
    assert.equal(cur.messageId, ids[5]);
    assert.equal(await unreadCount(b, chat._id), 2);
    assertOk(await emitAck(sb, 'receipt:read', { chatId: chat._id, messageId: ids[6] }));
    await nextEvent(sa, 'receipt:update', (p) => p.messageId === ids[6]);
    assert.deepEqual(recorded(sa, 'receipt:update').map((p) => p.messageId), [ids[5], ids[6]]);
    assert.equal(await unreadCount(b, chat._id), 1);
  });
});

describe('read cursors and unread counts over REST', () => {
  it('GET read-cursors lists {userId,messageId,readAt}; GET /v1/chats shows unreadCount', async () => {
    const { a, b, chat, sb, m } = await setup();
    assert.equal(await unreadCount(b, chat._id), 3, 'nothing read yet');

    const r1 = assertOk(await emitAck(sb, 'receipt:read', { chatId: chat._id, messageId: m[0] }));
    assert.equal(await unreadCount(b, chat._id), 2);
    let cs = await cursors(a, chat._id);
    let bc = cs.find((x) => x.userId === b.id);
    assert.deepEqual(bc, { userId: b.id, messageId: m[0], readAt: r1.readAt });

    const r3 = assertOk(await emitAck(sb, 'receipt:read', { chatId: chat._id, messageId: m[2] }));
    assert.equal(await unreadCount(b, chat._id), 0);
    cs = await cursors(b, chat._id);
    bc = cs.find((x) => x.userId === b.id);
    assert.deepEqual(bc, { userId: b.id, messageId: m[2], readAt: r3.readAt });
    for (const c of cs) {
      assert.deepEqual(Object.keys(c).sort(), ['messageId', 'readAt', 'userId']);
      assertIso(c.readAt);
    }

    // backwards does not move it
    assertOk(await emitAck(sb, 'receipt:read', { chatId: chat._id, messageId: m[1] }));
    bc = (await cursors(b, chat._id)).find((x) => x.userId === b.id);
    assert.equal(bc.messageId, m[2]);
    assert.equal(await unreadCount(b, chat._id), 0);

    // new messages count again
    const sa2 = await srv.connect(a);
    await send(sa2, chat._id, 'new one');
    assert.equal(await unreadCount(b, chat._id), 1);
  });

  it('read-cursors of a chat you are not in -> 403', async () => {
    const { chat } = await setup();
    const res = await srv.api(srv.user(), 'GET', `/v1/chats/${chat._id}/read-cursors`);
    assert.equal(res.status, 403);
    assert.equal(res.body?.error, 'FORBIDDEN');
  });
});
