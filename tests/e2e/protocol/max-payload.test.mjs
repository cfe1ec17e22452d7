// Payloads bigger than --max-payload close the session: HTTP 413 for polling,
// close code 1009 for websocket. Uses its own server with --max-payload 1000.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, waitFor } from '../helpers/server.mjs';
import { SETUPS, ClientPool, connectClient } from '../helpers/clients.mjs';
import { PollingClient, WsClient, wsUrl } from '../helpers/eio.mjs';

const MAX = 1000;

let server;
const pool = new ClientPool();

before(async () => {
  server = await startServer({ bin: 'parley-testbed', args: ['--max-payload', String(MAX)] });
});
after(async () => { pool.closeAll(); await server?.stop(); });

for (const setup of SETUPS) {
  describe(`max payload over ${setup.name}`, () => {
    afterEach(() => pool.closeAll());

    it('a message below the limit still works', async () => {
      const socket = await connectClient(pool, server.url, setup);
      const s = 'x'.repeat(500);
      assert.equal(await socket.timeout(3000).emitWithAck('echo', s), s);
    });

    it('emitting 5000 chars disconnects the client', async () => {
      const socket = await connectClient(pool, server.url, setup);
      const disc = waitFor(socket, 'disconnect', 5000);
      socket.emit('echo', 'y'.repeat(5000));
      const [reason] = await disc;
      assert.ok(['transport close', 'transport error'].includes(reason), `unexpected reason: ${reason}`);
    });

    it('an over-size message from one client does not affect another', async () => {
      const [bad, good] = await Promise.all([connectClient(pool, server.url, setup), connectClient(pool, server.url, setup)]);
      const disc = waitFor(bad, 'disconnect', 5000);
      bad.emit('echo', 'z'.repeat(5000));
      await disc;
      assert.equal(await good.timeout(3000).emitWithAck('echo', 'fine'), 'fine');
    });
  });
}

describe('max payload, raw', () => {
  afterEach(() => pool.closeAll());

  it('handshake advertises maxPayload', async () => {
    const raw = pool.raw(new PollingClient(server.url));
    const hs = await raw.open();
    assert.equal(hs.maxPayload, MAX);
  });

  it('polling: POST body over the limit gets HTTP 413 and (Parley) the session is closed', async () => {
    const raw = pool.raw(new PollingClient(server.url));
    await raw.open();
    const ok = await raw.post('40');
    assert.equal(ok.status, 200);
    const r = await raw.get();
    assert.match(r.packets[0], /^40\{/);

    const big = await raw.post(`42["echo","${'a'.repeat(2 * MAX)}"]`);
    assert.equal(big.status, 413, `expected 413, got ${big.status} ${big.text.slice(0, 100)}`);

    // Parley closes the session after an over-size POST (the reference engine.io only rejects the
    // request and leaves the session to the heartbeat). A pending/next GET may first get a CLOSE
    // packet, then the sid is unknown: 400. (a pending/next GET may first get a CLOSE packet)
    const seen = [];
    let final;
    for (let i = 0; i < 3; i++) {
      let g;
      try { g = await raw.get({ timeout: 3000 }); } catch (e) { seen.push(`GET failed: ${e.message}`); break; }
      seen.push(`${g.status}:${JSON.stringify(g.text.slice(0, 60))}`);
      if (g.status !== 200) { final = g; break; }
      assert.ok(g.packets.every((p) => ['1', '2', '6'].includes(p)), `unexpected packets: ${JSON.stringify(g.packets)}`);
    }
    assert.equal(final?.status, 400, `session should be closed after the 413; responses: ${seen.join(', ')}`);
  });

  it('polling: a body exactly at the limit is accepted', async () => {
    const raw = pool.raw(new PollingClient(server.url));
    await raw.open();
    const head = '42["echo","';
    const tail = '"]';
    const body = head + 'b'.repeat(MAX - head.length - tail.length) + tail;
    assert.equal(Buffer.byteLength(body), MAX);
    const r = await raw.post('40'); // connect first
    assert.equal(r.status, 200);
    assert.match((await raw.get()).packets[0], /^40\{/);
    const r2 = await raw.post(body);
    assert.equal(r2.status, 200, `a ${MAX}-byte body must be accepted`);
    const back = await raw.get();
    assert.equal(back.status, 200);
    assert.match(back.packets[0], /^42\["echo-back","b+"\]$/);
  });

  it('websocket: frame over the limit -> close code 1009', async () => {
    const raw = pool.raw(new WsClient(wsUrl(server.url)));
    await raw.connectMain();
    raw.send(`42["echo","${'c'.repeat(2 * MAX)}"]`);
    const { code } = await raw.waitClosed(3000);
    assert.equal(code, 1009);
  });

  it('websocket: binary frame over the limit -> close code 1009', async () => {
    const raw = pool.raw(new WsClient(wsUrl(server.url)));
    await raw.connectMain();
    raw.send('451-["echo",{"_placeholder":true,"num":0}]');
    raw.send(Buffer.alloc(2 * MAX, 7));
    const { code } = await raw.waitClosed(3000);
    assert.equal(code, 1009);
  });

  it('websocket: frame at the limit is accepted', async () => {
    const raw = pool.raw(new WsClient(wsUrl(server.url)));
    await raw.connectMain();
    const head = '42["echo","';
    const tail = '"]';
    const frame = head + 'd'.repeat(MAX - head.length - tail.length) + tail;
    raw.send(frame);
    assert.match(await raw.nextNonPing(), /^42\["echo-back","d+"\]$/);
  });
});
