// Engine.IO heartbeat: the server pings every pingInterval and closes a client that does
// not answer within pingTimeout. Uses its own server with short intervals (200 ms / 200 ms).

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, waitFor, collect } from '../helpers/server.mjs';
import { SETUPS, ClientPool, connectClient } from '../helpers/clients.mjs';
import { PollingClient, WsClient, wsUrl } from '../helpers/eio.mjs';

const PING_INTERVAL = 200;
const PING_TIMEOUT = 200;
// generous bound for "the server closes within ~1 s of the unanswered ping"
const CLOSE_BOUND_MS = 1200;

let server;
const pool = new ClientPool();

before(async () => {
  server = await startServer({
    bin: 'parley-testbed',
    args: ['--ping-interval', String(PING_INTERVAL), '--ping-timeout', String(PING_TIMEOUT)],
  });
});
after(async () => { pool.closeAll(); await server?.stop(); });

/** Stops the engine.io-client from answering pings (drops outgoing 'pong' packets). */
function silence(socket) {
  const engine = socket.io.engine;
  const orig = engine._sendPacket.bind(engine);
  assert.equal(typeof orig, 'function', 'engine.io-client internals changed: _sendPacket missing');
  engine._sendPacket = (type, ...rest) => (type === 'pong' ? undefined : orig(type, ...rest));
}

for (const setup of SETUPS) {
  describe(`heartbeat over ${setup.name}`, () => {
    afterEach(() => pool.closeAll());

    it('handshake advertises the configured ping interval and timeout', async () => {
      const socket = await connectClient(pool, server.url, setup);
      // engine.io-client keeps the handshake values
      assert.equal(socket.io.engine._pingInterval, PING_INTERVAL);
      assert.equal(socket.io.engine._pingTimeout, PING_TIMEOUT);
    });

    it('a responsive client stays connected across several pings', async () => {
      const socket = await connectClient(pool, server.url, setup);
      let disconnected = null;
      socket.on('disconnect', (r) => { disconnected = r; });
      const t0 = Date.now();
      await collect(socket.io, 'ping', 4, 4 * PING_INTERVAL + 2000);
      const elapsed = Date.now() - t0;
      assert.ok(elapsed >= 2 * PING_INTERVAL, `4 pings came too fast (${elapsed} ms)`);
      assert.equal(disconnected, null);
      assert.equal(socket.connected, true);
      assert.equal(await socket.timeout(2000).emitWithAck('echo', 'alive'), 'alive');
    });

    it('a client that stops answering pings is closed by the server', async () => {
      const socket = await connectClient(pool, server.url, setup);
      silence(socket);
      const t0 = Date.now();
      const [reason] = await waitFor(socket, 'disconnect', PING_INTERVAL + PING_TIMEOUT + 2000);
      const elapsed = Date.now() - t0;
      // 'ping timeout' would mean the client gave up on its own (server stopped pinging but kept the
      // connection); the server is expected to actively close the transport
      assert.ok(['transport close', 'transport error'].includes(reason), `unexpected disconnect reason: ${reason}`);
      assert.ok(elapsed <= PING_INTERVAL + PING_TIMEOUT + CLOSE_BOUND_MS, `closed after ${elapsed} ms`);
    });
  });
}

describe('heartbeat, raw', () => {
  afterEach(() => pool.closeAll());

  it('websocket: ping "2" arrives, answering "3" keeps the session', async () => {
    const raw = pool.raw(new WsClient(wsUrl(server.url), { autoPong: false }));
    const hs = await raw.open();
    assert.equal(hs.pingInterval, PING_INTERVAL);
    assert.equal(hs.pingTimeout, PING_TIMEOUT);
    for (let i = 0; i < 3; i++) {
      assert.equal(await raw.next(PING_INTERVAL + 1000), '2');
      raw.send('3');
    }
    assert.equal(raw.closed, null);
  });

  it('websocket: no pong -> server closes the socket within ~1 s of the ping', async () => {
    const raw = pool.raw(new WsClient(wsUrl(server.url), { autoPong: false }));
    await raw.open();
    raw.send('40');
    assert.match(await raw.next(), /^40\{/);
    assert.equal(await raw.next(PING_INTERVAL + 1000), '2');
    const tPing = Date.now();
    // do not answer
    const closed = await raw.waitClosed(CLOSE_BOUND_MS + 500);
    const elapsed = Date.now() - tPing;
    assert.ok(elapsed <= CLOSE_BOUND_MS, `closed ${elapsed} ms after the ping`);
    assert.ok(elapsed >= PING_TIMEOUT - 50, `closed too early (${elapsed} ms after the ping, timeout is ${PING_TIMEOUT})`);
    assert.ok(typeof closed.code === 'number');
  });

  it('polling: GET receives "2", no pong -> the session is gone (400) within ~1 s', async () => {
    const raw = pool.raw(new PollingClient(server.url));
    const hs = await raw.open();
    assert.equal(hs.pingInterval, PING_INTERVAL);
    assert.equal(hs.pingTimeout, PING_TIMEOUT);
    // first long-poll is answered by the first ping
    const r1 = await raw.get({ timeout: PING_INTERVAL + 2000 });
    assert.equal(r1.status, 200);
    assert.deepEqual(r1.packets, ['2']);
    const tPing = Date.now();
    // do not POST "3". A GET issued now is a long-poll that the server must end when it closes the
    // session (the reference answers it with a CLOSE packet "1"); after that the sid is unknown: 400.
    let final;
    const seen = [];
    for (let i = 0; i < 5; i++) {
      let r;
      try {
        r = await raw.get({ timeout: CLOSE_BOUND_MS + 1000 });
      } catch (e) {
        seen.push(`GET failed: ${e.name} ${e.message}`);
        break;
      }
      seen.push(`${r.status}:${JSON.stringify(r.text.slice(0, 60))}`);
      if (r.status !== 200) { final = r; break; }
      assert.ok(r.packets.every((p) => p === '1' || p === '6' || p === '2'),
        `unexpected packets while waiting for the close: ${JSON.stringify(r.packets)}`);
    }
    const elapsed = Date.now() - tPing;
    assert.ok(final, `session never closed; responses: ${seen.join(', ')}`);
    assert.equal(final.status, 400, `responses: ${seen.join(', ')}`);
    assert.ok(elapsed <= CLOSE_BOUND_MS + 200, `session closed ${elapsed} ms after the ping (responses: ${seen.join(', ')})`);
  });

  it('polling: answering pings with POST "3" keeps the session', async () => {
    const raw = pool.raw(new PollingClient(server.url));
    await raw.open();
    for (let i = 0; i < 3; i++) {
      const r = await raw.get({ timeout: PING_INTERVAL + 2000 });
      assert.equal(r.status, 200);
      assert.deepEqual(r.packets, ['2']);
      const p = await raw.post('3');
      assert.equal(p.status, 200);
      assert.equal(p.text, 'ok');
    }
  });
});

