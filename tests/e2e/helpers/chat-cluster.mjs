// The cluster mode of the chat helpers (helpers/chat.mjs): what startChatServer() starts when
// PARLEY_E2E_CLUSTER=N (N >= 2) is set, so that the chat contract files run unchanged across
// N processes.
//
//   PARLEY_E2E_CLUSTER=3 PARLEY_E2E_PG_DIR=DIR node --test chat/   (`make e2e-cluster` does this)
//
// Per chat context: a scratch redis-server (helpers/redis.mjs), N `parley serve` on it with one
// JWT secret, `--trusted-proxy 127.0.0.1` (unless the test names its own) and the database of
// the context's data dir on the run's scratch PostgreSQL (helpers/pg.mjs storeArgsFor: the
// same database again for the same dir, so a restart on the dir finds its data), and nginx
// round-robin in front (helpers/nginx.mjs: one worker, so N connections opened one after
// another land on N different nodes, and the requests of a polling client are spread over the
// nodes and forwarded to the session's owner). The first node starts alone and migrates the
// schema; the others then start at once. Resolves once every node is subscribed on Redis.
//
// The context's url is nginx's. Every `args` of the test goes to every node. logs() is every
// node's log, kill9() kills every node, stop() stops them all, nginx and Redis.

import { createClient } from 'redis';
import { startNginx } from './nginx.mjs';
import { sharedPgDir, storeArgsFor } from './pg.mjs';
import { startRedis } from './redis.mjs';
import { flagValue, scaled, startServer } from './server.mjs';

/** Nodes per chat context: 0 (one process, the default) or PARLEY_E2E_CLUSTER. */
export const CLUSTER_NODES = (() => {
  const v = process.env.PARLEY_E2E_CLUSTER;
  if (!v) return 0;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 2) throw new Error(`PARLEY_E2E_CLUSTER must be a node count >= 2 (got '${v}')`);
  return n;
})();

const REQUEST_CHANNEL = 'socket.io-request#/#';

/** Waits until `n` servers subscribe to the adapter's request channel (as every requester counts them). */
async function waitSubscribed(redisUrl, n) {
  const client = createClient({ url: redisUrl });
  client.on('error', () => { /* the deadline reports it */ });
  await client.connect();
  try {
    const deadline = Date.now() + scaled(10_000);
    for (;;) {
      const count = Number((await client.sendCommand(['PUBSUB', 'NUMSUB', REQUEST_CHANNEL]))[1]);
      if (count === n) return;
      if (Date.now() > deadline) throw new Error(`${count} of ${n} nodes subscribed on Redis after ${scaled(10_000)} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  } finally {
    await client.quit().catch(() => {});
  }
}

async function killNow(server) {
  if (!server.alive) return;
  const gone = new Promise((resolve) => server.proc.once('exit', resolve));
  server.proc.kill('SIGKILL');
  await gone;
}

/**
 * Starts the cluster of one chat context: `serveArgs` are the `parley serve` arguments of one
 * node (data dir, secret, the test's args); `store` a given --store (else the dir's database).
 * Resolves { url, port, nodes: [{ url, port, server }], logs(), kill9(), stop(alongside) }.
 */
export async function startChatCluster({ serveArgs, env = {}, store, launcher, executable }) {
  const servers = [];
  let redis;
  let lb;
  let killed = false;
  // The nodes first (at once, so that one's shutdown does not wait for another's), then nginx,
  // Redis and `alongside` (the context's own clean-up) at once.
  const stopAll = async (alongside) => {
    const results = await Promise.allSettled(killed ? [] : servers.map((s) => s.stop()));
    results.push(...await Promise.allSettled([lb?.stop(), redis?.stop(), alongside?.()]));
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  };
  try {
    if (!store && !sharedPgDir) {
      throw new Error('PARLEY_E2E_CLUSTER needs PostgreSQL: set PARLEY_E2E_PG_DIR to a running scripts/pg-scratch (`make e2e-cluster` does)');
    }
    // The database (created on first use of the dir) and Redis at once.
    const started = await Promise.allSettled([
      store ? ['--store', store] : storeArgsFor(flagValue(serveArgs, '--data-dir')),
      startRedis(),
    ]);
    redis = started[1].value;
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    const storeArgs = started[0].value;
    const proxy = flagValue(serveArgs, '--trusted-proxy') !== undefined ? [] : ['--trusted-proxy', '127.0.0.1'];
    const args = [...serveArgs, ...storeArgs, '--redis', redis.url, ...proxy];
    const startNode = async () => {
      servers.push(await startServer({ bin: 'parley', args, env, launcher, executable }));
    };
    // The first node creates the schema; the others find it in place.
    await startNode();
    await Promise.all(Array.from({ length: CLUSTER_NODES - 1 }, startNode));
    [lb] = await Promise.all([startNginx(servers.map((s) => s.port)), waitSubscribed(redis.url, CLUSTER_NODES)]);
    return {
      url: lb.url,
      port: lb.port,
      nodes: servers.map((s) => ({ url: s.url, port: s.port, server: s })),
      logs: () => servers.map((s, i) => `--- node ${i + 1} (port ${s.port}) ---\n${s.logs()}`).join('\n'),
      /** kill -9 of every node at once; nginx and Redis stay up. */
      async kill9() {
        killed = true;
        await Promise.all(servers.map(killNow));
      },
      stop: stopAll,
    };
  } catch (e) {
    await stopAll().catch(() => {});
    throw e;
  }
}
