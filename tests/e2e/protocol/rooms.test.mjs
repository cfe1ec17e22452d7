// Rooms and broadcasts. "Did not receive" is checked without sleeping: after the operation
// under test, the same sender triggers a sentinel that reaches the observer over the same
// connection; since the server handles one sender's packets in order and a connection
// delivers in order, a wrongly delivered message would have arrived before the sentinel.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../helpers/server.mjs';
import { SETUPS, ClientPool, connectClient, Recorder, token, makeManager, waitConnected } from '../helpers/clients.mjs';

let server;
const pool = new ClientPool();

before(async () => { server = await startServer({ bin: 'parley-testbed' }); });
after(async () => { pool.closeAll(); await server?.stop(); });

async function clients(setup, n) {
  const sockets = await Promise.all(Array.from({ length: n }, () => connectClient(pool, server.url, setup)));
  return sockets.map((s) => ({ s, rec: new Recorder(s) }));
}

const ack = (socket, ...args) => socket.timeout(3000).emitWithAck(...args);
const payloadIs = (p) => (args) => JSON.stringify(args) === JSON.stringify([p]);

/**
 * Makes sure `observer` got no 'room-message' with `payload`: `sender` sends a sentinel
 * (broadcast-all) after the operation; when the sentinel reaches `observer` the forbidden
 * message would already be there.
 */
async function assertNotReceived(sender, observer, payload) {
  const sentinel = { sentinel: token('s') };
  await ack(sender.s, 'broadcast-all', sentinel);
  await observer.rec.next('broadcast-message', payloadIs(sentinel));
  assert.equal(observer.rec.has('room-message', payloadIs(payload)), false,
    `socket ${observer.s.id} must not receive ${JSON.stringify(payload)}; got ${JSON.stringify(observer.rec.all('room-message'))}`);
}

/** Same, for the sender itself: an echo-back after the operation acts as sentinel. */
async function assertSenderNotReceived(sender, event, payload) {
  const sentinel = token('echo-sentinel');
  await ack(sender.s, 'echo', sentinel);
  await sender.rec.next('echo-back', payloadIs(sentinel));
  assert.equal(sender.rec.has(event, payloadIs(payload)), false,
    `sender must not receive its own ${event} ${JSON.stringify(payload)}`);
}

for (const setup of SETUPS) {
  describe(`rooms over ${setup.name}`, () => {
    afterEach(() => pool.closeAll());

    it('to-room reaches all members including the sender, not non-members', async () => {
      const [a, b, c] = await clients(setup, 3);
      const room = token('room');
      assert.equal(await ack(a.s, 'join', room), true);
      assert.equal(await ack(b.s, 'join', room), true);
      const payload = { text: token('hello'), n: [1, 2] };
      assert.equal(await ack(a.s, 'to-room', room, payload), true);
      await a.rec.next('room-message', payloadIs(payload));
      await b.rec.next('room-message', payloadIs(payload));
      await assertNotReceived(a, c, payload);
      // exactly once each
      assert.equal(a.rec.all('room-message').length, 1);
      assert.equal(b.rec.all('room-message').length, 1);
    });

    it('to-room works without an ack', async () => {
      const [a, b] = await clients(setup, 2);
      const room = token('room');
      await ack(b.s, 'join', room);
      const payload = token('no-ack');
      a.s.emit('to-room', room, payload);
      await b.rec.next('room-message', payloadIs(payload));
    });

    it('sender not in the room: members get it, sender does not', async () => {
      const [a, b] = await clients(setup, 2);
      const room = token('room');
      await ack(b.s, 'join', room);
      const payload = token('from-outside');
      assert.equal(await ack(a.s, 'to-room', room, payload), true);
      await b.rec.next('room-message', payloadIs(payload));
      await assertSenderNotReceived(a, 'room-message', payload);
    });

    it('leave: a socket that left the room no longer receives', async () => {
      const [a, b, c] = await clients(setup, 3);
      const room = token('room');
      await Promise.all([ack(a.s, 'join', room), ack(b.s, 'join', room), ack(c.s, 'join', room)]);
      const p1 = token('p1');
      await ack(a.s, 'to-room', room, p1);
      await Promise.all([a, b, c].map((x) => x.rec.next('room-message', payloadIs(p1))));
      assert.equal(await ack(c.s, 'leave', room), true);
      const p2 = token('p2');
      await ack(a.s, 'to-room', room, p2);
      await a.rec.next('room-message', payloadIs(p2));
      await b.rec.next('room-message', payloadIs(p2));
      await assertNotReceived(a, c, p2);
    });

    it('to-room-except-sender excludes the sender only', async () => {
      const [a, b, c, d] = await clients(setup, 4);
      const room = token('room');
      await Promise.all([ack(a.s, 'join', room), ack(b.s, 'join', room), ack(c.s, 'join', room)]);
      const payload = token('except-sender');
      assert.equal(await ack(a.s, 'to-room-except-sender', room, payload), true);
      await b.rec.next('room-message', payloadIs(payload));
      await c.rec.next('room-message', payloadIs(payload));
      await assertSenderNotReceived(a, 'room-message', payload);
      await assertNotReceived(a, d, payload);
    });

    it('broadcast-all reaches everybody but the sender', async () => {
      const [a, b, c] = await clients(setup, 3);
      const payload = { b: token('bcast') };
      assert.equal(await ack(a.s, 'broadcast-all', payload), true);
      await b.rec.next('broadcast-message', payloadIs(payload));
      await c.rec.next('broadcast-message', payloadIs(payload));
      await assertSenderNotReceived(a, 'broadcast-message', payload);
    });

    it('broadcast-all does not reach other namespaces', async () => {
      // root and admin share one connection, so anything wrongly sent to admin would be
      // written before the echo sentinel for root
      const manager = makeManager(pool, server.url, setup);
      const root = manager.socket('/');
      const admin = manager.socket('/admin', { auth: { token: 'secret' } });
      await Promise.all([waitConnected(root), waitConnected(admin)]);
      const rootRec = { s: root, rec: new Recorder(root) };
      const adminRec = new Recorder(admin);
      const [other] = await clients(setup, 1);
      const payload = token('ns-bcast');
      await ack(root, 'broadcast-all', payload);
      await other.rec.next('broadcast-message', payloadIs(payload));
      await assertSenderNotReceived(rootRec, 'broadcast-message', payload);
      assert.equal(adminRec.has('broadcast-message'), false, '/admin must not get broadcasts of "/"');
    });

    it('to-room-except-room excludes members of the other room', async () => {
      const [a, b, c, d] = await clients(setup, 4);
      const room = token('main');
      const except = token('except');
      await Promise.all([a, b, c].map((x) => ack(x.s, 'join', room)));
      await ack(b.s, 'join', except);
      await ack(d.s, 'join', except); // in the except room but not in the target room
      const payload = token('except-room');
      assert.equal(await ack(a.s, 'to-room-except-room', room, except, payload), true);
      await a.rec.next('room-message', payloadIs(payload));
      await c.rec.next('room-message', payloadIs(payload));
      await assertNotReceived(a, b, payload);
      await assertNotReceived(a, d, payload);
    });

    it('rooms are per socket: joining with one socket does not add another', async () => {
      const [a, b] = await clients(setup, 2);
      const room = token('solo');
      await ack(a.s, 'join', room);
      const payload = token('solo-msg');
      await ack(b.s, 'to-room', room, payload);
      await a.rec.next('room-message', payloadIs(payload));
      await assertSenderNotReceived(b, 'room-message', payload);
    });

    it('a disconnected socket is removed from its rooms', async () => {
      const [a, b, c] = await clients(setup, 3);
      const room = token('gone');
      await Promise.all([ack(a.s, 'join', room), ack(b.s, 'join', room)]);
      b.s.disconnect();
      // the room still works for the remaining member (and the server did not trip over b)
      const payload = token('after-disconnect');
      assert.equal(await ack(a.s, 'to-room', room, payload), true);
      await a.rec.next('room-message', payloadIs(payload));
      await assertNotReceived(a, c, payload);
    });
  });
}
