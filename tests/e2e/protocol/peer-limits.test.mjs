// The per-address limits at their DEFAULTS (startServer's defaultLimits), and behind a trusted
// reverse proxy (--trusted-proxy).
//
// The defaults must let a crowd behind one address (a NAT) reconnect all at once without one
// refusal, and still stop one address that opens without bound. Every test client comes from
// 127.0.0.1, which plays that one address.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { startServer, waitFor, metrics, until, withTimeout } from '../helpers/server.mjs';
import { parseOpen, pollingUrl, request } from '../helpers/eio.mjs';
import { startChatServer, connectRefused, closeAllSockets, objectId } from '../helpers/chat.mjs';

const CROWD = 5000;         // clients behind one NAT, the design point of the defaults
const DEFAULT_BURST = 5000; // --handshake-burst
const DEFAULT_RATE = 100;   // --handshakes-per-second
const DEFAULT_CAP = 10000;  // --max-connections-per-ip

/**
 * One GET; resolves { status, headers, text }. Its bound counts the wait for a socket of a
 * shared agent too, behind thousands of others: the whole crowd's bound is the test's.
 */
const httpGet = (url, opts = {}) => request(url, { timeout: 60_000, ...opts });

/** socket.io-client's reconnection delay for attempt n (0-based): its Backoff with the defaults
 *  reconnectionDelay 1000, reconnectionDelayMax 5000, randomizationFactor 0.5. */
function backoffMs(attempt) {
  let ms = 1000 * 2 ** attempt;
  const rand = Math.random();
  const deviation = Math.floor(rand * 0.5 * ms);
  ms = (Math.floor(rand * 10) & 1) === 0 ? ms - deviation : ms + deviation;
  return Math.min(ms, 5000);
}

describe('default per-address limits: a crowd behind one NAT', () => {
  let server;
  before(async () => { server = await startServer({ bin: 'parley-testbed', defaultLimits: true }); });
  after(async () => { await server?.stop(); });

  it(`${CROWD} clients from one address reconnecting at once all get a session, none refused`, async () => {
    // All at once (a restart drops them together; socket.io-client's first retry spreads them
    // over 0.5-1.5 s, which is gentler than this). 200 connections at a time, kept alive: the
    // server holds polling sessions, not sockets.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 200 });
    let refusals = 0;
    const attempt = async (n = 0) => {
      const res = await httpGet(pollingUrl(server.url), { agent });
      if (res.status === 429) {
        ++refusals;
        if (n >= 5) return res;
        await new Promise((r) => setTimeout(r, backoffMs(n))); // a client's retry, as socket.io-client's
        return attempt(n + 1);
      }
      return res;
    };
    try {
      const answers = await withTimeout(Promise.all(Array.from({ length: CROWD }, () => attempt())), 60000,
        `${CROWD} handshakes`);
      assert.equal(refusals, 0, `no handshake may be refused (${refusals} were)`);
      const sids = new Set();
      for (const res of answers) {
        assert.equal(res.status, 200, res.text);
        assert.match(res.text, /^0\{"sid"/);
        sids.add(parseOpen(res.text).sid);
      }
      assert.equal(sids.size, CROWD, 'every client has its own session');
      assert.equal((await metrics(server.url)).parley_handshakes_refused_total, 0);
    } finally {
      agent.destroy();
    }
  });
});

describe('default per-address limits: one address opening sessions without bound', () => {
  let server;
  before(async () => { server = await startServer({ bin: 'parley-testbed', defaultLimits: true }); });
  after(async () => { await server?.stop(); });

  it('sustained handshakes past the burst get 429; another address is still served', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 200 });
    const started = Date.now();
    let sent = 0;
    let refused = null;
    // The bucket holds DEFAULT_BURST and refills at DEFAULT_RATE a second: a 429 must come before
    // burst + rate x elapsed (+ one batch in flight). Bounded, whatever the server does.
    const bound = (seconds) => DEFAULT_BURST + DEFAULT_RATE * seconds + 200;
    try {
      while (!refused && sent < 4 * DEFAULT_BURST) {
        const batch = await Promise.all(Array.from({ length: 200 }, () => httpGet(pollingUrl(server.url), { agent })));
        sent += batch.length;
        refused = batch.find((r) => r.status === 429) ?? null;
      }
    } finally {
      agent.destroy();
    }
    const seconds = (Date.now() - started) / 1000;
    assert.ok(refused, `no 429 after ${sent} handshakes in ${seconds.toFixed(1)} s`);
    assert.ok(sent <= bound(seconds), `the 429 came after ${sent} handshakes in ${seconds.toFixed(1)} s`);
    assert.ok(sent > DEFAULT_BURST, `the burst (${DEFAULT_BURST}) is served first, refused after ${sent}`);
    assert.deepEqual(JSON.parse(refused.text), { code: 4, message: 'Too many handshakes from this address' });
    const other = await httpGet(pollingUrl(server.url), { localAddress: '127.0.0.2' });
    assert.equal(other.status, 200, 'another address has its own budget');
  });
});

describe('default per-address limits: one address holding connections without bound', () => {
  let server;
  before(async () => { server = await startServer({ bin: 'parley-testbed', defaultLimits: true }); });
  after(async () => { await server?.stop(); });

  it(`connections past ${DEFAULT_CAP} from one address are refused (descriptors stay bounded)`, async () => {
    const held = [];
    // Asks /metrics, which no handshake rate limits, on a connection of its own.
    const probe = () => httpGet(`${server.url}/metrics`);
    const hold = async (count) => {
      // Opened in batches, each batch connected before the next, so the server accepts them in order.
      while (held.length < count) {
        const batch = Array.from({ length: Math.min(500, count - held.length) }, () => net.connect(server.port, '127.0.0.1'));
        await Promise.all(batch.map((s) => waitFor(s, 'connect', 10000)));
        held.push(...batch);
      }
    };
    // Asks /metrics on a connection that stays open afterwards (keep-alive), and is held: a
    // probe that closed would free its slot only once the server has finished with it, which
    // may be after the next connection arrived.
    const probeAndHold = async () => {
      const s = net.connect(server.port, '127.0.0.1');
      held.push(s);
      await waitFor(s, 'connect', 10000);
      let text = '';
      s.setEncoding('utf8');
      const response = new Promise((resolve, reject) => {
        s.on('data', (chunk) => {
          text += chunk;
          const end = text.indexOf('\r\n\r\n');
          const length = end < 0 ? NaN : Number(/content-length: *(\d+)/i.exec(text.slice(0, end))?.[1]);
          if (end >= 0 && text.length >= end + 4 + length) resolve();
        });
        s.on('error', reject);
        s.on('close', () => reject(new Error(`closed after ${JSON.stringify(text.slice(0, 200))}`)));
      });
      s.write('GET /metrics HTTP/1.1\r\nHost: parley\r\n\r\n');
      await withTimeout(response, 10000, 'the response on the held connection');
      return { status: Number(text.split(' ')[1]), text: text.slice(text.indexOf('\r\n\r\n') + 4) };
    };
    try {
      await hold(DEFAULT_CAP - 1);
      // Connection DEFAULT_CAP is still served, and none before it was refused.
      const last = await probeAndHold();
      assert.equal(last.status, 200, `connection ${DEFAULT_CAP} is served (${last.text.slice(0, 100)})`);
      assert.match(last.text, /^parley_connections_refused_total 0$/m, 'no connection refused so far');
      // Connection DEFAULT_CAP + 1 is answered 429 (the server counts a connection when it accepts it).
      const refused = await until(probe, (r) => r.status === 429, 20000,
        `connection ${DEFAULT_CAP + 1} from 127.0.0.1 is refused`);
      assert.match(refused.text, /Too many connections from this address/);
      const other = await httpGet(`${server.url}/metrics`, { localAddress: '127.0.0.2' });
      assert.equal(other.status, 200, 'another address is served');
    } finally {
      for (const s of held) s.destroy();
    }
    await until(probe, (r) => r.status === 200, 20000, 'the freed slots are usable again');
  });
});

describe('--trusted-proxy: the forwarded client gets its own budget', () => {
  const limits = ['--handshakes-per-second', '1', '--handshake-burst', '2'];
  const handshake = (server, headers) => httpGet(pollingUrl(server.url), { headers });
  // Uses up a budget of 2, then the third is refused.
  async function budgetOfTwo(server, headers, what) {
    assert.equal((await handshake(server, headers)).status, 200, `${what}: 1st`);
    assert.equal((await handshake(server, headers)).status, 200, `${what}: 2nd`);
    assert.equal((await handshake(server, headers)).status, 429, `${what}: 3rd is over the burst`);
  }

  describe('from a trusted proxy', () => {
    let server;
    before(async () => {
      server = await startServer({ bin: 'parley-testbed', args: [...limits, '--trusted-proxy', '127.0.0.1/32'] });
    });
    after(async () => { await server?.stop(); });

    it('each X-Forwarded-For client has its own budget, the right-most address counts', async () => {
      await budgetOfTwo(server, { 'X-Forwarded-For': '198.51.100.1' }, 'client .1');
      await budgetOfTwo(server, { 'X-Forwarded-For': '198.51.100.2' }, 'client .2');
      // A client that forges an earlier hop is still itself (the proxy appends what it saw).
      assert.equal((await handshake(server, { 'X-Forwarded-For': '203.0.113.9, 198.51.100.1' })).status, 429,
        'a forged left-most hop does not buy a new budget');
      // The proxy's own requests (no header) are the proxy's.
      await budgetOfTwo(server, {}, 'the proxy itself');
    });

    it('Forwarded: for= (RFC 7239) is read too', async () => {
      await budgetOfTwo(server, { Forwarded: 'for=198.51.100.3;proto=http' }, 'client .3');
      assert.equal((await handshake(server, { Forwarded: 'for="[2001:db8::3]:4711"' })).status, 200, 'an IPv6 client');
    });
  });

  describe('from a peer that is not a trusted proxy', () => {
    for (const [name, extra] of [['no --trusted-proxy', []], ['--trusted-proxy naming another address', ['--trusted-proxy', '192.0.2.0/24']]]) {
      it(`${name}: X-Forwarded-For and Forwarded are ignored, the budget is the peer's`, async () => {
        const server = await startServer({ bin: 'parley-testbed', args: [...limits, ...extra] });
        try {
          assert.equal((await handshake(server, { 'X-Forwarded-For': '198.51.100.1' })).status, 200);
          assert.equal((await handshake(server, { 'X-Forwarded-For': '198.51.100.2' })).status, 200);
          assert.equal((await handshake(server, { Forwarded: 'for=198.51.100.3' })).status, 429,
            'the headers do not split the budget of 127.0.0.1');
        } finally {
          await server.stop();
        }
      });
    }
  });

  describe('in the logs', () => {
    let srv;
    before(async () => { srv = await startChatServer({ args: ['--trusted-proxy', '127.0.0.0/8'] }); });
    after(async () => { closeAllSockets(); await srv?.stop(); });

    it("a refused connection is logged with the forwarded client's address, on both transports", async () => {
      for (const [transports, client] of [[['websocket'], '198.51.100.44'], [['polling'], '198.51.100.45']]) {
        const err = await connectRefused(srv.url, srv.token(objectId(), { expOffset: -3600 }),
          { transports, extraHeaders: { 'X-Forwarded-For': client } });
        assert.equal(err.message, 'UNAUTHORIZED');
        const id = err.data.correlationId;
        await until(() => srv.logs(), (l) => l.includes(id), 5000, 'the refusal is logged');
        const line = srv.logs().split('\n').find((l) => l.includes(id));
        assert.match(line, new RegExp(`connect from ${client.replaceAll('.', '\\.')}\\b`), line);
      }
    });
  });
});
