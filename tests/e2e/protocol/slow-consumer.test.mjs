// A client that stops reading must not make the server hold its messages without bound:
// past --max-outbound-bytes queued for it, that one client is cut off, and everyone else
// keeps being served. Uses its own testbed with a small limit.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../helpers/server.mjs';
import { ClientPool, othersStillServed } from '../helpers/clients.mjs';
import { PollingClient, WsClient, wsUrl } from '../helpers/eio.mjs';

const LIMIT = 200_000;
const CHUNK = 'x'.repeat(20_000); // each echo request brings a 20 kB echo-back

let server;
const pool = new ClientPool();

before(async () => {
  server = await startServer({ bin: 'parley-testbed', args: ['--max-outbound-bytes', String(LIMIT)] });
});
after(async () => { pool.closeAll(); await server?.stop(); });
afterEach(() => pool.closeAll());

describe('slow consumer', () => {
  it('below the limit, answers queue up for a client that polls later', async () => {
    const raw = pool.raw(new PollingClient(server.url));
    await raw.open();
    await raw.post('40');
    assert.match((await raw.get()).packets[0], /^40\{/);
    for (let i = 0; i < 5; ++i) assert.equal((await raw.post(`42["echo","${CHUNK}"]`)).status, 200);
    const got = (await raw.get()).packets.filter((p) => p.startsWith('42["echo-back"'));
    assert.equal(got.length, 5, 'all five echo-backs (100 kB) waited for the GET');
  });

  it('polling: a client that never polls is closed once its queue passes the limit', async () => {
    const raw = pool.raw(new PollingClient(server.url));
    await raw.open();
    await raw.post('40');
    assert.match((await raw.get()).packets[0], /^40\{/);
    // 15 x 20 kB = 300 kB queued for a client that does not GET.
    let refused = null;
    for (let i = 0; i < 15 && refused === null; ++i) {
      const r = await raw.post(`42["echo","${CHUNK}"]`);
      if (r.status !== 200) refused = r;
    }
    const next = await raw.get();
    assert.equal(next.status, 400, `the session is gone (GET answered ${next.status} ${next.text.slice(0, 80)})`);
    assert.match(server.logs(), /more than 200000 bytes queued for a client that does not read/);
    await othersStillServed(pool, server.url);
  });

  it('websocket: a client that stops reading is disconnected; others are not', async () => {
    const raw = pool.raw(new WsClient(wsUrl(server.url)));
    await raw.connectMain();
    // Stop reading: the kernel buffers fill, then the server's own queue grows.
    raw.ws._socket.pause();
    let sent = 0;
    const closed = raw.waitClosed(20_000);
    // Up to 60 MB of requests, far more than loopback buffers hold; stops once the server cuts us off.
    while (!raw.closed && sent < 3000) {
      raw.send(`42["echo","${CHUNK}"]`);
      ++sent;
      if (sent % 50 === 0) await new Promise((r) => setImmediate(r));
    }
    raw.ws._socket.resume();
    const info = await closed;
    assert.ok(info, 'the server closed the connection');
    assert.match(server.logs(), /more than 200000 bytes queued for a client that does not read/);
    await othersStillServed(pool, server.url);
  });
});
