// Attacks on the connection layer with raw sockets: request smuggling through message
// framing the server does not implement (RFC 9112 sections 6.1 and 6.3), HTTP/1.1 without Host
// (section 3.2), and a WebSocket ping flood from a client that does not read its pongs
// (RFC 6455 section 5.5.3). Each bad client gets a clear refusal or is cut off, and the
// server keeps serving the others.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startServer, metrics, until, scaled } from '../helpers/server.mjs';
import { ClientPool } from '../helpers/clients.mjs';
import { OP, PollingClient, WireSocket, WsClient, destroyWireSockets, wsFrame, wsUrl } from '../helpers/eio.mjs';

const LIMIT = 65_536;

let server;
const pool = new ClientPool();
const sockets = new Set();

before(async () => {
  server = await startServer({ bin: 'parley-testbed', args: ['--max-outbound-bytes', String(LIMIT)] });
});
after(async () => { pool.closeAll(); await server?.stop(); });
afterEach(() => {
  for (const s of sockets) s.destroy();
  sockets.clear();
  destroyWireSockets();
  pool.closeAll();
});

function connect() {
  const sock = net.connect(server.port, '127.0.0.1');
  sockets.add(sock);
  sock.on('error', () => {}); // a reset after the server's close is expected
  return sock;
}

/** Splits raw HTTP/1.1 response bytes into { status, headers, body } records (Content-Length framed). */
function parseResponses(bytes) {
  const out = [];
  let rest = bytes;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) throw new Error(`an incomplete response head: ${JSON.stringify(rest.toString().slice(0, 200))}`);
    const [statusLine, ...lines] = rest.subarray(0, end).toString().split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
    if (!m) throw new Error(`not a status line: ${JSON.stringify(statusLine)}`);
    const headers = {};
    for (const line of lines) {
      const i = line.indexOf(':');
      headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    const length = Number(headers['content-length'] ?? 0);
    out.push({ status: Number(m[1]), headers, body: rest.subarray(end + 4, end + 4 + length).toString() });
    rest = rest.subarray(end + 4 + length);
  }
  return out;
}

/**
 * Writes `request` on a fresh connection and collects what comes back until the server ends the
 * connection (`closed: true`) or, with `idleMs`, until nothing more came for that long.
 */
function exchange(request, { idleMs = null, timeoutMs = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const sock = connect();
    const chunks = [];
    let idle = null;
    const done = (closed) => {
      clearTimeout(timer);
      clearTimeout(idle);
      resolve({ responses: parseResponses(Buffer.concat(chunks)), closed });
    };
    const timer = setTimeout(() => {
      sock.destroy();
      const got = Buffer.concat(chunks).toString();
      reject(new Error(`neither closed nor idle within ${timeoutMs} ms; got ${got.length} bytes: ${JSON.stringify(got.slice(0, 300))}`));
    }, scaled(timeoutMs));
    const armIdle = () => {
      if (idleMs === null) return;
      clearTimeout(idle);
      idle = setTimeout(() => done(false), idleMs);
    };
    sock.on('data', (d) => { chunks.push(d); armIdle(); });
    sock.on('close', () => done(true));
    sock.write(request);
    armIdle();
  });
}

/** Exactly one response, 400, and the server hung up. */
async function refusedAndClosed(request) {
  const { responses, closed } = await exchange(request);
  assert.equal(responses.length, 1, `one response, got ${responses.map((r) => r.status).join(', ')}`);
  assert.equal(responses[0].status, 400);
  assert.equal(responses[0].headers.connection?.toLowerCase(), 'close');
  assert.ok(closed, 'the server closed the connection');
}

async function stillServed() {
  const { responses } = await exchange('GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.equal(responses.length, 1);
  assert.equal(responses[0].status, 200);
}

describe('message framing (request smuggling)', () => {
  it('Transfer-Encoding other than chunked: one 400, the body is never read as a second request', async () => {
    await refusedAndClosed(
      'GET /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n' +
      'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n');
    await stillServed();
  });

  it('chunked not alone or not last (gzip, chunked / chunked, gzip / chunked, chunked): 400 and close', async () => {
    for (const te of ['gzip, chunked', 'chunked, gzip', 'chunked, chunked', 'identity']) {
      await refusedAndClosed(
        `POST /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ${te}\r\n\r\n0\r\n\r\n` +
        'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n');
    }
    await stillServed();
  });

  it('Transfer-Encoding with Content-Length, in either order: 400 and close', async () => {
    const smuggled = 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n';
    await refusedAndClosed(
      `POST /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\nContent-Length: ${smuggled.length}\r\n\r\n${smuggled}`);
    await refusedAndClosed(
      `POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`);
    await refusedAndClosed(
      `POST /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n${smuggled}`);
    await stillServed();
  });

  it('Transfer-Encoding in an HTTP/1.0 request: 400 and close', async () => {
    await refusedAndClosed('GET /metrics HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
  });

  it('a chunked request alone is still read and answered on a kept-alive connection', async () => {
    const { responses, closed } = await exchange(
      'GET /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n' +
      'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n', { idleMs: 300 });
    assert.deepEqual(responses.map((r) => r.status), [200, 200]);
    assert.equal(closed, false);
  });
});

describe('Host header', () => {
  it('HTTP/1.1 without Host: 400 and close', async () => {
    await refusedAndClosed('GET /metrics HTTP/1.1\r\n\r\nGET /metrics HTTP/1.1\r\nHost: x\r\n\r\n');
    await stillServed();
  });

  it('HTTP/1.1 with two Host fields: 400 and close', async () => {
    await refusedAndClosed('GET /metrics HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n');
  });

  it('HTTP/1.0 without Host is still answered', async () => {
    const { responses, closed } = await exchange('GET /metrics HTTP/1.0\r\n\r\n');
    assert.equal(responses.length, 1);
    assert.equal(responses[0].status, 200);
    assert.ok(closed, 'HTTP/1.0 without keep-alive ends after the response');
  });
});

// --- WebSocket ping flood ------------------------------------------------------------------

/** A masked client ping frame with a 125-byte payload that starts with `tag`. */
function pingFrame(tag) {
  const payload = Buffer.alloc(125, 0x2e);
  payload.write(tag);
  return wsFrame(OP.ping, payload);
}

/**
 * Upgrades a raw socket to `target` (path and query); resolves with its TCP socket once the 101
 * head is in. From then on nothing is read: the pongs pile up on the server's side.
 */
async function rawUpgrade(target) {
  const ws = new WireSocket(server.url);
  const head = await ws.connect({ Host: 'x' }, { target, pause: true });
  assert.match(head, /^HTTP\/1\.1 101/);
  return ws.sock;
}

/**
 * Sends up to `count` pings on a socket that reads nothing, yielding now and then so that the
 * server's close is noticed; resolves true once the server has closed the connection.
 */
async function floodPings(sock, count) {
  let closed = false;
  const gone = new Promise((resolve) => sock.once('close', () => { closed = true; resolve(); }));
  for (let i = 0; i < count && !closed && !sock.destroyed; ++i) {
    if (!sock.write(pingFrame(`p${i}`))) await new Promise((r) => setImmediate(r));
    if (i % 200 === 0) await new Promise((r) => setImmediate(r));
  }
  // Reading again lets the connection's end (or reset) be seen.
  sock.resume();
  sock.on('data', () => {});
  await Promise.race([gone, new Promise((r) => setTimeout(r, scaled(10_000)))]);
  return closed;
}

async function socketIoStillServed() {
  const other = pool.raw(new WsClient(wsUrl(server.url)));
  await other.connectMain();
}

describe('websocket ping flood', () => {
  it('a client that never reads its pongs is cut off as a slow consumer; others are served', async () => {
    const before = (await metrics(server.url)).parley_slow_consumers_closed_total ?? 0;
    const sock = await rawUpgrade('/socket.io/?EIO=4&transport=websocket');
    assert.ok(await floodPings(sock, 50_000), 'the server closed the connection');
    await until(() => metrics(server.url), (m) => m.parley_slow_consumers_closed_total > before, scaled(3000),
      'the slow consumer is counted');
    await socketIoStillServed();
  });

  it('an upgrade probe that never reads its pongs is cut off too', async () => {
    const before = (await metrics(server.url)).parley_slow_consumers_closed_total ?? 0;
    const polling = pool.raw(new PollingClient(server.url));
    await polling.open();
    const sock = await rawUpgrade(`/socket.io/?EIO=4&transport=websocket&sid=${polling.sid}`);
    assert.ok(await floodPings(sock, 50_000), 'the server closed the probe');
    await until(() => metrics(server.url), (m) => m.parley_slow_consumers_closed_total > before, scaled(3000),
      'the slow consumer is counted');
    await socketIoStillServed();
  });

  it('a client that reads gets the pong of its latest ping and stays connected', async () => {
    const client = pool.raw(new WsClient(wsUrl(server.url)));
    await client.connectMain();
    const pongs = [];
    let wake = null;
    client.ws.on('pong', (data) => { pongs.push(data.toString()); wake?.(); });
    // 100 rounds of 50 pings: 5,000 pings, several times the outbound limit in pong bytes.
    for (let round = 0; round < 100; ++round) {
      let last = '';
      for (let i = 0; i < 50; ++i) {
        last = `r${round}-${i}-`.padEnd(125, '.');
        client.ws.ping(last);
      }
      const deadline = Date.now() + scaled(3000);
      while (pongs.at(-1) !== last) {
        assert.equal(client.closed, null, 'still connected');
        assert.ok(Date.now() < deadline, `the pong of ${last.slice(0, 12)} in time`);
        await new Promise((resolve) => { wake = resolve; setTimeout(resolve, 100); });
      }
    }
    assert.equal(client.closed, null, 'still connected');
    // The session still works: an Engine.IO ping answered, a namespace joined.
    client.send('40/other,');
    assert.match(await client.nextNonPing(), /^(40|44)\/other,/);
  });
});
