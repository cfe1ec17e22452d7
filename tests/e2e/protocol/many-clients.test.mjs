// Many simultaneous clients: 50 websocket + 20 polling (+ 10 upgrading) at once; each
// echoes its own payload and must get exactly its own answer.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, waitFor } from '../helpers/server.mjs';
import { SETUPS, ClientPool, connectClient } from '../helpers/clients.mjs';

let server;
const pool = new ClientPool();

// 160 sessions from 127.0.0.1 in a second or two: past the default per-address handshake rate.
before(async () => { server = await startServer({ bin: 'parley-testbed', args: ['--handshakes-per-second', '0'] }); });
after(async () => { pool.closeAll(); await server?.stop(); });

const byName = (n) => SETUPS.find((s) => s.name === n);

describe('many clients at once', () => {
  afterEach(() => pool.closeAll());

  it('50 websocket + 20 polling + 10 upgrading clients connect and each gets its own echo', async () => {
    const plan = [
      ...Array.from({ length: 50 }, () => byName('websocket')),
      ...Array.from({ length: 20 }, () => byName('polling')),
      ...Array.from({ length: 10 }, () => byName('polling+upgrade')),
    ];
    const sockets = await Promise.all(plan.map((setup) => connectClient(pool, server.url, setup)));
    const ids = new Set(sockets.map((s) => s.id));
    assert.equal(ids.size, plan.length, 'all socket ids are distinct');

    const results = await Promise.all(sockets.map(async (s, i) => {
      const mine = { client: i, id: s.id, pad: 'p'.repeat(i * 10) };
      const got = [];
      s.on('echo-back', (...a) => got.push(a));
      const echoed = waitFor(s, 'echo-back', 10_000);
      const acked = s.timeout(10_000).emitWithAck('echo', mine);
      const [e] = await echoed;
      const a = await acked;
      return { mine, e, a, got };
    }));
    for (const { mine, e, a, got } of results) {
      assert.deepEqual(e, mine, `client ${mine.client} echo-back`);
      assert.deepEqual(a, mine, `client ${mine.client} ack`);
      assert.equal(got.length, 1, `client ${mine.client} got exactly one echo-back`);
    }
  });

  it('every client gets a broadcast sent while all are connected', async () => {
    const plan = [
      ...Array.from({ length: 30 }, () => byName('websocket')),
      ...Array.from({ length: 15 }, () => byName('polling')),
    ];
    const sockets = await Promise.all(plan.map((setup) => connectClient(pool, server.url, setup)));
    const [sender, ...others] = sockets;
    const payload = { all: `hello-${Date.now()}` };
    const waits = others.map((s) => waitFor(s, 'broadcast-message', 10_000));
    assert.equal(await sender.timeout(5000).emitWithAck('broadcast-all', payload), true);
    const got = await Promise.all(waits);
    for (const g of got) assert.deepEqual(g, [payload]);
  });
});
