// Every configurable limit of the protocol layers, crossed on purpose: the client that
// crosses it gets a clear refusal, and a client beside it keeps being served. Each block
// starts its own testbed with the limit set low.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startServer, waitFor, metrics, until } from '../helpers/server.mjs';
import { SETUPS, ClientPool, connectClient, makeManager, waitConnected, othersStillServed } from '../helpers/clients.mjs';
import { WsClient, parseOpen, pollingUrl, request, splitPayload, wsUrl } from '../helpers/eio.mjs';

const pool = new ClientPool();
afterEach(() => pool.closeAll());

/** A polling handshake, optionally from another loopback address; resolves the HTTP answer. */
const handshake = (server, localAddress) => request(pollingUrl(server.url), { localAddress });

describe('HTTP header size (--max-header-bytes)', () => {
  let server;
  before(async () => { server = await startServer({ bin: 'parley-testbed', args: ['--max-header-bytes', '2048'] }); });
  after(async () => { await server?.stop(); });

  it('a request with more header bytes gets 431; a normal one beside it is served', async () => {
    const big = await request(pollingUrl(server.url), { headers: { 'x-filler': 'a'.repeat(4000) } });
    assert.equal(big.status, 431);
    const ok = await handshake(server);
    assert.equal(ok.status, 200);
    assert.match(ok.text, /^0\{"sid"/);
  });
});

describe('slow request (--request-timeout, slowloris)', () => {
  let server;
  before(async () => { server = await startServer({ bin: 'parley-testbed', args: ['--request-timeout', '400'] }); });
  after(async () => { await server?.stop(); });

  it('a connection that never finishes its headers is closed by the server; others are served meanwhile', async () => {
    const slow = net.connect(server.port, '127.0.0.1');
    await waitFor(slow, 'connect');
    slow.write('GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    let received = '';
    slow.on('data', (d) => { received += d; });
    const closed = waitFor(slow, 'close', 5000);
    await othersStillServed(pool, server.url);
    await closed; // the server hung up: nothing from our side closes it
    assert.equal(received, '', 'no response to half a request');
  });
});

describe('connections per address (--max-connections-per-ip)', () => {
  let server;
  before(async () => { server = await startServer({ bin: 'parley-testbed', args: ['--max-connections-per-ip', '3'] }); });
  after(async () => { await server?.stop(); });

  it('past the limit an address gets 429; another address is served; a freed slot is reusable', async () => {
    const held = [];
    for (let i = 0; i < 3; ++i) {
      const s = net.connect(server.port, '127.0.0.1');
      await waitFor(s, 'connect');
      held.push(s);
    }
    // The server counts a connection when it accepts it: wait until the fourth is refused.
    const refused = await until(() => handshake(server), (r) => r.status === 429, 5000,
      'a fourth connection from 127.0.0.1 is refused');
    assert.match(refused.text, /Too many connections from this address/);

    const other = await handshake(server, '127.0.0.2');
    assert.equal(other.status, 200, 'another address is not affected');

    held.pop().destroy();
    await until(() => handshake(server), (r) => r.status === 200, 5000, 'the freed slot is usable again');
    for (const s of held) s.destroy();
    assert.ok((await metrics(server.url)).parley_connections_refused_total >= 1);
  });
});

describe('handshakes per second per address (--handshakes-per-second, --handshake-burst)', () => {
  let server;
  before(async () => {
    server = await startServer({
      bin: 'parley-testbed', args: ['--handshakes-per-second', '1', '--handshake-burst', '3'],
    });
  });
  after(async () => { await server?.stop(); });

  it('the burst is served, the next handshake gets 429 with code 4 and Retry-After, then it refills', async () => {
    const answers = [];
    for (let i = 0; i < 4; ++i) answers.push(await handshake(server));
    assert.deepEqual(answers.slice(0, 3).map((a) => a.status), [200, 200, 200]);
    const refused = answers[3];
    assert.equal(refused.status, 429);
    assert.equal(refused.headers['retry-after'], '1');
    assert.deepEqual(JSON.parse(refused.text), { code: 4, message: 'Too many handshakes from this address' });

    const other = await handshake(server, '127.0.0.2');
    assert.equal(other.status, 200, 'another address has its own bucket');

    await until(() => handshake(server), (r) => r.status === 200, 5000, 'a token comes back');
    assert.ok((await metrics(server.url)).parley_handshakes_refused_total >= 1);
  });

  it('socket.io-client sees the refusal as a connect_error', async () => {
    for (let i = 0; i < 5; ++i) await handshake(server); // use up the bucket
    const socket = pool.socket(
      (await import('socket.io-client')).io(server.url, { forceNew: true, reconnection: false, transports: ['polling'] }));
    const [err] = await waitFor(socket, 'connect_error', 5000);
    assert.ok(err instanceof Error, 'connect_error carries an Error');
  });
});

describe('namespaces per connection (--max-namespaces)', () => {
  let server;
  before(async () => { server = await startServer({ bin: 'parley-testbed', args: ['--max-namespaces', '2'] }); });
  after(async () => { await server?.stop(); });

  for (const setup of SETUPS) {
    it(`${setup.name}: the third namespace gets CONNECT_ERROR; the first two keep working`, async () => {
      const manager = makeManager(pool, server.url, setup);
      const root = pool.socket(manager.socket('/'));
      await waitConnected(root);
      const extra = pool.socket(manager.socket('/extra'));
      await waitConnected(extra);
      const admin = pool.socket(manager.socket('/admin', { auth: { token: 'secret' } }));
      const [err] = await waitFor(admin, 'connect_error', 5000);
      assert.equal(err.message, 'Too many namespaces on this connection');
      assert.equal(await root.timeout(3000).emitWithAck('echo', 1), 1);
      assert.equal(await extra.timeout(3000).emitWithAck('echo', 2), 2);
    });
  }
});

describe('rooms per socket (--max-rooms-per-socket)', () => {
  let server;
  before(async () => { server = await startServer({ bin: 'parley-testbed', args: ['--max-rooms-per-socket', '2'] }); });
  after(async () => { await server?.stop(); });

  it('a join past the limit is refused; rejoining, leaving and joining again work', async () => {
    const socket = await connectClient(pool, server.url, SETUPS[1]);
    const join = (room) => socket.timeout(3000).emitWithAck('join', room);
    assert.equal(await join('a'), true);
    assert.equal(await join('b'), true);
    assert.equal(await join('c'), false, 'third room refused');
    assert.equal(await join('a'), true, 'a room it is already in is not a new one');
    assert.equal(await socket.timeout(3000).emitWithAck('leave', 'a'), true);
    assert.equal(await join('c'), true, 'after leaving one');
    const got = waitFor(socket, 'room-message');
    await socket.timeout(3000).emitWithAck('to-room', 'c', 'in c');
    assert.deepEqual(await got, ['in c']);
  });
});

describe('requests awaiting an answer per socket (--max-pending-acks)', () => {
  let server;
  before(async () => { server = await startServer({ bin: 'parley-testbed', args: ['--max-pending-acks', '3'] }); });
  after(async () => { await server?.stop(); });

  const OVERLOADED = { error: 'OVERLOADED', message: 'Too many requests awaiting an answer on this socket' };

  for (const setup of SETUPS) {
    it(`${setup.name}: past the limit a request is answered OVERLOADED at once; answered ones free their place`, async () => {
      const socket = await connectClient(pool, server.url, setup);
      const held = [1, 2, 3].map(() => socket.timeout(5000).emitWithAck('hold'));
      assert.deepEqual(await socket.timeout(3000).emitWithAck('hold'), OVERLOADED);
      // Events without an ack are not requests: they still go through.
      const echoed = waitFor(socket, 'echo-back');
      socket.emit('echo', 'no ack');
      assert.deepEqual(await echoed, ['no ack']);
      // "release" without an ack answers the three held requests...
      socket.emit('release');
      assert.deepEqual(await Promise.all(held), ['released', 'released', 'released']);
      // ... and their places are free again.
      const again = [1, 2, 3].map(() => socket.timeout(5000).emitWithAck('hold'));
      socket.emit('release');
      assert.deepEqual(await Promise.all(again), ['released', 'released', 'released']);
      assert.equal(await socket.timeout(3000).emitWithAck('release'), 0);
    });
  }
});

describe('per-packet bounds (--max-event-name-bytes, --max-json-depth, --max-attachments, attachment bytes)', () => {
  let server;
  before(async () => {
    server = await startServer({
      bin: 'parley-testbed',
      args: ['--max-event-name-bytes', '16', '--max-json-depth', '8', '--max-attachments', '2', '--max-payload', '10000'],
    });
  });
  after(async () => { await server?.stop(); });

  async function closedByServer(socket) {
    const [reason] = await waitFor(socket, 'disconnect', 5000);
    assert.equal(reason, 'transport close', 'the server closed the connection');
  }

  it('an event name at the limit is fine; one byte more closes that connection only', async () => {
    const socket = await connectClient(pool, server.url, SETUPS[1]);
    const bystander = await connectClient(pool, server.url, SETUPS[0]);
    socket.emit('x'.repeat(16)); // no handler: ignored
    assert.equal(await socket.timeout(3000).emitWithAck('echo', 'ok'), 'ok');
    const closed = closedByServer(socket);
    socket.emit('x'.repeat(17));
    await closed;
    assert.equal(await bystander.timeout(3000).emitWithAck('echo', 'fine'), 'fine');
  });

  it('JSON nested to the limit is echoed; one level deeper closes the connection', async () => {
    const socket = await connectClient(pool, server.url, SETUPS[1]);
    const nest = (n) => { let v = 0; for (let i = 0; i < n; ++i) v = [v]; return v; };
    // The packet's own array is one level: 7 more make 8.
    assert.deepEqual(await socket.timeout(3000).emitWithAck('echo', nest(7)), nest(7));
    const closed = closedByServer(socket);
    socket.emit('echo', nest(8));
    await closed;
    await othersStillServed(pool, server.url);
  });

  it('two attachments are echoed; a third closes the connection', async () => {
    const socket = await connectClient(pool, server.url, SETUPS[1]);
    const two = await socket.timeout(3000).emitWithAck('echo', Buffer.from([1]), Buffer.from([2]));
    assert.equal(Buffer.from(two).toString('hex'), '01');
    const closed = closedByServer(socket);
    socket.emit('echo', Buffer.from([1]), Buffer.from([2]), Buffer.from([3]));
    await closed;
    await othersStillServed(pool, server.url);
  });

  it('attachments that together pass --max-payload close the connection, each frame being under it', async () => {
    const socket = await connectClient(pool, server.url, SETUPS[1]);
    const closed = closedByServer(socket);
    socket.emit('echo', Buffer.alloc(6000, 1), Buffer.alloc(6000, 2));
    await closed;
    await othersStillServed(pool, server.url);
  });
});

describe('pending polling requests', () => {
  let server;
  before(async () => { server = await startServer({ bin: 'parley-testbed' }); });
  after(async () => { await server?.stop(); });

  it('one GET is held per session; a second at the same time gets 400 and ends the session', async () => {
    const open = await handshake(server);
    const { sid } = parseOpen(splitPayload(open.text)[0]);
    const url = pollingUrl(server.url, { sid });
    await request(url, { method: 'POST', body: '40' });
    const connected = await request(url);
    assert.match(connected.text, /^40\{/);
    // Two GETs at once: whichever arrives second is refused, the held one gets the close packet.
    const answers = await Promise.all([request(url), request(url)]);
    const statuses = answers.map((a) => a.status).sort();
    assert.deepEqual(statuses, [200, 400]);
    const held = answers.find((a) => a.status === 200);
    assert.ok(held.text.endsWith('1'), `the held GET gets the close packet (${JSON.stringify(held.text)})`);
    assert.equal((await request(url)).status, 400, 'the session is gone');
    await othersStillServed(pool, server.url, SETUPS[0]);
  });
});

describe('a raw WebSocket beside the limits', () => {
  let server;
  before(async () => { server = await startServer({ bin: 'parley-testbed', args: ['--max-event-name-bytes', '16'] }); });
  after(async () => { await server?.stop(); });

  it('an over-long event name over a raw socket gets the connection closed (no answer)', async () => {
    const raw = pool.raw(new WsClient(wsUrl(server.url)));
    await raw.connectMain();
    raw.send(`42["${'y'.repeat(100)}"]`);
    const { code } = await raw.waitClosed(5000);
    assert.ok(code === 1000 || code === 1005, `closed normally (code ${code})`);
  });
});
