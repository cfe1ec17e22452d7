// presence:ping, presence:update, presence:batch and presence:snapshot.
//
// presence:snapshot {users:[{userId,status,timestamp,lastSeenAt}]} comes right after connect:
// every contact, online or offline as its contacts were last told, when they were told (null:
// never), and when it was last seen (connect, disconnect, ping; null: never).
//
// presence:update {userId,status,timestamp} goes to the user's contacts (users sharing a chat)
// through the presence rooms of the user's chats, at most one per 2 s per user: the first transition at once;
// if the state at the end of the window differs from the last one sent, exactly one trailing
// update. These rules are about time, so these tests wait (with generous bounds); that nothing
// more came is checked against a probe update that must arrive after anything decided earlier.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  startChatServer, closeAllSockets, emitAck, assertOk, assertIso, nextEvent, recorded, groupOf, arrivedAt, sorted,
} from '../helpers/chat.mjs';
import { scaled, sleep } from '../helpers/server.mjs';
import { WsClient, wsUrl } from '../helpers/eio.mjs';

let srv;
before(async () => { srv = await startChatServer(); });
after(async () => { await srv?.stop(); });
afterEach(() => closeAllSockets());

const THROTTLE_MS = 2000;

function updatesFor(watcher, userId) {
  return recorded(watcher, 'presence:update', (p) => p?.userId === userId);
}

/**
 * Connects `who` and waits for its presence:snapshot (the first, in the batched form): the socket
 * has joined the presence rooms of its chats by then, so every later change of a contact reaches
 * it as an update. A watcher connected without waiting may miss a contact that connects at once
 * (across a cluster, its chats are read from the store before it joins their rooms).
 */
async function watch(server, who, opts) {
  const s = await server.connect(who, opts);
  await nextEvent(s, 'presence:snapshot', () => true, 3000);
  return s;
}

/** Waits for the client-side 'disconnect' of a socket we close. */
async function closeSocket(s) {
  s.disconnect();
}

/**
 * A probe: a new contact of `watcher` (the socket of `watcherUser`) comes online, and this waits
 * for its update there. Every presence update takes one path (io thread 0, the store's queue,
 * the broadcast from thread 0), so an update decided before the probe's connect reaches
 * `watcher` before the probe's own.
 */
async function presenceProbe(watcher, watcherUser, { on } = {}) {
  const probe = srv.user();
  await groupOf(srv, probe, [watcherUser]);
  if (on) on.send(`40${JSON.stringify({ token: probe.token })}`);
  else await srv.connect(probe);
  await nextEvent(watcher, 'presence:update', (p) => p.userId === probe.id && p.status === 'online', 3000);
}

/** A raw WebSocket connected to "/" as `user` (a device whose frames are ordered with the probe's). */
async function rawDevice(user) {
  const raw = new WsClient(wsUrl(srv.url));
  await raw.open();
  raw.send(`40${JSON.stringify({ token: user.token })}`);
  const m = await raw.nextNonPing();
  assert.match(m, /^40\{/, `CONNECT accepted (got ${m})`);
  return raw;
}

describe('presence:ping', () => {
  it('acks {ok:true,data:{serverTime}} with the server time in ISO format', async () => {
    const s = await srv.connect(srv.user());
    const before = Date.now();
    const ack = await emitAck(s, 'presence:ping', {});
    const data = assertOk(ack);
    assert.deepEqual(Object.keys(data), ['serverTime']);
    assertIso(data.serverTime, 'serverTime');
    const t = Date.parse(data.serverTime);
    assert.ok(t >= before - 2000 && t <= Date.now() + 2000, `serverTime ${data.serverTime} is about now`);
  });

  it('works repeatedly and over polling', async () => {
    const s = await srv.connect(srv.user(), { transports: ['polling'] });
    for (let i = 0; i < 3; i++) assertIso(assertOk(await emitAck(s, 'presence:ping', {})).serverTime);
  });
});

describe('presence:update', () => {
  it('a contact gets online at once and offline when the user leaves; a non-contact gets nothing', async () => {
    const a = srv.user(); const contact = srv.user(); const stranger = srv.user();
    await groupOf(srv, contact, [a]); // a and contact share a chat
    const sc = await watch(srv, contact); const ss = await watch(srv, stranger);

    const t0 = Date.now();
    const sa = await srv.connect(a);
    const on = await nextEvent(sc, 'presence:update', (p) => p.userId === a.id, 1500);
    assert.deepEqual(Object.keys(on).sort(), ['status', 'timestamp', 'userId']);
    assert.equal(on.status, 'online');
    assertIso(on.timestamp, 'timestamp');
    assert.ok(Date.now() - t0 < 1500, 'first transition goes out at once');

    // sentinel for the stranger: a chat:update sent to it after the presence broadcast
    await groupOf(srv, a, [stranger]);
    await nextEvent(ss, 'chat:update');
    assert.deepEqual(updatesFor(ss, a.id), [], 'a non-contact got presence:update');

    await sleep(THROTTLE_MS + 300); // let the throttle window pass
    const t1 = Date.now();
    await closeSocket(sa);
    const off = await nextEvent(sc, 'presence:update', (p) => p.userId === a.id && p.status === 'offline', 1500);
    assert.ok(Date.now() - t1 < 1500, 'offline after a quiet window goes out at once');
    assertIso(off.timestamp);
    assert.ok(Date.parse(off.timestamp) >= Date.parse(on.timestamp));
    // the stranger became a contact (shares a chat now), so it hears the offline
    await nextEvent(ss, 'presence:update', (p) => p.userId === a.id && p.status === 'offline', 1500);
  });

  it('multi-device: offline only after ALL sockets of the user disconnect', async () => {
    const a = srv.user(); const b = srv.user();
    await groupOf(srv, a, [b]);
    const sb = await watch(srv, b);
    const a1 = await rawDevice(a);
    try {
      await nextEvent(sb, 'presence:update', (p) => p.userId === a.id && p.status === 'online', 1500);
      const a2 = await srv.connect(a, { transports: ['polling'] });
      await sleep(THROTTLE_MS + 200);
      // a1 leaves "/" and its connection joins as the probe: the server reads the two in order,
      // and the window has long passed, so a (wrong) offline would reach sb before the probe.
      a1.send('41');
      await presenceProbe(sb, b, { on: a1 });
      assert.deepEqual(updatesFor(sb, a.id).map((p) => p.status), ['online'], 'offline while a device is still connected');
      const t = Date.now();
      await closeSocket(a2);
      await nextEvent(sb, 'presence:update', (p) => p.userId === a.id && p.status === 'offline', 2000);
      assert.ok(Date.now() - t < 2000);
      assert.deepEqual(updatesFor(sb, a.id).map((p) => p.status), ['online', 'offline']);
    } finally {
      await a1.close();
    }
  });

  it('rapid cycles ending offline: one update at once, exactly one trailing update at the end of the window', async () => {
    const a = srv.user(); const b = srv.user();
    await groupOf(srv, a, [b]);
    const sb = await watch(srv, b);

    const t0 = Date.now();
    const a1 = await srv.connect(a);
    await closeSocket(a1);
    const a2 = await srv.connect(a);
    await closeSocket(a2);
    const a3 = await srv.connect(a);
    await closeSocket(a3); // final state: offline

    const first = await nextEvent(sb, 'presence:update', (p) => p.userId === a.id, 1500);
    const tFirst = arrivedAt(sb, first);
    assert.equal(first.status, 'online');
    assert.ok(tFirst - t0 < 1500, 'first transition at once');
    const last = await nextEvent(sb, 'presence:update', (p) => p.userId === a.id && p.status === 'offline', THROTTLE_MS + 2500);
    const tLast = arrivedAt(sb, last);
    // The server sent the first update after t0 and the trailing one at least a window after
    // the first: measured from t0, a late arrival of the first (a loaded machine) cannot make
    // a correct server look early.
    assert.ok(tLast - t0 >= THROTTLE_MS - 5, `trailing update came ${tLast - t0} ms after the first connect (throttle ${THROTTLE_MS})`);
    assertIso(last.timestamp);
    // The trailing update opened another window, which ends with nothing to send: wait past its
    // end (the server sent the update before it arrived), then for the probe.
    await sleep(Math.max(0, tLast + THROTTLE_MS + scaled(700) - Date.now()));
    await presenceProbe(sb, b);
    assert.deepEqual(updatesFor(sb, a.id).map((p) => p.status), ['online', 'offline'], 'exactly one leading and one trailing update');
  });

  it('rapid cycles ending online: just the one immediate update (final state = last sent)', async () => {
    const a = srv.user(); const b = srv.user();
    await groupOf(srv, a, [b]);
    const sb = await watch(srv, b);

    const a1 = await srv.connect(a);
    await closeSocket(a1);
    const a2 = await srv.connect(a);
    await closeSocket(a2);
    await srv.connect(a); // stays connected
    const first = await nextEvent(sb, 'presence:update', (p) => p.userId === a.id, 1500);
    const tFirst = arrivedAt(sb, first);
    // Past the end of the window (the server sent the first update before it arrived), then the probe.
    await sleep(Math.max(0, tFirst + THROTTLE_MS + scaled(1200) - Date.now()));
    await presenceProbe(sb, b);
    assert.deepEqual(updatesFor(sb, a.id).map((p) => p.status), ['online']);
  });

  it('every device of a contact gets the update without joining any room', async () => {
    const a = srv.user(); const b = srv.user();
    await groupOf(srv, a, [b]);
    const b1 = await watch(srv, b); const b2 = await watch(srv, b, { transports: ['polling'] });
    await srv.connect(a);
    const u1 = await nextEvent(b1, 'presence:update', (p) => p.userId === a.id, 1500);
    const u2 = await nextEvent(b2, 'presence:update', (p) => p.userId === a.id, 1500);
    assert.deepEqual(u1, u2);
    assert.equal(u1.status, 'online');
  });
});

describe('presence with a dead connection (heartbeat timeout)', () => {
  let fast;
  before(async () => { fast = await startChatServer({ args: ['--ping-interval', '300', '--ping-timeout', '200'] }); });
  after(async () => { await fast?.stop(); });

  it('a client that stops answering pings is dropped and its contacts see it go offline', async () => {
    const a = fast.user(); const b = fast.user();
    await groupOf(fast, a, [b]);
    const sb = await watch(fast, b); // socket.io-client answers pings: stays online
    const raw = new WsClient(wsUrl(fast.url), { autoPong: false });
    try {
      await raw.open();
      raw.send(`40${JSON.stringify({ token: a.token })}`);
      let m;
      do { m = await raw.next(2000); } while (m === '2'); // never answer pings
      assert.match(m, /^40\{/, `CONNECT accepted (got ${m})`);
      const on = await nextEvent(sb, 'presence:update', (p) => p.userId === a.id, 1500);
      assert.equal(on.status, 'online');
      await raw.waitClosed(3000); // the server gives up after pingInterval + pingTimeout
      // offline: at the end of the 2 s window at the latest
      const off = await nextEvent(sb, 'presence:update', (p) => p.userId === a.id && p.status === 'offline', THROTTLE_MS + 2500);
      assertIso(off.timestamp);
      assert.equal(sb.connected, true, 'the healthy client is still connected');
    } finally {
      await raw.close();
    }
  });
});

describe('presence:snapshot', () => {
  /** Connects `user`, reads its snapshot, closes the socket. */
  async function snapshotOf(user) {
    const s = await srv.connect(user);
    try {
      return await nextEvent(s, 'presence:snapshot', () => true, scaled(3000));
    } finally {
      s.disconnect();
    }
  }

  /** Snapshots of `user` until `ready(byId)` holds (the store's write of a lastSeenAt lags). */
  async function snapshotUntil(user, ready, what) {
    const deadline = Date.now() + scaled(5000);
    for (;;) {
      const snap = await snapshotOf(user);
      const byId = Object.fromEntries(snap.users.map((u) => [u.userId, u]));
      if (ready(byId)) return snap;
      if (Date.now() > deadline) assert.fail(`${what}; last snapshot ${JSON.stringify(snap)}`);
      await sleep(50);
    }
  }

  it('lists every contact online or offline with lastSeenAt (JWT-only users too), not oneself nor strangers', async () => {
    const me = srv.user(); const on = srv.user(); const off = srv.user(); const never = srv.user(); const stranger = srv.user();
    await groupOf(srv, me, [on, off]);
    await groupOf(srv, never, [me]);
    await groupOf(srv, stranger, [on]); // a contact of a contact only
    await srv.connect(on);
    await srv.connect(stranger);
    const soff = await srv.connect(off);
    const tOff = Date.now();
    soff.disconnect();
    // A connect's lastSeenAt is written within a second (gathered with others'), a disconnect's at once.
    const snap = await snapshotUntil(me, (u) => u[off.id]?.status === 'offline' && u[off.id].lastSeenAt
      && Date.parse(u[off.id].lastSeenAt) >= tOff - 5 && u[on.id]?.lastSeenAt,
    'off is offline with its disconnect as lastSeenAt, and on has its connect\'s');

    assert.deepEqual(Object.keys(snap), ['users']);
    assert.deepEqual(snap.users.map((u) => u.userId).sort(), [on.id, off.id, never.id].sort());
    for (const u of snap.users) assert.deepEqual(Object.keys(u).sort(), ['lastSeenAt', 'status', 'timestamp', 'userId']);
    const byId = Object.fromEntries(snap.users.map((u) => [u.userId, u]));
    assert.equal(byId[on.id].status, 'online');
    assertIso(byId[on.id].timestamp, 'when its contacts were told it is online');
    assertIso(byId[on.id].lastSeenAt, 'lastSeenAt of an online contact (its connect)');
    assertIso(byId[off.id].lastSeenAt, 'lastSeenAt of a JWT-only user after it disconnected');
    assert.ok(Date.parse(byId[off.id].lastSeenAt) <= Date.now());
    assert.deepEqual(byId[never.id], { userId: never.id, status: 'offline', timestamp: null, lastSeenAt: null });
  });

  it('a presence:ping moves lastSeenAt forward', async () => {
    const me = srv.user(); const pinger = srv.user();
    await groupOf(srv, me, [pinger]);
    const sp = await srv.connect(pinger);
    const first = await snapshotUntil(me, (u) => u[pinger.id]?.lastSeenAt, 'the connect is recorded');
    const connectedAt = Date.parse(first.users[0].lastSeenAt);
    await sleep(20); // a later millisecond than the connect's
    const { serverTime } = assertOk(await emitAck(sp, 'presence:ping', {}));
    assert.ok(Date.parse(serverTime) > connectedAt);
    await snapshotUntil(me, (u) => Date.parse(u[pinger.id]?.lastSeenAt) >= Date.parse(serverTime), 'the ping is recorded');
  });

  it('a user without contacts gets an empty list', async () => {
    assert.deepEqual(await snapshotOf(srv.user()), { users: [] });
  });
});

// A socket that connects with auth {presence: "batch"} takes presence:batch {chatId, updates} in
// place of presence:update: every change among a chat's members within a short window, in one
// event per chat. Sockets without it are untouched.
describe('presence:batch (auth {presence: "batch"})', () => {
  const batched = (who) => ({ auth: { token: who.token, presence: 'batch' } });
  const entriesFor = (socket, userId) => recorded(socket, 'presence:batch')
    .flatMap((b) => b.updates.map((u) => ({ chatId: b.chatId, ...u })))
    .filter((u) => u.userId === userId);

  it('a batched socket gets the changes in presence:batch, a plain one in presence:update, with the same content', async () => {
    const a = srv.user(); const b = srv.user(); const c = srv.user();
    const chat = await groupOf(srv, a, [b, c]);
    const sa = await watch(srv, a, batched(a));
    const sb = await watch(srv, b);
    await nextEvent(sa, 'presence:batch', (p) => p.updates.some((u) => u.userId === b.id));
    await srv.connect(c);
    const batch = await nextEvent(sa, 'presence:batch', (p) => p.updates.some((u) => u.userId === c.id));
    assert.deepEqual(Object.keys(batch).sort(), ['chatId', 'updates']);
    assert.equal(batch.chatId, chat._id);
    const entry = batch.updates.find((u) => u.userId === c.id);
    assert.deepEqual(Object.keys(entry).sort(), ['status', 'timestamp', 'userId']);
    assert.equal(entry.status, 'online');
    assertIso(entry.timestamp);
    const single = await nextEvent(sb, 'presence:update', (p) => p.userId === c.id);
    assert.deepEqual(single, entry, 'the two forms tell the same change');
    assert.deepEqual(recorded(sa, 'presence:update'), [], 'a batched socket gets no presence:update');
    assert.deepEqual(recorded(sb, 'presence:batch'), [], 'a plain socket gets no presence:batch');
  });

  it('changes of many members within the window come in one event', async () => {
    const watcher = srv.user();
    const members = Array.from({ length: 20 }, () => srv.user());
    const chat = await groupOf(srv, watcher, members);
    const sw = await watch(srv, watcher, batched(watcher));
    await Promise.all(members.map((m) => srv.connect(m)));
    // The batch also tells the watcher's own change (every member's, the reader's too), which can
    // come after its snapshot: only the members' changes count here.
    const memberIds = new Set(members.map((m) => m.id));
    const online = new Set();
    const news = (u) => memberIds.has(u.userId) && !online.has(u.userId);
    while (online.size < members.length) {
      const batch = await nextEvent(sw, 'presence:batch', (p) => p.updates.some(news), 5000);
      assert.equal(batch.chatId, chat._id);
      for (const u of batch.updates) if (news(u) && u.status === 'online') online.add(u.userId);
    }
    const batches = recorded(sw, 'presence:batch');
    assert.ok(batches.length < members.length, `${members.length} changes came in ${batches.length} events`);
    for (const m of members) assert.equal(entriesFor(sw, m.id).length, 1, 'each change once');
  });

  it('a change reaches a member of two shared chats in each chat\'s batch, and a non-member in none', async () => {
    const a = srv.user(); const b = srv.user(); const stranger = srv.user();
    const one = await groupOf(srv, a, [b]);
    const two = await groupOf(srv, b, [a]);
    const sa = await srv.connect(a, batched(a));
    const ss = await srv.connect(stranger, batched(stranger));
    await srv.connect(b);
    await nextEvent(sa, 'presence:batch', (p) => p.chatId === one._id && p.updates.some((u) => u.userId === b.id));
    await nextEvent(sa, 'presence:batch', (p) => p.chatId === two._id && p.updates.some((u) => u.userId === b.id));
    const [x, y] = entriesFor(sa, b.id);
    assert.equal(x.timestamp, y.timestamp, 'the same change');
    // sentinel for the stranger: a chat:update sent to it after the presence broadcast
    await groupOf(srv, a, [stranger]);
    await nextEvent(ss, 'chat:update');
    assert.deepEqual(entriesFor(ss, b.id), [], 'a non-contact got presence:batch');
  });

  it("a member added later hears the chat's changes; a removed one stops hearing them", async () => {
    const owner = srv.user(); const late = srv.user(); const other = srv.user();
    const chat = await groupOf(srv, owner, [other]);
    const sl = await srv.connect(late, batched(late));
    await srv.api(owner, 'POST', `/v1/chats/${chat._id}/members`, { userId: late.id });
    await nextEvent(sl, 'chat:update', (p) => p.chat.memberIds.includes(late.id));
    await srv.connect(other);
    await nextEvent(sl, 'presence:batch', (p) => p.updates.some((u) => u.userId === other.id && u.status === 'online'));
    await srv.api(owner, 'DELETE', `/v1/chats/${chat._id}/members/${late.id}`);
    await nextEvent(sl, 'chat:update', (p) => !p.chat.memberIds.includes(late.id));
    // owner comes online after the removal; a probe in a chat late still shares tells us when
    // everything decided before it has been delivered.
    await srv.connect(owner);
    const probe = srv.user();
    await groupOf(srv, probe, [late]);
    await srv.connect(probe);
    await nextEvent(sl, 'presence:batch', (p) => p.updates.some((u) => u.userId === probe.id));
    assert.deepEqual(entriesFor(sl, owner.id), [], 'a removed member heard the chat\'s presence');
  });
  it('a batched socket\'s snapshot is one presence:snapshot {chatId, users} per chat, every member listed', async () => {
    const a = srv.user(); const b = srv.user(); const c = srv.user();
    const one = await groupOf(srv, a, [b]);
    const two = await groupOf(srv, a, [b, c]);
    const sb = await watch(srv, b);
    const sa = await srv.connect(a, batched(a));
    const snapOne = await nextEvent(sa, 'presence:snapshot', (p) => p.chatId === one._id);
    const snapTwo = await nextEvent(sa, 'presence:snapshot', (p) => p.chatId === two._id);
    assert.deepEqual(Object.keys(snapOne).sort(), ['chatId', 'users']);
    assert.deepEqual(snapOne.users.map((u) => u.userId).sort(), sorted([a.id, b.id]));
    assert.deepEqual(snapTwo.users.map((u) => u.userId).sort(), sorted([a.id, b.id, c.id]));
    for (const snap of [snapOne, snapTwo]) {
      const byId = Object.fromEntries(snap.users.map((u) => [u.userId, u]));
      assert.deepEqual(Object.keys(byId[b.id]).sort(), ['lastSeenAt', 'status', 'timestamp', 'userId']);
      assert.equal(byId[b.id].status, 'online', 'b was online before a connected');
      assertIso(byId[b.id].timestamp);
      if (byId[c.id]) assert.equal(byId[c.id].status, 'offline');
    }
    assert.equal(recorded(sa, 'presence:snapshot').length, 2, 'one snapshot per chat');
    // A plain socket of the same user keeps the contract's snapshot: contacts, itself left out.
    const plain = await srv.connect(a);
    const contacts = await nextEvent(plain, 'presence:snapshot');
    assert.deepEqual(Object.keys(contacts), ['users']);
    assert.deepEqual(contacts.users.map((u) => u.userId).sort(), sorted([b.id, c.id]));
    assert.ok(sb.connected);
  });
});
