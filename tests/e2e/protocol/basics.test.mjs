// Connect, events and acknowledgements in both directions, ordering, large messages.
// Every scenario runs over polling, websocket and polling->websocket upgrade.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, waitFor, collect, withTimeout } from '../helpers/server.mjs';
import { SETUPS, ClientPool, connectClient, clientOptions, waitConnected, waitUpgraded, io, token } from '../helpers/clients.mjs';
import { parseOpen, splitPayload } from '../helpers/eio.mjs';

let server;
const pool = new ClientPool();

before(async () => { server = await startServer({ bin: 'parley-testbed' }); });
after(async () => { pool.closeAll(); await server?.stop(); });

for (const setup of SETUPS) {
  describe(`basics over ${setup.name}`, () => {
    afterEach(() => pool.closeAll());

    it('connects and gets a socket id', async () => {
      const socket = await connectClient(pool, server.url, setup);
      assert.equal(socket.connected, true);
      assert.equal(typeof socket.id, 'string');
      assert.ok(socket.id.length > 0);
      assert.ok(socket.io.engine.id, 'engine session id is set');
      assert.notEqual(socket.id, socket.io.engine.id, 'Socket.IO v5: socket id differs from engine sid');
      const expected = setup.upgrade ? 'websocket' : setup.transports[0];
      assert.equal(socket.io.engine.transport.name, expected);
    });

    it('two clients get distinct ids', async () => {
      const [a, b] = await Promise.all([connectClient(pool, server.url, setup), connectClient(pool, server.url, setup)]);
      assert.notEqual(a.id, b.id);
      assert.notEqual(a.io.engine.id, b.io.engine.id);
    });

    it('echo: client -> server event, server -> client event with the same args', async () => {
      const socket = await connectClient(pool, server.url, setup);
      const args = ['hello', 42, 3.5, true, false, null, { a: [1, 2, { b: 'c' }], u: 'üñí©ødé ✓ 😀' }, ['x', ['y']], ''];
      const got = waitFor(socket, 'echo-back');
      socket.emit('echo', ...args);
      assert.deepEqual(await got, args);
    });

    it('echo with no arguments', async () => {
      const socket = await connectClient(pool, server.url, setup);
      const got = waitFor(socket, 'echo-back');
      socket.emit('echo');
      assert.deepEqual(await got, []);
    });

    it('ack: client -> server event with ack gets the args back in the ack and an echo-back', async () => {
      const socket = await connectClient(pool, server.url, setup);
      const echoed = waitFor(socket, 'echo-back');
      const acked = new Promise((resolve) => socket.emit('echo', 'a', { b: 1 }, [2], (...res) => resolve(res)));
      assert.deepEqual(await acked, ['a', { b: 1 }, [2]]);
      assert.deepEqual(await echoed, ['a', { b: 1 }, [2]]);
    });

    it('ack: emitWithAck resolves with the first ack arg; join acks true', async () => {
      const socket = await connectClient(pool, server.url, setup);
      assert.equal(await socket.timeout(3000).emitWithAck('echo', 'single'), 'single');
      assert.equal(await socket.timeout(3000).emitWithAck('join', token('room')), true);
      assert.equal(await socket.timeout(3000).emitWithAck('leave', token('room')), true);
    });

    it('many concurrent acks resolve to their own values', async () => {
      const socket = await connectClient(pool, server.url, setup);
      const results = await Promise.all(
        Array.from({ length: 30 }, (_, i) => socket.timeout(3000).emitWithAck('echo', { i })));
      assert.deepEqual(results, Array.from({ length: 30 }, (_, i) => ({ i })));
    });

    it('server -> client ack: ask / question / answer', async () => {
      const socket = await connectClient(pool, server.url, setup);
      const question = waitFor(socket, 'question');
      const answer = waitFor(socket, 'answer');
      socket.emit('ask', 'what?', { n: 1 });
      const qArgs = await question;
      const ack = qArgs.pop();
      assert.equal(typeof ack, 'function', 'the server asked for an ack');
      assert.deepEqual(qArgs, ['what?', { n: 1 }]);
      ack('because', { n: 2 }, [3]);
      assert.deepEqual(await answer, ['because', { n: 2 }, [3]]);
    });

    it('server -> client ack with no values', async () => {
      const socket = await connectClient(pool, server.url, setup);
      socket.once('question', (...a) => a.pop()());
      const answer = waitFor(socket, 'answer');
      socket.emit('ask');
      assert.deepEqual(await answer, []);
    });

    it('server -> client ack timeout: client never acks -> answer-timeout', async () => {
      const socket = await connectClient(pool, server.url, setup);
      const question = waitFor(socket, 'question');
      let answered = false;
      socket.on('answer', () => { answered = true; });
      const timedOut = waitFor(socket, 'answer-timeout', 4500);
      const t0 = Date.now();
      socket.emit('ask', 'ignored');
      const qArgs = await question;
      assert.equal(typeof qArgs.at(-1), 'function');
      // deliberately never call the ack
      const toArgs = await timedOut;
      const elapsed = Date.now() - t0;
      assert.deepEqual(toArgs, []);
      assert.equal(answered, false);
      assert.ok(elapsed >= 1500, `answer-timeout came too early (${elapsed} ms; server timeout is 2000 ms)`);

      // a late ack after the timeout is ignored by the server (no 'answer', connection fine);
      // the echo round trip afterwards is the sentinel
      qArgs.at(-1)('too late');
      assert.equal(await socket.timeout(3000).emitWithAck('echo', 'sentinel'), 'sentinel');
      assert.equal(answered, false, 'server must not answer a timed-out ack');
      assert.equal(socket.connected, true);
    });

    it('100 events arrive in order', async () => {
      const socket = await connectClient(pool, server.url, setup);
      const all = collect(socket, 'echo-back', 100, 10_000);
      for (let i = 0; i < 100; i++) socket.emit('echo', i, `msg-${i}`);
      const got = await all;
      assert.deepEqual(got, Array.from({ length: 100 }, (_, i) => [i, `msg-${i}`]));
    });

    it('100 acks arrive in order', async () => {
      const socket = await connectClient(pool, server.url, setup);
      const order = [];
      const done = new Promise((resolve) => {
        for (let i = 0; i < 100; i++) {
          socket.emit('echo', i, (v) => { order.push(v); if (order.length === 100) resolve(); });
        }
      });
      await withTimeout(done, 10_000, 'waiting for 100 acks');
      assert.deepEqual(order, Array.from({ length: 100 }, (_, i) => i));
    });

    it('200 kB string round trip (event and ack)', async () => {
      const socket = await connectClient(pool, server.url, setup);
      let big = '';
      for (let i = 0; big.length < 200 * 1024; i++) big += `${i.toString(36)}-abcdefghijklmnopqrstuvwxyz-é-`;
      big = big.slice(0, 200 * 1024);
      const echoed = waitFor(socket, 'echo-back', 10_000);
      const acked = socket.timeout(10_000).emitWithAck('echo', big);
      const [e] = await echoed;
      const a = await acked;
      assert.equal(e.length, big.length);
      assert.ok(e === big, '200 kB echo-back differs from what was sent');
      assert.ok(a === big, '200 kB ack differs from what was sent');
    });
  });
}

describe('polling -> websocket upgrade', () => {
  afterEach(() => pool.closeAll());

  it('messages sent before, during and after the upgrade are all delivered in order', async () => {
    const setup = SETUPS.find((s) => s.upgrade);
    const socket = pool.socket(io(server.url, clientOptions(setup)));
    const all = collect(socket, 'echo-back', 150, 10_000);
    // queued before connect
    for (let i = 0; i < 50; i++) socket.emit('echo', i);
    await waitConnected(socket);
    // right after connect, typically while the websocket probe is in flight
    for (let i = 50; i < 100; i++) socket.emit('echo', i);
    await waitUpgraded(socket.io.engine, setup);
    for (let i = 100; i < 150; i++) socket.emit('echo', i);
    const got = (await all).map((a) => a[0]);
    assert.deepEqual(got, Array.from({ length: 150 }, (_, i) => i));
  });

  it('the handshake offers the websocket upgrade', async () => {
    const res = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling`);
    assert.equal(res.status, 200);
    const body = await res.text();
    assert.match(body, /^0\{/);
    const hs = parseOpen(splitPayload(body)[0]);
    assert.equal(typeof hs.sid, 'string');
    assert.deepEqual(hs.upgrades, ['websocket']);
    assert.equal(hs.pingInterval, 25000);
    assert.equal(hs.pingTimeout, 20000);
    assert.equal(hs.maxPayload, 1000000);
  });
});
