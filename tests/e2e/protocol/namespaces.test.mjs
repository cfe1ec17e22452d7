// Multiplexing two namespaces over one Engine.IO connection, and connection middleware
// refusing a namespace (CONNECT_ERROR with message and data).

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, waitFor } from '../helpers/server.mjs';
import {
  SETUPS, ClientPool, makeManager, waitConnected, waitUpgraded, clientOptions, io,
} from '../helpers/clients.mjs';

let server;
const pool = new ClientPool();

before(async () => { server = await startServer({ bin: 'parley-testbed' }); });
after(async () => { pool.closeAll(); await server?.stop(); });

const REFUSAL = { code: 'E_AUTH', reason: 'bad token' };

for (const setup of SETUPS) {
  describe(`namespaces over ${setup.name}`, () => {
    afterEach(() => pool.closeAll());

    it('"/" and "/admin" share one engine and both work', async () => {
      const manager = makeManager(pool, server.url, setup);
      const root = manager.socket('/');
      const admin = manager.socket('/admin', { auth: { token: 'secret' } });
      await Promise.all([waitConnected(root), waitConnected(admin)]);
      await waitUpgraded(manager.engine, setup);

      assert.equal(root.io, admin.io, 'same Manager');
      assert.equal(root.io.engine, admin.io.engine, 'same engine');
      assert.ok(manager.engine.id, 'engine has a session id');
      assert.ok(root.id && admin.id, 'both sockets have ids');
      assert.notEqual(root.id, admin.id, 'each namespace socket has its own id');

      // "/" works
      const echoed = waitFor(root, 'echo-back');
      root.emit('echo', 'root-msg');
      assert.deepEqual(await echoed, ['root-msg']);
      // "/admin" works and sees its own auth
      assert.deepEqual(await admin.timeout(3000).emitWithAck('whoami'), { token: 'secret' });
      // and both still connected on the very same engine session
      const sidBefore = manager.engine.id;
      assert.deepEqual(await root.timeout(3000).emitWithAck('echo', 'again'), 'again');
      assert.equal(manager.engine.id, sidBefore);
      assert.equal(root.connected && admin.connected, true);
    });

    it('io(url) and io(url + "/admin") without forceNew multiplex over one engine', async () => {
      // socket.io-client caches Managers by host:port for the whole process, so this test uses a
      // server of its own (fresh port => fresh cache entry, unaffected by the other setups)
      const own = await startServer({ bin: 'parley-testbed' });
      try {
        const opts = { reconnection: false, transports: setup.transports, timeout: 5000 };
        const root = pool.socket(io(own.url, opts));
        const admin = pool.socket(io(`${own.url}/admin`, { ...opts, auth: { token: 'secret' } }));
        await Promise.all([waitConnected(root), waitConnected(admin)]);
        assert.equal(root.io, admin.io, 'io() reused the cached Manager');
        await waitUpgraded(root.io.engine, setup);
        assert.equal(root.io.engine, admin.io.engine, 'one engine');
        const echoed = waitFor(root, 'echo-back');
        root.emit('echo', 1, 'two');
        assert.deepEqual(await echoed, [1, 'two']);
        assert.deepEqual(await admin.timeout(3000).emitWithAck('whoami'), { token: 'secret' });
        root.disconnect();
        admin.disconnect();
      } finally {
        pool.closeAll();
        await own.stop();
      }
    });

    it('whoami returns the complete auth object', async () => {
      const manager = makeManager(pool, server.url, setup);
      const auth = { token: 'secret', user: 'ann', roles: ['a', 'b'], n: 3 };
      const admin = manager.socket('/admin', { auth });
      await waitConnected(admin);
      assert.deepEqual(await admin.timeout(3000).emitWithAck('whoami'), auth);
    });

    it('"/admin" without the right token gets connect_error with message and data', async () => {
      const admin = pool.socket(io(`${server.url}/admin`, clientOptions(setup, { auth: { token: 'wrong' } })));
      const [err] = await waitFor(admin, 'connect_error', 5000);
      assert.ok(err instanceof Error);
      assert.equal(err.message, 'not authorized');
      assert.deepEqual(err.data, REFUSAL);
      assert.equal(admin.connected, false);
    });

    it('"/admin" with no auth at all is refused', async () => {
      const admin = pool.socket(io(`${server.url}/admin`, clientOptions(setup)));
      const [err] = await waitFor(admin, 'connect_error', 5000);
      assert.equal(err.message, 'not authorized');
      assert.deepEqual(err.data, REFUSAL);
    });

    it('refused "/admin" does not affect "/" on the same connection', async () => {
      const manager = makeManager(pool, server.url, setup);
      const root = manager.socket('/');
      await waitConnected(root);
      await waitUpgraded(manager.engine, setup);
      const sid = manager.engine.id;
      const admin = manager.socket('/admin', { auth: { token: 'nope' } });
      const [err] = await waitFor(admin, 'connect_error', 5000);
      assert.equal(err.message, 'not authorized');
      assert.deepEqual(err.data, REFUSAL);
      assert.equal(root.connected, true);
      assert.equal(manager.engine.id, sid, 'same engine session');
      assert.equal(await root.timeout(3000).emitWithAck('echo', 'still-here'), 'still-here');

      // retrying the same namespace with the right token on the same engine succeeds
      admin.auth = { token: 'secret' };
      admin.connect();
      await waitConnected(admin);
      assert.equal(manager.engine.id, sid, 'still the same engine session');
      assert.deepEqual(await admin.timeout(3000).emitWithAck('whoami'), { token: 'secret' });
    });
  });
}
