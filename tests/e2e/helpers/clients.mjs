// Client-side helpers shared by the protocol tests: socket.io-client setups over the three
// transport configurations, an incoming-event recorder, and raw Engine.IO clients
// (HTTP long-polling via fetch, WebSocket via the 'ws' package).

import assert from 'node:assert/strict';
import http from 'node:http';
import { io, Manager } from 'socket.io-client';
import WebSocket from 'ws';
import { scaled, waitFor, waitForAny, withTimeout } from './server.mjs';

// ---------------------------------------------------------------------------------------
// Transport setups
// ---------------------------------------------------------------------------------------

export const SETUPS = [
  { name: 'polling', transports: ['polling'], upgrade: false },
  { name: 'websocket', transports: ['websocket'], upgrade: false },
  { name: 'polling+upgrade', transports: ['polling', 'websocket'], upgrade: true },
];

/** Client options for a setup (forceNew, no reconnection unless overridden). */
export function clientOptions(setup, extra = {}) {
  return { forceNew: true, reconnection: false, transports: setup.transports, timeout: scaled(5000), ...extra };
}

/** Keeps track of every socket.io-client Socket/Manager a test creates, to close them all. */
export class ClientPool {
  constructor() { this.sockets = new Set(); this.managers = new Set(); this.raws = new Set(); }
  socket(s) { this.sockets.add(s); return s; }
  manager(m) { this.managers.add(m); return m; }
  raw(r) { this.raws.add(r); return r; }
  closeAll() {
    for (const s of this.sockets) { try { s.io.reconnection(false); s.disconnect(); } catch { /* ignore */ } }
    for (const m of this.managers) { try { m.reconnection(false); m._close(); m.engine?.close(); } catch { /* ignore */ } }
    for (const r of this.raws) { try { r.close(); } catch { /* ignore */ } }
    this.sockets.clear(); this.managers.clear(); this.raws.clear();
  }
}

/** Resolves on 'connect', rejects with the error on 'connect_error'. */
export async function waitConnected(socket, timeoutMs = 5000) {
  if (socket.connected) return socket;
  const { event, args } = await waitForAny(socket, ['connect', 'connect_error'], timeoutMs);
  if (event === 'connect_error') {
    const err = args[0];
    throw new Error(`connect_error on '${socket.nsp}': ${err?.message} ${JSON.stringify(err?.data ?? null)}`);
  }
  return socket;
}

/**
 * For the polling+upgrade setup: waits until the engine has upgraded to websocket
 * (engine 'upgrade' event) and asserts it. No-op for the other setups.
 */
export async function waitUpgraded(engine, setup, timeoutMs = 5000) {
  if (!setup.upgrade) return;
  if (engine.transport?.name !== 'websocket') {
    const { event, args } = await waitForAny(engine, ['upgrade', 'upgradeError', 'close'], timeoutMs);
    if (event !== 'upgrade') {
      throw new Error(`engine did not upgrade: got '${event}' ${args.map(String).join(' ')}`);
    }
  }
  assert.equal(engine.transport.name, 'websocket', 'transport after upgrade');
}

/** Creates a socket.io-client socket for `setup`, waits for it to connect (and upgrade). */
export async function connectClient(pool, url, setup, { nsp = '/', ...extra } = {}) {
  const socket = pool.socket(io(url + (nsp === '/' ? '' : nsp), clientOptions(setup, extra)));
  await waitConnected(socket);
  assert.ok(typeof socket.id === 'string' && socket.id.length > 0, 'socket.id is set after connect');
  await waitUpgraded(socket.io.engine, setup);
  return socket;
}

/** A Manager for `setup` (shared engine for several namespaces). */
export function makeManager(pool, url, setup, extra = {}) {
  const { forceNew, ...opts } = clientOptions(setup, extra); // forceNew is meaningless for Manager
  void forceNew;
  return pool.manager(new Manager(url, { autoConnect: true, ...opts }));
}

// ---------------------------------------------------------------------------------------
// Incoming event recorder (uses socket.onAny, which sees every non-reserved event)
// ---------------------------------------------------------------------------------------

export class Recorder {
  constructor(socket) {
    this.socket = socket;
    this.events = []; // { event, args }
    this.waiters = [];
    socket.onAny((event, ...args) => {
      const rec = { event, args };
      this.events.push(rec);
      for (const w of [...this.waiters]) {
        if (w.event === event && w.match(args)) { w.done(args); }
      }
    });
  }
  /** All recorded arg arrays for `event`. */
  all(event) { return this.events.filter((e) => e.event === event).map((e) => e.args); }
  has(event, match = () => true) { return this.all(event).some((a) => match(a)); }
  /** Waits for an `event` matching `match(args)` — already recorded or still to come. */
  next(event, match = () => true, timeoutMs = 3000) {
    timeoutMs = scaled(timeoutMs);
    const found = this.events.find((e) => e.event === event && match(e.args));
    if (found) return Promise.resolve(found.args);
    return new Promise((resolve, reject) => {
      const w = {
        event, match,
        done: (args) => { clearTimeout(timer); this.waiters.splice(this.waiters.indexOf(w), 1); resolve(args); },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for '${event}' on socket ${this.socket.id}; ` +
          `recorded: ${JSON.stringify(this.events.map((e) => e.event))}`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }
}

// ---------------------------------------------------------------------------------------
// Misc
// ---------------------------------------------------------------------------------------

let uniq = 0;
/** A unique token for room names and payloads. */
export function token(prefix = 't') {
  uniq += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${uniq}`;
}

/** Recursively turns ArrayBuffer / typed arrays into Buffer so deepEqual compares bytes. */
export function normalizeBinary(v) {
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof ArrayBuffer) return Buffer.from(v);
  if (ArrayBuffer.isView(v)) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (Array.isArray(v)) return v.map(normalizeBinary);
  if (v && typeof v === 'object') {
    const out = {};
    for (const [k, val] of Object.entries(v)) out[k] = normalizeBinary(val);
    return out;
  }
  return v;
}

/** Is `v` binary data (Buffer / ArrayBuffer / view)? */
export function isBinary(v) {
  return Buffer.isBuffer(v) || v instanceof ArrayBuffer || ArrayBuffer.isView(v);
}

// ---------------------------------------------------------------------------------------
// Raw Engine.IO v4 clients
// ---------------------------------------------------------------------------------------

export const SEP = '\x1e'; // record separator between packets of a polling payload

export function pollingUrl(base, sid) {
  let u = `${base}/socket.io/?EIO=4&transport=polling`;
  if (sid) u += `&sid=${encodeURIComponent(sid)}`;
  return u;
}

export function wsUrl(base, sid) {
  let u = `${base.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`;
  if (sid) u += `&sid=${encodeURIComponent(sid)}`;
  return u;
}

/** Parses an Engine.IO open packet `0{...}`. */
export function parseOpen(packet) {
  assert.equal(packet[0], '0', `expected an OPEN packet, got ${JSON.stringify(packet.slice(0, 100))}`);
  return JSON.parse(packet.slice(1));
}

/** Raw HTTP long-polling session. */
export class RawPolling {
  constructor(base) { this.base = base; this.sid = null; this.handshake = null; }

  /**
   * One HTTP request on a fresh TCP connection (no keep-alive pool, so a held long-poll or a
   * connection the server closed cannot affect the next request).
   * Resolves { status, text, headers }; rejects on socket errors or after timeoutMs.
   */
  request(method, body, timeoutMs = 5000) {
    const waitMs = scaled(timeoutMs);
    return new Promise((resolve, reject) => {
      const headers = {};
      let payload;
      if (body !== undefined) {
        payload = Buffer.from(body, 'utf8');
        headers['content-type'] = 'text/plain;charset=UTF-8';
        headers['content-length'] = String(payload.length);
      }
      const url = pollingUrl(this.base, this.sid);
      const req = http.request(url, { method, headers, agent: false });
      const timer = setTimeout(() => {
        // The message names the requested bound (tests match on it), whatever the time scale.
        const err = new Error(`${method} ${url}: no response within ${timeoutMs} ms`);
        err.name = 'TimeoutError';
        req.destroy(err);
      }, waitMs);
      req.on('error', (err) => { clearTimeout(timer); reject(err); });
      req.on('response', (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('error', (err) => { clearTimeout(timer); reject(err); });
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString('utf8'), headers: res.headers });
        });
      });
      req.end(payload);
    });
  }

  /** GET without sid: returns the handshake object. */
  async open() {
    const { status, text } = await this.request('GET');
    assert.equal(status, 200, `handshake status (body: ${text.slice(0, 200)})`);
    const packets = text.split(SEP);
    this.handshake = parseOpen(packets[0]);
    this.sid = this.handshake.sid;
    this.pending = packets.slice(1);
    return this.handshake;
  }

  /** One GET; returns { status, text, packets }. */
  async poll(timeoutMs = 5000) {
    const r = await this.request('GET', undefined, timeoutMs);
    return { ...r, packets: r.status === 200 ? r.text.split(SEP) : [] };
  }

  /** POST packets (array of strings) joined with the record separator. */
  async send(packets, timeoutMs = 5000) {
    return this.request('POST', packets.join(SEP), timeoutMs);
  }

  close() { /* nothing persistent to close; fetch connections are pooled by undici */ }
}

/** Raw WebSocket Engine.IO session with a message queue. */
export class RawWs {
  constructor(base, { sid = null, maxPayload } = {}) {
    this.ws = new WebSocket(wsUrl(base, sid), maxPayload ? { maxPayload } : undefined);
    this.queue = [];
    this.waiters = [];
    this.closed = null; // { code, reason }
    this.closeWaiters = [];
    this.ws.on('message', (data, isBinary) => {
      const msg = isBinary ? Buffer.from(data) : data.toString('utf8');
      const w = this.waiters.shift();
      if (w) w(msg); else this.queue.push(msg);
    });
    this.ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      for (const w of this.waiters.splice(0)) {
        w(undefined, new Error(`websocket closed by server (code ${code}) while waiting for a message`));
      }
      for (const w of this.closeWaiters.splice(0)) w(this.closed);
    });
    this.ws.on('error', (err) => { this.error = err; });
  }

  async opened(timeoutMs = 3000) {
    if (this.ws.readyState === WebSocket.OPEN) return;
    const { event, args } = await waitForAny(this.ws, ['open', 'error', 'close'], timeoutMs);
    if (event !== 'open') throw new Error(`raw websocket failed to open: ${event} ${args.map(String).join(' ')}`);
  }

  /** Next message (string for text frames, Buffer for binary frames). */
  next(timeoutMs = 3000) {
    timeoutMs = scaled(timeoutMs);
    if (this.queue.length) return Promise.resolve(this.queue.shift());
    if (this.closed) {
      return Promise.reject(new Error(`websocket already closed (code ${this.closed.code}) while waiting for a message`));
    }
    return new Promise((resolve, reject) => {
      const w = (msg, err) => {
        clearTimeout(timer);
        if (err) reject(err); else resolve(msg);
      };
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for a websocket message`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** Next message that is not an Engine.IO ping (pings are answered unless silent). */
  async nextNonPing(timeoutMs = 3000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = await this.next(Math.max(1, deadline - Date.now()));
      if (m === '2') { this.send('3'); continue; }
      return m;
    }
  }

  /** Engine.IO handshake: returns the parsed OPEN packet. */
  async open(timeoutMs = 3000) {
    await this.opened(timeoutMs);
    this.handshake = parseOpen(await this.next(timeoutMs));
    this.sid = this.handshake.sid;
    return this.handshake;
  }

  /** Engine.IO open + Socket.IO CONNECT to the main namespace. Returns the socket sid. */
  async connectMain(timeoutMs = 3000) {
    await this.open(timeoutMs);
    this.send('40');
    const m = await this.nextNonPing(timeoutMs);
    assert.match(m, /^40\{/, `expected Socket.IO CONNECT answer, got ${JSON.stringify(m)}`);
    return JSON.parse(m.slice(2)).sid;
  }

  send(data) { this.ws.send(data); }

  /** Resolves with { code, reason } when the socket closes. */
  waitClose(timeoutMs = 3000) {
    if (this.closed) return Promise.resolve(this.closed);
    return withTimeout(new Promise((resolve) => this.closeWaiters.push(resolve)), timeoutMs,
      'waiting for the server to close the websocket');
  }

  close() {
    if (this.ws.readyState === WebSocket.CONNECTING || this.ws.readyState === WebSocket.OPEN) {
      try { this.ws.terminate(); } catch { /* ignore */ }
    }
  }
}

export { io, Manager, waitFor };
