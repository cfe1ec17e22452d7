// A scratch Redis server for one test file.
//
//   const r = await startRedis();   // redis-server on a free loopback port, in a fresh temp dir
//   r.url                           // 'redis://127.0.0.1:PORT'
//   await r.restart();              // stop, then start again on the same port (nothing persisted)
//   await r.stop();                 // SIGTERM (SIGKILL after 3 s), removes the dir
//
// It runs /usr/bin/redis-server (or `redis-server` on PATH; PARLEY_REDIS_SERVER names another
// binary) in the foreground with no persistence, bound to 127.0.0.1. A missing redis-server
// fails the test file with the command that installs it: it is one of the dependencies of
// scripts/install-deps, never a reason to skip.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort, killOnExit, scaled } from './server.mjs';

const READY_RE = /Ready to accept connections/;
const START_TIMEOUT_MS = scaled(10_000);
const STOP_GRACE_MS = scaled(3_000);

/** The redis-server binary to run; throws a clear error when there is none. */
export function redisServerBinary() {
  const given = process.env.PARLEY_REDIS_SERVER;
  if (given) {
    if (!existsSync(given)) throw new Error(`PARLEY_REDIS_SERVER=${given}: no such file`);
    return given;
  }
  if (existsSync('/usr/bin/redis-server')) return '/usr/bin/redis-server';
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  const p = found.stdout?.trim();
  if (found.status === 0 && p) return p;
  throw new Error('redis-server not found: the cluster tests need Redis 7 ' +
    '(scripts/install-deps, or `apt-get install -y redis-server`)');
}

/** A loopback port that was free a moment ago. */
/** Spawns redis-server on `port` in `dir`; resolves with the process once it is ready. */
function spawnRedis(bin, port, dir) {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir,
    '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'notice'];
  const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  killOnExit(proc);
  proc.log = '';
  proc.exited = new Promise((resolve) => proc.once('exit', (code, signal) => {
    resolve({ code, signal });
  }));
  const append = (chunk) => { proc.log += chunk.toString('utf8'); };
  proc.stdout.on('data', append);
  proc.stderr.on('data', append);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`redis-server on port ${port} not ready within ${START_TIMEOUT_MS} ms:\n${proc.log}`));
    }, START_TIMEOUT_MS);
    const onData = () => {
      if (!READY_RE.test(proc.log)) return;
      clearTimeout(timer);
      proc.stdout.off('data', onData);
      resolve(proc);
    };
    proc.stdout.on('data', onData);
    proc.exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`redis-server on port ${port} exited (code=${code}, signal=${signal}):\n${proc.log}`));
    });
    proc.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${bin}: ${err.message}`));
    });
  });
}

async function terminate(proc) {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill('SIGTERM');
  let timer;
  const late = new Promise((resolve) => {
    timer = setTimeout(() => { proc.kill('SIGKILL'); resolve(); }, STOP_GRACE_MS);
  });
  await Promise.race([proc.exited, late]);
  clearTimeout(timer);
  await proc.exited;
}

/** Starts a scratch redis-server; see the header for the returned handle. */
export async function startRedis() {
  const bin = redisServerBinary();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'parley-redis-'));
  let port;
  let proc;
  // A free port can be taken between the probe and the bind: try a few.
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    try {
      proc = await spawnRedis(bin, port, dir);
      break;
    } catch (err) {
      if (attempt >= 4 || !/Address already in use/.test(err.message)) {
        await rm(dir, { recursive: true, force: true });
        throw err;
      }
    }
  }
  const url = `redis://127.0.0.1:${port}`;
  return {
    url,
    port,
    dir,
    logs: () => proc.log,
    /** Stops the server and starts it again on the same port; every client must reconnect. */
    async restart() {
      await terminate(proc);
      proc = await spawnRedis(bin, port, dir);
    },
    async stop() {
      try {
        await terminate(proc);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
