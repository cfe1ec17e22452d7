// @socket.io/redis-emitter 5.1 (a host application publishing to the cluster without being a
// socket.io server) on the Redis of the chat server and a Node socket.io 4.8 server: broadcasts
// with rooms and except, remote join/leave, and remote disconnect reach the chat server's
// sockets. The chat server is Parley, or the Node bench peer with PARLEY_E2E_CLUSTER_PEER=node.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { Emitter } from '@socket.io/redis-emitter';
import { closeAllSockets, join, send, nextEvent, recorded, randomUUID } from '../helpers/chat.mjs';
import { normalizeBinary } from '../helpers/clients.mjs';
import { scaled, until, waitFor } from '../helpers/server.mjs';
import { startRedis } from '../helpers/redis.mjs';
import { startClusterChatServer, startNodeServer, redisClient, waitForServers } from '../helpers/cluster.mjs';

let redis;
let chat;
let node;
let raw;
let emitter;

before(async () => {
  redis = await startRedis();
  raw = await redisClient(redis.url);
  emitter = new Emitter(raw);
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

async function group(n) {
  const users = Array.from({ length: n }, () => chat.user());
  const c = await chat.createChat(users[0], { type: 'group', title: `g-${randomUUID().slice(0, 8)}`, memberIds: users.slice(1).map((u) => u.id) });
  return { users, chatId: c._id, room: `chat:${c._id}` };
}

async function chatSocket(user, chatId) {
  const s = await chat.connect(user);
  if (chatId) await join(s, chatId);
  return s;
}

/** Emits a unique `mark` through the emitter to `room`; resolves once every socket saw it. */
async function markThrough(room, sockets) {
  const m = randomUUID();
  emitter.to(room).emit('mark', m);
  await Promise.all(sockets.map((s) => nextEvent(s, 'mark', (p) => p === m)));
}

async function idsIn(room) {
  return (await node.io.in(room).fetchSockets()).map((s) => s.id);
}

describe('@socket.io/redis-emitter -> the cluster', () => {
  it('to(chat:X).emit reaches the chat server\'s member in X and the Node client in X, once each', async () => {
    const { users: [a], chatId, room } = await group(1);
    const s = await chatSocket(a, chatId);
    const outside = await chatSocket(a);
    const n = await node.connect([room]);
    const tag = randomUUID();
    emitter.to(room).emit('notice', { tag, text: 'hi', nested: { list: [1, 'two', null] } });
    const want = { tag, text: 'hi', nested: { list: [1, 'two', null] } };
    assert.deepEqual(await nextEvent(s, 'notice', (p) => p.tag === tag), want);
    assert.deepEqual(await nextEvent(n, 'notice', (p) => p.tag === tag), want);
    await markThrough(`user:${a.id}`, [s, outside]);
    assert.equal(recorded(s, 'notice').length, 1, 'once on the chat server');
    assert.equal(recorded(outside, 'notice').length, 0, 'not to a socket outside X');
    assert.equal(recorded(n, 'notice').length, 1, 'once on the Node server');
  });

  it('except(user:U) is honoured on the chat server', async () => {
    const { users: [a, b], chatId, room } = await group(2);
    const sa = await chatSocket(a, chatId);
    const sb = await chatSocket(b, chatId);
    const tag = randomUUID();
    emitter.to(room).except(`user:${a.id}`).emit('notice', { tag });
    await nextEvent(sb, 'notice', (p) => p.tag === tag);
    await markThrough(room, [sa, sb]);
    assert.equal(recorded(sa, 'notice').length, 0, 'the excepted user got it');
  });

  it('emit() without rooms reaches every socket; binary arguments keep their bytes', async () => {
    const { users: [a] } = await group(1);
    const s = await chatSocket(a);
    const tag = randomUUID();
    emitter.emit('all', tag, Buffer.from([9, 0, 255]));
    const args = await s.rec.next('all', (x) => x[0] === tag);
    assert.deepEqual(normalizeBinary(args[1]), Buffer.from([9, 0, 255]));
  });

  it('in(user:U).socketsJoin(E): to(E) reaches U; socketsLeave(E): it does not', async () => {
    const { users: [a, b], chatId, room } = await group(2);
    const sa = await chatSocket(a, chatId);
    const sb = await chatSocket(b, chatId);
    const extra = `room-E-${randomUUID()}`;
    emitter.in(`user:${a.id}`).socketsJoin(extra);
    await until(() => idsIn(extra), (ids) => ids.length === 1 && ids[0] === sa.id, scaled(3000), `only ${sa.id} in ${extra}`);
    emitter.to(extra).emit('e', 1);
    assert.equal(await nextEvent(sa, 'e'), 1);

    emitter.in(`user:${a.id}`).socketsLeave(extra);
    await until(() => idsIn(extra), (ids) => ids.length === 0, scaled(3000), `nobody in ${extra}`);
    emitter.to(extra).emit('e', 2);
    await markThrough(room, [sa, sb]);
    assert.deepEqual(recorded(sa, 'e'), [1], 'the broadcast after socketsLeave arrived');
    assert.deepEqual(recorded(sb, 'e'), [], 'the other member was never in E');
  });

  it('in(user:U).disconnectSockets(true) closes U\'s sockets and only those', async () => {
    const { users: [a, b], chatId } = await group(2);
    const a1 = await chatSocket(a, chatId);
    const a2 = await chatSocket(a);
    const sb = await chatSocket(b, chatId);
    const gone = [waitFor(a1, 'disconnect'), waitFor(a2, 'disconnect')];
    emitter.in(`user:${a.id}`).disconnectSockets(true);
    for (const [reason] of await Promise.all(gone)) {
      // close=true ends the connection; a server may say DISCONNECT first
      assert.ok(reason === 'transport close' || reason === 'io server disconnect', `reason: ${reason}`);
    }
    assert.equal(sb.connected, true);
    const sent = await send(sb, chatId);
    await nextEvent(sb, 'message:new', (p) => p._id === sent.serverId);
  });

  it('in(user:U).disconnectSockets() (no close) disconnects U with "io server disconnect"', async () => {
    const { users: [a] } = await group(1);
    const s = await chatSocket(a);
    const gone = waitFor(s, 'disconnect');
    emitter.in(`user:${a.id}`).disconnectSockets();
    const [reason] = await gone;
    assert.equal(reason, 'io server disconnect');
  });
});
