// Long-polling without sticky sessions: three servers behind nginx round-robin (no ip_hash, no
// cookie), so consecutive requests of one Engine.IO session land on different servers. A server
// that gets a polling request for a session of another forwards it to the owner over Redis
// (parley-engine#<uid>) and writes the owner's answer back (docs/cluster.md, "Long-polling").
//
// Each test starts a cluster of its own. The servers ping every PING_MS, so that held GETs are
// answered (and forwarded ones come back) several times during a test.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startCluster } from '../helpers/cluster.mjs';
import { join, nextEvent, send } from '../helpers/chat.mjs';
import { metrics, scaled, sleep, until } from '../helpers/server.mjs';

const NODES = 3;
const PING_MS = 1500;
const POLLING = { transports: ['polling'] };

async function clusterOfThree() {
  return startCluster({ nodes: NODES, args: ['--ping-interval', String(PING_MS), '--ping-timeout', '3000'] });
}

/** Each server's /metrics, in the order of cluster.nodes. */
async function allMetrics(cluster) {
  return Promise.all(cluster.nodes.map((n) => (n.server.alive ? metrics(n.url) : null)));
}

/** The servers (by upstream address) that nginx sent requests of session `sid` to. */
async function upstreamsOf(cluster, sid) {
  const log = await cluster.lb.accessLog();
  const hits = log.split('\n').filter((l) => l.includes(`sid=${sid}`));
  return new Set(hits.map((l) => /upstream=(\S+)/.exec(l)?.[1]).filter(Boolean));
}

/** Messages back and forth between `a` and `b` in `chatId`, each received by the other. */
async function converse(a, b, chatId, rounds) {
  for (let i = 0; i < rounds; i++) {
    const [from, to] = i % 2 === 0 ? [a, b] : [b, a];
    const sent = await send(from, chatId, `round ${i}`);
    const got = await nextEvent(to, 'message:new', (m) => m._id === sent.serverId, scaled(5000));
    assert.equal(got.body, `round ${i}`);
    await sleep(300); // within the per-user rate limit, and long enough for polls to come and go
  }
}

describe('long-polling across a cluster without sticky sessions', () => {
  it('polling-only clients talk through nginx round-robin; one session\'s requests reach several servers', async () => {
    const cluster = await clusterOfThree();
    try {
      const alice = cluster.user();
      const bob = cluster.user();
      const chat = await cluster.createChat(alice, { type: 'group', title: 'polling', memberIds: [bob.id] });
      const a = await cluster.connect(alice, POLLING);
      const b = await cluster.connect(bob, POLLING);
      assert.equal(a.io.engine.transport.name, 'polling');
      await join(a, chat._id);
      await join(b, chat._id);
      // Long enough for several pings: held GETs answered by the owner after a forward.
      await converse(a, b, chat._id, 8);
      await sleep(PING_MS * 2);
      await converse(a, b, chat._id, 2);
      assert.ok(a.connected && b.connected, 'both still connected');
      assert.equal(a.io.engine.transport.name, 'polling');

      const servers = await upstreamsOf(cluster, a.io.engine.id);
      assert.ok(servers.size >= 2, `alice's requests reached ${servers.size} server(s), want at least 2`);
      const m = await allMetrics(cluster);
      const forwarded = m.reduce((n, x) => n + x.parley_cluster_polls_forwarded_total, 0);
      const served = m.reduce((n, x) => n + x.parley_cluster_polls_served_for_peers_total, 0);
      assert.ok(forwarded > 0, 'some polling requests were forwarded');
      assert.ok(served > 0, 'some polling requests were served for a peer');
      assert.equal(m.reduce((n, x) => n + x.parley_cluster_poll_forwards_failed_total, 0), 0, 'no forward failed');
    } finally {
      await cluster.stop();
    }
  });

  it('the default client (polling, then the upgrade) ends on WebSocket whichever server the upgrade reaches', async () => {
    const cluster = await clusterOfThree();
    try {
      const alice = cluster.user();
      const bob = cluster.user();
      const chat = await cluster.createChat(alice, { type: 'group', title: 'default', memberIds: [bob.id] });
      const clients = [];
      for (const who of [alice, bob]) {
        clients.push(await cluster.connect(who, { transports: ['polling', 'websocket'] }));
      }
      for (const s of clients) await join(s, chat._id);
      // An upgrade that reaches a node other than the owner is answered 503, and nginx passes
      // it on to the next node until the owner takes it.
      for (const s of clients) {
        await until(() => s.io.engine.transport.name, (name) => name === 'websocket', scaled(5000),
          `client ${s.id} upgraded to WebSocket`);
      }
      await converse(clients[0], clients[1], chat._id, 6);
      for (const s of clients) assert.ok(s.connected, `connected over ${s.io.engine.transport.name}`);
    } finally {
      await cluster.stop();
    }
  });

  it('kill -9 of the server that owns a polling session: the client reconnects through nginx and carries on', async () => {
    const cluster = await clusterOfThree();
    try {
      const alice = cluster.user();
      const bob = cluster.user();
      const chat = await cluster.createChat(alice, { type: 'group', title: 'owner dies', memberIds: [bob.id] });
      const opts = { ...POLLING, reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 500 };
      const a = await cluster.connect(alice, opts);
      let owner = -1;
      // The owner is the one server that holds a socket now.
      await until(async () => (await allMetrics(cluster)).map((x) => x.parley_socketio_sockets),
        (counts) => { owner = counts.indexOf(1); return counts.filter((c) => c === 1).length === 1; },
        scaled(5000), 'one server holds alice\'s socket');
      const b = await cluster.connect(bob, opts);
      await join(a, chat._id);
      await join(b, chat._id);
      let rejoined = 0;
      for (const s of [a, b]) s.on('connect', () => { join(s, chat._id).then(() => { rejoined++; }, () => {}); });
      await converse(a, b, chat._id, 2);

      const oldSid = a.io.engine.id;
      await cluster.nodes[owner].kill9();
      await until(async () => a.connected && a.io.engine.id !== oldSid && rejoined > 0, (ok) => ok,
        scaled(15_000), 'alice reconnected and rejoined');
      await converse(a, b, chat._id, 4);
    } finally {
      await cluster.stop();
    }
  });
});
