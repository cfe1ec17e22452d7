// Security: hostile or odd client input.
//   * clientId collisions between users never reveal another user's message: the idempotency key
//     is (chatId, senderId, clientId), so B reusing A's clientId makes B's own message, and A's
//     retry still finds A's.
//   * SQL-looking and odd text (bodies, titles, clientIds) is stored and returned verbatim — in
//     the ack, in message:new / chat:update, and in the REST history — and the tables keep working.
// Rate limit: 10 messages per 10 s per user, so the bulk cases spread their sends over several
// senders.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  startChatServer, closeAllSockets, emitAck, assertOk, assertError, assertHttpError, assertHttpOk,
  assertMessageShape, assertChatShape, join, send, nextEvent, recorded, groupOf, randomUUID,
} from '../helpers/chat.mjs';

let srv;
before(async () => { srv = await startChatServer(); });
after(async () => { await srv?.stop(); });
afterEach(() => closeAllSockets());

const postMsg = (who, chatId, body, clientId = randomUUID()) =>
  srv.api(who, 'POST', `/v1/chats/${chatId}/messages`, { body, clientId });

/** The whole history of a chat (at most 100 messages), oldest first. */
async function history(who, chatId) {
  const page = await srv.getMessages(who, chatId, { limit: '100' });
  for (const m of page.messages) assertMessageShape(m, 'history message');
  return page.messages;
}

/** Exact equality of two strings, code unit for code unit and as UTF-8 bytes. */
function assertSameText(got, want, what) {
  assert.equal(typeof got, 'string', `${what}: a string`);
  assert.equal(got.length, want.length, `${what}: UTF-16 length`);
  assert.ok(Buffer.from(got, 'utf8').equals(Buffer.from(want, 'utf8')), `${what}: UTF-8 bytes differ`);
  assert.equal(got, want, what);
}

// ---------------------------------------------------------------------------------------
// clientId collisions
// ---------------------------------------------------------------------------------------

describe('clientId collisions between users', () => {
  it("same chat: B reusing A's clientId gets B's own new message (socket and REST); A's retry still returns A's", async () => {
    const a = srv.user(); const b = srv.user(); const c = srv.user();
    const chat = await groupOf(srv, a, [b, c]);
    const sa = await srv.connect(a); const sb = await srv.connect(b); const sc = await srv.connect(c, { transports: ['polling'] });
    for (const s of [sa, sb, sc]) await join(s, chat._id);
    const clientId = randomUUID();

    const ma = await send(sa, chat._id, "A's private words", clientId);
    // B over the socket, with A's clientId and a different body
    const ackB = await emitAck(sb, 'message:send', { chatId: chat._id, body: "B's words", clientId });
    const dataB = assertOk(ackB, 'B send');
    assert.deepEqual(Object.keys(dataB).sort(), ['clientId', 'serverId']);
    assert.equal(dataB.clientId, clientId);
    assert.notEqual(dataB.serverId, ma.serverId, "B's ack carries A's serverId");
    const newB = await nextEvent(sc, 'message:new', (p) => p._id === dataB.serverId);
    assert.deepEqual({ body: newB.body, senderId: newB.senderId, clientId: newB.clientId, chatId: newB.chatId },
      { body: "B's words", senderId: b.id, clientId, chatId: chat._id });

    // C over REST, with the same clientId: its own message again (201, a third serverId)
    const resC = await postMsg(c, chat._id, "C's words", clientId);
    const dataC = assertHttpOk(resC, 201, 'C send');
    assert.equal(dataC.clientId, clientId);
    assert.ok(![ma.serverId, dataB.serverId].includes(dataC.serverId), "C's REST ack reuses another user's serverId");
    const newC = await nextEvent(sa, 'message:new', (p) => p._id === dataC.serverId);
    assert.equal(newC.body, "C's words");
    assert.equal(newC.senderId, c.id);

    // retries find each sender's own message, whatever body they carry, and broadcast nothing
    const retryA = assertOk(await emitAck(sa, 'message:send', { chatId: chat._id, body: 'different body', clientId }), 'A retry');
    assert.deepEqual(retryA, { clientId, serverId: ma.serverId });
    const retryARest = assertHttpOk(await postMsg(a, chat._id, "B's words", clientId), 200, 'A retry over REST');
    assert.deepEqual(retryARest, { clientId, serverId: ma.serverId });
    const retryB = assertHttpOk(await postMsg(b, chat._id, "A's private words", clientId), 200, 'B retry over REST');
    assert.deepEqual(retryB, { clientId, serverId: dataB.serverId });
    const retryC = assertOk(await emitAck(sc, 'message:send', { chatId: chat._id, body: 'x', clientId }), 'C retry');
    assert.deepEqual(retryC, { clientId, serverId: dataC.serverId });

    // history: three messages, each with its own body and sender
    const msgs = await history(a, chat._id);
    assert.deepEqual(msgs.map((m) => [m._id, m.senderId, m.body, m.clientId]), [
      [ma.serverId, a.id, "A's private words", clientId],
      [dataB.serverId, b.id, "B's words", clientId],
      [dataC.serverId, c.id, "C's words", clientId],
    ]);
    // and no retry was broadcast (sentinel)
    const sentinel = await send(sb, chat._id, 'sentinel');
    await nextEvent(sa, 'message:new', (p) => p._id === sentinel.serverId);
    assert.equal(recorded(sa, 'message:new').length, 4, 'a retry was broadcast');
  });

  it("another chat: B reusing A's clientId there gets B's own message; in A's chat (not B's) B gets FORBIDDEN, not A's serverId", async () => {
    const a = srv.user(); const b = srv.user(); const d = srv.user();
    const chatA = await groupOf(srv, a, [d]);
    const chatB = await groupOf(srv, b, [d]);
    const sa = await srv.connect(a); const sb = await srv.connect(b); const sd = await srv.connect(d);
    await join(sa, chatA._id); await join(sb, chatB._id); await join(sd, chatA._id); await join(sd, chatB._id);
    const clientId = randomUUID();
    const ma = await send(sa, chatA._id, 'only for chat A', clientId);

    const mb = await send(sb, chatB._id, 'B in chat B', clientId);
    assert.notEqual(mb.serverId, ma.serverId);
    const got = await nextEvent(sd, 'message:new', (p) => p._id === mb.serverId);
    assert.deepEqual([got.chatId, got.senderId, got.body], [chatB._id, b.id, 'B in chat B']);
    const restB = assertHttpOk(await postMsg(b, chatB._id, 'B again', clientId), 200, 'B retry in its chat');
    assert.equal(restB.serverId, mb.serverId);

    // B guessing A's clientId in A's chat: refused before any lookup
    const e1 = assertError(await emitAck(sb, 'message:send', { chatId: chatA._id, body: 'gimme', clientId }), 'FORBIDDEN', 'socket');
    const e2 = assertHttpError(await postMsg(b, chatA._id, 'gimme', clientId), 403, 'FORBIDDEN', 'REST');
    for (const e of [e1, e2]) assert.ok(!JSON.stringify(e).includes(ma.serverId), "the refusal names A's message");

    assert.deepEqual((await history(a, chatA._id)).map((m) => [m._id, m.senderId, m.body]), [[ma.serverId, a.id, 'only for chat A']]);
    assert.deepEqual((await history(b, chatB._id)).map((m) => [m._id, m.senderId, m.body]), [[mb.serverId, b.id, 'B in chat B']]);
    const retryA = assertOk(await emitAck(sa, 'message:send', { chatId: chatA._id, body: 'only for chat A', clientId }));
    assert.equal(retryA.serverId, ma.serverId);
  });

  it('clientIds are compared exactly: LIKE wildcards, case and trailing spaces make different messages', async () => {
    const a = srv.user(); const b = srv.user();
    const chat = await groupOf(srv, a, [b]);
    const sa = await srv.connect(a);
    await join(sa, chat._id);
    const base = await send(sa, chat._id, 'base', 'abc');
    // each of these would match 'abc' under LIKE or a case/space-insensitive compare
    const lookalikes = ['%', 'a%', '_bc', 'a_c', 'ABC', 'abc ', "abc' OR '1'='1", 'abc\\'];
    const ids = new Set([base.serverId]);
    for (const clientId of lookalikes) {
      const m = await send(sa, chat._id, `body for ${clientId}`, clientId);
      assert.ok(!ids.has(m.serverId), `clientId ${JSON.stringify(clientId)} was taken for an earlier message`);
      ids.add(m.serverId);
    }
    const msgs = await history(a, chat._id);
    assert.deepEqual(msgs.map((m) => [m.clientId, m.body]),
      [['abc', 'base'], ...lookalikes.map((clientId) => [clientId, `body for ${clientId}`])]);
    // and the original is still found by its exact clientId
    assert.equal(assertOk(await emitAck(sa, 'message:send', { chatId: chat._id, body: 'base', clientId: 'abc' })).serverId, base.serverId);
  });
});

// ---------------------------------------------------------------------------------------
// SQL-looking and odd text
// ---------------------------------------------------------------------------------------

const ODD = [
  "'); DROP TABLE messages;--",
  "'; DELETE FROM chats; --",
  '" OR 1=1 --',
  "' OR '1'='1",
  "1; UPDATE memberships SET user_id = 'x' --",
  'Robert\'); DROP TABLE users;-- "bobby"',
  '%', '_', '%_%', '\\', '\\\\', "\\'", "'", '"', '`', ';', '--', '/* comment */', '?1', ':name', '@p', '$1',
  'emoji 👩‍👩‍👧‍👦 🏳️‍🌈 🇩🇰 😀 ✓',
  'RTL: مرحبا بالعالم — שלום עולם \u200f\u202e reversed\u202c',
  'control: \u0001\u0002\u0007\b\t\v\f\r\n\u001b[31mred\u001b[0m\u007f\u0085',
  'separators: \u001e record \u001f unit \u2028 line \u2029 para',
  'zero width: a\u200bb\u200cc\u200dd\ufeffe',
  '42["message:new",{"body":"forged"}]',
  '{"ok":true,"data":{}}',
  '<script>alert(1)</script>&amp;',
  'combining: e\u0301 vs \u00e9, A\u030a vs \u00c5',
  'astral: 𝄞 𝕏 𠜎',
];
const LONG = [
  ["8000 × 'x' ending in a quote", `${'x'.repeat(7999)}'`],
  ['4000 emoji (8000 UTF-16 units, 16000 UTF-8 bytes)', '😀'.repeat(4000)],
  ['8000 units of SQL', "'); DROP TABLE messages;--".repeat(320).slice(0, 8000)],
];
for (const [, body] of LONG) assert.equal(body.length, 8000);

/** A group of `n` users (the first is the owner) with a socket each; spreads sends over the rate limit. */
async function crowd(n, transportsOf = () => ['websocket']) {
  const users = Array.from({ length: n }, () => srv.user());
  const chat = await groupOf(srv, users[0], users.slice(1), 'crowd');
  const sockets = [];
  for (const [i, u] of users.entries()) {
    const s = await srv.connect(u, { transports: transportsOf(i) });
    await join(s, chat._id);
    sockets.push(s);
  }
  return { users, chat, sockets };
}

describe('SQL-looking and odd text is stored and returned verbatim', () => {
  it('message bodies sent over the socket: ack, message:new (websocket and polling members) and REST history', async () => {
    const bodies = [...ODD, ...LONG.map(([, b]) => b)];
    const { users, chat, sockets } = await crowd(6, (i) => (i % 2 ? ['polling'] : ['websocket']));
    const sent = [];
    for (const [i, body] of bodies.entries()) {
      const k = i % users.length; // at most 8 sends per user: under the rate limit
      const clientId = randomUUID();
      const data = assertOk(await emitAck(sockets[k], 'message:send', { chatId: chat._id, body, clientId }), `send #${i}`);
      assert.deepEqual(data, { clientId, serverId: data.serverId });
      sent.push({ id: data.serverId, body, sender: users[k].id, clientId });
    }
    // every member socket (both transports) got every message, with the exact body
    for (const [j, s] of sockets.entries()) {
      for (const m of sent) {
        const got = await nextEvent(s, 'message:new', (p) => p._id === m.id);
        assertSameText(got.body, m.body, `message:new on socket ${j} for body ${JSON.stringify(m.body.slice(0, 30))}`);
        assert.equal(got.senderId, m.sender);
        assert.equal(got.clientId, m.clientId);
      }
    }
    const msgs = await history(users[3], chat._id);
    assert.equal(msgs.length, sent.length, 'history holds exactly the messages sent');
    for (const [i, m] of sent.entries()) {
      assert.equal(msgs[i]._id, m.id, `history order #${i}`);
      assertSameText(msgs[i].body, m.body, `history body #${i}`);
      assert.equal(msgs[i].senderId, m.sender);
    }
  });

  it('message bodies and clientIds sent over REST: 201 ack, message:new and history', async () => {
    const bodies = [...ODD, ...LONG.map(([, b]) => b)];
    const { users, chat, sockets } = await crowd(6);
    const sent = [];
    for (const [i, body] of bodies.entries()) {
      const k = i % users.length;
      // the clientId is hostile too (at most 128 characters)
      const clientId = `${ODD[i % ODD.length].slice(0, 100)}#${i}`;
      const data = assertHttpOk(await postMsg(users[k], chat._id, body, clientId), 201, `REST send #${i}`);
      assert.deepEqual(data, { clientId, serverId: data.serverId });
      sent.push({ id: data.serverId, body, sender: users[k].id, clientId });
    }
    for (const m of sent) {
      const got = await nextEvent(sockets[1], 'message:new', (p) => p._id === m.id);
      assertSameText(got.body, m.body, `message:new body ${JSON.stringify(m.body.slice(0, 30))}`);
      assertSameText(got.clientId, m.clientId, 'message:new clientId');
    }
    const msgs = await history(users[0], chat._id);
    assert.deepEqual(msgs.map((m) => m._id), sent.map((m) => m.id));
    for (const [i, m] of sent.entries()) {
      assertSameText(msgs[i].body, m.body, `history body #${i}`);
      assertSameText(msgs[i].clientId, m.clientId, `history clientId #${i}`);
    }
    // the hostile clientIds still work as idempotency keys (a retry finds the same message)
    const again = assertHttpOk(await postMsg(users[0], chat._id, 'retry', sent[0].clientId), 200, 'retry');
    assert.equal(again.serverId, sent[0].id);
  });

  it('chat titles: POST /v1/chats and PATCH return them verbatim, in chat:update, GET /v1/chats/:id and GET /v1/chats', async () => {
    const a = srv.user(); const b = srv.user();
    const sb = await srv.connect(b, { transports: ['polling'] });
    const titles = [...ODD, '😀'.repeat(100), `${'t'.repeat(199)}'`]; // the last two: exactly 200 UTF-16 units
    const ids = [];
    for (const title of titles) {
      const chat = await srv.createChat(a, { type: 'group', title, memberIds: [b.id] });
      assertSameText(chat.title, title, `created title ${JSON.stringify(title.slice(0, 30))}`);
      const upd = await nextEvent(sb, 'chat:update', (p) => p.chat._id === chat._id);
      assertSameText(upd.chat.title, title, 'chat:update title');
      assertSameText(assertHttpOk(await srv.api(b, 'GET', `/v1/chats/${chat._id}`)).title, title, 'GET title');
      ids.push(chat._id);
    }
    const listed = assertHttpOk(await srv.api(b, 'GET', '/v1/chats'));
    for (const [i, id] of ids.entries()) {
      const c = listed.find((x) => x._id === id);
      assertChatShape(c);
      assertSameText(c.title, titles[i], `listed title #${i}`);
    }
    // PATCH one chat through every title, in turn
    const chat = await srv.createChat(a, { type: 'group', title: 'plain', memberIds: [b.id] });
    for (const title of titles) {
      const patched = assertHttpOk(await srv.api(a, 'PATCH', `/v1/chats/${chat._id}`, { title }), 200, 'PATCH');
      assertSameText(patched.title, title, 'PATCH answer');
      const upd = await nextEvent(sb, 'chat:update', (p) => p.chat._id === chat._id && p.chat.title === title);
      assertSameText(upd.chat.title, title, 'PATCH chat:update');
      assertSameText(assertHttpOk(await srv.api(b, 'GET', `/v1/chats/${chat._id}`)).title, title, 'GET after PATCH');
    }
  });

  it('lone UTF-16 surrogates (a JS string cut through an emoji) are stored as U+FFFD, socket and REST; the socket stays connected', async () => {
    const { users, chat, sockets } = await crowd(2, (i) => (i ? ['polling'] : ['websocket']));
    const cases = [
      ['x\ud83dy', 'x\ufffdy'],
      ['\ude00 low first', '\ufffd low first'],
      [`${'😀'.repeat(3999)}\ud83d`, `${'😀'.repeat(3999)}\ufffd`], // 8000 units, the last one lone
      ['pair kept 😀, lone \ud800\ud800 replaced', 'pair kept 😀, lone \ufffd\ufffd replaced'],
    ];
    const sent = [];
    for (const [body, stored] of cases) {
      for (const [k, s] of sockets.entries()) {
        const data = assertOk(await emitAck(s, 'message:send', { chatId: chat._id, body, clientId: randomUUID() }), `socket ${k} ${JSON.stringify(body.slice(-8))}`);
        sent.push({ id: data.serverId, stored });
      }
      const rest = assertHttpOk(await postMsg(users[0], chat._id, body), 201, `REST ${JSON.stringify(body.slice(-8))}`);
      sent.push({ id: rest.serverId, stored });
    }
    for (const s of sockets) {
      assert.equal(s.connected, true, 'a lone surrogate cost the client its connection');
      for (const m of sent) assertSameText((await nextEvent(s, 'message:new', (p) => p._id === m.id)).body, m.stored, 'message:new');
    }
    const msgs = await history(users[1], chat._id);
    assert.deepEqual(msgs.map((m) => [m._id, m.body]), sent.map((m) => [m.id, m.stored]));
    // titles too
    const titled = await srv.createChat(users[0], { type: 'group', title: 'cut \ud83d', memberIds: [] });
    assert.equal(titled.title, 'cut \ufffd');
    // and the auth token of a CONNECT with a lone surrogate is just a bad token, not a broken packet
    const err = await srv.connectRefused('tok\ud800en');
    assert.equal(err.message, 'UNAUTHORIZED');
    assertError(err.data, 'UNAUTHORIZED');
  });

  it('afterwards every table still works: users/sessions (login), chats, memberships, messages, read cursors', async () => {
    // throw the worst strings at every text field first (titles, bodies, clientIds, login fields)
    const a = srv.user(); const b = srv.user();
    const bad = await srv.createChat(a, { type: 'group', title: ODD[0], memberIds: [b.id] });
    for (const s of ODD.slice(0, 5)) assertHttpOk(await postMsg(a, bad._id, s, s), 201);
    for (const s of ODD.slice(0, 5)) {
      assertHttpError(await srv.api(null, 'POST', '/v1/auth/login', { email: s, password: s }), 401, 'UNAUTHORIZED', `login ${s}`);
    }
    // login still works for a real user
    const email = `after-${randomUUID().slice(0, 8)}@example.com`;
    const user = await srv.addUser({ email, password: "p'); DROP TABLE users;--", name: "Bobby'); DROP TABLE users;--" });
    const login = assertHttpOk(await srv.api(null, 'POST', '/v1/auth/login', { email, password: "p'); DROP TABLE users;--" }), 200, 'login');
    assert.equal(login.user.displayName, "Bobby'); DROP TABLE users;--");
    assert.equal(login.user._id, user._id);
    // chats, members, messages and read cursors work with the session token
    const chat = await srv.createChat(login.sessionToken, { type: 'group', title: 'after', memberIds: [a.id] });
    assertHttpOk(await srv.api(login.sessionToken, 'POST', `/v1/chats/${chat._id}/members`, { userId: b.id }));
    const s = await srv.connect(login.sessionToken);
    const sa = await srv.connect(a);
    await join(s, chat._id); await join(sa, chat._id);
    const m = await send(s, chat._id, 'tables are fine');
    assertOk(await emitAck(sa, 'receipt:read', { chatId: chat._id, messageId: m.serverId }));
    await nextEvent(s, 'receipt:update', (p) => p.userId === a.id);
    const cursors = assertHttpOk(await srv.api(login.sessionToken, 'GET', `/v1/chats/${chat._id}/read-cursors`));
    assert.deepEqual(cursors.map((c) => [c.userId, c.messageId]), [[a.id, m.serverId]]);
    assert.deepEqual((await history(a, chat._id)).map((x) => x.body), ['tables are fine']);
    // the earlier chat kept exactly its five messages
    assert.deepEqual((await history(b, bad._id)).map((x) => x.body), ODD.slice(0, 5));
    assertHttpOk(await srv.api(null, 'GET', '/readyz'), 200, 'readyz');
  });
});
