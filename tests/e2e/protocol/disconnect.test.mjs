// Server-side disconnects (namespace only / whole connection), abrupt transport drop with
// client auto-reconnection, and client-side disconnect.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, waitFor } from '../helpers/server.mjs';
import {
  SETUPS, ClientPool, connectClient, makeManager, waitConnected, waitUpgraded,
} from '../helpers/clients.mjs';
import { WsClient, wsUrl } from '../helpers/eio.mjs';

let server;
const pool = new ClientPool();

before(async () => { server = await startServer({ bin: 'parley-testbed' }); });
after(async () => { pool.closeAll(); await server?.stop(); });

for (const setup of SETUPS) {
  describe(`disconnects over ${setup.name}`, () => {
    afterEach(() => pool.closeAll());

    it('disconnect-me: namespace socket gets "io server disconnect", the connection stays open', async () => {
      const manager = makeManager(pool, server.url, setup);
      const root = manager.socket('/');
      const admin = manager.socket('/admin', { auth: { token: 'secret' } });
      await Promise.all([waitConnected(root), waitConnected(admin)]);
      await waitUpgraded(manager.engine, setup);
      const engine = manager.engine;
      const sid = engine.id;
      let engineClosed = false;
      engine.on('close', () => { engineClosed = true; });

      const disc = waitFor(root, 'disconnect');
      root.emit('disconnect-me');
      const [reason] = await disc;
      assert.equal(reason, 'io server disconnect');
      assert.equal(root.connected, false);
      assert.equal(root.active, false, 'client does not auto-reconnect after a server disconnect');

      // the Engine.IO connection is still there: /admin keeps working over the same session
      assert.deepEqual(await admin.timeout(3000).emitWithAck('whoami'), { token: 'secret' });
      assert.equal(engineClosed, false);
      assert.equal(engine.readyState, 'open');
      assert.equal(manager.engine.id, sid);

      // and "/" can connect again on the same session
      root.connect();
      await waitConnected(root);
      assert.equal(manager.engine.id, sid);
      assert.equal(await root.timeout(3000).emitWithAck('echo', 'back'), 'back');
    });

    it('disconnect-me on a lone socket: reason "io server disconnect"', async () => {
      const socket = await connectClient(pool, server.url, setup, { reconnection: true, reconnectionDelay: 20 });
      const disc = waitFor(socket, 'disconnect');
      socket.emit('disconnect-me');
      assert.equal((await disc)[0], 'io server disconnect');
      assert.equal(socket.active, false);
    });

    it('close-me: "io server disconnect" and the whole connection closes', async () => {
      const manager = makeManager(pool, server.url, setup);
      const root = manager.socket('/');
      const admin = manager.socket('/admin', { auth: { token: 'secret' } });
      await Promise.all([waitConnected(root), waitConnected(admin)]);
      await waitUpgraded(manager.engine, setup);
      const engine = manager.engine;
      const engineClose = waitFor(engine, 'close', 5000);
      const rootDisc = waitFor(root, 'disconnect', 5000);
      const adminDisc = waitFor(admin, 'disconnect', 5000);
      root.emit('close-me');
      assert.equal((await rootDisc)[0], 'io server disconnect');
      // the server closes the engine connection, so /admin goes down too; the reference server
      // sends DISCONNECT for every namespace first ("io server disconnect"), a bare close gives
      // "transport close"
      const [adminReason] = await adminDisc;
      assert.ok(['io server disconnect', 'transport close'].includes(adminReason), `admin reason: ${adminReason}`);
      await engineClose;
      assert.equal(engine.readyState, 'closed');
      assert.equal(root.active, false);
    });

    it('close-me with reconnection enabled: no automatic reconnection', async () => {
      const socket = await connectClient(pool, server.url, setup, { reconnection: true, reconnectionDelay: 20 });
      let attempts = 0;
      socket.io.on('reconnect_attempt', () => { attempts += 1; });
      const disc = waitFor(socket, 'disconnect');
      socket.emit('close-me');
      assert.equal((await disc)[0], 'io server disconnect');
      assert.equal(socket.active, false);
      assert.equal(attempts, 0);
    });

    it('drop-transport: client sees a transport failure and auto-reconnects', async () => {
      const socket = await connectClient(pool, server.url, setup, {
        reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 100, randomizationFactor: 0,
      });
      const firstId = socket.id;
      const firstSid = socket.io.engine.id;
      const disc = waitFor(socket, 'disconnect', 5000);
      const reconnected = waitFor(socket.io, 'reconnect', 8000);
      socket.emit('drop-transport');
      const [reason] = await disc;
      assert.ok(['transport close', 'transport error'].includes(reason), `unexpected disconnect reason: ${reason}`);
      await reconnected;
      await waitConnected(socket);
      assert.ok(socket.id && socket.id !== firstId, 'new socket id after reconnection');
      assert.notEqual(socket.io.engine.id, firstSid, 'new engine session after reconnection');
      await waitUpgraded(socket.io.engine, setup);
      assert.equal(await socket.timeout(3000).emitWithAck('echo', 'after-reconnect'), 'after-reconnect');
    });

    it('client-side disconnect: the socket is removed and others are unaffected', async () => {
      const [a, b] = await Promise.all([connectClient(pool, server.url, setup), connectClient(pool, server.url, setup)]);
      const disc = waitFor(a, 'disconnect');
      a.disconnect();
      assert.equal((await disc)[0], 'io client disconnect');
      assert.equal(await b.timeout(3000).emitWithAck('echo', 'b-ok'), 'b-ok');
    });
  });
}

describe('raw websocket view of server-side disconnects', () => {
  afterEach(() => pool.closeAll());

  it('disconnect-me sends DISCONNECT (41) and keeps the websocket; "/" can connect again', async () => {
    const raw = pool.raw(new WsClient(wsUrl(server.url)));
    const sid1 = await raw.connectMain();
    raw.send('42["disconnect-me"]');
    assert.equal(await raw.nextNonPing(), '41');
    assert.equal(raw.closed, null);
    raw.send('40');
    const m = await raw.nextNonPing();
    assert.match(m, /^40\{"sid":"[^"]+"/);
    const sid2 = JSON.parse(m.slice(2)).sid;
    assert.notEqual(sid2, sid1, 'a reconnected namespace socket gets a new id');
    raw.send('42["echo","x"]');
    assert.equal(await raw.nextNonPing(), '42["echo-back","x"]');
  });

  it('close-me sends DISCONNECT (41) then closes the websocket', async () => {
    const raw = pool.raw(new WsClient(wsUrl(server.url)));
    await raw.connectMain();
    raw.send('42["close-me"]');
    const first = await raw.nextNonPing();
    assert.equal(first, '41');
    await raw.waitClosed(3000);
  });

  it('drop-transport closes the websocket without DISCONNECT', async () => {
    const raw = pool.raw(new WsClient(wsUrl(server.url)));
    await raw.connectMain();
    raw.send('42["drop-transport"]');
    const { code } = await raw.waitClosed(3000);
    const seen = raw.queue.items.splice(0);
    assert.ok(!seen.includes('41'), `no DISCONNECT expected, got ${JSON.stringify(seen)}`);
    assert.ok(typeof code === 'number');
  });
});
