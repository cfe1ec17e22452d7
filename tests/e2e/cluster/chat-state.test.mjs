// The chat's own state across the nodes of a cluster: two `parley serve --redis URL --store
// postgres://...` on one scratch Redis and one scratch PostgreSQL, with one JWT secret. The rate
// limit counts a user's sends on every node; presence is online while any socket of the user is
// connected on any node; a node killed with SIGKILL takes its users offline for contacts on the
// other node. A negative ("no offline came") is proven by a later positive on the same path: a
// probe user coming online, decided after it on the same node. A presence:snapshot taken on
// one node counts the sockets on every node; a typing socket's stops are told by its own node.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  closeAllSockets, emitAck, assertOk, assertError, nextEvent, recorded, groupOf, randomUUID,
} from '../helpers/chat.mjs';
import { scaled, sleep } from '../helpers/server.mjs';
import { startTwoNodes } from '../helpers/cluster.mjs';

const THROTTLE_MS = 2000;

let two;
let nodeA;
let nodeB;

before(async () => {
  two = await startTwoNodes();
  ({ nodeA, nodeB } = two);
});
after(async () => { await two?.stop(); });
afterEach(() => closeAllSockets());

const updates = (watcher, userId) => recorded(watcher, 'presence:update', (p) => p?.userId === userId);

describe('rate limit across nodes', () => {
  it('10 sends spread over both nodes are accepted, the 11th is refused on either', async () => {
    const a = nodeA.user();
    const chat = await groupOf(nodeA, a, []);
    const onA = await nodeA.connect(a);
    const onB = await nodeB.connect(a);
    for (let i = 0; i < 10; i++) {
      const ack = await emitAck(i % 2 ? onB : onA, 'message:send', { chatId: chat._id, body: `m${i}`, clientId: randomUUID() });
      assertOk(ack, `send ${i}`);
    }
    for (const s of [onA, onB]) {
      const refused = await emitAck(s, 'message:send', { chatId: chat._id, body: 'one too many', clientId: randomUUID() });
      assertError(refused, 'RATE_LIMITED');
      assert.equal(refused.message, 'Maximum 10 messages per 10 seconds');
    }
  });
});

describe('presence:snapshot across nodes', () => {
  it('a contact online on A is online in a snapshot taken on B; one offline everywhere is offline with its lastSeenAt', async () => {
    const me = nodeB.user(); const onA = nodeA.user(); const gone = nodeA.user();
    await groupOf(nodeA, me, [onA, gone]);
    const watcher = nodeB.user();
    await groupOf(nodeA, watcher, [onA]);
    const sw = await nodeB.connect(watcher);
    await nodeA.connect(onA);
    // B's contacts hear onA online: Redis counts its socket on A from then on.
    await nextEvent(sw, 'presence:update', (p) => p.userId === onA.id && p.status === 'online', scaled(3000));
    const sg = await nodeA.connect(gone);
    const tGone = Date.now();
    sg.disconnect();
    const deadline = Date.now() + scaled(6000);
    for (;;) {
      const s = await nodeB.connect(me);
      const snap = await nextEvent(s, 'presence:snapshot', () => true, scaled(3000));
      s.disconnect();
      const byId = Object.fromEntries(snap.users.map((u) => [u.userId, u]));
      assert.deepEqual(Object.keys(byId).sort(), [onA.id, gone.id].sort());
      assert.equal(byId[onA.id].status, 'online', 'a socket on A counts in a snapshot on B');
      const g = byId[gone.id];
      if (g.status === 'offline' && g.lastSeenAt && Date.parse(g.lastSeenAt) >= tGone - 5) break;
      if (Date.now() > deadline) assert.fail(`gone is not offline with its disconnect as lastSeenAt: ${JSON.stringify(snap)}`);
      await sleep(50);
    }
  });
});

describe('typing across nodes', () => {
  it('a typist on A removed from the chat by a REST call on B: the watcher on B hears the stop', async () => {
    const owner = nodeB.user(); const a = nodeA.user(); const b = nodeB.user();
    const chat = await groupOf(nodeB, owner, [a, b]);
    const sa = await nodeA.connect(a); const sb = await nodeB.connect(b);
    for (const s of [sa, sb]) assertOk(await emitAck(s, 'room:join', { chatId: chat._id }));
    sa.emit('typing:start', { chatId: chat._id });
    await nextEvent(sb, 'typing:update', (p) => p.userId === a.id && p.state === 'start', scaled(3000));
    const res = await nodeB.api(owner, 'DELETE', `/v1/chats/${chat._id}/members/${a.id}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    // well within the 5 s typing timeout: the removal's leave on A ended the episode
    assert.deepEqual(await nextEvent(sb, 'typing:update', (p) => p.state === 'stop', scaled(2000)),
      { chatId: chat._id, userId: a.id, state: 'stop' });
  });
});

describe('presence across nodes', () => {
  it('online when the user connects on A; offline only after its last socket, on B, is gone', async () => {
    const a = nodeA.user(); const c = nodeB.user();
    await groupOf(nodeA, c, [a]);
    const sc = await nodeB.connect(c);
    const a1 = await nodeA.connect(a);
    await nextEvent(sc, 'presence:update', (p) => p.userId === a.id && p.status === 'online', scaled(3000));
    const a2 = await nodeB.connect(a);
    await sleep(THROTTLE_MS + 300); // past the window: a wrong offline would go out at once
    a1.disconnect();
    // The probe comes online on A after a1 left it: its update is decided after a1's.
    const probe = nodeA.user();
    await groupOf(nodeA, probe, [c]);
    await nodeA.connect(probe);
    await nextEvent(sc, 'presence:update', (p) => p.userId === probe.id && p.status === 'online', scaled(3000));
    assert.deepEqual(updates(sc, a.id).map((p) => p.status), ['online'], 'offline while a socket on B is connected');
    a2.disconnect();
    await nextEvent(sc, 'presence:update', (p) => p.userId === a.id && p.status === 'offline', scaled(3000));
    assert.deepEqual(updates(sc, a.id).map((p) => p.status), ['online', 'offline']);
  });

  it('a node killed with SIGKILL: its users go offline for contacts on the other node within 20 s', async () => {
    const a = nodeA.user(); const c = nodeB.user();
    await groupOf(nodeB, c, [a]);
    const sc = await nodeB.connect(c);
    await nodeA.connect(a);
    await nextEvent(sc, 'presence:update', (p) => p.userId === a.id && p.status === 'online', scaled(3000));
    const t0 = Date.now();
    await nodeA.kill9();
    const off = await nextEvent(sc, 'presence:update', (p) => p.userId === a.id && p.status === 'offline', scaled(20_000));
    assert.ok(Date.now() - t0 <= scaled(20_000));
    assert.equal(off.userId, a.id);
    assert.deepEqual(updates(sc, a.id).map((p) => p.status), ['online', 'offline'], 'exactly one offline');
  });
});
