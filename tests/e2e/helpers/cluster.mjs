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
//
// A whole cluster behind a load balancer (tests/e2e/cluster/three-nodes, kill-node):
//
//   const c = await startCluster({ nodes: 3 });  // Redis + PostgreSQL + 3 chat servers + nginx
//   c.url                                        // nginx, round-robin over the three
//   const s = await c.connect(alice);            // a socket through nginx (WebSocket only)
//   c.nodes[i]                                   // each server's startChatServer context
//   await c.restart(i);                          // SIGTERM node i, wait for its exit, start it again (same port)
//   await c.socketCounts();                      // sockets per server, ascending
//   await c.stop();
//
// Every server runs `--redis URL --store postgres://... --trusted-proxy 127.0.0.1` with one
// shared JWT secret, on one database of a scratch PostgreSQL of the cluster's own (so a test may
// kill or restart it). nginx has one worker (helpers/nginx.mjs): N connections opened one after
// another through it land on N different servers.

import { existsSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createAdapter } from '@socket.io/redis-adapter';
import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';
import { Server } from 'socket.io';
import { api, closeAllSockets, connect, createChat, emitAck, getMessages, lastJsonLine, objectId, makeToken, runCli,
  startChatServer } from './chat.mjs';
import { startNginx } from './nginx.mjs';
import { startPgScratch } from './pg.mjs';
import { startRedis } from './redis.mjs';
import { metrics, repoRoot, scaled, sleep } from './server.mjs';

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

/**
 * Two chat servers (startClusterChatServer) on one scratch Redis and one database of a scratch
 * PostgreSQL, with one JWT secret. Resolves { nodeA, nodeB, redis, pg, store, raw, stop() }:
 * `raw` a node-redis client of that Redis, `store` the database's URI; stop() ends them all.
 */
export async function startTwoNodes() {
  const two = {};
  two.stop = async () => {
    closeAllSockets();
    await two.raw?.quit();
    await Promise.allSettled([two.nodeA?.stop(), two.nodeB?.stop()]);
    await Promise.allSettled([two.redis?.stop(), two.pg?.stop()]);
  };
  try {
    two.redis = await startRedis();
    two.pg = await startPgScratch();
    two.store = await two.pg.createDatabase();
    two.raw = await redisClient(two.redis.url);
    two.nodeA = await startClusterChatServer(two.redis.url, { store: two.store });
    two.nodeB = await startClusterChatServer(two.redis.url, { store: two.store, secret: two.nodeA.secret });
    await waitForServers(two.raw, 2);
    return two;
  } catch (e) {
    await two.stop();
    throw e;
  }
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

/**
 * Redis, PostgreSQL, `nodes` chat servers on both and nginx round-robin in front; see the
 * header. `args` go to every chat server.
 */
export async function startCluster({ nodes = 3, args = [] } = {}) {
  const undo = []; // stops what has started, last first
  const stopAll = async () => {
    closeAllSockets();
    if (CLUSTER_PEER === 'node') {
      // The peer exits with an unhandled rejection when a presence update it throttled (up to
      // 2 s after a socket closed) goes out while SIGTERM has already closed its Redis client:
      // let those go out before stopping it.
      await sleep(2500);
    }
    const errors = [];
    for (const fn of undo.reverse()) {
      try { await fn(); } catch (e) { errors.push(e); }
    }
    undo.length = 0;
    if (errors.length > 0) throw errors[0];
  };
  try {
    const redis = await startRedis();
    undo.push(() => redis.stop());
    const pg = await startPgScratch();
    undo.push(() => pg.stop());
    const store = pg.uri;
    const secret = randomBytes(32).toString('hex');
    const servers = [];
    const serverArgs = ['--trusted-proxy', '127.0.0.1', ...args];
    // One after another: the first creates the schema the others then find in place.
    for (let i = 0; i < nodes; i++) {
      const srv = await startClusterChatServer(redis.url, { store, secret, args: serverArgs });
      // servers[i], not srv: restart(i) puts the new process in its place.
      undo.push(() => servers[i].stop());
      servers.push(srv);
    }
    const raw = await redisClient(redis.url);
    undo.push(() => raw.quit());
    await waitForServers(raw, nodes);
    const lb = await startNginx(servers.map((s) => s.port));
    undo.push(() => lb.stop());
    return clusterContext({ redis, pg, store, secret, servers, serverArgs, raw, lb, undo, stopAll });
  } catch (e) {
    await stopAll().catch(() => {});
    throw e;
  }
}

function clusterContext({ redis, pg, store, secret, servers, serverArgs, raw, lb, undo, stopAll }) {
  const url = lb.url;
  let observer = null; // a Node socket.io server that asks the peers for their counts
  return {
    url,
    lb,
    redis,
    pg,
    store,
    secret,
    nodes: servers,
    /** A fresh identity: { id, token } (a JWT with the cluster's secret, no local row). */
    user(opts = {}) {
      const id = objectId();
      return { id, token: makeToken(id, { secret, ...opts }) };
    },
    /** A socket through nginx. */
    connect(who, opts) { return connect(url, who, opts); },
    /** A REST call through nginx. */
    api(who, method, p, body, opts) { return api(url, who, method, p, body, opts); },
    createChat(who, spec) { return createChat(url, who, spec); },
    getMessages(who, chatId, query) { return getMessages(url, who, chatId, query); },
    /** `parley user add` on the cluster's store; returns the printed user (Parley only). */
    async addUser({ email, password, name }) {
      const { stdout } = await runCli(['user', 'add', '--data-dir', servers[0].dir, '--store', store,
        '--email', email, '--password', password, '--name', name]);
      return lastJsonLine(stdout);
    },
    /**
     * The number of sockets each live server holds, ascending: from each server's /metrics
     * (Parley), or from the peers' answers to `parley:ping` (bench/peer/README.md).
     */
    async socketCounts() {
      const live = servers.filter((s) => s.server.alive);
      if (CLUSTER_PEER === 'parley') {
        const counts = await Promise.all(live.map(async (s) => (await metrics(s.url)).parley_socketio_sockets));
        return counts.sort((a, b) => a - b);
      }
      if (!observer) {
        observer = await startNodeServer(redis.url);
        undo.push(() => observer.close());
      }
      const answers = await observer.io.serverSideEmitWithAck('parley:ping', {});
      return answers.filter((a) => a.server === chatServerName).map((a) => a.sockets).sort((a, b) => a - b);
    },
    /**
     * A deploy's restart of node `i`: SIGTERM, waits for its exit (code 0 expected, checked by
     * the caller), starts it again on the same port (nginx's upstreams are fixed), data dir
     * and flags, and resolves once it listens and is subscribed on Redis. Resolves
     * { code, signal, exitMs } of the old process (exitMs: from SIGTERM to its exit).
     */
    async restart(i) {
      const old = servers[i];
      const exited = new Promise((resolve) => {
        if (!old.server.alive) resolve({ code: old.server.proc.exitCode, signal: old.server.proc.signalCode });
        else old.server.proc.once('exit', (code, signal) => resolve({ code, signal }));
      });
      const termAt = Date.now();
      old.server.proc.kill('SIGTERM');
      const { code, signal } = await exited;
      const exitMs = Date.now() - termAt;
      // The old context owns the data dir: it goes after everything else has stopped.
      undo.unshift(() => old.removeDir());
      servers[i] = await startClusterChatServer(redis.url, {
        store, secret, dir: old.dir, args: [...serverArgs, '--port', String(old.port)],
      });
      await waitForServers(raw, servers.length);
      return { code, signal, exitMs, logs: old.logs() };
    },
    stop: stopAll,
  };
}
