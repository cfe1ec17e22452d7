// Client-side helpers shared by the protocol tests: socket.io-client setups over the three
// transport configurations and an incoming-event recorder. The raw Engine.IO clients are in
// eio.mjs.

import assert from 'node:assert/strict';
import { io, Manager } from 'socket.io-client';
import { scaled, waitFor, waitForAny } from './server.mjs';

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

/**
 * Asserts that a new client of `setup` connects to `url` and gets its echo answered: the server
 * still serves others after whatever a test did to one client.
 */
export async function othersStillServed(pool, url, setup = SETUPS[1]) {
  const socket = await connectClient(pool, url, setup);
  assert.equal(await socket.timeout(scaled(3000)).emitWithAck('echo', 'still here'), 'still here');
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

export { io, Manager, waitFor };
