// Helpers to run a Parley binary for end-to-end tests.
//
//   const server = await startServer({ bin: 'parley-testbed', args: ['--ping-interval', '300'] });
//   ... server.url, server.port, server.logs() ...
//   await server.stop();
//
// The binary is looked up in $PARLEY_BUILD_DIR (default: <repo>/build/release).
// `--port 0 --host 127.0.0.1` is appended to the given args (`--port 0` unless they set one; and
// the per-address limits turned off unless the args set them or `defaultLimits: true` keeps the server's own; `--threads
// $PARLEY_E2E_THREADS` when that is set and the args do not choose); the helper waits for the
// server to print "listening on <ip>:<port>" on stdout or stderr.
//
// PARLEY_E2E_PG_DIR (set by `make e2e-pg`) runs every `parley serve` on PostgreSQL: unless the
// args choose a --store, `--store <uri>` of a fresh database for its --data-dir is appended
// (helpers/pg.mjs; the same database again for the same dir, so a restart finds its data).
//
// PARLEY_E2E_CLUSTER=N (set by `make e2e-cluster`) makes every chat context (helpers/chat.mjs
// startChatServer) N servers on one Redis and one PostgreSQL database behind nginx
// (helpers/chat-cluster.mjs); PARLEY_E2E_TRANSPORT=polling|websocket the transport of every
// socket whose test names none.
//
// PARLEY_E2E_CLUSTER_PEER=node (helpers/cluster.mjs) runs the Node bench peer in place of
// `parley serve` in the cluster tests (tests/e2e/cluster), to check those tests themselves.
//
// PARLEY_E2E_TIME_SCALE (set by the Makefile: 3 for ASan, 5 for TSan builds) multiplies every
// wait of these helpers: a sanitized server is several times slower, the outcomes are the same.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { storeArgsFor } from './pg.mjs';

const here = path.dirname(fileURLToPath(import.meta.url)); // <repo>/tests/e2e/helpers
export const repoRoot = path.resolve(here, '..', '..', '..');

export function buildDir() {
  return path.resolve(process.env.PARLEY_BUILD_DIR ?? path.join(repoRoot, 'build', 'release'));
}

export function binaryPath(bin = 'parley') {
  return path.join(buildDir(), bin);
}

/** How much longer than on a release build every wait may take (>= 1). */
export const TIME_SCALE = Math.max(1, Number(process.env.PARLEY_E2E_TIME_SCALE) || 1);
/** `ms` scaled by TIME_SCALE: for a test's own timeouts (not for sleeps that wait out a server window). */
export function scaled(ms) {
  return ms * TIME_SCALE;
}

const LISTENING_RE = /listening on [0-9.]+:(\d+)/;
const START_TIMEOUT_MS = scaled(10_000);
const STOP_GRACE_MS = scaled(3_000);
const MAX_LOG_CHARS = 2_000_000;

// Safety net: never leave a spawned process behind when the test process exits. The runner
// exits once a file's tests are done (`--test-force-exit`, so that a forgotten server cannot
// hang the run); one still running then was not stopped by its test, and fails the file.
const live = new Set();
process.on('exit', (code) => {
  for (const proc of live) {
    try { proc.kill('SIGKILL'); } catch { /* already gone */ }
  }
  if (live.size > 0 && code === 0) {
    const names = [...live].map((p) => path.basename(p.spawnfile ?? '?'));
    process.stderr.write(`e2e: ${live.size} process(es) left running at exit, killed: ${names.join(', ')}\n`);
    process.exitCode = 1;
  }
});

/** Kills `proc` with the test process if it is still running then (every helper's children). */
export function killOnExit(proc) {
  live.add(proc);
  proc.once('exit', () => live.delete(proc));
  return proc;
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** The value of `flag` in `args` (`--flag V` or `--flag=V`), or undefined. */
export function flagValue(args, flag) {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === flag) return args[i + 1];
    if (args[i].startsWith(`${flag}=`)) return args[i].slice(flag.length + 1);
  }
  return undefined;
}

export async function startServer({ bin = 'parley', args = [], env = {}, launcher = [], defaultLimits = false, executable } = {}) {
  // `executable`: a file to run instead of `bin` in the build dir (treated as `bin` otherwise),
  // e.g. the Node bench peer under `launcher: ['node']`.
  const file = executable ?? binaryPath(bin);
  if (!existsSync(file)) {
    throw new Error(
      `Parley binary not found: ${file}\n` +
      `Build it first (e.g. into build/release) or set PARLEY_BUILD_DIR to the directory holding '${bin}'.`);
  }

  // Every test client comes from 127.0.0.1, and a test file may open hundreds of sessions in
  // a second: the per-address limits are off unless a test sets them (limits.test.mjs does)
  // or asks for the server's defaults (peer-limits.test.mjs does).
  const perAddress = [];
  for (const flag of defaultLimits ? [] : ['--max-connections-per-ip', '--handshakes-per-second']) {
    if (!args.some((a) => a === flag || a.startsWith(`${flag}=`))) perAddress.push(flag, '0');
  }
  // PARLEY_E2E_THREADS runs every server on that many io threads unless a test sets its own
  // (the Makefile runs the protocol files on one thread and on more threads than cores).
  const threads = [];
  if (process.env.PARLEY_E2E_THREADS && (args[0] === 'serve' || bin !== 'parley') &&
      !args.some((a) => a === '--threads' || a.startsWith('--threads='))) {
    threads.push('--threads', process.env.PARLEY_E2E_THREADS);
  }
  const store = [];
  if (bin === 'parley' && args[0] === 'serve' && !args.some((a) => a === '--store' || a.startsWith('--store='))) {
    store.push(...await storeArgsFor(flagValue(args, '--data-dir')));
  }
  // A given --port (a restart that must come back where a balancer expects it) is kept.
  const portArgs = flagValue(args, '--port') === undefined ? ['--port', '0'] : [];
  const fullArgs = [...args, ...store, ...threads, ...perAddress, ...portArgs, '--host', '127.0.0.1'];
  // `launcher`: a command that execs the server, e.g. prlimit with other resource limits.
  const [cmd, ...cmdArgs] = [...launcher, file, ...fullArgs];
  const proc = spawn(cmd, cmdArgs, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(proc);

  let log = '';
  let stopping = false;
  let exitInfo = null; // { code, signal } once exited
  const exited = new Promise((resolve) => {
    proc.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      live.delete(proc);
      resolve(exitInfo);
    });
  });

  const append = (chunk) => {
    log += chunk.toString('utf8');
    if (log.length > MAX_LOG_CHARS) log = '[...log truncated...]\n' + log.slice(-MAX_LOG_CHARS / 2);
  };
  const logs = () => log;
  const describeCmd = () => [cmd, ...cmdArgs].join(' ');

  const port = await new Promise((resolve, reject) => {
    let settled = false;
    const finish = (err, value) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      proc.stdout.off('data', onData);
      proc.stderr.off('data', onData);
      proc.off('exit', onExit);
      proc.off('error', onError);
      if (err) reject(err); else resolve(value);
    };
    const onData = () => {
      // scan the whole log so a line split across chunks (or streams) is still found
      const m = LISTENING_RE.exec(log);
      if (m) finish(null, Number(m[1]));
    };
    const onExit = (code, signal) => {
      finish(new Error(
        `${describeCmd()} exited before listening (code=${code}, signal=${signal}). Logs:\n${logs()}`));
    };
    const onError = (err) => {
      finish(new Error(`failed to spawn ${describeCmd()}: ${err.message}. Logs:\n${logs()}`));
    };
    const timer = setTimeout(() => {
      try { proc.kill('SIGKILL'); } catch { /* ignore */ }
      finish(new Error(
        `${describeCmd()} did not print "listening on <ip>:<port>" within ${START_TIMEOUT_MS} ms. Logs:\n${logs()}`));
    }, START_TIMEOUT_MS);
    // Keep capturing logs for the whole life of the process (these listeners are never removed).
    proc.stdout.on('data', append);
    proc.stderr.on('data', append);
    // The scanning listeners are added after the capturing ones, so `log` is already updated.
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.once('exit', onExit);
    proc.once('error', onError);
  });

  /**
   * Stops the server: SIGTERM, then SIGKILL after 3 s (scaled). Resolves with { code, signal }; throws
   * unless it exited with code 0.
   * Throws if the server had already exited on its own before stop() was called (a crash),
   * with its logs, so a crashing server fails the test file instead of going unnoticed.
   */
  const stop = async () => {
    if (stopping) return exited;
    stopping = true;
    if (exitInfo) {
      throw new Error(
        `${describeCmd()} exited unexpectedly during the tests (code=${exitInfo.code}, signal=${exitInfo.signal}). Logs:\n${logs()}`);
    }
    proc.kill('SIGTERM');
    let killTimer;
    const killed = new Promise((resolve) => {
      killTimer = setTimeout(() => {
        try { proc.kill('SIGKILL'); } catch { /* ignore */ }
        resolve();
      }, STOP_GRACE_MS);
    });
    await Promise.race([exited, killed]);
    clearTimeout(killTimer);
    const info = await exited;
    // A clean shutdown exits 0: anything else (a crash while stopping, a hang that needed
    // SIGKILL, a sanitizer's leak report) fails the test file, with the logs.
    if (info.code !== 0) {
      throw new Error(
        `${describeCmd()} did not stop cleanly on SIGTERM (code=${info.code}, signal=${info.signal}). Logs:\n${logs()}`);
    }
    return info;
  };

  return {
    port,
    url: `http://127.0.0.1:${port}`,
    proc,
    logs,
    /** true while the process has not exited */
    get alive() { return exitInfo === null; },
    stop,
  };
}

// ---------------------------------------------------------------------------------------
// Event helpers. They work with Node EventEmitters, socket.io-client sockets/managers,
// engine.io-client sockets and 'ws' WebSockets (anything with on/once + off/removeListener).
// ---------------------------------------------------------------------------------------

function removeListener(emitter, event, fn) {
  if (typeof emitter.off === 'function') emitter.off(event, fn);
  else if (typeof emitter.removeListener === 'function') emitter.removeListener(event, fn);
}

function emitterName(emitter) {
  return emitter?.constructor?.name ?? typeof emitter;
}

/**
 * Resolves with the argument array of the next `event` emitted by `emitter`.
 * Rejects after timeoutMs with a message naming the event.
 */
export function waitFor(emitter, event, timeoutMs = 3000) {
  return waitForAny(emitter, [event], timeoutMs).then(({ args }) => args);
}

/**
 * Resolves with { event, args } for whichever of `events` fires first.
 */
export function waitForAny(emitter, events, timeoutMs = 3000) {
  timeoutMs = scaled(timeoutMs);
  return new Promise((resolve, reject) => {
    const handlers = new Map();
    const cleanup = () => {
      clearTimeout(timer);
      for (const [ev, fn] of handlers) removeListener(emitter, ev, fn);
    };
    for (const ev of events) {
      const fn = (...args) => { cleanup(); resolve({ event: ev, args }); };
      handlers.set(ev, fn);
      emitter.on(ev, fn);
    }
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(
        `timed out after ${timeoutMs} ms waiting for ${events.map((e) => `'${e}'`).join(' or ')} on ${emitterName(emitter)}`));
    }, timeoutMs);
  });
}

/**
 * Resolves with the args of the first `event` whose args satisfy `predicate(...args)`.
 */
export function waitForMatch(emitter, event, predicate, timeoutMs = 3000) {
  timeoutMs = scaled(timeoutMs);
  return new Promise((resolve, reject) => {
    const fn = (...args) => {
      let ok = false;
      try { ok = predicate(...args); } catch { ok = false; }
      if (ok) { cleanup(); resolve(args); }
    };
    const cleanup = () => { clearTimeout(timer); removeListener(emitter, event, fn); };
    emitter.on(event, fn);
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for a matching '${event}' on ${emitterName(emitter)}`));
    }, timeoutMs);
  });
}

/**
 * Collects `count` emissions of `event` (each as an args array), in arrival order.
 */
export function collect(emitter, event, count, timeoutMs = 3000) {
  timeoutMs = scaled(timeoutMs);
  return new Promise((resolve, reject) => {
    const got = [];
    const fn = (...args) => {
      got.push(args);
      if (got.length >= count) { cleanup(); resolve(got); }
    };
    const cleanup = () => { clearTimeout(timer); removeListener(emitter, event, fn); };
    emitter.on(event, fn);
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out after ${timeoutMs} ms: got ${got.length}/${count} '${event}' events on ${emitterName(emitter)}`));
    }, timeoutMs);
  });
}

/** Rejects if `promise` does not settle within timeoutMs. */
export function withTimeout(promise, timeoutMs, what = 'operation') {
  timeoutMs = scaled(timeoutMs);
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms: ${what}`)), timeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Waits `ms` (not scaled: callers scale what is a margin, not what is a server's window). */
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Resolves true if `promise` settles (either way) within `ms`, false otherwise. Not scaled: for
 * a bound that is itself the rule under test.
 */
export async function settlesWithin(promise, ms) {
  let timer;
  const t = new Promise((resolve) => { timer = setTimeout(() => resolve(false), ms); });
  const r = await Promise.race([promise.then(() => true, () => true), t]);
  clearTimeout(timer);
  return r;
}

/** The numeric samples of GET /metrics, by name. */
export async function metrics(url) {
  const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) });
  assert.equal(res.status, 200, 'GET /metrics');
  const values = {};
  for (const line of (await res.text()).split('\n')) {
    const m = /^([a-z_]+) (-?\d+)$/.exec(line);
    if (m) values[m[1]] = Number(m[2]);
  }
  return values;
}

/**
 * Polls `probe()` until `pred(value)` holds, for server-side state a client cannot observe as an
 * event (a session closed, a count back down). Returns the value; throws after timeoutMs.
 */
export async function until(probe, pred, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (pred(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what} (last: ${JSON.stringify(value)})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
