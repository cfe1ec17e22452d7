// The protocol limits as the chat contract shows them: a refused request gets the contract's
// error envelope, volatile traffic (typing) is what a backed-up client loses first, and a
// client pipelining past its limit is answered at once rather than queued without bound.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  startChatServer, closeAllSockets, emitAck, assertOk, assertError, join, send, groupOf, getMessages, randomUUID,
  nextEvent, recorded,
} from '../helpers/chat.mjs';
import { PollingClient } from '../helpers/eio.mjs';
import { scaled, until } from '../helpers/server.mjs';

afterEach(() => closeAllSockets());

/** The server's log is a pipe: the line naming `id` arrives a little after the reply. */
const inLog = (srv, id) => until(() => srv.logs(), (log) => log.includes(id), 5000, `correlationId ${id} in the server log`);

describe('rooms per socket (--max-rooms-per-socket)', () => {
  let srv;
  // Only the rooms a client asks for count: the server's own (the user's room, the presence rooms
  // of its chats) do not, so 1 leaves room for one chat however many chats the user is in.
  before(async () => { srv = await startChatServer({ args: ['--max-rooms-per-socket', '1'] }); });
  after(async () => { await srv?.stop(); });

  it('room:join past the limit is RATE_LIMITED with the envelope; leaving makes room', async () => {
    const a = srv.user();
    const first = await groupOf(srv, a, []);
    const second = await groupOf(srv, a, []);
    const s = await srv.connect(a);
    await join(s, first._id);
    const refused = await emitAck(s, 'room:join', { chatId: second._id });
    assertError(refused, 'RATE_LIMITED', 'second chat room');
    assert.equal(refused.message, 'Too many rooms joined on this connection');
    await inLog(srv, refused.correlationId);
    assertOk(await emitAck(s, 'room:leave', { chatId: first._id }));
    await join(s, second._id);
    await send(s, second._id, 'in the second chat');
  });
});

describe('requests in flight per socket (--max-pending-acks)', () => {
  let srv;
  before(async () => { srv = await startChatServer({ args: ['--max-pending-acks', '1'] }); });
  after(async () => { await srv?.stop(); });

  it('pipelined sends past the limit are answered RATE_LIMITED at once; every accepted one is stored', async () => {
    const a = srv.user();
    const chat = await groupOf(srv, a, []);
    // Eight sends in one long-polling POST: the server reads them together, so the first is in
    // the store while the other seven arrive, whatever the machine's load.
    const raw = new PollingClient(srv.url);
    await raw.open();
    await raw.send(`40${JSON.stringify({ token: a.token })}`);
    assert.match((await raw.get()).packets[0], /^40\{/);
    const sends = Array.from({ length: 8 }, (_, i) => ({ chatId: chat._id, body: `p${i}`, clientId: randomUUID() }));
    await raw.send(sends.map((m, i) => `42${i + 1}${JSON.stringify(['message:send', m])}`).join('\x1e'));
    const acks = new Map();
    const deadline = Date.now() + scaled(5000);
    while (acks.size < sends.length && Date.now() < deadline) {
      for (const p of (await raw.get()).packets) {
        const ack = /^43(\d+)(\[.*\])$/.exec(p);
        if (ack) acks.set(Number(ack[1]), JSON.parse(ack[2])[0]);
      }
    }
    assert.equal(acks.size, sends.length, 'every send answered');
    const ordered = sends.map((_, i) => acks.get(i + 1));
    assertOk(ordered[0], 'the first one is accepted');
    for (const [i, r] of ordered.slice(1).entries()) {
      assertError(r, 'RATE_LIMITED', `send ${i + 2}, behind the first`);
      assert.equal(r.message, 'Too many requests awaiting an answer on this connection');
    }
    const page = await getMessages(srv.url, a, chat._id);
    assert.deepEqual(page.messages.map((m) => m._id), [ordered[0].data.serverId], 'exactly the accepted send is stored');
    // Once answered, the socket takes requests again.
    const s = await srv.connect(a);
    await send(s, chat._id, 'after the burst');
    await raw.send(`429${JSON.stringify(['message:send', { chatId: chat._id, body: 'again', clientId: randomUUID() }])}`);
    let again;
    const againBy = Date.now() + scaled(5000);
    while (!again && Date.now() < againBy) {
      for (const p of (await raw.get()).packets) if (p.startsWith('439[')) again = JSON.parse(p.slice(3))[0];
    }
    assertOk(again, 'the same connection sends again once answered');
  });
});

describe('volatile typing is dropped first for a client that is behind', () => {
  let srv;
  before(async () => {
    srv = await startChatServer({
      args: ['--threads', '1', '--volatile-backlog-bytes', '2000', '--max-outbound-bytes', '30000'],
    });
  });
  after(async () => { await srv?.stop(); });

  it('1000 typing updates to a client that does not poll: most dropped, the message kept, the client not cut off', async () => {
    const a = srv.user(); const b = srv.user();
    const chat = await groupOf(srv, a, [b]);

    // b: a raw long-polling client that joins the chat and then stops polling.
    const raw = new PollingClient(srv.url);
    await raw.open();
    await raw.post(`40${JSON.stringify({ token: b.token })}`);
    assert.match((await raw.get()).packets[0], /^40\{/);
    await raw.post(`421${JSON.stringify(['room:join', { chatId: chat._id }])}`);
    // The join's ack, with the presence:snapshot sent after the CONNECT before or after it.
    const early = [];
    const joinDeadline = Date.now() + scaled(5000);
    do early.push(...(await raw.get()).packets);
    while (!early.some((p) => p.startsWith('431')) && Date.now() < joinDeadline);
    assert.deepEqual(early.filter((p) => !p.startsWith('42["presence:snapshot"')), ['431[{"ok":true}]']);

    const droppedBefore = (await srv.metrics()).parley_volatile_dropped_total;
    const sa = await srv.connect(a);
    await join(sa, chat._id);
    // ~110 bytes each: 1000 of them would be 110 kB, far past --max-outbound-bytes.
    for (let i = 0; i < 1000; ++i) sa.emit('typing:start', { chatId: chat._id });
    const sent = await send(sa, chat._id, 'the message that matters');

    // On one process the message is queued for b before the ack; across a cluster it reaches b's
    // node over Redis a moment later (after the typing updates, published before it): read on.
    const packets = [];
    const deadline = Date.now() + scaled(5000);
    do {
      const { status, packets: got } = await raw.get();
      assert.equal(status, 200, 'the client that fell behind is still connected');
      packets.push(...got);
    } while (!packets.some((p) => p.startsWith('42["message:new"')) && Date.now() < deadline);
    const typing = packets.filter((p) => p.startsWith('42["typing:update"'));
    const news = packets.filter((p) => p.startsWith('42["message:new"'));
    assert.ok(typing.length > 0 && typing.length < 100, `a few typing updates were kept (${typing.length})`);
    assert.equal(news.length, 1, 'the message arrived');
    assert.equal(JSON.parse(news[0].slice(2))[1].serverId ?? JSON.parse(news[0].slice(2))[1]._id, sent.serverId);
    const after = await srv.metrics(); // summed over the nodes of a cluster
    assert.ok(after.parley_volatile_dropped_total - droppedBefore >= 900);
    assert.equal(after.parley_slow_consumers_closed_total, 0);
  });
});

describe('REST request body size (--max-payload)', () => {
  let srv;
  before(async () => { srv = await startChatServer({ args: ['--max-payload', '10000'] }); });
  after(async () => { await srv?.stop(); });

  it('a body over the limit gets 413 with the error envelope; the next request is served', async () => {
    const a = srv.user();
    const chat = await groupOf(srv, a, []);
    const big = await srv.api(a, 'POST', `/v1/chats/${chat._id}/messages`,
      { body: 'x'.repeat(20_000), clientId: randomUUID() });
    assert.equal(big.status, 413);
    assertError(big.body, 'VALIDATION_ERROR', '413 body');
    assert.equal(big.body.message, 'Request body too large');
    await inLog(srv, big.body.correlationId);
    const ok = await srv.api(a, 'POST', `/v1/chats/${chat._id}/messages`, { body: 'small', clientId: randomUUID() });
    assert.equal(ok.status, 201);
    const page = await getMessages(srv.url, a, chat._id);
    assert.deepEqual(page.messages.map((m) => m.body), ['small'], 'only the small one is stored');
  });
});

describe('store operations per socket (--socket-store-ops)', () => {
  let srv;
  before(async () => { srv = await startChatServer({ args: ['--socket-store-ops', '3'] }); });
  after(async () => { await srv?.stop(); });

  /** A socket of a member of `chat` that has spent its 3 operations on receipts. */
  async function spent(user, chatId, messageId) {
    const s = await srv.connect(user);
    for (let i = 0; i < 3; i++) assertOk(await emitAck(s, 'receipt:read', { chatId, messageId }), `receipt ${i}`);
    return s;
  }

  it('receipt:read past the budget is RATE_LIMITED with the envelope; the socket and the user\'s other sockets carry on', async () => {
    const a = srv.user(); const b = srv.user();
    const chat = await groupOf(srv, a, [b]);
    const sa = await srv.connect(a);
    await join(sa, chat._id);
    const m = await send(sa, chat._id, 'read me');
    const sb = await spent(b, chat._id, m.serverId);
    const refused = await emitAck(sb, 'receipt:read', { chatId: chat._id, messageId: m.serverId });
    assertError(refused, 'RATE_LIMITED', 'the fourth receipt');
    assert.equal(refused.message, 'Maximum 3 read receipts per 10 seconds on one connection');
    // The same socket still sends; another socket of the same user has its own budget.
    await join(sb, chat._id);
    await send(sb, chat._id, 'still here');
    const other = await srv.connect(b);
    assertOk(await emitAck(other, 'receipt:read', { chatId: chat._id, messageId: m.serverId }), 'another socket');
  });

  it('typing:start outside the socket\'s rooms past the budget is ignored; within budget it is relayed', async () => {
    const a = srv.user(); const c = srv.user(); const d = srv.user();
    const chat = await groupOf(srv, a, [c, d]);
    const sa = await srv.connect(a);
    await join(sa, chat._id);
    const m = await send(sa, chat._id, 'hello');
    const sc = await spent(c, chat._id, m.serverId); // not in the chat's room
    const sd = await srv.connect(d);                // not in the room either, budget untouched
    sc.emit('typing:start', { chatId: chat._id });
    sd.emit('typing:start', { chatId: chat._id });
    // d's start went through the same path after c's: once it is here, c's would have been too.
    await nextEvent(sa, 'typing:update', (p) => p.userId === d.id && p.state === 'start');
    assert.deepEqual(recorded(sa, 'typing:update', (p) => p.userId === c.id), [], 'nothing from the spent socket');
    // In the room, typing costs the store nothing and is not counted.
    await join(sc, chat._id);
    sc.emit('typing:start', { chatId: chat._id });
    await nextEvent(sa, 'typing:update', (p) => p.userId === c.id && p.state === 'start');
  });
});

// On a server of its own: the sockets of other tests, closed as each ends, write their
// lastSeenAt as they go, and any of those landing amid the pings would be counted as theirs.
describe('presence:ping and the store', () => {
  let srv;
  before(async () => { srv = await startChatServer(); });
  after(async () => { await srv?.stop(); });

  const writes = async () => (await srv.metrics()).parley_store_committed_writes_total;
  /** The store's count of committed writes once it has stayed put for a while. */
  async function settledWrites() {
    let count = await writes();
    let stillSince = Date.now();
    await until(async () => {
      const now = await writes();
      if (now !== count) { count = now; stillSince = Date.now(); }
      return Date.now() - stillSince;
    }, (quietMs) => quietMs >= scaled(1500), scaled(8000), 'the store is idle');
    return count;
  }

  it('presence:ping is always answered, and writes lastSeenAt at most once per 10 s per socket', async () => {
    const a = srv.user();
    const s = await srv.connect(a);
    assertOk(await emitAck(s, 'presence:ping', {}), 'the first ping');
    // The first ping's write and the connect's committed: the count stays put for a while. (A
    // connect's lastSeenAt is written with other connects' within a second of it.)
    const before = await settledWrites();
    for (let i = 0; i < 20; i++) assertOk(await emitAck(s, 'presence:ping', {}), `ping ${i}`);
    // A marker write behind the pings: once it is counted, so would theirs be.
    const chat = await groupOf(srv, a, []);
    await join(s, chat._id);
    await send(s, chat._id, 'marker');
    const after = await writes();
    assert.ok(after - before <= 3, `20 pings wrote ${after - before - 2} times (the chat and the message are 2 writes)`);
  });

  it('the lastSeenAt of a burst of connects is written in one write, each user with its connect\'s time', async () => {
    const watcher = srv.user();
    const users = Array.from({ length: 20 }, () => srv.user());
    await groupOf(srv, watcher, users);
    const before = await settledWrites();
    const started = Date.now();
    await Promise.all(users.map((u) => srv.connect(u)));
    const after = await settledWrites();
    // One write per process (a cluster's nodes gather their own connects), or two when the burst
    // straddles the end of a gathering.
    const most = 2 * srv.nodes.length;
    assert.ok(after - before <= most, `20 connects over ${srv.nodes.length} process(es) wrote lastSeenAt in ${after - before} writes`);
    const s = await srv.connect(watcher);
    const snap = await nextEvent(s, 'presence:snapshot');
    for (const u of users) {
      const entry = snap.users.find((e) => e.userId === u.id);
      assert.ok(entry?.lastSeenAt && Date.parse(entry.lastSeenAt) >= started - 5, `lastSeenAt of a connect: ${JSON.stringify(entry)}`);
    }
  });
});
