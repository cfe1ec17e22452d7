// Helpers for the mixed-cluster tests (tests/e2e/cluster/): a chat server and a plain Node
// socket.io 4.8 server on one Redis, through @socket.io/redis-adapter 8.x (classic
// PUBLISH/PSUBSCRIBE, key prefix "socket.io", namespace "/").
//
//   const redis = await startRedis();                        // helpers/redis.mjs
//   const chat = await startClusterChatServer(redis.url);    // startChatServer's context + --redis
//   const node = await startNodeServer(redis.url);           // { io, url, connect(rooms), close() }
//   const raw = await redisClient(redis.url);                // a plain node-redis 4 client
//   await waitForServers(raw, 2);                            // both subscribed to the request channel
//
// The chat server is `parley serve --redis URL` (JWT auth: chat.user() signs tokens), or, with
// PARLEY_E2E_CLUSTER_PEER=node, the Node bench peer (bench/peer/server.mjs) with the same flags:
// the peer implements the same contract on stock socket.io, so a test that fails against it is
// a wrong test. `chatServerName` is what that server answers to `parley:ping` ("parley" or
// "node-peer"; bench/peer/README.md, "Redis mode").
//
// The Node server has no auth. Its clients join the rooms a test chooses: connect(['chat:X'])
// connects and emits `join` with those rooms (acked once joined); `leave` is the reverse. Its
// adapter waits REQUESTS_TIMEOUT_MS for the other servers' answers.

import { existsSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createAdapter } from '@socket.io/redis-adapter';
import { createClient } from 'redis';
import { Server } from 'socket.io';
import { connect, emitAck, startChatServer } from './chat.mjs';
import { repoRoot, scaled } from './server.mjs';

export const CLUSTER_PEER = process.env.PARLEY_E2E_CLUSTER_PEER || 'parley';
if (CLUSTER_PEER !== 'parley' && CLUSTER_PEER !== 'node') {
  throw new Error(`PARLEY_E2E_CLUSTER_PEER must be 'node' or unset (got '${CLUSTER_PEER}')`);
}
/** The name the chat server answers to `parley:ping`. */
export const chatServerName = CLUSTER_PEER === 'node' ? 'node-peer' : 'parley';

export const REQUEST_CHANNEL = 'socket.io-request#/#';
export const BROADCAST_CHANNEL = 'socket.io#/#';
export const REQUESTS_TIMEOUT_MS = scaled(3000);

const peerDir = path.join(repoRoot, 'bench', 'peer');

/** startChatServer (helpers/chat.mjs) with `--redis url`, Parley's or the Node peer's. */
export async function startClusterChatServer(url, { args = [], ...opts } = {}) {
  const full = { ...opts, args: ['--redis', url, ...args] };
  if (CLUSTER_PEER === 'node') {
    if (!existsSync(path.join(peerDir, 'node_modules', '@socket.io', 'redis-adapter'))) {
      throw new Error(`PARLEY_E2E_CLUSTER_PEER=node: the peer's packages are missing (cd ${peerDir} && npm ci)`);
    }
    full.launcher = [process.execPath];
    full.executable = path.join(peerDir, 'server.mjs');
  }
  return startChatServer(full);
}

/** A connected node-redis 4 client (close it with `await client.quit()`). */
export async function redisClient(url) {
  const client = createClient({ url });
  client.on('error', () => { /* reconnects on its own; a test sees the failed command */ });
  await client.connect();
  return client;
}

/** Subscribers of `channel` (PUBSUB NUMSUB). */
export async function subscribers(client, channel) {
  const reply = await client.sendCommand(['PUBSUB', 'NUMSUB', channel]);
  return Number(reply[1]);
}

/** Waits until `n` servers subscribe to the request channel (the count every requester uses). */
export async function waitForServers(client, n, timeoutMs = scaled(10_000)) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const count = await subscribers(client, REQUEST_CHANNEL);
    if (count === n) return;
    if (Date.now() > deadline) {
      throw new Error(`${count} subscribers of ${REQUEST_CHANNEL} after ${timeoutMs} ms, want ${n}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * A Node socket.io 4.8 server with the Redis adapter on a free loopback port. Resolves once its
 * adapter is subscribed (its own response channel, the last it subscribes to, has a subscriber).
 */
export async function startNodeServer(url) {
  const pub = await redisClient(url);
  const sub = pub.duplicate();
  sub.on('error', () => {});
  await sub.connect();
  const httpServer = http.createServer();
  const io = new Server(httpServer, {
    adapter: createAdapter(pub, sub, { requestsTimeout: REQUESTS_TIMEOUT_MS }),
    serveClient: false,
  });
  io.on('connection', (socket) => {
    socket.on('join', (rooms, ack) => {
      socket.join(rooms);
      if (typeof ack === 'function') ack(true);
    });
    socket.on('leave', (room, ack) => {
      socket.leave(room);
      if (typeof ack === 'function') ack(true);
    });
  });
  await new Promise((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const own = `socket.io-response#/#${io.of('/').adapter.uid}#`;
  const deadline = Date.now() + scaled(10_000);
  while (await subscribers(pub, own) < 1) {
    if (Date.now() > deadline) throw new Error(`the Node server's adapter did not subscribe to ${own}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const serverUrl = `http://127.0.0.1:${httpServer.address().port}`;
  return {
    io,
    url: serverUrl,
    pub,
    /** A socket.io-client socket on this server, in `rooms` once this resolves. */
    async connect(rooms = []) {
      const socket = await connect(serverUrl, undefined);
      if (rooms.length > 0) await emitAck(socket, 'join', rooms);
      return socket;
    },
    async close() {
      await new Promise((resolve) => io.close(() => resolve()));
      await Promise.allSettled([pub.quit(), sub.quit()]);
    },
  };
}
