// Garbage from one client closes that client's session only; other clients keep working.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../helpers/server.mjs';
import { SETUPS, ClientPool, connectClient } from '../helpers/clients.mjs';
import { PollingClient, WsClient, wsUrl } from '../helpers/eio.mjs';

let server;
const pool = new ClientPool();

before(async () => { server = await startServer({ bin: 'parley-testbed' }); });
after(async () => { pool.closeAll(); await server?.stop(); });

// Socket.IO-level garbage inside an Engine.IO MESSAGE packet, sent after CONNECT to "/"
const GARBAGE_WS = [
  { name: '4abc (unknown Socket.IO packet type)', frame: '4abc' },
  { name: '42{} (EVENT payload not an array)', frame: '42{}' },
  { name: '42[ (truncated JSON)', frame: '42["echo",' },
  { name: '42[] (EVENT without a name)', frame: '42[]' },
];

/** Polls until the session reports 400 (closed) or a CLOSE packet has been seen. */
async function pollingSessionClosed(raw) {
  const seen = [];
  for (let i = 0; i < 4; i++) {
    let r;
    try { r = await raw.get({ timeout: 3000 }); } catch (e) { seen.push(`GET failed: ${e.message}`); break; }
    seen.push(`${r.status}:${JSON.stringify(r.text.slice(0, 80))}`);
    if (r.status !== 200) return { status: r.status, seen };
  }
  return { status: null, seen };
}

for (const setup of SETUPS) {
  describe(`bad input with a ${setup.name} bystander`, () => {
    afterEach(() => pool.closeAll());

    for (const g of GARBAGE_WS) {
      it(`raw websocket sends ${g.name}: its session closes, the bystander still echoes`, async () => {
        const bystander = await connectClient(pool, server.url, setup);
        const raw = pool.raw(new WsClient(wsUrl(server.url)));
        await raw.connectMain();
        raw.send(g.frame);
        await raw.waitClosed(3000);
        assert.equal(bystander.connected, true);
        assert.equal(await bystander.timeout(3000).emitWithAck('echo', 'still fine'), 'still fine');
      });
    }
  });
}

describe('bad input, raw', () => {
  afterEach(() => pool.closeAll());

  it('unknown Engine.IO packet type over websocket closes the session', async () => {
    const bystander = await connectClient(pool, server.url, SETUPS[1]);
    const raw = pool.raw(new WsClient(wsUrl(server.url)));
    await raw.open();
    raw.send('9garbage');
    await raw.waitClosed(3000);
    assert.equal(await bystander.timeout(3000).emitWithAck('echo', 'ok'), 'ok');
  });

  it('polling POST of garbage closes that session, the bystander still echoes', async () => {
    const bystander = await connectClient(pool, server.url, SETUPS[0]);
    const raw = pool.raw(new PollingClient(server.url));
    await raw.open();
    assert.equal((await raw.post('40')).status, 200);
    assert.match((await raw.get()).packets[0], /^40\{/);
    const r = await raw.post('42{}');
    // the reference answers the POST itself (200 "ok") or rejects it (400); either way the session ends
    assert.ok([200, 400].includes(r.status), `POST status ${r.status}`);
    const { status, seen } = await pollingSessionClosed(raw);
    assert.equal(status, 400, `session should be closed; responses: ${seen.join(', ')}`);
    assert.equal(await bystander.timeout(3000).emitWithAck('echo', 'ok'), 'ok');
  });

  it('an ACK for an unknown ack id is ignored; the connection keeps working', async () => {
    const raw = pool.raw(new WsClient(wsUrl(server.url)));
    await raw.connectMain();
    raw.send('43999["nobody asked"]');
    raw.send('421["echo","after-bogus-ack"]');
    assert.equal(await raw.nextNonPing(), '42["echo-back","after-bogus-ack"]');
    assert.equal(await raw.nextNonPing(), '431["after-bogus-ack"]');
    assert.equal(raw.closed, null);
  });

  it('polling: a held GET dropped by the client does not leave a session that silently loses packets', async () => {
    // A proxy or browser may drop a held long-poll. The server must notice: either it closes
    // the session (the reference does: later requests get 400) or it keeps it and delivers later
    // packets on the next GET. Writing them into the dropped connection loses them silently.
    const raw = pool.raw(new PollingClient(server.url));
    await raw.open();
    assert.equal((await raw.post('40')).status, 200);
    assert.match((await raw.get()).packets[0], /^40\{/);
    // hold a GET, then drop it from the client side (the socket is destroyed on timeout)
    await assert.rejects(raw.get({ timeout: 300 }), /no response within 300 ms/);
    const post = await raw.post('42["echo","after-dropped-poll"]');
    const seen = [`POST ${post.status} ${JSON.stringify(post.text)}`];
    if (post.status === 200) {
      let g;
      try { g = await raw.get({ timeout: 2000 }); } catch (e) { seen.push(`GET failed: ${e.message}`); }
      if (g) seen.push(`GET ${g.status} ${JSON.stringify(g.text.slice(0, 80))}`);
      const ok = g && (g.status === 400 || (g.status === 200 && g.packets.includes('42["echo-back","after-dropped-poll"]')));
      assert.ok(ok, `echo-back lost after the client dropped its long-poll: ${seen.join(' / ')}`);
    } else {
      assert.equal(post.status, 400, seen.join(' / '));
    }
  });

  it('unknown sid is rejected with 400 (polling) and does not disturb others', async () => {
    const bystander = await connectClient(pool, server.url, SETUPS[0]);
    const res = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling&sid=does-not-exist`);
    assert.equal(res.status, 400);
    await res.text();
    assert.equal(await bystander.timeout(3000).emitWithAck('echo', 'ok'), 'ok');
  });

  it('EIO=3 is refused with 400', async () => {
    const res = await fetch(`${server.url}/socket.io/?EIO=3&transport=polling`);
    assert.equal(res.status, 400);
    await res.text();
  });

  it('unknown transport is refused with 400', async () => {
    const res = await fetch(`${server.url}/socket.io/?EIO=4&transport=carrier-pigeon`);
    assert.equal(res.status, 400);
    await res.text();
  });

  it('the server still accepts new clients after all that garbage', async () => {
    for (const setup of SETUPS) {
      const s = await connectClient(pool, server.url, setup);
      assert.equal(await s.timeout(3000).emitWithAck('echo', setup.name), setup.name);
    }
  });
});
