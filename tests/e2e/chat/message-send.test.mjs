// message:send: ack, message:new fan-out, body validation, idempotency, rate limit, ordering,
// persistence.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  startChatServer, closeAllSockets, emitAck, assertOk, assertError, assertObjectId, assertIso,
  assertMessageShape, join, send, nextEvent, recorded, groupOf, objectId, randomUUID,
} from '../helpers/chat.mjs';
import { sleep } from '../helpers/server.mjs';

let srv;
before(async () => { srv = await startChatServer(); });
after(async () => { await srv?.stop(); });
afterEach(() => closeAllSockets());

/** Two users in one chat, each with a joined socket. */
async function pair() {
  const a = srv.user(); const b = srv.user();
  const chat = await groupOf(srv, a, [b]);
  const sa = await srv.connect(a); const sb = await srv.connect(b);
  await join(sa, chat._id); await join(sb, chat._id);
  return { a, b, chat, sa, sb };
}

describe('message:send basics', () => {
  it('acks {ok:true,data:{clientId,serverId}} and broadcasts message:new to the room, sender devices included', async () => {
    const { a, chat, sa, sb } = await pair();
    const sa2 = await srv.connect(a); // the sender's other device
    await join(sa2, chat._id);
    const clientId = randomUUID();
    const before = Date.now();
    const ack = await emitAck(sa, 'message:send', { chatId: chat._id, body: 'Hello, World!', clientId });
    assert.deepEqual(Object.keys(ack).sort(), ['data', 'ok']);
    const data = assertOk(ack);
    assert.deepEqual(Object.keys(data).sort(), ['clientId', 'serverId']);
    assert.equal(data.clientId, clientId);
    assertObjectId(data.serverId, 'serverId');

    const expectSame = (m, who) => {
      assertMessageShape(m, who);
      assert.equal(m._id, data.serverId, `${who}: _id = serverId`);
      assert.equal(m.chatId, chat._id, `${who}: chatId`);
      assert.equal(m.body, 'Hello, World!', `${who}: body`);
      assert.equal(m.senderId, a.id, `${who}: senderId is the JWT sub`);
      assert.equal(m.clientId, clientId, `${who}: clientId`);
      const t = Date.parse(m.createdAt);
      assert.ok(t >= before - 5000 && t <= Date.now() + 5000, `${who}: createdAt ${m.createdAt} is about now`);
    };
    expectSame(await nextEvent(sb, 'message:new', (p) => p._id === data.serverId), 'other member');
    expectSame(await nextEvent(sa2, 'message:new', (p) => p._id === data.serverId), "sender's other device");
    expectSame(await nextEvent(sa, 'message:new', (p) => p._id === data.serverId), 'sending socket');
  });

  it('works over HTTP long-polling', async () => {
    const a = srv.user(); const b = srv.user();
    const chat = await groupOf(srv, a, [b]);
    const sa = await srv.connect(a, { transports: ['polling'] });
    const sb = await srv.connect(b);
    await join(sa, chat._id); await join(sb, chat._id);
    const m = await send(sa, chat._id, 'via polling ✓');
    const got = await nextEvent(sb, 'message:new', (p) => p._id === m.serverId);
    assert.equal(got.body, 'via polling ✓');
  });

  it('preserves unicode bodies exactly (socket and storage)', async () => {
    const { a, chat, sa, sb } = await pair();
    const body = 'Grüße 👋🏽 — 漢字 tab\tnewline\n"quotes" \\ back 𝄞 \u2028 </script>';
    const m = await send(sa, chat._id, body);
    assert.equal((await nextEvent(sb, 'message:new', (p) => p._id === m.serverId)).body, body);
    const { messages } = await srv.getMessages(a, chat._id);
    assert.equal(messages.find((x) => x._id === m.serverId)?.body, body);
  });

  it('a body containing a NUL character is VALIDATION_ERROR, and nothing is stored or broadcast', async () => {
    const { a, chat, sa, sb } = await pair();
    const bad = { chatId: chat._id, body: 'before\u0000after', clientId: randomUUID() };
    assertError(await emitAck(sa, 'message:send', bad), 'VALIDATION_ERROR', 'a NUL in the body');
    const after = await send(sa, chat._id, 'after the refusal');
    const got = await nextEvent(sb, 'message:new', () => true);
    assert.equal(got._id, after.serverId, 'the first message:new is the one after the refusal');
    const { messages } = await srv.getMessages(a, chat._id);
    assert.deepEqual(messages.map((m) => m.body), ['after the refusal']);
  });

  it('body length is counted in UTF-16 code units: 8000 ok, 8001 VALIDATION_ERROR; 4000 emoji ok, 4001 not', async () => {
    const { chat, sa, sb } = await pair();
    const ascii8000 = 'a'.repeat(8000);
    const emoji4000 = '😀'.repeat(4000); // 8000 UTF-16 code units, 16000 UTF-8 bytes
    assert.equal(emoji4000.length, 8000);

    const m1 = await send(sa, chat._id, ascii8000);
    assert.equal((await nextEvent(sb, 'message:new', (p) => p._id === m1.serverId)).body, ascii8000);
    assertError(await emitAck(sa, 'message:send', { chatId: chat._id, body: 'a'.repeat(8001), clientId: randomUUID() }),
      'VALIDATION_ERROR', '8001 chars');

    const m2 = await send(sa, chat._id, emoji4000);
    assert.equal((await nextEvent(sb, 'message:new', (p) => p._id === m2.serverId)).body, emoji4000);
    assertError(await emitAck(sa, 'message:send', { chatId: chat._id, body: '😀'.repeat(4001), clientId: randomUUID() }),
      'VALIDATION_ERROR', '4001 emoji');
  });

  it('empty, whitespace-only or non-string body, missing clientId, bad chatId, no payload -> VALIDATION_ERROR', async () => {
    const { a, chat, sa } = await pair();
    const cases = [
      ['empty body', { chatId: chat._id, body: '', clientId: randomUUID() }],
      ['whitespace body', { chatId: chat._id, body: '  \n\t  \r\n ', clientId: randomUUID() }],
      ['number body', { chatId: chat._id, body: 42, clientId: randomUUID() }],
      ['missing body', { chatId: chat._id, clientId: randomUUID() }],
      ['missing clientId', { chatId: chat._id, body: 'x' }],
      ['bad chatId', { chatId: 'xyz', body: 'x', clientId: randomUUID() }],
      ['missing chatId', { body: 'x', clientId: randomUUID() }],
      ['payload is an array', [chat._id, 'x']],
    ];
    for (const [name, payload] of cases) {
      assertError(await emitAck(sa, 'message:send', payload), 'VALIDATION_ERROR', name);
    }
    assertError(await emitAck(sa, 'message:send'), 'VALIDATION_ERROR', 'no payload');
    assert.equal(sa.connected, true);
    const { messages } = await srv.getMessages(a, chat._id);
    assert.equal(messages.length, 0, 'nothing was stored');
  });

  it('non-member and non-existent chat -> FORBIDDEN', async () => {
    const { chat } = await pair();
    const so = await srv.connect(srv.user());
    const e1 = assertError(await emitAck(so, 'message:send', { chatId: chat._id, body: 'x', clientId: randomUUID() }), 'FORBIDDEN');
    const e2 = assertError(await emitAck(so, 'message:send', { chatId: objectId(), body: 'x', clientId: randomUUID() }), 'FORBIDDEN');
    assert.equal(e1.message, e2.message);
  });
});

describe('idempotency', () => {
  it('a retry with the same clientId returns the same serverId and broadcasts nothing', async () => {
    const { chat, sa, sb } = await pair();
    const clientId = randomUUID();
    const first = await send(sa, chat._id, 'once', clientId);
    await nextEvent(sb, 'message:new', (p) => p._id === first.serverId);
    const again = await emitAck(sa, 'message:send', { chatId: chat._id, body: 'once', clientId });
    assert.deepEqual(again, { ok: true, data: { clientId, serverId: first.serverId } });
    const third = await emitAck(sa, 'message:send', { chatId: chat._id, body: 'once', clientId });
    assert.deepEqual(third, { ok: true, data: { clientId, serverId: first.serverId } });
    const sentinel = await send(sa, chat._id, 'sentinel');
    await nextEvent(sb, 'message:new', (p) => p._id === sentinel.serverId);
    assert.deepEqual(recorded(sb, 'message:new').map((p) => p._id), [first.serverId, sentinel.serverId]);
    const { messages } = await srv.getMessages(srv.token(chat.createdBy), chat._id);
    assert.deepEqual(messages.map((m) => m._id), [first.serverId, sentinel.serverId], 'stored once');
  });

  it("a retry from the sender's other device (same user, same clientId) is still the same message", async () => {
    const { a, chat, sa, sb } = await pair();
    const sa2 = await srv.connect(a);
    const clientId = randomUUID();
    const first = await send(sa, chat._id, 'multi-device', clientId);
    const again = await emitAck(sa2, 'message:send', { chatId: chat._id, body: 'multi-device', clientId });
    assert.deepEqual(again, { ok: true, data: { clientId, serverId: first.serverId } });
    const sentinel = await send(sa, chat._id, 'sentinel');
    await nextEvent(sb, 'message:new', (p) => p._id === sentinel.serverId);
    assert.equal(recorded(sb, 'message:new').length, 2);
  });

  it("another user's identical clientId is a different message", async () => {
    const { a, b, chat, sa, sb } = await pair();
    const clientId = randomUUID();
    const ma = await send(sa, chat._id, 'from a', clientId);
    const mb = await send(sb, chat._id, 'from b', clientId);
    assert.notEqual(ma.serverId, mb.serverId);
    const got = await nextEvent(sa, 'message:new', (p) => p._id === mb.serverId);
    assert.equal(got.senderId, b.id);
    assert.equal(got.clientId, clientId);
    assert.equal(got.body, 'from b');
    const ga = await nextEvent(sb, 'message:new', (p) => p._id === ma.serverId);
    assert.equal(ga.senderId, a.id);
  });

  it('the same clientId in another chat (same sender) is a different message', async () => {
    const { a, b, chat, sa } = await pair();
    const chat2 = await groupOf(srv, a, [b]);
    await join(sa, chat2._id);
    const clientId = randomUUID();
    const m1 = await send(sa, chat._id, 'in chat 1', clientId);
    const m2 = await send(sa, chat2._id, 'in chat 2', clientId);
    assert.notEqual(m1.serverId, m2.serverId);
    const got = await nextEvent(sa, 'message:new', (p) => p._id === m2.serverId);
    assert.equal(got.chatId, chat2._id);
  });
});

describe('rate limit (10 per 10 s per user, sliding window)', () => {
  it('the 11th new message is RATE_LIMITED; retries are answered before the limiter and do not count', async () => {
    const { a, chat, sa, sb } = await pair();
    const sent = [];
    for (let i = 0; i < 9; i++) sent.push(await send(sa, chat._id, `n${i}`));
    // retries of already-sent messages: answered, not counted
    for (const m of sent.slice(0, 5)) {
      assert.deepEqual(await emitAck(sa, 'message:send', { chatId: chat._id, body: m.body, clientId: m.clientId }),
        { ok: true, data: { clientId: m.clientId, serverId: m.serverId } });
    }
    sent.push(await send(sa, chat._id, 'n9')); // the 10th new message is fine
    const limited = await emitAck(sa, 'message:send', { chatId: chat._id, body: 'n10', clientId: randomUUID() });
    assertError(limited, 'RATE_LIMITED', '11th message');
    assert.equal(limited.message, 'Maximum 10 messages per 10 seconds');
    // the limit is per user: the other device of the same user is limited too
    const sa2 = await srv.connect(a);
    assertError(await emitAck(sa2, 'message:send', { chatId: chat._id, body: 'n11', clientId: randomUUID() }),
      'RATE_LIMITED', 'other device of the limited user');
    // while limited, a retry still gets its original serverId
    const r = sent[2];
    assert.deepEqual(await emitAck(sa, 'message:send', { chatId: chat._id, body: r.body, clientId: r.clientId }),
      { ok: true, data: { clientId: r.clientId, serverId: r.serverId } });
    // another user is not affected
    const mb = await send(sb, chat._id, 'b is fine');
    await nextEvent(sa, 'message:new', (p) => p._id === mb.serverId);
    // exactly the 10 accepted messages of a were broadcast
    await nextEvent(sb, 'message:new', (p) => p._id === sent[9].serverId);
    await nextEvent(sb, 'message:new', (p) => p._id === mb.serverId);
    assert.equal(recorded(sb, 'message:new', (p) => p.senderId === a.id).length, 10);
  });

  // The server's window (10 s) has no flag to shorten it. The phases are placed by what the client
  // saw, not by a schedule: a message is counted after its send began and before its ack came.
  it('the window slides: capacity comes back as old messages age out, not all at once', async () => {
    const WINDOW_MS = 10_000;
    const { chat, sa } = await pair();
    for (let i = 0; i < 5; i++) await send(sa, chat._id, `early ${i}`);
    const earlyCounted = Date.now(); // all 5 early ones were counted before this
    await sleep(WINDOW_MS * 0.6);
    const lateSent = Date.now(); // all 5 late ones are counted after this
    for (let i = 0; i < 5; i++) await send(sa, chat._id, `late ${i}`); // 10 in the window
    // now the 5 early ones have left the window; the 5 late ones stay until lateSent + WINDOW_MS
    await sleep(Math.max(0, earlyCounted + WINDOW_MS + 50 - Date.now()));
    for (let i = 0; i < 5; i++) await send(sa, chat._id, `again ${i}`);
    const sixth = await emitAck(sa, 'message:send', { chatId: chat._id, body: 'one too many', clientId: randomUUID() });
    assert.ok(Date.now() < lateSent + WINDOW_MS,
      `the 6th was answered ${Date.now() - lateSent} ms after the late ones were sent: too late to tell`);
    assertError(sixth, 'RATE_LIMITED', '6th message after the early ones aged out');
  });
});

describe('ordering and persistence', () => {
  it('pipelined sends from one socket are acked and broadcast in send order', async () => {
    const { a, chat, sa, sb } = await pair();
    const N = 10;
    const order = [];
    const payloads = Array.from({ length: N }, (_, i) => ({ chatId: chat._id, body: `p${i}`, clientId: randomUUID() }));
    const acks = await Promise.all(payloads.map((p, i) =>
      emitAck(sa, 'message:send', p).then((ack) => { order.push(i); return ack; })));
    assert.deepEqual(order, [...Array(N).keys()], 'acks arrive in send order');
    acks.forEach((ack, i) => assert.equal(assertOk(ack).clientId, payloads[i].clientId));
    const last = acks[N - 1].data.serverId;
    await nextEvent(sb, 'message:new', (p) => p._id === last);
    const got = recorded(sb, 'message:new', (p) => p.senderId === a.id);
    assert.deepEqual(got.map((m) => m.body), payloads.map((p) => p.body), 'broadcast in send order');
    assert.deepEqual(got.map((m) => m._id), acks.map((x) => x.data.serverId));
    const { messages } = await srv.getMessages(a, chat._id);
    assert.deepEqual(messages.map((m) => m._id), acks.map((x) => x.data.serverId), 'stored in send order');
  });

  it('messages persist: GET /v1/chats/:id/messages returns them in the message:new shape', async () => {
    const { a, b, chat, sa, sb } = await pair();
    const m1 = await send(sa, chat._id, 'first');
    const m2 = await send(sb, chat._id, 'second 👋');
    const live = await nextEvent(sa, 'message:new', (p) => p._id === m2.serverId);
    const { messages, hasMore } = await srv.getMessages(b, chat._id);
    assert.equal(hasMore, false);
    assert.equal(messages.length, 2);
    messages.forEach((m, i) => assertMessageShape(m, `messages[${i}]`));
    assert.deepEqual(messages.map((m) => [m._id, m.body, m.senderId, m.clientId, m.chatId]), [
      [m1.serverId, 'first', a.id, m1.clientId, chat._id],
      [m2.serverId, 'second 👋', b.id, m2.clientId, chat._id],
    ]);
    assert.deepEqual(messages[1], live, 'stored message equals the broadcast one');
    assertIso(messages[0].createdAt);
    assert.ok(Date.parse(messages[0].createdAt) <= Date.parse(messages[1].createdAt));
  });
});
