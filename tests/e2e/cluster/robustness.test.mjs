// Whatever is published on the adapter's channels, the chat server keeps serving: garbage,
// truncated and oddly shaped msgpack, deep nesting, 5 MB payloads on the broadcast channel
// (socket.io#/#) and the request channel (socket.io-request#/#), and JSON requests of unknown
// types or with fields missing. After each batch the chat server still answers an adapter
// request (ALL_ROOMS, published after the batch) and still serves a fresh client a message:send
// round trip. The chat server is Parley, or the Node bench peer with PARLEY_E2E_CLUSTER_PEER=node.
// No Node socket.io server runs here: stock @socket.io/redis-adapter 8.3 throws on some of these.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import msgpack from 'notepack.io';
import { closeAllSockets, join, send, nextEvent, randomUUID } from '../helpers/chat.mjs';
import { scaled } from '../helpers/server.mjs';
import { startRedis } from '../helpers/redis.mjs';
import {
  startClusterChatServer, redisClient, waitForServers, BROADCAST_CHANNEL, REQUEST_CHANNEL,
} from '../helpers/cluster.mjs';

const RESPONSE_CHANNEL = 'socket.io-response#/#';
const FIVE_MB = 5 * 1024 * 1024;

let redis;
let chat;
let raw;      // publishes
let listener; // subscribed to the response channel
const answers = new Map(); // requestId -> resolve

before(async () => {
  redis = await startRedis();
  raw = await redisClient(redis.url);
  listener = raw.duplicate();
  listener.on('error', () => {});
  await listener.connect();
  await listener.subscribe(RESPONSE_CHANNEL, (msg) => {
    let reply;
    try { reply = JSON.parse(msg.toString()); } catch { return; }
    answers.get(reply?.requestId)?.(reply);
  }, true);
  chat = await startClusterChatServer(redis.url);
  await waitForServers(raw, 1);
});
after(async () => {
  closeAllSockets();
  await listener?.quit();
  await raw?.quit();
  try {
    await chat?.stop();
  } finally {
    await redis?.stop();
  }
});
afterEach(() => closeAllSockets());

/** An ALL_ROOMS request as a Node server sends it; resolves with the chat server's rooms. */
async function allRooms() {
  const requestId = randomUUID();
  const ms = scaled(3000);
  const answered = new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      answers.delete(requestId);
      reject(new Error(`no ALL_ROOMS answer within ${ms} ms`));
    }, ms);
    answers.set(requestId, (reply) => { clearTimeout(timer); answers.delete(requestId); resolve(reply); });
  });
  await raw.publish(REQUEST_CHANNEL, JSON.stringify({ uid: 'probe1', requestId, type: 1 }));
  return answered;
}

/** The chat server survived: it answers ALL_ROOMS, and a fresh member's message round-trips. */
async function stillServes(what) {
  const reply = await allRooms().catch((err) => {
    const state = chat.server.alive ? 'is running' : 'exited';
    throw new Error(`${what}: ${err.message}; the chat server ${state}; its log ends:\n${chat.logs().slice(-3000)}`);
  });
  assert.ok(Array.isArray(reply.rooms), `${what}: ALL_ROOMS answer has rooms (got ${JSON.stringify(reply).slice(0, 200)})`);
  assert.ok(chat.server.alive, `${what}: the chat server exited:\n${chat.logs().slice(-3000)}`);
  const u = chat.user();
  const c = await chat.createChat(u, { type: 'group', title: 'after', memberIds: [] });
  const s = await chat.connect(u);
  await join(s, c._id);
  const sent = await send(s, c._id);
  const m = await nextEvent(s, 'message:new', (p) => p._id === sent.serverId);
  assert.equal(m.body, sent.body, `${what}: message:new body`);
  const after = await allRooms();
  assert.ok(after.rooms.includes(`chat:${c._id}`), `${what}: ALL_ROOMS lists the new chat:${c._id}`);
}

async function publishAll(channel, payloads) {
  for (const p of payloads) await raw.publish(channel, p);
}

const broadcast = (rooms, data) => msgpack.encode(['garbage', { type: 2, data, nsp: '/' }, { rooms, except: [], flags: {} }]);
const nested = (depth) => Buffer.concat([Buffer.alloc(depth, 0x91), Buffer.from([0xc0])]); // [[[...nil]]]

function shapes() {
  const nobody = [`nobody-${randomUUID()}`];
  return [
    msgpack.encode([1, 2, 3]),
    msgpack.encode(['only-uid']),
    msgpack.encode(['u', 'not a packet', 5]),
    msgpack.encode(['u', { type: 2, data: 'not an array', nsp: '/' }, { rooms: 'not an array' }]),
    msgpack.encode(['u', { type: 2, data: ['ev'], nsp: '/' }, null]),
    msgpack.encode(['u', { type: 2, data: ['ev'], nsp: '/' }, { rooms: [1, { x: 1 }], except: 7 }]),
    msgpack.encode(['u', { type: 99, data: ['ev'], nsp: '/' }, { rooms: nobody, except: [] }]),
    msgpack.encode(['u', { type: 2, data: ['ev'], nsp: '/other' }, { rooms: [], except: [] }]),
    msgpack.encode(['u', { nsp: '/' }, { rooms: nobody }]),
    msgpack.encode({ uid: 'u', type: 2 }),
    msgpack.encode(null),
    msgpack.encode(42),
    msgpack.encode('a string'),
    Buffer.from([0x93, 0xa1, 0x75, 0xc1]), // 0xc1: never used in msgpack
    Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff]), // array32 claiming 4 G elements, none present
    Buffer.from([0xdb, 0x7f, 0xff, 0xff, 0xff]), // str32 claiming 2 GB
    nested(1000),
    nested(200_000),
  ];
}

describe('garbage on the adapter channels', () => {
  it('garbage bytes on socket.io#/# and socket.io-request#/#', async () => {
    const junk = [Buffer.from('not msgpack at all'), randomBytes(256), Buffer.alloc(0), Buffer.from([0xff])];
    await publishAll(BROADCAST_CHANNEL, junk);
    await publishAll(`${BROADCAST_CHANNEL}chat:nope#`, junk);
    await publishAll(REQUEST_CHANNEL, [...junk, Buffer.from('{not json'), Buffer.from('{"type":')]);
    await stillServes('garbage');
  });

  it('truncated msgpack on both channels', async () => {
    const whole = broadcast([`nobody-${randomUUID()}`], ['ev', { a: 'b'.repeat(100) }, Buffer.from([1, 2, 3])]);
    const cuts = [1, 2, 5, 10, whole.length >> 1, whole.length - 1].map((n) => whole.subarray(0, n));
    await publishAll(BROADCAST_CHANNEL, cuts);
    const req = msgpack.encode({ uid: 'u', requestId: 'r', type: 7, packet: { type: 2, data: ['ev'], nsp: '/' }, opts: { rooms: [], except: [] } });
    await publishAll(REQUEST_CHANNEL, [1, 3, req.length >> 1, req.length - 1].map((n) => req.subarray(0, n)));
    await stillServes('truncated msgpack');
  });

  it('msgpack of unknown shapes, absurd lengths and deep nesting on both channels', async () => {
    await publishAll(BROADCAST_CHANNEL, shapes());
    await publishAll(REQUEST_CHANNEL, shapes());
    await stillServes('unknown shapes');
  });

  it('5 MB payloads: random bytes, a broadcast to a room nobody is in, a JSON request', async () => {
    const big = 'x'.repeat(FIVE_MB);
    await publishAll(BROADCAST_CHANNEL, [randomBytes(FIVE_MB), broadcast([`nobody-${randomUUID()}`], ['big', big])]);
    await publishAll(REQUEST_CHANNEL, [
      randomBytes(FIVE_MB),
      Buffer.from(`{${'a'.repeat(FIVE_MB)}`),
      JSON.stringify({ uid: 'u', type: 6, data: ['not-handled-anywhere', big] }),
    ]);
    await stillServes('5 MB');
  });

  it('JSON requests of an unknown type or with fields missing or mistyped', async () => {
    const room = `nobody-${randomUUID()}`;
    const requests = [
      { uid: 'u', requestId: 'r1', type: 99 },
      { uid: 'u', requestId: 'r2', type: -1 },
      { uid: 'u', requestId: 'r3', type: '5' },
      { uid: 'u', requestId: 'r4' },
      { type: 0 }, { type: 1 }, { type: 2 }, { type: 3 }, { type: 4 }, { type: 5 }, { type: 6 },
      { type: 7 }, { type: 8 }, { type: 9 },
      { uid: 'u', type: 2, opts: { rooms: 'not an array', except: 5 }, rooms: 7 },
      { uid: 'u', type: 3, opts: null, rooms: [room] },
      { uid: 'u', type: 4, opts: { rooms: [room] }, close: 'yes' },
      { uid: 'u', requestId: 'r5', type: 5, opts: { rooms: null } },
      { uid: 'u', requestId: 'r6', type: 6, data: 'not an array' },
      { uid: 'u', requestId: 'r7', type: 6, data: [] },
      { uid: 'u', requestId: 'r8', type: 6, data: [42, {}] },
      [], {}, null, 'text', 12,
    ];
    await publishAll(REQUEST_CHANNEL, requests.map((r) => JSON.stringify(r)));
    await stillServes('malformed JSON requests');
  });
});
