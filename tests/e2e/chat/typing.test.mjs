// typing:start / typing:stop (fire-and-forget) -> typing:update to the room except the sender's sockets.
// Each typing episode of a socket ends with exactly one stop: the client's own, or the server's
// when the socket disconnects, leaves the room (room:leave or removal from the chat) or does not
// renew its start within --typing-timeout seconds.
//
// "Nothing arrives" is proven with a sentinel: after the event that must be dropped, the same
// socket sends a message that the observer does receive; the observer must not have recorded
// the dropped event before it.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  startChatServer, closeAllSockets, emitAck, assertOk, join, send, nextEvent, recorded, groupOf, objectId,
} from '../helpers/chat.mjs';
import { scaled, sleep } from '../helpers/server.mjs';
import { WsClient, wsUrl } from '../helpers/eio.mjs';

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

const stopsOf = (watcher, userId, chatId) =>
  recorded(watcher, 'typing:update', (p) => p.userId === userId && p.chatId === chatId && p.state === 'stop');

/**
 * A raw Socket.IO socket on "/" as `user`, on a WebSocket of its own. Frames of one connection
 * are handled in order on one io thread, so a later socket on the same connection (`as`) acts
 * after everything the earlier one caused there: that makes a negative checkable.
 */
class RawSocket {
  static async open(srvCtx, user) {
    const raw = new RawSocket(new WsClient(wsUrl(srvCtx.url)));
    await raw.ws.open();
    await raw.as(user);
    return raw;
  }

  constructor(ws) { this.ws = ws; this.ackId = 0; }

  async as(user) {
    this.ws.send(`40${JSON.stringify({ token: user.token })}`);
    await this.until((m) => /^40\{/.test(m), 'CONNECT answer');
  }

  emit(event, payload) { this.ws.send(`42${JSON.stringify([event, payload])}`); }

  async emitAck(event, payload) {
    const id = this.ackId++;
    this.ws.send(`42${id}${JSON.stringify([event, payload])}`);
    const m = await this.until((f) => f.startsWith(`43${id}[`), `ack ${id} of ${event}`);
    return JSON.parse(m.slice(`43${id}`.length))[0];
  }

  /** Skips frames (events such as presence:snapshot) until one matches. */
  async until(match, what) {
    for (;;) {
      const m = await this.ws.nextNonPing(scaled(3000)).catch((e) => { throw new Error(`waiting for ${what}: ${e.message}`); });
      if (typeof m === 'string' && match(m)) return m;
    }
  }
}

describe('typing that stops (server timeout 5 s: every stop below comes from its cause)', () => {
  const SOON = 2000; // well within the 5 s timeout

  it('a typing socket that disconnects is told stopped to the room', async () => {
    const a = srv.user(); const b = srv.user();
    const chat = await groupOf(srv, a, [b]);
    const sa = await srv.connect(a); const sb = await srv.connect(b);
    await join(sa, chat._id); await join(sb, chat._id);
    sa.emit('typing:start', { chatId: chat._id });
    await nextEvent(sb, 'typing:update', (p) => p.state === 'start');
    const t = Date.now();
    sa.disconnect();
    const stop = await nextEvent(sb, 'typing:update', (p) => p.state === 'stop', SOON);
    assert.deepEqual(stop, { chatId: chat._id, userId: a.id, state: 'stop' }, 'the shape of a client stop');
    assert.ok(Date.now() - t < SOON);
  });

  it('room:leave of a typing socket tells the stop', async () => {
    const a = srv.user(); const b = srv.user();
    const chat = await groupOf(srv, a, [b]);
    const sa = await srv.connect(a); const sb = await srv.connect(b);
    await join(sa, chat._id); await join(sb, chat._id);
    sa.emit('typing:start', { chatId: chat._id });
    await nextEvent(sb, 'typing:update', (p) => p.state === 'start');
    assertOk(await emitAck(sa, 'room:leave', { chatId: chat._id }));
    assert.deepEqual(await nextEvent(sb, 'typing:update', (p) => p.state === 'stop', SOON),
      { chatId: chat._id, userId: a.id, state: 'stop' });
    // a stop from the client now ends nothing: the message after it is the next thing b sees from a
    sa.emit('typing:stop', { chatId: chat._id });
    const m = await send(sb, chat._id, 'sentinel');
    await nextEvent(sb, 'message:new', (p) => p._id === m.serverId);
    assert.equal(stopsOf(sb, a.id, chat._id).length, 1);
  });

  it('removal from the chat (REST) tells the stop of the removed typist', async () => {
    const owner = srv.user(); const a = srv.user(); const b = srv.user();
    const chat = await groupOf(srv, owner, [a, b]);
    const sa = await srv.connect(a); const sb = await srv.connect(b);
    await join(sa, chat._id); await join(sb, chat._id);
    sa.emit('typing:start', { chatId: chat._id });
    await nextEvent(sb, 'typing:update', (p) => p.state === 'start');
    const res = await srv.api(owner, 'DELETE', `/v1/chats/${chat._id}/members/${a.id}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(await nextEvent(sb, 'typing:update', (p) => p.state === 'stop', SOON),
      { chatId: chat._id, userId: a.id, state: 'stop' });
  });

  it("exactly one stop: the client's own stop, then its disconnect, tells nothing more", async () => {
    const a = srv.user(); const b = srv.user(); const c = srv.user();
    const chat = await groupOf(srv, a, [b, c]);
    const sb = await srv.connect(b);
    await join(sb, chat._id);
    const raw = await RawSocket.open(srv, a);
    assert.deepEqual(await raw.emitAck('room:join', { chatId: chat._id }), { ok: true });
    raw.emit('typing:start', { chatId: chat._id });
    raw.emit('typing:stop', { chatId: chat._id });
    raw.ws.send('41'); // a's socket leaves "/": the disconnect, after its own stop
    await raw.as(c); // then c on the same connection: its start is told after anything a's disconnect told
    raw.emit('typing:start', { chatId: chat._id });
    await nextEvent(sb, 'typing:update', (p) => p.userId === c.id && p.state === 'start');
    assert.deepEqual(recorded(sb, 'typing:update', (p) => p.userId === a.id).map((p) => p.state), ['start', 'stop']);
  });

  it('a socket that was not typing tells nothing when it leaves or disconnects, while another device of the user types', async () => {
    const a = srv.user(); const b = srv.user(); const c = srv.user();
    const chat = await groupOf(srv, a, [b, c]);
    const a1 = await srv.connect(a); const sb = await srv.connect(b);
    await join(a1, chat._id); await join(sb, chat._id);
    a1.emit('typing:start', { chatId: chat._id });
    await nextEvent(sb, 'typing:update', (p) => p.state === 'start');
    const raw = await RawSocket.open(srv, a); // a second device of a, in the room, not typing
    assert.deepEqual(await raw.emitAck('room:join', { chatId: chat._id }), { ok: true });
    assert.deepEqual(await raw.emitAck('room:leave', { chatId: chat._id }), { ok: true });
    raw.ws.send('41');
    await raw.as(c);
    raw.emit('typing:start', { chatId: chat._id });
    await nextEvent(sb, 'typing:update', (p) => p.userId === c.id && p.state === 'start');
    assert.deepEqual(stopsOf(sb, a.id, chat._id), [], "the other device's leave or disconnect told a stop");
    a1.emit('typing:stop', { chatId: chat._id });
    await nextEvent(sb, 'typing:update', (p) => p.userId === a.id && p.state === 'stop');
  });

  it('a typing:stop with no typing:start before it is not relayed', async () => {
    const a = srv.user(); const b = srv.user();
    const chat = await groupOf(srv, a, [b]);
    const sa = await srv.connect(a); const sb = await srv.connect(b);
    await join(sa, chat._id); await join(sb, chat._id);
    sa.emit('typing:stop', { chatId: chat._id });
    const m = await send(sa, chat._id, 'sentinel');
    await nextEvent(sb, 'message:new', (p) => p._id === m.serverId);
    assert.deepEqual(recorded(sb, 'typing:update'), []);
  });
});

describe('typing timeout (--typing-timeout 1)', () => {
  let fast;
  before(async () => { fast = await startChatServer({ args: ['--typing-timeout', '1'] }); });
  after(async () => { await fast?.stop(); });

  it('an episode that is not renewed is told stopped after the timeout, once', async () => {
    const a = fast.user(); const b = fast.user();
    const chat = await groupOf(fast, a, [b]);
    const sa = await fast.connect(a); const sb = await fast.connect(b);
    await join(sa, chat._id); await join(sb, chat._id);
    const t = Date.now();
    sa.emit('typing:start', { chatId: chat._id });
    await nextEvent(sb, 'typing:update', (p) => p.state === 'start');
    const stop = await nextEvent(sb, 'typing:update', (p) => p.state === 'stop', scaled(4000));
    const after = Date.now() - t;
    assert.deepEqual(stop, { chatId: chat._id, userId: a.id, state: 'stop' });
    assert.ok(after >= 950, `stopped after ${after} ms, before the 1 s timeout`);
    // the client's own stop after the server's ends nothing (the message is ordered after it)
    sa.emit('typing:stop', { chatId: chat._id });
    const m = await send(sa, chat._id, 'sentinel');
    await nextEvent(sb, 'message:new', (p) => p._id === m.serverId);
    assert.equal(stopsOf(sb, a.id, chat._id).length, 1);
  });

  it('a renewed typing:start keeps the episode going; it stops one timeout after the last renewal', async () => {
    const a = fast.user(); const b = fast.user();
    const chat = await groupOf(fast, a, [b]);
    const sa = await fast.connect(a); const sb = await fast.connect(b);
    await join(sa, chat._id); await join(sb, chat._id);
    let last = 0;
    for (let i = 0; i < 5; i++) { // 5 starts 400 ms apart: 1.6 s of typing, longer than the timeout
      last = Date.now();
      sa.emit('typing:start', { chatId: chat._id });
      if (i < 4) await sleep(400);
    }
    await nextEvent(sb, 'typing:update', (p) => p.state === 'stop', scaled(4000));
    const stops = stopsOf(sb, a.id, chat._id);
    assert.equal(stops.length, 1, 'one stop for the whole episode');
    const at = sb.arrivals.find((x) => x.event === 'typing:update' && x.payload.state === 'stop').at;
    assert.ok(at - last >= 950, `the stop came ${at - last} ms after the last renewal`);
  });

  it('a client stop before the timeout is the only stop', async () => {
    const a = fast.user(); const b = fast.user();
    const chat = await groupOf(fast, a, [b]);
    const sa = await fast.connect(a); const sb = await fast.connect(b);
    await join(sa, chat._id); await join(sb, chat._id);
    sa.emit('typing:start', { chatId: chat._id });
    sa.emit('typing:stop', { chatId: chat._id });
    await nextEvent(sb, 'typing:update', (p) => p.state === 'stop');
    // past the timeout: a timer left armed would tell a second stop before this start's own
    await sleep(1300);
    sa.emit('typing:start', { chatId: chat._id });
    await nextEvent(sb, 'typing:update', (p) => p.state === 'start' && recorded(sb, 'typing:update').length >= 3);
    assert.deepEqual(recorded(sb, 'typing:update').map((p) => p.state), ['start', 'stop', 'start']);
  });
});
