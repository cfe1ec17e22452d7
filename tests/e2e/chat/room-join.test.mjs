// room:join / room:leave and the automatic user:<id> room.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  startChatServer, closeAllSockets, emitAck, assertError, join, send, nextEvent, recorded,
  groupOf, objectId,
} from '../helpers/chat.mjs';

let srv;
before(async () => { srv = await startChatServer(); });
after(async () => { await srv?.stop(); });
afterEach(() => closeAllSockets());

describe('room:join', () => {
  it('a member joins with {ok:true} and then receives message:new of that chat', async () => {
    const a = srv.user(); const b = srv.user();
    const chat = await groupOf(srv, a, [b]);
    const sa = await srv.connect(a); const sb = await srv.connect(b);
    assert.deepEqual(await emitAck(sb, 'room:join', { chatId: chat._id }), { ok: true });
    await join(sa, chat._id);
    const m = await send(sa, chat._id, 'hello room');
    const got = await nextEvent(sb, 'message:new', (p) => p._id === m.serverId);
    assert.equal(got.body, 'hello room');
    assert.equal(got.chatId, chat._id);
  });

  it('works over HTTP long-polling too', async () => {
    const a = srv.user(); const b = srv.user();
    const chat = await groupOf(srv, a, [b]);
    const sa = await srv.connect(a, { transports: ['polling'] });
    const sb = await srv.connect(b, { transports: ['polling'] });
    await join(sa, chat._id); await join(sb, chat._id);
    const m = await send(sa, chat._id, 'over polling');
    const got = await nextEvent(sb, 'message:new', (p) => p._id === m.serverId);
    assert.equal(got.body, 'over polling');
  });

  it('a member socket that has not joined gets no message:new (it does after joining)', async () => {
    const a = srv.user(); const b = srv.user();
    const chat = await groupOf(srv, a, [b]);
    const sa = await srv.connect(a); const sb = await srv.connect(b);
    await join(sa, chat._id);
    const m1 = await send(sa, chat._id, 'before join');
    await nextEvent(sa, 'message:new', (p) => p._id === m1.serverId); // delivered to the room by now
    await join(sb, chat._id);
    const m2 = await send(sa, chat._id, 'after join');
    await nextEvent(sb, 'message:new', (p) => p._id === m2.serverId);
    assert.deepEqual(recorded(sb, 'message:new').map((p) => p._id), [m2.serverId]);
  });

  it('joining twice is fine and does not duplicate deliveries', async () => {
    const a = srv.user(); const b = srv.user();
    const chat = await groupOf(srv, a, [b]);
    const sa = await srv.connect(a); const sb = await srv.connect(b);
    await join(sb, chat._id); await join(sb, chat._id);
    await join(sa, chat._id);
    const m1 = await send(sa, chat._id, 'one');
    const m2 = await send(sa, chat._id, 'two');
    await nextEvent(sb, 'message:new', (p) => p._id === m2.serverId);
    assert.deepEqual(recorded(sb, 'message:new').map((p) => p._id), [m1.serverId, m2.serverId]);
  });

  it('a socket can be in several chat rooms at once', async () => {
    const a = srv.user(); const b = srv.user();
    const c1 = await groupOf(srv, a, [b]); const c2 = await groupOf(srv, a, [b]);
    const sa = await srv.connect(a); const sb = await srv.connect(b);
    await join(sb, c1._id); await join(sb, c2._id);
    await join(sa, c1._id); await join(sa, c2._id);
    const m1 = await send(sa, c1._id, 'to c1');
    const m2 = await send(sa, c2._id, 'to c2');
    const g1 = await nextEvent(sb, 'message:new', (p) => p._id === m1.serverId);
    const g2 = await nextEvent(sb, 'message:new', (p) => p._id === m2.serverId);
    assert.equal(g1.chatId, c1._id);
    assert.equal(g2.chatId, c2._id);
  });

  it('invalid chatId / missing / wrong type / no payload -> VALIDATION_ERROR, socket stays connected', async () => {
    const a = srv.user();
    const sa = await srv.connect(a);
    const oid = objectId();
    const bad = [
      ['not hex', { chatId: 'not-an-object-id' }],
      ['23 hex', { chatId: oid.slice(0, 23) }],
      ['25 hex', { chatId: `${oid}a` }],
      ['uppercase hex', { chatId: oid.toUpperCase().replace(/^[0-9]/, 'A') }],
      ['empty string', { chatId: '' }],
      ['number', { chatId: 12345 }],
      ['null', { chatId: null }],
      ['object', { chatId: { $ne: null } }],
      ['array', { chatId: [oid] }],
      ['missing chatId', {}],
      ['payload is a string', oid],
      ['payload is null', null],
    ];
    for (const [name, payload] of bad) {
      assertError(await emitAck(sa, 'room:join', payload), 'VALIDATION_ERROR', `room:join ${name}`);
    }
    assertError(await emitAck(sa, 'room:join'), 'VALIDATION_ERROR', 'room:join with no payload');
    assert.equal(sa.connected, true, 'socket still connected after validation errors');
  });

  it('non-member and non-existent chat -> FORBIDDEN with the same message text', async () => {
    const a = srv.user(); const b = srv.user(); const outsider = srv.user();
    const chat = await groupOf(srv, a, [b]);
    const so = await srv.connect(outsider);
    const e1 = assertError(await emitAck(so, 'room:join', { chatId: chat._id }), 'FORBIDDEN', 'non-member');
    const e2 = assertError(await emitAck(so, 'room:join', { chatId: objectId() }), 'FORBIDDEN', 'non-existent');
    assert.equal(e1.message, e2.message, 'no probing: same message for non-member and non-existent chat');
    assert.notEqual(e1.correlationId, e2.correlationId, 'each error has its own correlationId');
    // and the refused socket really is not in the room
    const sa = await srv.connect(a); await join(sa, chat._id);
    const sb = await srv.connect(b); await join(sb, chat._id);
    const m = await send(sa, chat._id, 'members only');
    await nextEvent(sb, 'message:new', (p) => p._id === m.serverId);
    const chat2 = await groupOf(srv, a, [outsider]);
    await join(so, chat2._id);
    const m2 = await send(sa, chat2._id, 'sentinel');
    await nextEvent(so, 'message:new', (p) => p._id === m2.serverId);
    assert.deepEqual(recorded(so, 'message:new').map((p) => p._id), [m2.serverId]);
  });
});

describe('room:leave', () => {
  it('is idempotent: {ok:true} every time, also for a room never joined', async () => {
    const a = srv.user(); const b = srv.user();
    const chat = await groupOf(srv, a, [b]);
    const other = await groupOf(srv, a, [b]);
    const sb = await srv.connect(b);
    await join(sb, chat._id);
    assert.deepEqual(await emitAck(sb, 'room:leave', { chatId: chat._id }), { ok: true });
    assert.deepEqual(await emitAck(sb, 'room:leave', { chatId: chat._id }), { ok: true });
    assert.deepEqual(await emitAck(sb, 'room:leave', { chatId: other._id }), { ok: true });
  });

  it('after leaving, no more message:new from that chat (other rooms unaffected)', async () => {
    const a = srv.user(); const b = srv.user();
    const c1 = await groupOf(srv, a, [b]); const c2 = await groupOf(srv, a, [b]);
    const sa = await srv.connect(a); const sb = await srv.connect(b);
    await join(sa, c1._id); await join(sa, c2._id);
    await join(sb, c1._id); await join(sb, c2._id);
    assert.deepEqual(await emitAck(sb, 'room:leave', { chatId: c1._id }), { ok: true });
    const gone = await send(sa, c1._id, 'after leave');
    const sentinel = await send(sa, c2._id, 'sentinel'); // same sender socket, sent after
    await nextEvent(sb, 'message:new', (p) => p._id === sentinel.serverId);
    assert.ok(!recorded(sb, 'message:new').some((p) => p._id === gone.serverId), 'left room still delivered');
  });

  it('invalid payload -> VALIDATION_ERROR', async () => {
    const sa = await srv.connect(srv.user());
    assertError(await emitAck(sa, 'room:leave', { chatId: 'nope' }), 'VALIDATION_ERROR', 'bad chatId');
    assertError(await emitAck(sa, 'room:leave', {}), 'VALIDATION_ERROR', 'missing chatId');
    assertError(await emitAck(sa, 'room:leave'), 'VALIDATION_ERROR', 'no payload');
  });
});

describe('user:<id> room', () => {
  it('every socket of a user is in user:<id> automatically (chat:update arrives with no room:join)', async () => {
    const a = srv.user(); const b = srv.user();
    const b1 = await srv.connect(b); const b2 = await srv.connect(b, { transports: ['polling'] });
    const chat = await groupOf(srv, a, [b]);
    const u1 = await nextEvent(b1, 'chat:update', (p) => p?.chat?._id === chat._id);
    const u2 = await nextEvent(b2, 'chat:update', (p) => p?.chat?._id === chat._id);
    assert.deepEqual(u1.chat, chat);
    assert.deepEqual(u2.chat, chat);
  });
});
