// The chat contract across a cluster: three chat servers on one Redis and one PostgreSQL, behind
// nginx round-robin (no sticky sessions), WebSocket-only clients. Every user has one socket on
// each of the three servers (spread() connects them one after another through nginx and checks
// the servers' socket counts), so every broadcast a test waits for must cross servers.
//
// Presence across servers is out of scope here. PARLEY_E2E_CLUSTER_PEER=node runs the Node bench
// peer as the three servers (helpers/cluster.mjs).

import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { CLUSTER_PEER, startCluster } from '../helpers/cluster.mjs';
import {
  api, assertHttpOk, assertOk, closeAllSockets, connect, emitAck, join, nextEvent, randomUUID, recorded, send,
} from '../helpers/chat.mjs';
import { scaled, until, waitFor } from '../helpers/server.mjs';

const NODES = 3;
let cluster;

before(async () => { cluster = await startCluster({ nodes: NODES }); });
after(async () => { await cluster?.stop(); });
afterEach(async () => {
  closeAllSockets();
  // The next test counts sockets from zero.
  await until(() => cluster.socketCounts(), (c) => c.every((n) => n === 0), scaled(5000), 'every socket closed');
});

/**
 * Connects `NODES` sockets per user through nginx, user after user, each user's one after
 * another: round-robin puts them on different servers, which the servers' counts confirm.
 * Returns one socket array per user (index = the order of connection, not a server number).
 */
async function spread(users, opts) {
  const base = await cluster.socketCounts();
  assert.ok(base.every((n) => n === base[0]), `even start: ${base}`);
  const all = [];
  for (const [k, who] of users.entries()) {
    const sockets = [];
    for (let i = 0; i < NODES; i++) sockets.push(await cluster.connect(who, opts));
    const want = base.map((n) => n + k + 1);
    await until(() => cluster.socketCounts(), (c) => c.join() === want.join(), scaled(3000),
      `user ${k}'s ${NODES} sockets on ${NODES} different servers`);
    all.push(sockets);
  }
  return all;
}

async function joinAll(sockets, chatId) {
  for (const s of sockets.flat()) await join(s, chatId);
}

/** A group chat of `owner` with `others`, created through nginx. */
function group(owner, others, title = `g-${randomUUID().slice(0, 8)}`) {
  return cluster.createChat(owner, { type: 'group', title, memberIds: others.map((u) => u.id) });
}

/** Waits until every socket of `sockets` has the message:new with `serverId`. */
async function allReceive(sockets, serverId) {
  await Promise.all(sockets.flat().map((s) => nextEvent(s, 'message:new', (m) => m._id === serverId, 5000)));
}

function countOf(socket, event, match) {
  return recorded(socket, event, match).length;
}

describe('a cluster of three behind nginx', () => {
  it('message:send on one server reaches every socket of every member, on all three servers, exactly once', async () => {
    const [a, b, c] = [cluster.user(), cluster.user(), cluster.user()];
    const chat = await group(a, [b, c]);
    const sockets = await spread([a, b, c]);
    await joinAll(sockets, chat._id);
    // One send from each server (a's first, b's second and c's third socket sit on three servers).
    const sent = [];
    for (const [k, ss] of sockets.entries()) sent.push(await send(ss[k], chat._id, `from-${k}`));
    for (const m of sent) await allReceive(sockets, m.serverId);
    // A last message from the first server: once it is everywhere, a duplicate would be too.
    const last = await send(sockets[0][0], chat._id, 'barrier');
    await allReceive(sockets, last.serverId);
    for (const s of sockets.flat()) {
      for (const m of sent) assert.equal(countOf(s, 'message:new', (p) => p._id === m.serverId), 1, `${m.body} once`);
      const got = recorded(s, 'message:new', (p) => p.chatId === chat._id).map((p) => p.body);
      assert.deepEqual(got, ['from-0', 'from-1', 'from-2', 'barrier'], 'in send order, nothing else');
    }
  });

  it('a retry of the same clientId on another server returns the same message and broadcasts nothing', async () => {
    const [a, b] = [cluster.user(), cluster.user()];
    const chat = await group(a, [b]);
    const sockets = await spread([a, b]);
    await joinAll(sockets, chat._id);
    const clientId = randomUUID();
    const first = await send(sockets[0][0], chat._id, 'once', clientId);
    await allReceive(sockets, first.serverId);
    for (const retryFrom of [sockets[0][1], sockets[0][2]]) {
      const ack = await emitAck(retryFrom, 'message:send', { chatId: chat._id, body: 'once', clientId });
      assert.deepEqual(assertOk(ack, 'retry'), { clientId, serverId: first.serverId }, 'the stored first copy');
    }
    const barrier = await send(sockets[0][0], chat._id, 'barrier');
    await allReceive(sockets, barrier.serverId);
    for (const s of sockets.flat()) {
      assert.equal(countOf(s, 'message:new', (p) => p.clientId === clientId), 1, 'one message:new for the clientId');
    }
    const page = await cluster.getMessages(b, chat._id);
    assert.deepEqual(page.messages.map((m) => m._id), [first.serverId, barrier.serverId], 'stored once');
  });

  it('receipt:update and typing:update cross servers', async () => {
    const [a, b, c] = [cluster.user(), cluster.user(), cluster.user()];
    const chat = await group(a, [b, c]);
    const sockets = await spread([a, b, c]);
    await joinAll(sockets, chat._id);
    const m = await send(sockets[0][0], chat._id, 'read me');
    await allReceive(sockets, m.serverId);

    const { readAt } = assertOk(await emitAck(sockets[1][2], 'receipt:read', { chatId: chat._id, messageId: m.serverId }));
    const update = { chatId: chat._id, messageId: m.serverId, userId: b.id, readAt };
    for (const s of [...sockets[0], ...sockets[2]]) assert.deepEqual(await nextEvent(s, 'receipt:update'), update);

    sockets[2][0].emit('typing:start', { chatId: chat._id });
    sockets[2][0].emit('typing:stop', { chatId: chat._id });
    const others = [...sockets[0], ...sockets[1]];
    for (const s of others) {
      assert.deepEqual(await nextEvent(s, 'typing:update', (p) => p.state === 'start'),
        { chatId: chat._id, userId: c.id, state: 'start' });
      await nextEvent(s, 'typing:update', (p) => p.state === 'stop');
    }
    // c's own sockets, on every server, never see c typing: after a message from c's typing
    // socket has reached them, nothing of c's typing has.
    const barrier = await send(sockets[2][0], chat._id, 'barrier');
    await allReceive(sockets, barrier.serverId);
    for (const s of sockets[2]) assert.deepEqual(recorded(s, 'typing:update'), [], "the typist's sockets");
  });

  it('chat:update from REST on any server reaches every member, and a removed member stops receiving the chat', async () => {
    const [a, b, c, d] = [cluster.user(), cluster.user(), cluster.user(), cluster.user()];
    const chat = await group(a, [b, c], 'before');
    const side = await group(a, [c], 'side'); // c stays in this one
    const sockets = await spread([a, b, c, d]);
    const [sa, sb, sc, sd] = sockets;
    await joinAll([sa, sb, sc], chat._id);
    await joinAll([sa, sc], side._id);
    const onChat = (match) => (p) => p.chat?._id === chat._id && match(p.chat);

    // Each change on a server of its own, straight to its port, not through nginx.
    const renamed = assertHttpOk(await api(cluster.nodes[2].url, a, 'PATCH', `/v1/chats/${chat._id}`, { title: 'after' }));
    assert.equal(renamed.title, 'after');
    for (const s of [...sa, ...sb, ...sc]) await nextEvent(s, 'chat:update', onChat((ch) => ch.title === 'after'));

    assertHttpOk(await api(cluster.nodes[1].url, a, 'POST', `/v1/chats/${chat._id}/members`, { userId: d.id }));
    for (const s of sockets.flat()) await nextEvent(s, 'chat:update', onChat((ch) => ch.memberIds.includes(d.id)));
    await joinAll([sd], chat._id);

    assertHttpOk(await api(cluster.nodes[0].url, a, 'DELETE', `/v1/chats/${chat._id}/members/${c.id}`));
    for (const s of sockets.flat()) await nextEvent(s, 'chat:update', onChat((ch) => !ch.memberIds.includes(c.id)));

    const after = await send(sa[0], chat._id, 'after removal');
    await allReceive([sa, sb, sd], after.serverId);
    // From the same socket, hence the same server and Redis connection: once c has this one,
    // c would have had the other.
    const barrier = await send(sa[0], side._id, 'barrier');
    await allReceive([sc], barrier.serverId);
    for (const s of sc) {
      assert.equal(countOf(s, 'message:new', (p) => p._id === after.serverId), 0, 'removed member got the message');
    }
    const refused = await emitAck(sc[1], 'message:send', { chatId: chat._id, body: 'x', clientId: randomUUID() });
    assert.equal(refused.error, 'FORBIDDEN', 'a removed member cannot send');
  });

  it('logout over REST disconnects the sockets of that session on every server',
    { skip: CLUSTER_PEER === 'node' && 'the peer has no local users or sessions' }, async () => {
      const email = `u-${randomUUID().slice(0, 8)}@example.com`;
      const password = 'pw-cluster-1';
      await cluster.addUser({ email, password, name: 'Logout' });
      const login = async () => assertHttpOk(await cluster.api(undefined, 'POST', '/v1/auth/login', { email, password }));
      const session = await login();
      const other = await login(); // another device: its session stays
      const [ss] = await spread([session.sessionToken]);
      const keep = await connect(cluster.url, other.sessionToken);
      const gone = ss.map((s) => waitFor(s, 'disconnect', 5000));
      const res = await cluster.api(session.sessionToken, 'POST', '/v1/auth/logout');
      assertHttpOk(res, 200, 'logout');
      for (const [reason] of await Promise.all(gone)) assert.equal(reason, 'io server disconnect');
      assert.equal(keep.connected, true, "the other session's socket stays");
      assertOk(await emitAck(keep, 'presence:ping', {}), 'the other session still served');
      const again = await cluster.api(session.sessionToken, 'GET', '/v1/chats');
      assert.equal(again.status, 401, 'the session token is gone on every server');
    });
});
