// A Node socket.io 4.8 server and the chat server on one Redis (@socket.io/redis-adapter 8.x):
// broadcasts, remote room operations, fetchSockets, allRooms and server-side events in both
// directions. The chat server is Parley, or the Node bench peer with PARLEY_E2E_CLUSTER_PEER=node
// (helpers/cluster.mjs). Every test makes its own users and chats; a negative ("did not
// arrive") is proven by a later positive on the same path.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  closeAllSockets, join, send, nextEvent, recorded, assertHttpOk, assertMessageShape, randomUUID,
} from '../helpers/chat.mjs';
import { normalizeBinary } from '../helpers/clients.mjs';
import { scaled, until, waitFor } from '../helpers/server.mjs';
import { startRedis } from '../helpers/redis.mjs';
import {
  startClusterChatServer, startNodeServer, redisClient, waitForServers, chatServerName, REQUESTS_TIMEOUT_MS,
} from '../helpers/cluster.mjs';

let redis;
let chat; // the chat server's context (helpers/chat.mjs startChatServer)
let node; // the Node socket.io server in this process
let raw;  // a plain Redis client

before(async () => {
  redis = await startRedis();
  raw = await redisClient(redis.url);
  chat = await startClusterChatServer(redis.url);
  node = await startNodeServer(redis.url);
  await waitForServers(raw, 2);
});
after(async () => {
  closeAllSockets();
  await node?.close();
  await raw?.quit();
  try {
    await chat?.stop();
  } finally {
    await redis?.stop();
  }
});
afterEach(() => closeAllSockets());

/** `n` fresh users and a group chat of all of them (created by the first). */
async function group(n) {
  const users = Array.from({ length: n }, () => chat.user());
  const c = await chat.createChat(users[0], { type: 'group', title: `g-${randomUUID().slice(0, 8)}`, memberIds: users.slice(1).map((u) => u.id) });
  return { users, chatId: c._id, room: `chat:${c._id}` };
}

/** A chat-server socket of `user`, joined to `chatId` when given. */
async function chatSocket(user, chatId) {
  const s = await chat.connect(user);
  if (chatId) await join(s, chatId);
  return s;
}

/** Emits a unique `mark` from the Node server to `room`; resolves once every socket saw it. */
async function markThrough(room, sockets) {
  const m = randomUUID();
  node.io.to(room).emit('mark', m);
  await Promise.all(sockets.map((s) => nextEvent(s, 'mark', (p) => p === m)));
}

/** Ids of the sockets of `room` across the cluster, as fetchSockets reports them. */
async function idsIn(room) {
  return (await node.io.in(room).fetchSockets()).map((s) => s.id).sort();
}

/** The chat server still serves: a fresh member connects, sends, and gets its message:new. */
async function chatServerServes() {
  const { users, chatId } = await group(1);
  const s = await chatSocket(users[0], chatId);
  const sent = await send(s, chatId);
  const m = await nextEvent(s, 'message:new', (p) => p._id === sent.serverId);
  assert.equal(m.body, sent.body);
}

describe('Node server -> the chat server\'s clients', () => {
  it('to(chat:X) reaches the member joined to X exactly once, not the same user\'s socket outside X', async () => {
    const { users: [a], chatId, room } = await group(1);
    const inX = await chatSocket(a, chatId);
    const outside = await chatSocket(a);
    const n = randomUUID();
    node.io.to(room).emit('announce', { n: 1, tag: n });
    const got = await nextEvent(inX, 'announce', (p) => p.tag === n);
    assert.deepEqual(got, { n: 1, tag: n });
    await markThrough(`user:${a.id}`, [inX, outside]);
    assert.equal(recorded(inX, 'announce', (p) => p.tag === n).length, 1, 'exactly once in X');
    assert.equal(recorded(outside, 'announce').length, 0, 'not to the socket outside X');
  });

  it('to(chat:X).except(user:U) skips U and reaches the other member', async () => {
    const { users: [a, b], chatId, room } = await group(2);
    const sa = await chatSocket(a, chatId);
    const sb = await chatSocket(b, chatId);
    const n = randomUUID();
    node.io.to(room).except(`user:${a.id}`).emit('announce', { n: 2, tag: n });
    assert.deepEqual(await nextEvent(sb, 'announce', (p) => p.tag === n), { n: 2, tag: n });
    await markThrough(room, [sa, sb]);
    assert.equal(recorded(sa, 'announce').length, 0, 'the excepted user got it');
    assert.equal(recorded(sb, 'announce').length, 1);
  });

  it('a binary argument arrives as the same bytes, the object beside it intact', async () => {
    const { users: [a], chatId, room } = await group(1);
    const s = await chatSocket(a, chatId);
    node.io.to(room).emit('blob', Buffer.from([0, 1, 2, 255]), { meta: 'm' });
    const args = await s.rec.next('blob');
    assert.equal(args.length, 2, `two arguments (got ${args.length})`);
    assert.ok(Buffer.isBuffer(args[0]) || args[0] instanceof ArrayBuffer, 'the first argument is binary');
    assert.deepEqual(normalizeBinary(args[0]), Buffer.from([0, 1, 2, 255]));
    assert.deepEqual(args[1], { meta: 'm' });
  });

  it('fetchSockets() returns the chat server\'s sockets of a room: ids, rooms and data.userId', async () => {
    const { users: [a, b], chatId, room } = await group(2);
    const sa = await chatSocket(a, chatId);
    const sb = await chatSocket(b, chatId);
    await chatSocket(a); // a's socket outside the room: not listed
    const found = await node.io.in(room).fetchSockets();
    assert.deepEqual(found.map((r) => r.id).sort(), [sa.id, sb.id].sort());
    for (const [s, u] of [[sa, a], [sb, b]]) {
      const r = found.find((x) => x.id === s.id);
      assert.ok(r.rooms.has(room), `rooms of ${s.id} include ${room}: ${[...r.rooms]}`);
      assert.ok(r.rooms.has(`user:${u.id}`), `rooms of ${s.id} include user:${u.id}: ${[...r.rooms]}`);
      assert.equal(r.data?.userId, u.id, 'data.userId');
      assert.equal(typeof r.handshake, 'object', 'a handshake object');
    }
  });

  it('fetchSockets() of a room nobody is in returns [] once every server answered, well before the timeout', async () => {
    const started = Date.now();
    const found = await node.io.in(`nobody-${randomUUID()}`).fetchSockets();
    const took = Date.now() - started;
    assert.deepEqual(found, []);
    assert.ok(took < REQUESTS_TIMEOUT_MS / 2, `answered in ${took} ms (the requester gives up after ${REQUESTS_TIMEOUT_MS} ms)`);
  });

  it('in(user:U).socketsJoin(R): a broadcast to R reaches U; after socketsLeave(R) it does not', async () => {
    const { users: [a], chatId } = await group(1);
    const s = await chatSocket(a, chatId);
    const extra = `extra-${randomUUID()}`;
    node.io.in(`user:${a.id}`).socketsJoin(extra);
    await until(() => idsIn(extra), (ids) => ids.includes(s.id), scaled(3000), `${s.id} in ${extra}`);
    node.io.to(extra).emit('hello', 1);
    assert.equal(await nextEvent(s, 'hello'), 1);

    node.io.in(`user:${a.id}`).socketsLeave(extra);
    await until(() => idsIn(extra), (ids) => !ids.includes(s.id), scaled(3000), `${s.id} out of ${extra}`);
    node.io.to(extra).emit('hello', 2);
    await markThrough(`chat:${chatId}`, [s]);
    assert.deepEqual(recorded(s, 'hello'), [1], 'the broadcast after socketsLeave arrived');
  });

  it('in(user:U).disconnectSockets() disconnects U\'s sockets ("io server disconnect"), not another user\'s', async () => {
    const { users: [a, b], chatId } = await group(2);
    const a1 = await chatSocket(a, chatId);
    const a2 = await chatSocket(a);
    const sb = await chatSocket(b, chatId);
    const gone = [waitFor(a1, 'disconnect'), waitFor(a2, 'disconnect')];
    node.io.in(`user:${a.id}`).disconnectSockets();
    for (const [reason] of await Promise.all(gone)) assert.equal(reason, 'io server disconnect');
    assert.equal(sb.connected, true);
    const sent = await send(sb, chatId);
    await nextEvent(sb, 'message:new', (p) => p._id === sent.serverId);
  });

  it('serverSideEmit("parley:ping", {}, cb): one answer, {server, sockets} with this process\'s socket count', async () => {
    const ping = () => new Promise((resolve, reject) => {
      node.io.serverSideEmit('parley:ping', {}, (err, responses) => (err ? reject(err) : resolve(responses)));
    });
    const first = await ping();
    assert.equal(first.length, 1, `one answer per other server (got ${JSON.stringify(first)})`);
    assert.deepEqual(Object.keys(first[0]).sort(), ['server', 'sockets']);
    assert.equal(first[0].server, chatServerName);
    assert.ok(Number.isInteger(first[0].sockets) && first[0].sockets >= 0, `sockets: ${first[0].sockets}`);
    // Exactly the sockets open now: every earlier socket is closed (their server-side ends may
    // still be leaving, hence the wait), then two of one user.
    closeAllSockets();
    const { users: [a] } = await group(1);
    await chatSocket(a);
    await chatSocket(a);
    const [now] = await until(ping, ([r]) => r.sockets === 2, scaled(5000), 'sockets: 2 (the two open ones)');
    assert.equal(now.server, chatServerName);
  });

  it('serverSideEmitWithAck("parley:ping") resolves with the answer; a ping without ack is harmless', async () => {
    node.io.serverSideEmit('parley:ping', { noAck: true });
    const responses = await node.io.serverSideEmitWithAck('parley:ping', { x: 1 });
    assert.equal(responses.length, 1);
    assert.equal(responses[0].server, chatServerName);
    await chatServerServes();
  });

  it('timeout(ms).to(chat:X).emit(ev, cb): every socket in X across the cluster acks once', async () => {
    const { users: [a, b], chatId, room } = await group(2);
    const sa = await chatSocket(a, chatId);
    const sb = await chatSocket(b, chatId);
    const sn = await node.connect([room]);
    for (const s of [sa, sb, sn]) s.on('ask', (q, cb) => cb({ from: s.id, q }));
    const responses = await node.io.timeout(REQUESTS_TIMEOUT_MS).to(room).emitWithAck('ask', 7);
    assert.deepEqual(responses.map((r) => r.from).sort(), [sa.id, sb.id, sn.id].sort());
    for (const r of responses) assert.equal(r.q, 7);
  });

  it('adapter.allRooms() includes the chat server\'s chat:X', async () => {
    const { users: [a], chatId, room } = await group(1);
    await chatSocket(a, chatId);
    const rooms = await node.io.of('/').adapter.allRooms();
    assert.ok(rooms.has(room), `allRooms has ${room}`);
    assert.ok(rooms.has(`user:${a.id}`), `allRooms has user:${a.id}`);
  });
});

describe('the chat server -> Node server\'s clients', () => {
  it('message:send on the chat server reaches a Node client in chat:X as message:new, exactly once', async () => {
    const { users: [a], chatId, room } = await group(1);
    const s = await chatSocket(a, chatId);
    const n = await node.connect([room]);
    const first = await send(s, chatId);
    const m = await nextEvent(n, 'message:new', (p) => p._id === first.serverId);
    assertMessageShape(m);
    assert.equal(m.body, first.body);
    assert.equal(m.chatId, chatId);
    assert.equal(m.senderId, a.id);
    const second = await send(s, chatId);
    await nextEvent(n, 'message:new', (p) => p._id === second.serverId);
    assert.equal(recorded(n, 'message:new', (p) => p._id === first.serverId).length, 1, 'exactly once');
  });

  it('chat:update of a REST rename reaches a Node client in user:<member>', async () => {
    const { users: [a, b], chatId } = await group(2);
    const n = await node.connect([`user:${b.id}`]);
    const title = `renamed-${randomUUID().slice(0, 8)}`;
    assertHttpOk(await chat.api(a, 'PATCH', `/v1/chats/${chatId}`, { title }), 200, 'PATCH title');
    const u = await nextEvent(n, 'chat:update', (p) => p?.chat?._id === chatId && p.chat.title === title);
    assert.deepEqual(u.chat.memberIds.sort(), [a.id, b.id].sort());
  });

});
