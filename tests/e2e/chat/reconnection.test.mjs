// Reconnection and backfill: a client that was away re-joins its rooms and pages through
// GET /v1/chats/:id/messages?after=<last seen> to get every missed message exactly once, in order.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { io } from 'socket.io-client';
import {
  startChatServer, closeAllSockets, emitAck, assertOk, assertMessageShape, assertHttpOk, join, send, nextEvent,
  recorded, groupOf, randomUUID,
} from '../helpers/chat.mjs';
import { Recorder } from '../helpers/clients.mjs';
import { waitFor } from '../helpers/server.mjs';

let srv;
// Without connection state recovery (recovery.test.mjs has it): a reconnect is a new session.
before(async () => { srv = await startChatServer({ args: ['--recovery-window', '0'] }); });
after(async () => { await srv?.stop(); });
afterEach(() => closeAllSockets());

/** Follows `after` pages of `limit` until hasMore is false; returns all messages and page sizes. */
async function backfill(who, chatId, afterId, limit) {
  const all = []; const pages = [];
  let cursor = afterId;
  for (let guard = 0; guard < 100; guard++) {
    const { messages, hasMore } = await srv.getMessages(who, chatId, { after: cursor, limit: String(limit) });
    assert.ok(messages.length <= limit, `page of at most ${limit} (got ${messages.length})`);
    pages.push(messages.length);
    all.push(...messages);
    if (!hasMore) return { all, pages };
    assert.ok(messages.length > 0, 'hasMore with an empty page');
    cursor = messages[messages.length - 1]._id;
  }
  throw new Error('backfill did not terminate');
}

describe('reconnection', () => {
  it('offline client reconnects, re-joins and backfills every missed message exactly once, in order', async () => {
    const a = srv.user(); const b = srv.user(); const c = srv.user();
    const chat = await groupOf(srv, a, [b, c]);
    const sa = await srv.connect(a); const sc = await srv.connect(c);
    await join(sa, chat._id); await join(sc, chat._id);

    let sb = await srv.connect(b);
    await join(sb, chat._id);
    const seen = [];
    for (let i = 0; i < 3; i++) seen.push(await send(sa, chat._id, `seen ${i}`));
    await nextEvent(sb, 'message:new', (p) => p._id === seen[2].serverId);
    const lastSeen = recorded(sb, 'message:new').at(-1)._id;
    assert.equal(lastSeen, seen[2].serverId);

    sb.disconnect(); // offline
    const missed = [];
    for (let i = 0; i < 7; i++) {
      missed.push(await send(sa, chat._id, `missed a${i}`));
      missed.push(await send(sc, chat._id, `missed c${i}`));
    }

    sb = await srv.connect(b); // a new connection, same token
    await join(sb, chat._id);
    const { all, pages } = await backfill(b, chat._id, lastSeen, 3);
    assert.deepEqual(all.map((m) => m._id), missed.map((m) => m.serverId), 'every missed message, once, in order');
    assert.deepEqual(all.map((m) => m.body), missed.map((m) => m.body));
    all.forEach((m, i) => assertMessageShape(m, `backfilled[${i}]`));
    assert.deepEqual(pages, [3, 3, 3, 3, 2]);
    assert.equal(new Set(all.map((m) => m._id)).size, all.length, 'no duplicates');

    // live again after re-joining
    const live = await send(sc, chat._id, 'live again');
    assert.equal((await nextEvent(sb, 'message:new', (p) => p._id === live.serverId)).body, 'live again');
    const rest = await backfill(b, chat._id, missed.at(-1).serverId, 3);
    assert.deepEqual(rest.all.map((m) => m._id), [live.serverId]);
    const none = await srv.getMessages(b, chat._id, { after: live.serverId, limit: '3' });
    assert.deepEqual(none, { messages: [], hasMore: false });
  });

  it('backfill over a burst of pipelined messages (same-millisecond timestamps) neither skips nor repeats', async () => {
    const a = srv.user(); const b = srv.user(); const c = srv.user();
    const chat = await groupOf(srv, a, [b, c]);
    const sa = await srv.connect(a); const sc = await srv.connect(c);
    const base = await send(sa, chat._id, 'base');
    const burst = async (s, tag) => (await Promise.all(Array.from({ length: 9 }, (_, i) =>
      emitAck(s, 'message:send', { chatId: chat._id, body: `${tag}${i}`, clientId: randomUUID() })))).map((x) => assertOk(x).serverId);
    const [ia, ic] = await Promise.all([burst(sa, 'a'), burst(sc, 'c')]);
    const { messages: stored } = await srv.getMessages(b, chat._id, { after: base.serverId, limit: '100' });
    const storedIds = stored.map((m) => m._id);
    assert.deepEqual([...storedIds].sort(), [...ia, ...ic].sort(), 'all 18 stored');
    // each sender's messages are in its send order
    assert.deepEqual(storedIds.filter((id) => ia.includes(id)), ia);
    assert.deepEqual(storedIds.filter((id) => ic.includes(id)), ic);
    for (const limit of [1, 2, 3, 5, 7]) {
      const { all } = await backfill(b, chat._id, base.serverId, limit);
      assert.deepEqual(all.map((m) => m._id), storedIds, `after-paging with limit ${limit}`);
    }
    // and backwards with before
    for (const limit of [2, 4]) {
      const back = []; let cursor = null;
      for (let guard = 0; guard < 50; guard++) {
        const q = { limit: String(limit) };
        if (cursor) q.before = cursor;
        const page = await srv.getMessages(b, chat._id, q);
        back.unshift(...page.messages);
        if (!page.hasMore) break;
        cursor = page.messages[0]._id;
      }
      assert.deepEqual(back.map((m) => m._id), [base.serverId, ...storedIds], `before-paging with limit ${limit}`);
    }
  });

  it('read cursors survive a reconnection', async () => {
    const a = srv.user(); const b = srv.user();
    const chat = await groupOf(srv, a, [b]);
    const sa = await srv.connect(a); await join(sa, chat._id);
    let sb = await srv.connect(b); await join(sb, chat._id);
    const m = await send(sa, chat._id, 'read me');
    const { readAt } = assertOk(await emitAck(sb, 'receipt:read', { chatId: chat._id, messageId: m.serverId }));
    sb.disconnect();
    sb = await srv.connect(b);
    const res = await srv.api(b, 'GET', `/v1/chats/${chat._id}/read-cursors`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.data.find((x) => x.userId === b.id), { userId: b.id, messageId: m.serverId, readAt });
  });

  it('socket.io-client automatic reconnection: rooms must be re-joined, then messages flow again', async () => {
    const a = srv.user(); const b = srv.user();
    const chat = await groupOf(srv, a, [b]);
    const side = await groupOf(srv, a, [b]);
    const sa = await srv.connect(a); await join(sa, chat._id); await join(sa, side._id);

    const sb = io(srv.url, {
      auth: { token: b.token }, transports: ['websocket'], forceNew: true,
      reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 200, timeout: 5000,
    });
    const rec = new Recorder(sb);
    try {
      await waitFor(sb, 'connect', 5000);
      const firstId = sb.id;
      assert.deepEqual(await emitAck(sb, 'room:join', { chatId: chat._id }), { ok: true });

      sb.io.engine.close(); // simulate a network drop: the client reconnects on its own
      await waitFor(sb, 'connect', 5000);
      assert.notEqual(sb.id, firstId, 'a new Socket.IO session');

      // the new session is in user:<id> but not in chat:<id> yet; join the side room only
      assert.deepEqual(await emitAck(sb, 'room:join', { chatId: side._id }), { ok: true });
      const notYet = await send(sa, chat._id, 'while not re-joined');
      const sentinel = await send(sa, side._id, 'sentinel');
      await rec.next('message:new', ([p]) => p._id === sentinel.serverId, 3000);
      assert.ok(!rec.all('message:new').some(([p]) => p._id === notYet.serverId), 'room membership survived the reconnection');

      assert.deepEqual(await emitAck(sb, 'room:join', { chatId: chat._id }), { ok: true });
      const again = await send(sa, chat._id, 'after re-join');
      await rec.next('message:new', ([p]) => p._id === again.serverId, 3000);
      // the one it missed is in the backfill
      const { messages } = await srv.getMessages(b, chat._id, { after: notYet.serverId, limit: '10' });
      assert.deepEqual(messages.map((m) => m._id), [again.serverId]);
      const older = await srv.getMessages(b, chat._id, { before: again.serverId, limit: '1' });
      assert.deepEqual(older.messages.map((m) => m._id), [notYet.serverId]);
    } finally {
      sb.io.reconnection(false);
      sb.disconnect();
    }
  });

  it('an idempotent resend after reconnecting does not duplicate the message', async () => {
    const a = srv.user(); const b = srv.user();
    const chat = await groupOf(srv, a, [b]);
    const sb = await srv.connect(b); await join(sb, chat._id);
    let sa = await srv.connect(a); await join(sa, chat._id);
    const clientId = randomUUID();
    const first = await send(sa, chat._id, 'maybe lost', clientId);
    sa.disconnect(); // the client never saw the ack (pretend) and resends after reconnecting
    sa = await srv.connect(a); await join(sa, chat._id);
    const retry = await emitAck(sa, 'message:send', { chatId: chat._id, body: 'maybe lost', clientId });
    assert.deepEqual(retry, { ok: true, data: { clientId, serverId: first.serverId } });
    const sentinel = await send(sa, chat._id, 'sentinel');
    await nextEvent(sb, 'message:new', (p) => p._id === sentinel.serverId);
    assert.deepEqual(recorded(sb, 'message:new').map((p) => p._id), [first.serverId, sentinel.serverId]);
  });
});

describe('server restart', () => {
  it('acked messages, chats and read cursors survive kill -9; clients reconnect and backfill', async () => {
    const first = await startChatServer();
    let second;
    try {
      const a = first.user(); const b = first.user();
      const chat = await groupOf(first, a, [b]);
      const sa = await first.connect(a); const sb = await first.connect(b);
      await join(sa, chat._id); await join(sb, chat._id);
      const m0 = await send(sa, chat._id, 'before the crash');
      await nextEvent(sb, 'message:new', (p) => p._id === m0.serverId);
      const { readAt } = assertOk(await emitAck(sb, 'receipt:read', { chatId: chat._id, messageId: m0.serverId }));
      // pipelined sends; every ack means "durable"
      const payloads = Array.from({ length: 6 }, (_, i) => ({ chatId: chat._id, body: `durable ${i}`, clientId: randomUUID() }));
      const acks = await Promise.all(payloads.map((p) => emitAck(sa, 'message:send', p)));
      const ids = acks.map((x) => assertOk(x).serverId);
      await first.kill9();
      closeAllSockets();

      second = await startChatServer({ dir: first.dir, secret: first.secret });
      const got = assertHttpOk(await second.api(b, 'GET', `/v1/chats/${chat._id}`));
      assert.deepEqual(got.memberIds.sort(), [...chat.memberIds].sort());
      const { all } = await (async () => {
        const res = []; let cursor = m0.serverId;
        for (;;) {
          const page = await second.getMessages(b, chat._id, { after: cursor, limit: '4' });
          res.push(...page.messages);
          if (!page.hasMore) return { all: res };
          cursor = page.messages.at(-1)._id;
        }
      })();
      assert.deepEqual(all.map((m) => m._id), ids, 'every acked message is there, in order');
      assert.deepEqual(all.map((m) => m.body), payloads.map((p) => p.body));
      const cursors = assertHttpOk(await second.api(b, 'GET', `/v1/chats/${chat._id}/read-cursors`));
      assert.deepEqual(cursors.find((c) => c.userId === b.id), { userId: b.id, messageId: m0.serverId, readAt });

      // idempotency survives the restart too
      const sa2 = await second.connect(a); await join(sa2, chat._id);
      const sb2 = await second.connect(b); await join(sb2, chat._id);
      const retry = await emitAck(sa2, 'message:send', payloads[2]);
      assert.deepEqual(retry, { ok: true, data: { clientId: payloads[2].clientId, serverId: ids[2] } });
      const live = await send(sa2, chat._id, 'after restart');
      await nextEvent(sb2, 'message:new', (p) => p._id === live.serverId);
      assert.deepEqual(recorded(sb2, 'message:new').map((p) => p._id), [live.serverId]);
    } finally {
      closeAllSockets();
      await second?.stop();
      await first.stop();
    }
  });
});
