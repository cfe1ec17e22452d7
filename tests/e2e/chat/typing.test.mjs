// typing:start / typing:stop (fire-and-forget) -> typing:update to the room except the sender's sockets.
//
// "Nothing arrives" is proven with a sentinel: after the event that must be dropped, the same
// socket sends a message that the observer does receive; the observer must not have recorded
// the dropped event before it.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  startChatServer, closeAllSockets, emitAck, assertOk, join, send, nextEvent, recorded, groupOf, objectId,
} from '../helpers/chat.mjs';

let srv;
before(async () => { srv = await startChatServer(); });
after(async () => { await srv?.stop(); });
afterEach(() => closeAllSockets());

describe('typing indicators', () => {
  it('typing:start / typing:stop reach other members as typing:update {chatId,userId,state}', async () => {
    const a = srv.user(); const b = srv.user(); const c = srv.user();
    const chat = await groupOf(srv, a, [b, c]);
    const sa = await srv.connect(a); const sb = await srv.connect(b); const sc = await srv.connect(c);
    for (const s of [sa, sb, sc]) await join(s, chat._id);

    sa.emit('typing:start', { chatId: chat._id });
    const start = await nextEvent(sb, 'typing:update', (p) => p.state === 'start');
    assert.deepEqual(start, { chatId: chat._id, userId: a.id, state: 'start' });
    assert.deepEqual(await nextEvent(sc, 'typing:update', (p) => p.state === 'start'),
      { chatId: chat._id, userId: a.id, state: 'start' });

    sa.emit('typing:stop', { chatId: chat._id });
    assert.deepEqual(await nextEvent(sb, 'typing:update', (p) => p.state === 'stop'),
      { chatId: chat._id, userId: a.id, state: 'stop' });
    assert.deepEqual(await nextEvent(sc, 'typing:update', (p) => p.state === 'stop'),
      { chatId: chat._id, userId: a.id, state: 'stop' });
  });

  it('works when the typist is on HTTP long-polling', async () => {
    const a = srv.user(); const b = srv.user();
    const chat = await groupOf(srv, a, [b]);
    const sa = await srv.connect(a, { transports: ['polling'] }); const sb = await srv.connect(b, { transports: ['polling'] });
    await join(sa, chat._id); await join(sb, chat._id);
    sa.emit('typing:start', { chatId: chat._id });
    assert.deepEqual(await nextEvent(sb, 'typing:update'), { chatId: chat._id, userId: a.id, state: 'start' });
  });

  it("no socket of the typing user gets the update (sending socket and the user's other devices)", async () => {
    const a = srv.user(); const b = srv.user();
    const chat = await groupOf(srv, a, [b]);
    const a1 = await srv.connect(a); const a2 = await srv.connect(a); const sb = await srv.connect(b);
    for (const s of [a1, a2, sb]) await join(s, chat._id);

    a1.emit('typing:start', { chatId: chat._id });
    a1.emit('typing:stop', { chatId: chat._id });
    await nextEvent(sb, 'typing:update', (p) => p.state === 'stop');
    // sentinel: a message from the same socket, which every socket in the room (a1 and a2 too) gets
    const m = await send(a1, chat._id, 'sentinel');
    await nextEvent(a1, 'message:new', (p) => p._id === m.serverId);
    await nextEvent(a2, 'message:new', (p) => p._id === m.serverId);
    assert.deepEqual(recorded(a1, 'typing:update'), [], 'sending socket got its own typing:update');
    assert.deepEqual(recorded(a2, 'typing:update'), [], "sender's other device got the typing:update");
    assert.equal(recorded(sb, 'typing:update').length, 2);
  });

  it('a member can see the other user type while the typist has several devices', async () => {
    const a = srv.user(); const b = srv.user();
    const chat = await groupOf(srv, a, [b]);
    const a1 = await srv.connect(a); const a2 = await srv.connect(a); const sb = await srv.connect(b);
    for (const s of [a1, a2, sb]) await join(s, chat._id);
    sb.emit('typing:start', { chatId: chat._id });
    assert.deepEqual(await nextEvent(a1, 'typing:update'), { chatId: chat._id, userId: b.id, state: 'start' });
    assert.deepEqual(await nextEvent(a2, 'typing:update'), { chatId: chat._id, userId: b.id, state: 'start' });
  });

  it('non-members (and non-existent chats) are silently ignored: no broadcast, no error, still connected', async () => {
    const a = srv.user(); const b = srv.user(); const x = srv.user();
    const chat = await groupOf(srv, a, [b]);
    const shared = await groupOf(srv, b, [x]); // x shares another chat with b (for the sentinel)
    const sb = await srv.connect(b); const sx = await srv.connect(x);
    await join(sb, chat._id); await join(sb, shared._id); await join(sx, shared._id);

    sx.emit('typing:start', { chatId: chat._id });
    sx.emit('typing:stop', { chatId: chat._id });
    sx.emit('typing:start', { chatId: objectId() });
    const m = await send(sx, shared._id, 'sentinel after ignored typing');
    await nextEvent(sb, 'message:new', (p) => p._id === m.serverId);
    assert.deepEqual(recorded(sb, 'typing:update'), [], 'non-member typing was broadcast');
    assert.equal(sx.connected, true);
    // sending a typing event for the shared chat still works afterwards
    sx.emit('typing:start', { chatId: shared._id });
    assert.deepEqual(await nextEvent(sb, 'typing:update'), { chatId: shared._id, userId: x.id, state: 'start' });
  });

  it('malformed typing payloads are ignored without a disconnect', async () => {
    const a = srv.user(); const b = srv.user();
    const chat = await groupOf(srv, a, [b]);
    const sa = await srv.connect(a); const sb = await srv.connect(b);
    await join(sa, chat._id); await join(sb, chat._id);
    sa.emit('typing:start');
    sa.emit('typing:start', 'nope');
    sa.emit('typing:start', { chatId: 42 });
    sa.emit('typing:stop', { chatId: 'zz' });
    sa.emit('typing:stop', null);
    const m = await send(sa, chat._id, 'sentinel');
    await nextEvent(sb, 'message:new', (p) => p._id === m.serverId);
    assert.deepEqual(recorded(sb, 'typing:update'), []);
    assert.equal(sa.connected, true);
    assertOk(await emitAck(sa, 'presence:ping', {}));
  });

  it('a typing event sent with an ack callback still works (no ack is required, none must break it)', async () => {
    const a = srv.user(); const b = srv.user();
    const chat = await groupOf(srv, a, [b]);
    const sa = await srv.connect(a); const sb = await srv.connect(b);
    await join(sa, chat._id); await join(sb, chat._id);
    sa.emit('typing:start', { chatId: chat._id }, () => {});
    assert.deepEqual(await nextEvent(sb, 'typing:update'), { chatId: chat._id, userId: a.id, state: 'start' });
    assert.equal(sa.connected, true);
  });
});
