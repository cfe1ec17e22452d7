// Binary payloads (Socket.IO BINARY_EVENT / BINARY_ACK with attachments) in both directions.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, waitFor, collect } from '../helpers/server.mjs';
import { SETUPS, ClientPool, connectClient, normalizeBinary, isBinary } from '../helpers/clients.mjs';

let server;
const pool = new ClientPool();

before(async () => { server = await startServer({ bin: 'parley-testbed' }); });
after(async () => { pool.closeAll(); await server?.stop(); });

function bytes(n, seed = 1) {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7) & 0xff;
  return b;
}

/** Asserts deep equality and that every Buffer position really came back as binary. */
function assertSameWithBinary(actual, expected, where = 'value') {
  if (Buffer.isBuffer(expected)) {
    assert.ok(isBinary(actual), `${where}: expected binary, got ${typeof actual} ${JSON.stringify(actual)?.slice(0, 100)}`);
    assert.ok(Buffer.from(normalizeBinary(actual)).equals(expected), `${where}: binary content differs`);
    return;
  }
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${where}: expected array`);
    assert.equal(actual.length, expected.length, `${where}: array length`);
    expected.forEach((e, i) => assertSameWithBinary(actual[i], e, `${where}[${i}]`));
    return;
  }
  if (expected && typeof expected === 'object') {
    assert.ok(actual && typeof actual === 'object', `${where}: expected object`);
    assert.deepEqual(Object.keys(actual).sort(), Object.keys(expected).sort(), `${where}: keys`);
    for (const k of Object.keys(expected)) assertSameWithBinary(actual[k], expected[k], `${where}.${k}`);
    return;
  }
  assert.deepEqual(actual, expected, where);
}

const CASES = [
  { name: 'a single Buffer', args: () => [bytes(16)] },
  { name: 'an empty Buffer', args: () => [Buffer.alloc(0)] },
  { name: 'all 256 byte values', args: () => [Buffer.from(Array.from({ length: 256 }, (_, i) => i))] },
  { name: 'Buffer mixed with plain args', args: () => ['before', bytes(10, 2), 7, { k: 'v' }, 'after'] },
  { name: 'Buffer nested in an object', args: () => [{ file: { name: 'x.bin', data: bytes(100, 3) }, meta: [1, 2] }] },
  {
    name: 'multiple Buffers (several args, arrays and objects)',
    args: () => [bytes(5, 4), [bytes(6, 5), 'mid', bytes(7, 6)], { a: bytes(8, 7), b: { c: [bytes(9, 8)] } }],
  },
  { name: 'a 100 kB Buffer', args: () => [bytes(100 * 1024, 9)] },
];

for (const setup of SETUPS) {
  describe(`binary over ${setup.name}`, () => {
    afterEach(() => pool.closeAll());

    for (const c of CASES) {
      it(`echo of ${c.name}: event and ack come back binary`, async () => {
        const socket = await connectClient(pool, server.url, setup);
        const args = c.args();
        const echoed = waitFor(socket, 'echo-back', 5000);
        const acked = new Promise((resolve) => socket.emit('echo', ...args, (...r) => resolve(r)));
        assertSameWithBinary(await echoed, args, 'echo-back args');
        assertSameWithBinary(await acked, args, 'ack args');
      });
    }

    it('binary in server -> client ack request and in the client ack answer', async () => {
      const socket = await connectClient(pool, server.url, setup);
      const sentQ = [bytes(12, 10), { nested: bytes(3, 11) }];
      const reply = [{ img: bytes(33, 12) }, 'txt', [bytes(4, 13), bytes(0)]];
      const question = waitFor(socket, 'question');
      const answer = waitFor(socket, 'answer');
      socket.emit('ask', ...sentQ);
      const q = await question;
      const ack = q.pop();
      assert.equal(typeof ack, 'function');
      assertSameWithBinary(q, sentQ, 'question args');
      ack(...reply);
      assertSameWithBinary(await answer, reply, 'answer args');
    });

    it('binary and text events interleaved keep their order', async () => {
      const socket = await connectClient(pool, server.url, setup);
      const all = collect(socket, 'echo-back', 40, 10_000);
      const sent = [];
      for (let i = 0; i < 40; i++) {
        const args = i % 2 ? [i, bytes(i + 1, i)] : [i, `text-${i}`];
        sent.push(args);
        socket.emit('echo', ...args);
      }
      const got = await all;
      for (let i = 0; i < 40; i++) assertSameWithBinary(got[i], sent[i], `message ${i}`);
    });
  });
}
