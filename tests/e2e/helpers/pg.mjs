// PostgreSQL for the end-to-end tests: scratch servers (scripts/pg-scratch) and fresh databases.
//
//   When PARLEY_E2E_PG_DIR names a running pg-scratch (`make e2e-pg` starts one), every
//   `parley serve` and every CLI call of the tests runs on PostgreSQL: storeArgsFor(dataDir)
//   gives each data dir its own fresh database (the same one every time for the same dir, so
//   a restart on a dir finds its data) as `--store <uri>`. Otherwise it gives [] (SQLite in the
//   data dir, the server's default).
//
//   const pg = await startPgScratch();   // a server of the test's own, in a temp dir
//   const uri = await pg.createDatabase();
//   await pg.kill(); await pg.restart(); await pg.stop();

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Not imported from server.mjs, which imports this module.
const PG_SCRATCH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'scripts', 'pg-scratch');
const scaled = (ms) => ms * Math.max(1, Number(process.env.PARLEY_E2E_TIME_SCALE) || 1);

function run(file, args, timeoutMs) {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: scaled(timeoutMs) }, (err, stdout, stderr) => {
      if (err) {
        err.message += `\nstdout: ${stdout}\nstderr: ${stderr}`;
        reject(err);
      } else resolve({ stdout, stderr });
    });
  });
}

/** The scratch server the e2e run shares (PARLEY_E2E_PG_DIR), or null: the tests run on SQLite. */
export const sharedPgDir = process.env.PARLEY_E2E_PG_DIR || null;

async function uriOf(dir, database) {
  const port = (await readFile(path.join(dir, 'port'), 'utf8')).trim();
  return `postgres://parley@127.0.0.1:${port}/${database}`;
}

/** Creates an empty database on the scratch server in `dir`; resolves with its URI. */
export async function createDatabase(dir) {
  const name = `e2e_${randomBytes(8).toString('hex')}`;
  await run('psql', [await uriOf(dir, 'parley'), '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', `CREATE DATABASE ${name}`], 30_000);
  return uriOf(dir, name);
}

/** Drops the database of `uri` (its server's connections to it included); never throws. */
export async function dropDatabase(uri) {
  const u = new URL(uri);
  const admin = `${u.protocol}//${u.username}@${u.host}/parley`;
  const name = u.pathname.slice(1);
  await run('psql', [admin, '-X', '-q', '-c', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`], 30_000).catch(() => {});
}

// Data dir -> Promise of its database's URI (a promise, so concurrent first uses share one).
const databaseOfDir = new Map();

/**
 * The arguments that put a parley command on the shared PostgreSQL server: ['--store', uri]
 * with the database of `dataDir` (created on first use), or [] when the run is on SQLite.
 */
export async function storeArgsFor(dataDir) {
  if (!sharedPgDir) return [];
  const key = dataDir ?? Symbol('no data dir'); // without a data dir: a database of its own
  if (!databaseOfDir.has(key)) databaseOfDir.set(key, createDatabase(sharedPgDir));
  return ['--store', await databaseOfDir.get(key)];
}

/** Drops the database storeArgsFor gave `dataDir`, if any (when the test is done with the dir). */
export async function releaseStoreOf(dataDir) {
  const uri = databaseOfDir.get(dataDir);
  if (!uri) return;
  databaseOfDir.delete(dataDir);
  await dropDatabase(await uri.catch(() => null) ?? 'postgres://x@127.0.0.1:1/none');
}

/**
 * Starts a PostgreSQL server of the test's own (scripts/pg-scratch in a fresh temp dir), for a
 * test that kills or restarts it. stop() removes it; safe to call twice.
 */
export async function startPgScratch() {
  const parent = await mkdtemp(path.join(os.tmpdir(), 'parley-pg-'));
  const dir = path.join(parent, 'pg');
  try {
    await run(PG_SCRATCH, ['start', dir], 60_000);
  } catch (e) {
    await rm(parent, { recursive: true, force: true });
    throw e;
  }
  let stopped = false;
  return {
    dir,
    uri: await uriOf(dir, 'parley'),
    createDatabase: () => createDatabase(dir),
    /** SIGKILL of the postmaster and every backend, as a crash; resolves once they are gone. */
    kill: () => run(PG_SCRATCH, ['kill', dir], 30_000),
    /** Starts it again on the same port (after kill); resolves once it accepts connections. */
    restart: () => run(PG_SCRATCH, ['restart', dir], 60_000),
    async stop() {
      if (stopped) return;
      stopped = true;
      await run(PG_SCRATCH, ['stop', dir], 60_000).catch(() => {});
      await rm(parent, { recursive: true, force: true });
    },
  };
}
