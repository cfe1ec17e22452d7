// Raw-protocol helpers for the conformance tests (parley serve --conformance).
//
// Everything here speaks Engine.IO v4 by hand: HTTP requests go through node:http with a
// fresh TCP connection each (so a held long-poll never blocks another request and a
// malformed or refused request cannot poison a pooled connection), WebSockets through the
// 'ws' package. Incoming packets are put in a FrameQueue that a test awaits with a timeout,
// so nothing depends on how the server batches packets into GET bodies or frames.

import http from 'node:http';
import { existsSync } from 'node:fs';
import { WebSocket } from 'ws';

export const PING_INTERVAL = 300;
export const PING_TIMEOUT = 200;
export const MAX_PAYLOAD = 1_000_000;
export const CONNECT_TIMEOUT = 1000;
export const RS = '\x1e';
export const ENDPOINTS = ['/engine.io/', '/socket.io/'];

// A sanitized server is several times slower: PARLEY_E2E_TIME_SCALE (set by the Makefile, as
// for helpers/server.mjs) multiplies the waits below, never the protocol's own timings above.
const TIME_SCALE = Math.max(1, Number(process.env.PARLEY_E2E_TIME_SCALE) || 1);

// Default bound for "the server answers promptly" waits.
export const WAIT = 2000 * TIME_SCALE;

export const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
export const now = () => performance.now();

// ---------------------------------------------------------------------------------------
// Server lifecycle: PARLEY_URL if set, else one `parley serve --conformance` per test file.
// ---------------------------------------------------------------------------------------

export async function startParley() {
  if (process.env.PARLEY_URL) {
    return { url: process.env.PARLEY_URL.replace(/\/+$/, ''), stop: async () => {}, logs: () => '' };
  }
  const helper = new URL('../helpers/server.mjs', import.meta.url);
  if (!existsSync(helper)) throw new Error(`missing ${helper.pathname} and PARLEY_URL is not set`);
  const { startServer } = await import(helper.href);
  const srv = await startServer({ bin: 'parley', args: ['serve', '--conformance'] });
  return srv;
}

// ---------------------------------------------------------------------------------------
// Raw HTTP
// ---------------------------------------------------------------------------------------

/**
 * One HTTP request on its own TCP connection.
 * Resolves { status, headers, body (utf8 string), ms } or rejects with the socket error
 * (err.code e.g. ECONNRESET) or err.code === 'ETIMEOUT' after `timeout` ms.
 */
export function request(url, { method = 'GET', body, headers = {}, timeout = 5000 * TIME_SCALE } = {}) {
  return new Promise((resolve, reject) => {
    const started = now();
    const h = { ...headers };
    let payload;
    if (body !== undefined) {
      payload = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
      if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) {
        h['Content-Type'] = 'text/plain;charset=UTF-8';
      }
      h['Content-Length'] = String(payload.length);
    }
    const req = http.request(url, { method, headers: h, agent: false });
    const timer = setTimeout(() => {
      const err = new Error(`${method} ${url}: no response within ${timeout} ms`);
      err.code = 'ETIMEOUT';
      req.destroy(err);
    }, timeout);
    req.on('error', (err) => { clearTimeout(timer); reject(err); });
    req.on('response', (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', (err) => { clearTimeout(timer); reject(err); });
      res.on('end', () => {
        clearTimeout(timer);
        resolve({
          status: res.statusCode,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          ms: now() - started,
        });
      });
    });
    if (payload) req.end(payload); else req.end();
  });
}

/** Resolves true if `promise` settles (either way) within `ms`, false otherwise. */
export async function settlesWithin(promise, ms) {
  let timer;
  const t = new Promise((resolve) => { timer = setTimeout(() => resolve(false), ms); });
  const p = promise.then(() => true, () => true);
  const r = await Promise.race([p, t]);
  clearTimeout(timer);
  return r;
}

/** Rejects if `promise` does not settle within ms. */
export function withTimeout(promise, ms, what = 'operation') {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Splits an Engine.IO v4 polling payload into its raw packets ('' -> []). */
export function splitPayload(body) {
  return body === '' ? [] : body.split(RS);
}

/** Parses a JSON error body, or returns the raw text if it is not JSON. */
export function errorBody(body) {
  try { return JSON.parse(body); } catch { return body; }
}

/** Checks an Engine.IO open packet `0{...}`; returns the parsed object. */
export function parseOpenPacket(packet) {
  if (typeof packet !== 'string' || packet[0] !== '0') {
    throw new Error(`expected an open packet "0{...}", got ${show(packet)}`);
  }
  return JSON.parse(packet.slice(1));
}

/** Printable rendering of a packet (string or Buffer) for assertion messages. */
export function show(p) {
  if (Buffer.isBuffer(p)) return `<binary ${p.length}: ${p.subarray(0, 32).toString('hex')}${p.length > 32 ? '...' : ''}>`;
  if (typeof p === 'string') return JSON.stringify(p.length > 200 ? p.slice(0, 200) + `...(${p.length} chars)` : p);
  return String(p);
}

export function pollingUrl(base, path, sid, extra = '') {
  return `${base}${path}?EIO=4&transport=polling${sid ? `&sid=${encodeURIComponent(sid)}` : ''}${extra}`;
}

export function wsUrl(base, path, sid, extra = '') {
  return `${base.replace(/^http/, 'ws')}${path}?EIO=4&transport=websocket${sid ? `&sid=${encodeURIComponent(sid)}` : ''}${extra}`;
}

// ---------------------------------------------------------------------------------------
// FrameQueue: packets in arrival order, awaited with a timeout.
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

  /** Next packet; rejects on timeout or when the transport closed with nothing left. */
  next(timeout = WAIT) {
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
      }, timeout);
      this.waiters.push(w);
    });
  }

  async take(n, timeout = WAIT) {
    const out = [];
    const deadline = now() + timeout;
    for (let i = 0; i < n; i++) out.push(await this.next(Math.max(1, deadline - now())));
    return out;
  }

  /** Resolves true if nothing arrives (and it does not close) within ms; the item stays queued. */
  async quietFor(ms) {
    if (this.items.length) return false;
    await Promise.race([delay(ms), this.closed]);
    return this.items.length === 0 && !this.isClosed;
  }

  /** Resolves with the close info once closed, rejects after timeout. Pending items are ignored. */
  waitClosed(timeout = WAIT) {
    return withTimeout(this.closed, timeout, `${this.label} to close`);
  }
}

// ---------------------------------------------------------------------------------------
// Tracking of open transports so each test can clean up after itself.
// ---------------------------------------------------------------------------------------

const openClients = new Set();

/** Closes every WebSocket / polling session opened by the helpers. Call in afterEach. */
export async function closeAll() {
  const all = [...openClients];
  openClients.clear();
  await Promise.all(all.map((c) => c.dispose().catch(() => {})));
}

// ---------------------------------------------------------------------------------------
// WebSocket client
// ---------------------------------------------------------------------------------------

/**
 * A raw Engine.IO WebSocket. Text frames are queued as strings, binary frames as Buffers.
 * autoPong: a text frame "2" is answered with "3" and not queued (count in .pings).
 */
export class WsClient {
  constructor(url, { autoPong = true } = {}) {
    this.url = url;
    this.autoPong = autoPong;
    this.pings = 0;
    this.queue = new FrameQueue(`ws ${url}`);
    this.ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
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
      this.ws.on('error', (err) => {
        this.error = err;
        reject(err);
        this.queue.close({ error: err.message });
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
    this.ws.on('close', (code, reason) => this.queue.close({ code, reason: reason.toString() }));
    openClients.add(this);
  }

  /** Sends one frame (string -> text, Buffer/Uint8Array -> binary); resolves when written. */
  send(data) {
    return new Promise((resolve, reject) => {
      this.ws.send(data, { binary: typeof data !== 'string' }, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** Sends several frames back to back (each write queued before awaiting). */
  sendAll(frames) {
    return Promise.all(frames.map((f) => this.send(f)));
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

  take(n, timeout) { return this.queue.take(n, timeout); }
  waitClosed(timeout) { return this.queue.waitClosed(timeout); }
  quietFor(ms) { return this.queue.quietFor(ms); }
  get isOpen() { return this.ws.readyState === WebSocket.OPEN; }

  async dispose() {
    openClients.delete(this);
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.terminate();
  }
}

/** Opens an Engine.IO WebSocket (no sid) and reads the open packet. */
export async function openWs(base, path, { autoPong = true, extra = '' } = {}) {
  const c = new WsClient(wsUrl(base, path, undefined, extra), { autoPong });
  await withTimeout(c.opened, WAIT, `ws open ${c.url}`);
  const open = await c.nextText(WAIT);
  c.handshakeAt = now();
  c.openPacket = open;
  c.handshake = parseOpenPacket(open);
  c.sid = c.handshake.sid;
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
    await c.dispose();
    if (c.refused) return { kind: 'http', ...c.refused };
    return { kind: 'error', message: err.message };
  }
  try {
    const info = await c.waitClosed(timeout);
    return { kind: 'closed', frames: c.queue.items.slice(), code: info.code };
  } catch {
    const frames = c.queue.items.slice();
    await c.dispose();
    return { kind: 'open', frames };
  }
}

/** Asserts-style predicate for a refused WebSocket: HTTP 400, or closed/dropped without an open packet. */
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
 * - get()/post() are single requests (POSTs are serialized: overlapping POSTs are an error
 *   in the reference server).
 * - startLoop() keeps one GET outstanding at all times and pushes every received packet
 *   (except pings, answered with POST "3" when autoPong, and noops) into .queue; the queue
 *   closes when a GET gets a non-200 status or fails.
 */
export class PollingClient {
  constructor(base, path) {
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

  url(extra = '') { return pollingUrl(this.base, this.path, this.sid, extra); }

  async handshake(extra = '') {
    const r = await request(pollingUrl(this.base, this.path, undefined, extra));
    if (r.status !== 200) throw new Error(`handshake: HTTP ${r.status} ${r.body}`);
    this.handshakeAt = now();
    this.handshakeResponse = r;
    this.handshake = parseOpenPacket(r.body);
    this.sid = this.handshake.sid;
    return this;
  }

  get(opts = {}) { return request(this.url(opts.extra ?? ''), { timeout: opts.timeout ?? 5000 * TIME_SCALE }); }

  post(body, opts = {}) {
    const p = this._postChain.then(() => request(this.url(opts.extra ?? ''), { method: 'POST', body, timeout: opts.timeout ?? 5000 * TIME_SCALE }));
    this._postChain = p.catch(() => {});
    return p;
  }

  /** POST that must be accepted: 200 + body "ok". */
  async send(body) {
    const r = await this.post(body);
    if (r.status !== 200 || r.body !== 'ok') throw new Error(`POST ${show(body)}: HTTP ${r.status} ${show(r.body)}`);
    return r;
  }

  startLoop({ autoPong = true } = {}) {
    if (this._loop) return this;
    this._loop = (async () => {
      while (!this._stopped) {
        let r;
        try {
          r = await this.get({ timeout: 10_000 * TIME_SCALE });
        } catch (err) {
          this.queue.close({ error: err.code || err.message });
          return;
        }
        if (r.status !== 200) {
          this.queue.close({ status: r.status, body: r.body });
          return;
        }
        for (const p of splitPayload(r.body)) {
          if (p === '2' && autoPong) {
            this.pings++;
            this.post('3').catch(() => {});
          } else if (p === '6') {
            // noop
          } else {
            this.queue.push(p);
          }
        }
      }
    })();
    return this;
  }

  next(timeout) { return this.queue.next(timeout); }
  take(n, timeout) { return this.queue.take(n, timeout); }
  quietFor(ms) { return this.queue.quietFor(ms); }

  /**
   * Resolves once the server closed the session: a GET got a non-200 status, or a close
   * packet "1" arrived and the following GET was refused. Needs startLoop().
   */
  async waitClosed(timeout = WAIT) {
    const deadline = now() + timeout;
    for (;;) {
      let p;
      try {
        p = await this.queue.next(Math.max(1, deadline - now()));
      } catch (err) {
        if (err.closed) return { ...err.closed, at: this.closePacketAt ?? err.closed.at };
        throw err;
      }
      if (p === '1' && this.closePacketAt === undefined) this.closePacketAt = now();
    }
  }

  async dispose() {
    openClients.delete(this);
    this._stopped = true;
    if (this.sid && !this.queue.isClosed) {
      // Closing the session also releases a GET the loop may still have pending.
      await this.post('1', { timeout: 1000 }).catch(() => {});
    }
    if (this._loop) await withTimeout(this._loop, 1500, 'polling loop end').catch(() => {});
  }
}

export async function openPolling(base, path, { loop = false, autoPong = true, extra = '' } = {}) {
  const c = new PollingClient(base, path);
  await c.handshake(extra);
  if (loop) c.startLoop({ autoPong });
  return c;
}

// ---------------------------------------------------------------------------------------
// Socket.IO helpers
// ---------------------------------------------------------------------------------------

export const SIO_CONNECT_RE = (nsp) =>
  new RegExp(`^40${nsp === '/' ? '' : escapeRe(nsp) + ','}\\{"sid":"[^"]+"\\}$`);

function escapeRe(s) { return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'); }

/**
 * Sends a CONNECT for `nsp` and consumes the two expected replies (connect + "auth" event).
 * `client` is a WsClient or a looping PollingClient. Returns the namespace sid.
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

/** A WebSocket on /socket.io/ already connected to the given namespaces. */
export async function sioWs(base, { nsps = ['/'], autoPong = true } = {}) {
  const c = await openWs(base, '/socket.io/', { autoPong });
  for (const nsp of nsps) await sioConnect(c, nsp);
  return c;
}

/** A looping polling session on /socket.io/ already connected to the given namespaces. */
export async function sioPolling(base, { nsps = ['/'] } = {}) {
  const c = await openPolling(base, '/socket.io/', { loop: true });
  for (const nsp of nsps) await sioConnect(c, nsp);
  return c;
}

export const PH = (num) => ({ _placeholder: true, num });
