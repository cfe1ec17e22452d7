// A deploy's rolling restart under load: three chat servers behind nginx, 300 clients in chats
// of 10 (WebSocket, the stock client's reconnection and recovery), each sending 0.95 messages a
// second and sending again, same clientId, what was not acknowledged once it has reconnected.
// Every node in turn gets SIGTERM, must exit 0 within --drain-timeout, and is started again on
// its port; the next waits until it serves. Afterwards: every acknowledged message reached every
// member of its chat exactly once, in each sender's order; every client is connected, and each
// of its reconnects was a recovery (`socket.recovered`).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChatLoad } from '../helpers/chat-load.mjs';
import { startCluster } from '../helpers/cluster.mjs';
import { join } from '../helpers/chat.mjs';
import { TIME_SCALE, metrics, scaled, sleep, until } from '../helpers/server.mjs';

const NODES = 3;
// A sanitized build (TIME_SCALE > 1) runs several times slower: a third of the clients.
const CHATS = TIME_SCALE > 1 ? 9 : 30;
const MEMBERS = 10;
const DRAIN_TIMEOUT_S = 10;
const LOAD_BETWEEN_MS = 3000; // load on the whole cluster before each restart and after the last

describe('rolling restart of a cluster under load', () => {
  it('loses nothing: every acknowledged message once to every member, every client recovered', async () => {
    const cluster = await startCluster({ nodes: NODES, args: ['--drain-timeout', String(DRAIN_TIMEOUT_S)] });
    try {
      const load = new ChatLoad({ ratePerSecond: 0.95 });
      for (let c = 0; c < CHATS; c++) {
        const users = Array.from({ length: MEMBERS }, () => cluster.user());
        const chat = await cluster.createChat(users[0], { type: 'group', memberIds: users.slice(1).map((u) => u.id) });
        for (const user of users) {
          const socket = await cluster.connect(user, { reconnection: true });
          await join(socket, chat._id);
          load.add(socket, user, chat._id);
        }
      }
      const even = Array(NODES).fill(CHATS * MEMBERS / NODES).join();
      await until(() => cluster.socketCounts(), (counts) => counts.join() === even, scaled(5000), 'clients spread evenly');
      load.start();

      // What each node's chat order did (counted until it stops): reported, not asserted.
      const order = { held: 0, skipped: 0, late: 0 };
      const countOrder = async (node) => {
        const m = await metrics(node.url);
        order.held += m.parley_cluster_order_held_total ?? 0;
        order.skipped += m.parley_cluster_order_skipped_total ?? 0;
        order.late += m.parley_cluster_order_late_total ?? 0;
      };
      const exits = [];
      for (let i = 0; i < NODES; i++) {
        await sleep(LOAD_BETWEEN_MS);
        await countOrder(cluster.nodes[i]);
        const { code, signal, exitMs, logs } = await cluster.restart(i);
        assert.equal(code, 0, `node ${i} exit code (signal ${signal}); its log:\n${logs.slice(-3000)}`);
        assert.ok(exitMs < DRAIN_TIMEOUT_S * 1000, `node ${i} exited ${exitMs} ms after SIGTERM`);
        assert.match(logs, /drained in \d+ ms/, `node ${i} drained before its deadline`);
        exits.push(exitMs);
      }
      await sleep(LOAD_BETWEEN_MS);
      for (const node of cluster.nodes) await countOrder(node);
      await load.stop();
      await load.settled();
      const figures = load.check();
      assert.ok(figures.reconnects >= CHATS * MEMBERS, `every client reconnected at least once (${figures.reconnects})`);
      console.log(`rolling restart: exits ${exits.join(', ')} ms after SIGTERM; ${JSON.stringify(figures)}; chat order ${JSON.stringify(order)}`);
    } finally {
      await cluster.stop();
    }
  });
});
