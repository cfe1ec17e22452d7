// A chat's events in order across nodes. Each node of a cluster publishes what it committed on
// its own, so the events of one chat can reach another node out of commit order; each carries
// its place in the chat's order (`order: [chatId, n]` beside the adapter's rooms, except and
// flags), and every Parley node delivers a chat's events in that order: one that arrives ahead
// of its predecessor waits for it, and a predecessor that never comes (its node died between
// commit and publish) holds the chat back only for a while. The key is Parley's own: a Node
// socket.io server on the same Redis delivers such broadcasts as any other.
//
// The broadcasts are published here by hand, as a node would, so that their order is the
// test's. Holding is shown without sleeping: an unordered marker published after the held ones
// arrives first.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import msgpack from 'notepack.io';
import { closeAllSockets, join, nextEvent, recorded } from '../helpers/chat.mjs';
import { metrics, scaled } from '../helpers/server.mjs';
import { startRedis } from '../helpers/redis.mjs';
import {
  startClusterChatServer, startNodeServer, redisClient, waitForServers, BROADCAST_CHANNEL, CLUSTER_PEER,
} from '../helpers/cluster.mjs';

let redis;
let raw;
let chat;

before(async () => {
  redis = await startRedis();
  raw = await redisClient(redis.url);
  chat = await startClusterChatServer(redis.url);
  await waitForServers(raw, 1);
});
after(async () => {
  closeAllSockets();
  await raw?.quit();
  try {
    await chat?.stop();
  } finally {
    await redis?.stop();
  }
});
afterEach(() => closeAllSockets());

/** Publishes `event` to room chat:<chatId> as another node would, with place `n` (none: null). */
async function publish(chatId, event, payload, n) {
  const opts = { rooms: [`chat:${chatId}`], except: [], flags: {} };
  if (n !== null) opts.order = [chatId, n];
  const packet = { type: 2, data: [event, payload], nsp: '/' };
  await raw.publish(`${BROADCAST_CHANNEL}chat:${chatId}#`, msgpack.encode(['peer01', packet, opts]));
}

/** A member of a new chat, in its room. */
async function memberOfNewChat() {
  const u = chat.user();
  const c = await chat.createChat(u, { type: 'group', title: 'order', memberIds: [] });
  const s = await chat.connect(u);
  await join(s, c._id);
  return { chatId: c._id, socket: s };
}

/** The n of each `ordered` event the socket has received, in arrival order. */
const arrived = (s) => recorded(s, 'ordered').map((p) => p.n);

/** Publishes an unordered marker and waits for it: what was published before it has been handled. */
let markers = 0;
async function settle(chatId, s) {
  const id = ++markers;
  await publish(chatId, 'marker', { id }, null);
  await nextEvent(s, 'marker', (p) => p.id === id, scaled(5000));
}

describe('a chat\'s events in order across nodes', { skip: CLUSTER_PEER !== 'parley' && 'Parley\'s ordering' }, () => {
  it('an event that arrives ahead of its predecessor waits for it, then both go out in order', async () => {
    const { chatId, socket } = await memberOfNewChat();
    await publish(chatId, 'ordered', { n: 10 }, 10); // the first this node sees of the chat
    await nextEvent(socket, 'ordered', (p) => p.n === 10, scaled(5000));
    await publish(chatId, 'ordered', { n: 12 }, 12);
    await publish(chatId, 'ordered', { n: 13 }, 13);
    await settle(chatId, socket);
    assert.deepEqual(arrived(socket), [10], '12 and 13 wait for 11');
    await publish(chatId, 'ordered', { n: 11 }, 11);
    await nextEvent(socket, 'ordered', (p) => p.n === 13, scaled(5000));
    assert.deepEqual(arrived(socket), [10, 11, 12, 13]);
    const m = await metrics(chat.url);
    assert.ok(m.parley_cluster_order_held_total >= 2, `held counted (${m.parley_cluster_order_held_total})`);
  });

  it('a predecessor that never comes holds the chat back for a while, not for ever; if it comes, it is late, not lost', async () => {
    const { chatId, socket } = await memberOfNewChat();
    const before = await metrics(chat.url);
    await publish(chatId, 'ordered', { n: 1 }, 1);
    await publish(chatId, 'ordered', { n: 3 }, 3);
    await settle(chatId, socket);
    assert.deepEqual(arrived(socket), [1], '3 waits for 2');
    // 2 never comes: 3 goes out once the node gives up on it.
    await nextEvent(socket, 'ordered', (p) => p.n === 3, scaled(10_000));
    await publish(chatId, 'ordered', { n: 4 }, 4);
    await nextEvent(socket, 'ordered', (p) => p.n === 4, scaled(5000));
    await publish(chatId, 'ordered', { n: 2 }, 2);
    await nextEvent(socket, 'ordered', (p) => p.n === 2, scaled(5000));
    assert.deepEqual(arrived(socket), [1, 3, 4, 2]);
    const after = await metrics(chat.url);
    assert.equal(after.parley_cluster_order_skipped_total - before.parley_cluster_order_skipped_total, 1,
      'one event given up');
    assert.equal(after.parley_cluster_order_late_total - before.parley_cluster_order_late_total, 1, 'one late');
    // The chat server kept serving everyone else meanwhile, and still does.
    const other = await memberOfNewChat();
    await publish(other.chatId, 'ordered', { n: 1 }, 1);
    await nextEvent(other.socket, 'ordered', (p) => p.n === 1, scaled(5000));
  });

  it('a malformed order drops the broadcast, and the node keeps serving', async () => {
    const { chatId, socket } = await memberOfNewChat();
    const before = await metrics(chat.url);
    const opts = { rooms: [`chat:${chatId}`], except: [], flags: {}, order: [chatId, 'one'] };
    await raw.publish(`${BROADCAST_CHANNEL}chat:${chatId}#`,
      msgpack.encode(['peer01', { type: 2, data: ['ordered', { n: 99 }], nsp: '/' }, opts]));
    await settle(chatId, socket);
    assert.deepEqual(arrived(socket), [], 'the malformed broadcast reached no client');
    const after = await metrics(chat.url);
    assert.equal(after.parley_cluster_dropped_total - before.parley_cluster_dropped_total, 1, 'counted as dropped');
  });
});

describe('a Node socket.io server on the same Redis', () => {
  let node;
  before(async () => { node = await startNodeServer(redis.url); });
  after(async () => { await node?.close(); });

  it('delivers broadcasts that carry an order, as any other', async () => {
    const chatId = '6b161b967c70a188acce0163';
    const socket = await node.connect([`chat:${chatId}`]);
    const got = new Promise((resolve) => socket.on('ordered', resolve));
    await publish(chatId, 'ordered', { n: 7 }, 7);
    const payload = await Promise.race([
      got, new Promise((_, reject) => setTimeout(() => reject(new Error('no broadcast on the Node server')), scaled(5000))),
    ]);
    assert.deepEqual(payload, { n: 7 });
  });
});
