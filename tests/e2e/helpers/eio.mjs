// The raw Engine.IO v4 / Socket.IO v5 client of the e2e tests: every test that speaks the
// protocol by hand (instead of through socket.io-client) uses these pieces.
//
//   request(url, opts)        one HTTP request on its own TCP connection
//   PollingClient             an HTTP long-polling session (single GET/POST, or a GET loop)
//   WsClient                  a WebSocket session through the 'ws' package
//   WireSocket, wsFrame, OP   a WebSocket spoken byte by byte on a TCP socket (RFC 6455 tests)
//   pollingUrl, wsUrl, parseOpen, splitPayload, sioConnect, ...
//
// Incoming packets go into a FrameQueue that a test awaits with a deadline, so nothing depends
// on how the server batches packets into GET bodies or frames. Every deadline given to these
// helpers is multiplied by the time scale (helpers/server.mjs); the protocol's own timings and a
// test's bounds on them are not.

import http from 'node:http';
import net from 'node:net';
import crypto from 'node:crypto';
import WebSocket from 'ws';
import { scaled, settlesWithin, withTimeout } from './server.mjs';

export const RS = '\x1e'; // record separator between the packets of a polling payload
export const SIO_PATH = '/socket.io/';

/** Default bound (before scaling) for "the server answers promptly" waits. */
export const WAIT = 2000;

export const now = () => performance.now();

// ---------------------------------------------------------------------------------------
// URLs and packets
// ---------------------------------------------------------------------------------------

function eioUrl(base, transport, { path = SIO_PATH, sid, query = '' }) {
  const s = sid ? `&sid=${encodeURIComponent(sid)}` : '';
  return `${base}${path}?EIO=4&transport=${transport}${s}${query}`;
}

/** The polling URL of `base` (http://host:port); `query` is appended as is ('&t=1'). */
export function pollingUrl(base, { path, sid, query } = {}) {
  return eioUrl(base, 'polling', { path, sid, query });
}

export function wsUrl(base, { path, sid, query } = {}) {
  return eioUrl(base.replace(/^http/, 'ws'), 'websocket', { path, sid, query });
}

/** Printable rendering of a packet (string or Buffer) for assertion messages. */
export function show(p) {
  if (Buffer.isBuffer(p)) return `<binary ${p.length}: ${p.subarray(0, 32).toString('hex')}${p.length > 32 ? '...' : ''}>`;
  if (typeof p === 'string') return JSON.stringify(p.length > 200 ? p.slice(0, 200) + `...(${p.length} chars)` : p);
  return String(p);
}

/** Checks an Engine.IO open packet `0{...}`; returns the parsed object. */
export function parseOpen(packet) {
  if (typeof packet !== 'string' || packet[0] !== '0') {
    throw new Error(`expected an open packet "0{...}", got ${show(packet)}`);
  }
  return JSON.parse(packet.slice(1));
}

/** Splits an Engine.IO v4 polling payload into its raw packets ('' -> []). */
export function splitPayload(body) {
  return body === '' ? [] : body.split(RS);
}

/** Parses a JSON error body, or returns the raw text if it is not JSON. */
export function errorBody(text) {
  try { return JSON.parse(text); } catch { return text; }
}

// ---------------------------------------------------------------------------------------
// Raw HTTP
// ---------------------------------------------------------------------------------------

/**
 * One HTTP request, on its own TCP connection unless an `agent` is given (a held long-poll
 * never blocks another request, a refused request cannot poison a pooled connection).
 * Resolves { status, headers, text, ms }; an answered WebSocket upgrade resolves with its status
 * (the socket is dropped). Rejects with the socket error (err.code e.g. ECONNRESET), or after
 * `timeout` ms (scaled) with err.name 'TimeoutError', err.code 'ETIMEOUT' and a message naming
 * the unscaled bound.
 */
export function request(url, { method = 'GET', body, headers = {}, timeout = 5000, agent = false, localAddress } = {}) {
  return new Promise((resolve, reject) => {
    const started = now();
    const h = { ...headers };
    let payload;
    if (body !== undefined) {
      payload = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
      if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) h['Content-Type'] = 'text/plain;charset=UTF-8';
      h['Content-Length'] = String(payload.length);
    }
    const req = http.request(url, { method, headers: h, agent, localAddress });
    const timer = setTimeout(() => {
      const err = new Error(`${method} ${url}: no response within ${timeout} ms`);
      err.name = 'TimeoutError';
      err.code = 'ETIMEOUT';
      req.destroy(err);
    }, scaled(timeout));
    req.on('error', (err) => { clearTimeout(timer); reject(err); });
    req.on('upgrade', (res, socket) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ status: res.statusCode, headers: res.headers, text: '', ms: now() - started });
    });
    req.on('response', (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', (err) => { clearTimeout(timer); reject(err); });
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString('utf8'), ms: now() - started });
      });
    });
    req.end(payload);
  });
}

/**
 * `promise`'s value if it settles within `ms`; fails otherwise. Not scaled: for a bound that is
 * the protocol's rule ("answered promptly").
 */
export async function within(promise, ms, what) {
  if (!(await settlesWithin(promise, ms))) throw new Error(`${what}: not answered within ${ms} ms`);
  return promise;
}

// ---------------------------------------------------------------------------------------
// FrameQueue: packets in arrival order, awaited with a deadline.
// ---------------------------------------------------------------------------------------

export class FrameQueue {
  constructor(label) {
    this.label = label;
    this.items = [];
    this.waiters = [];
    this.isClosed = false;
    this.closeInfo = null;
    this.closed = new Promise((resolve) => { this._resolveClosed = resolve; });
  }

  push(item) {
    if (this.isClosed) return;
    const w = this.waiters.shift();
    if (w) w.resolve(item); else this.items.push(item);
  }

  close(info) {
    if (this.isClosed) return;
    this.isClosed = true;
    this.closeInfo = { ...info, at: now() };
    for (const w of this.waiters.splice(0)) w.reject(this._closedError());
    this._resolveClosed(this.closeInfo);
  }

  _closedError() {
    const err = new Error(`${this.label}: closed (${JSON.stringify(this.closeInfo)}) while waiting for a packet`);
    err.closed = this.closeInfo;
    return err;
  }

  /** Next packet; rejects after `timeout` ms (scaled) or when the transport closed with nothing left. */
  next(timeout = WAIT) {
    return this.nextBefore(now() + scaled(timeout), timeout);
  }

  /** Next packet, by the time `deadline` (now() clock); `timeout` names the bound in the error. */
  nextBefore(deadline, timeout) {
    if (this.items.length) return Promise.resolve(this.items.shift());
    if (this.isClosed) return Promise.reject(this._closedError());
    return new Promise((resolve, reject) => {
      const w = {
        resolve: (v) => { clearTimeout(timer); resolve(v); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      };
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new Error(`${this.label}: no packet within ${timeout} ms (queue empty)`));
      }, Math.max(1, deadline - now()));
      this.waiters.push(w);
    });
  }

  /** The next `n` packets, all within `timeout` ms (scaled). */
  async take(n, timeout = WAIT) {
    const out = [];
    const deadline = now() + scaled(timeout);
    for (let i = 0; i < n; i++) out.push(await this.nextBefore(deadline, timeout));
    return out;
  }

  /** Resolves with the close info once closed; rejects after `timeout` ms (scaled). Queued items are ignored. */
  waitClosed(timeout = WAIT) {
    return withTimeout(this.closed, timeout, `${this.label} to close`);
  }
}

/** Resolves once `client.pings` reaches `n`, rejecting if it closes or `timeout` ms (scaled) pass first. */
async function pingsAtLeast(client, n, timeout) {
  const deadline = now() + scaled(timeout);
  while (client.pings < n) {
    if (client.queue.isClosed) throw new Error(`${client.queue.label}: closed after ${client.pings} of ${n} pings`);
    if (now() > deadline) throw new Error(`${client.queue.label}: ${client.pings} of ${n} pings within ${timeout} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

// ---------------------------------------------------------------------------------------
// Tracking of open clients, so that each test can close what it opened.
// ---------------------------------------------------------------------------------------

const openClients = new Set();

/** Closes every WebSocket and polling session opened through these helpers. Call in afterEach. */
export async function closeAll() {
  const all = [...openClients];
  openClients.clear();
  await Promise.all(all.map((c) => c.close().catch(() => {})));
}

// ---------------------------------------------------------------------------------------
// WebSocket client ('ws')
// ---------------------------------------------------------------------------------------

/**
 * A raw Engine.IO WebSocket. Text frames are queued as strings, binary frames as Buffers.
 * autoPong (default): a text frame "2" is answered with "3" and not queued (counted in .pings);
 * without it pings are queued like any packet. `.closed` is null while open, then
 * { code, reason } (or { error } / { refused }) with `at`.
 */
export class WsClient {
  constructor(url, { autoPong = true, maxPayload = 64 * 1024 * 1024, headers } = {}) {
    this.url = url;
    this.autoPong = autoPong;
    this.pings = 0;
    this.queue = new FrameQueue(`ws ${url}`);
    this.ws = new WebSocket(url, { perMessageDeflate: false, maxPayload, headers });
    this.refused = null; // { status, body } when the server answered the upgrade with plain HTTP
    this.error = null;
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('unexpected-response', (req, res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          this.refused = { status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') };
          req.destroy();
          this.queue.close({ refused: this.refused });
          const err = new Error(`ws upgrade refused with HTTP ${res.statusCode}`);
          err.refused = this.refused;
          reject(err);
        });
        res.on('error', () => {});
      });
      // 'ws' always emits 'close' after 'error': the queue closes there, with the close code.
      this.ws.on('error', (err) => {
        this.error = err;
        reject(err);
      });
    });
    this.opened.catch(() => {});
    this.ws.on('message', (data, isBinary) => {
      if (isBinary) { this.queue.push(Buffer.from(data)); return; }
      const text = data.toString('utf8');
      if (text === '2' && this.autoPong) {
        this.pings++;
        this.ws.send('3');
        return;
      }
      this.queue.push(text);
    });
    this.ws.on('close', (code, reason) => {
      this.queue.close(this.error ? { code, reason: reason.toString(), error: this.error.message } : { code, reason: reason.toString() });
    });
    openClients.add(this);
  }

  /**
   * Sends one frame (string -> text, Buffer -> binary); resolves when written. A send the
   * caller does not await may fail quietly (the server may have closed the socket already).
   */
  send(data) {
    const p = new Promise((resolve, reject) => {
      this.ws.send(data, { binary: typeof data !== 'string' }, (err) => (err ? reject(err) : resolve()));
    });
    p.catch(() => {});
    return p;
  }

  /** Sends several frames back to back (each write queued before awaiting). */
  sendAll(frames) {
    return Promise.all(frames.map((f) => this.send(f)));
  }

  /** Waits for the WebSocket to open and reads the Engine.IO open packet; returns it parsed. */
  async open(timeout = WAIT) {
    await withTimeout(this.opened, timeout, `ws open ${this.url}`);
    this.openPacket = await this.nextText(timeout);
    this.handshakeAt = now();
    this.handshake = parseOpen(this.openPacket);
    this.sid = this.handshake.sid;
    return this.handshake;
  }

  /** Engine.IO open, then a Socket.IO CONNECT to "/"; returns the namespace sid. */
  async connectMain(timeout = WAIT) {
    await this.open(timeout);
    this.send('40');
    const m = await this.nextNonPing(timeout);
    if (typeof m !== 'string' || !/^40\{/.test(m)) throw new Error(`expected a Socket.IO CONNECT answer, got ${show(m)}`);
    return JSON.parse(m.slice(2)).sid;
  }

  next(timeout) { return this.queue.next(timeout); }

  async nextText(timeout) {
    const f = await this.queue.next(timeout);
    if (typeof f !== 'string') throw new Error(`expected a text frame, got ${show(f)}`);
    return f;
  }

  async nextBinary(timeout) {
    const f = await this.queue.next(timeout);
    if (!Buffer.isBuffer(f)) throw new Error(`expected a binary frame, got ${show(f)}`);
    return f;
  }

  /** Next packet that is not a ping (a queued ping is answered). */
  async nextNonPing(timeout = WAIT) {
    const deadline = now() + scaled(timeout);
    for (;;) {
      const m = await this.queue.nextBefore(deadline, timeout);
      if (m !== '2') return m;
      this.send('3');
    }
  }

  take(n, timeout) { return this.queue.take(n, timeout); }
  waitClosed(timeout) { return this.queue.waitClosed(timeout); }
  /** Resolves once `n` pings were answered (autoPong). */
  pingsAtLeast(n, timeout = WAIT) { return pingsAtLeast(this, n, timeout); }
  get closed() { return this.queue.closeInfo; }
  get isOpen() { return this.ws.readyState === WebSocket.OPEN; }

  async close() {
    openClients.delete(this);
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.terminate();
  }
}

/** Opens an Engine.IO WebSocket (`opts` as for wsUrl, plus autoPong) and reads the open packet. */
export async function openWs(base, { autoPong = true, ...where } = {}) {
  const c = new WsClient(wsUrl(base, where), { autoPong });
  await c.open();
  return c;
}

/**
 * Outcome of a WebSocket that the server is expected to refuse:
 *   { kind: 'http', status, body }     refused before the upgrade
 *   { kind: 'closed', frames, code }   upgraded, then closed by the server (frames it sent first)
 *   { kind: 'error', message }         connection dropped
 *   { kind: 'open', frames }           still open after `timeout` ms (a failure for the caller)
 */
export async function wsOutcome(url, timeout = WAIT) {
  const c = new WsClient(url, { autoPong: false });
  try {
    await withTimeout(c.opened, timeout, `ws ${url}`);
  } catch (err) {
    await c.close();
    if (c.refused) return { kind: 'http', ...c.refused };
    return { kind: 'error', message: err.message };
  }
  try {
    const info = await c.waitClosed(timeout);
    return { kind: 'closed', frames: c.queue.items.slice(), code: info.code };
  } catch {
    const frames = c.queue.items.slice();
    await c.close();
    return { kind: 'open', frames };
  }
}

/** Is `outcome` (wsOutcome) a refusal: HTTP 400, or closed/dropped without an open packet? */
export function isRefused(outcome) {
  if (outcome.kind === 'http') return outcome.status === 400;
  if (outcome.kind === 'error') return true;
  if (outcome.kind === 'closed') return !outcome.frames.some((f) => typeof f === 'string' && f.startsWith('0'));
  return false;
}

// ---------------------------------------------------------------------------------------
// HTTP long-polling client
// ---------------------------------------------------------------------------------------

/**
 * A raw Engine.IO long-polling session.
 * - get()/post() are single requests; POSTs are serialized (overlapping POSTs are an error in
 *   the reference server). get() adds `packets` to the answer of a 200.
 * - startLoop() keeps one GET outstanding at all times and pushes every received packet
 *   (except pings, answered with POST "3" when autoPong, and noops) into .queue; the queue
 *   closes when a GET gets a non-200 status or fails.
 */
export class PollingClient {
  constructor(base, { path = SIO_PATH } = {}) {
    this.base = base;
    this.path = path;
    this.sid = null;
    this.pings = 0;
    this.queue = new FrameQueue(`polling ${path}`);
    this._postChain = Promise.resolve();
    this._loop = null;
    this._stopped = false;
    openClients.add(this);
  }

  url(query = '') { return pollingUrl(this.base, { path: this.path, sid: this.sid, query }); }

  /** The handshake GET (no sid); returns the parsed open packet. */
  async open({ query = '' } = {}) {
    const r = await request(pollingUrl(this.base, { path: this.path, query }));
    if (r.status !== 200) throw new Error(`handshake: HTTP ${r.status} ${r.text}`);
    this.handshakeAt = now();
    this.handshakeResponse = r;
    this.handshake = parseOpen(r.text);
    this.sid = this.handshake.sid;
    return this.handshake;
  }

  async get({ query = '', timeout = 5000 } = {}) {
    const r = await request(this.url(query), { timeout });
    return { ...r, packets: r.status === 200 ? splitPayload(r.text) : [] };
  }

  post(body, { query = '', timeout = 5000 } = {}) {
    const p = this._postChain.then(() => request(this.url(query), { method: 'POST', body, timeout }));
    this._postChain = p.catch(() => {});
    return p;
  }

  /** A POST that must be accepted: 200 + body "ok". */
  async send(body) {
    const r = await this.post(body);
    if (r.status !== 200 || r.text !== 'ok') throw new Error(`POST ${show(body)}: HTTP ${r.status} ${show(r.text)}`);
    return r;
  }

  startLoop({ autoPong = true } = {}) {
    if (this._loop) return this;
    this._loop = (async () => {
      while (!this._stopped) {
        let r;
        try {
          r = await this.get({ timeout: 10_000 });
        } catch (err) {
          this.queue.close({ error: err.code || err.message });
          return;
        }
        if (r.status !== 200) {
          this.queue.close({ status: r.status, body: r.text });
          return;
        }
        for (const p of r.packets) {
          if (p === '2' && autoPong) {
            this.pings++;
            this.post('3').catch(() => {});
          } else if (p !== '6') {
            this.queue.push(p);
          }
        }
      }
    })();
    return this;
  }

  next(timeout) { return this.queue.next(timeout); }
  take(n, timeout) { return this.queue.take(n, timeout); }
  /** Resolves once `n` pings were answered (needs startLoop()). */
  pingsAtLeast(n, timeout = WAIT) { return pingsAtLeast(this, n, timeout); }

  /**
   * Resolves once the server closed the session: a GET got a non-200 status, or a close
   * packet "1" arrived and the following GET was refused. Needs startLoop().
   */
  async waitClosed(timeout = WAIT) {
    const deadline = now() + scaled(timeout);
    for (;;) {
      let p;
      try {
        p = await this.queue.nextBefore(deadline, timeout);
      } catch (err) {
        if (err.closed) return { ...err.closed, at: this.closePacketAt ?? err.closed.at };
        throw err;
      }
      if (p === '1' && this.closePacketAt === undefined) this.closePacketAt = now();
    }
  }

  async close() {
    openClients.delete(this);
    this._stopped = true;
    if (this.sid && !this.queue.isClosed) {
      // Closing the session also releases a GET the loop may still have pending.
      await this.post('1', { timeout: 1000 }).catch(() => {});
    }
    if (this._loop) await withTimeout(this._loop, 1500, 'polling loop end').catch(() => {});
  }
}

/** A polling session after its handshake (`query` appended to the handshake URL); `loop` starts the GET loop. */
export async function openPolling(base, { path, loop = false, autoPong = true, query = '' } = {}) {
  const c = new PollingClient(base, { path });
  await c.open({ query });
  if (loop) c.startLoop({ autoPong });
  return c;
}

// ---------------------------------------------------------------------------------------
// Socket.IO over the raw clients
// ---------------------------------------------------------------------------------------

function escapeRe(s) { return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'); }

export const SIO_CONNECT_RE = (nsp) =>
  new RegExp(`^40${nsp === '/' ? '' : escapeRe(nsp) + ','}\\{"sid":"[^"]+"\\}$`);

/**
 * Sends a CONNECT for `nsp` and consumes the two replies of the conformance server (connect +
 * "auth" event). `client` is a WsClient or a looping PollingClient. Returns the namespace sid.
 */
export async function sioConnect(client, nsp = '/', auth) {
  const prefix = nsp === '/' ? '' : `${nsp},`;
  const packet = `40${prefix}${auth === undefined ? '' : JSON.stringify(auth)}`;
  await client.send(packet); // a frame on a WsClient, an accepted POST on a PollingClient
  const reply = await client.next(WAIT);
  if (typeof reply !== 'string' || !SIO_CONNECT_RE(nsp).test(reply)) {
    throw new Error(`CONNECT ${show(packet)}: unexpected reply ${show(reply)}`);
  }
  const authEvent = await client.next(WAIT);
  const expected = `42${prefix}${JSON.stringify(['auth', auth ?? {}])}`;
  if (authEvent !== expected) throw new Error(`CONNECT ${show(packet)}: expected ${show(expected)}, got ${show(authEvent)}`);
  return JSON.parse(reply.slice(2 + prefix.length)).sid;
}

/** A WebSocket on /socket.io/ already connected to the given namespaces (conformance server). */
export async function sioWs(base, { nsps = ['/'], autoPong = true } = {}) {
  const c = await openWs(base, { autoPong });
  for (const nsp of nsps) await sioConnect(c, nsp);
  return c;
}

/** A looping polling session on /socket.io/ already connected to the given namespaces (conformance server). */
export async function sioPolling(base, { nsps = ['/'] } = {}) {
  const c = await openPolling(base, { loop: true });
  for (const nsp of nsps) await sioConnect(c, nsp);
  return c;
}

/** A binary attachment placeholder of a Socket.IO packet. */
export const PH = (num) => ({ _placeholder: true, num });

// ---------------------------------------------------------------------------------------
// WebSocket on the wire: the upgrade and the frames by hand, on a TCP socket
// ---------------------------------------------------------------------------------------

export const OP = { cont: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa };

/** A client frame: masked unless `masked: false`; `fin` defaults to true; `rsv` sets RSV bits. */
export function wsFrame(opcode, payload, { fin = true, masked = true, rsv = 0 } = {}) {
  const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload ?? '');
  const len = data.length;
  const head = [((fin ? 0x80 : 0) | rsv | opcode)];
  const maskBit = masked ? 0x80 : 0;
  if (len < 126) head.push(maskBit | len);
  else if (len < 65536) head.push(maskBit | 126, len >> 8, len & 0xff);
  else {
    head.push(maskBit | 127, 0, 0, 0, 0);
    head.push((len >>> 24) & 0xff, (len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff);
  }
  if (!masked) return Buffer.concat([Buffer.from(head), data]);
  const mask = crypto.randomBytes(4);
  const body = Buffer.from(data);
  for (let i = 0; i < body.length; ++i) body[i] ^= mask[i % 4];
  return Buffer.concat([Buffer.from(head), mask, body]);
}

const liveWire = new Set();

/** Destroys every WireSocket still open. Call in afterEach. */
export function destroyWireSockets() {
  for (const s of liveWire) s.sock?.destroy();
  liveWire.clear();
}

/** A WebSocket spoken by hand on a TCP socket: the HTTP upgrade, then server frames parsed as they arrive. */
export class WireSocket {
  constructor(base) {
    this.base = base;
    this.frames = [];
    this.waiters = [];
    this.buffer = Buffer.alloc(0);
    this.ended = false;
    liveWire.add(this);
  }

  /**
   * Sends the upgrade request for `target` (path and query) with `headers` over the defaults (a
   * null value leaves a header out); resolves with the HTTP head. With `pause`, nothing is read
   * after the head (the server's frames pile up on its side).
   */
  async connect(headers = {}, { target = `${SIO_PATH}?EIO=4&transport=websocket`, pause = false } = {}) {
    const url = new URL(this.base);
    this.key = crypto.randomBytes(16).toString('base64');
    const all = {
      Host: url.host, Upgrade: 'websocket', Connection: 'Upgrade',
      'Sec-WebSocket-Key': this.key, 'Sec-WebSocket-Version': '13', ...headers,
    };
    this.sock = net.connect(Number(url.port), url.hostname);
    this.sock.on('error', () => {}); // a reset after the server's close is expected
    this.sock.on('close', () => { this.ended = true; this.wake(); });
    const lines = Object.entries(all).filter(([, v]) => v !== null).map(([k, v]) => `${k}: ${v}`);
    this.sock.write(`GET ${target} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`);
    const head = await withTimeout(new Promise((resolve, reject) => {
      let text = Buffer.alloc(0);
      const onData = (d) => {
        text = Buffer.concat([text, d]);
        const end = text.indexOf('\r\n\r\n');
        if (end < 0) return;
        this.sock.off('data', onData);
        if (pause) this.sock.pause();
        this.buffer = text.subarray(end + 4);
        resolve(text.subarray(0, end).toString());
      };
      this.sock.on('data', onData);
      this.sock.once('close', () => reject(new Error('closed during the handshake')));
    }), 3000, 'the upgrade answer');
    if (!pause) {
      this.sock.on('data', (d) => { this.buffer = Buffer.concat([this.buffer, d]); this.parse(); });
      this.parse();
    }
    return head;
  }

  parse() {
    while (this.buffer.length >= 2) {
      const b0 = this.buffer[0];
      const b1 = this.buffer[1];
      if (b1 & 0x80) throw new Error('a server frame is masked');
      let len = b1 & 0x7f;
      let pos = 2;
      if (len === 126) { if (this.buffer.length < 4) return; len = this.buffer.readUInt16BE(2); pos = 4; }
      else if (len === 127) { if (this.buffer.length < 10) return; len = Number(this.buffer.readBigUInt64BE(2)); pos = 10; }
      if (this.buffer.length < pos + len) return;
      this.frames.push({ fin: !!(b0 & 0x80), opcode: b0 & 0x0f, payload: this.buffer.subarray(pos, pos + len) });
      this.buffer = this.buffer.subarray(pos + len);
    }
    this.wake();
  }

  wake() {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  // Waits until `ready()` holds, for at most `timeout` ms (scaled); `what` names it in the error.
  async until(ready, timeout, what) {
    const deadline = Date.now() + scaled(timeout);
    while (!ready()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${what} within ${timeout} ms`);
      let timer;
      await new Promise((resolve) => { this.waiters.push(resolve); timer = setTimeout(resolve, left); });
      clearTimeout(timer);
    }
  }

  /** The next frame from the server; Engine.IO pings ("2") are skipped unless `pings`. */
  async next({ timeout = 3000, pings = false } = {}) {
    const isPing = (f) => f.opcode === OP.text && f.payload.toString() === '2';
    const ready = () => {
      while (this.frames.length && !pings && isPing(this.frames[0])) this.frames.shift();
      return this.frames.length > 0 || this.ended;
    };
    await this.until(ready, timeout, 'no frame');
    if (!this.frames.length) throw new Error('connection closed');
    return this.frames.shift();
  }

  async nextText(opts) {
    const f = await this.next(opts);
    if (f.opcode !== OP.text) throw new Error(`expected a text frame, got opcode ${f.opcode}`);
    return f.payload.toString();
  }

  /** Resolves once the server has ended the TCP connection. */
  closed(timeout = 3000) {
    return this.until(() => this.ended, timeout, 'the server did not end the connection');
  }

  /** The next ack packet (the testbed's echo also emits "echo-back" first). */
  async nextAck(opts) {
    for (;;) {
      const text = await this.nextText(opts);
      if (text.startsWith('43')) return text;
    }
  }

  send(buf) { this.sock.write(buf); }

  /** Upgrade, Engine.IO open, Socket.IO CONNECT on "/": ready for events. */
  async ready() {
    const head = await this.connect();
    if (!/^HTTP\/1\.1 101/.test(head)) throw new Error(`upgrade refused: ${head.split('\r\n')[0]}`);
    parseOpen(await this.nextText());
    this.send(wsFrame(OP.text, '40'));
    const reply = await this.nextText();
    if (!/^40\{"sid":/.test(reply)) throw new Error(`expected a Socket.IO CONNECT answer, got ${show(reply)}`);
    return this;
  }
}
