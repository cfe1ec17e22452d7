// The server raises its descriptor soft limit to the hard limit at start: started under a
// soft limit of 64, it still serves 100 WebSocket clients at once.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { startServer } from '../helpers/server.mjs';
import { SETUPS, ClientPool, connectClient } from '../helpers/clients.mjs';

const SOFT = 64;
const CLIENTS = 100;
const hard = execFileSync('sh', ['-c', 'ulimit -Hn']).toString().trim();

let server;
const pool = new ClientPool();

before(async () => {
  server = await startServer({ bin: 'parley-testbed', launcher: ['prlimit', `--nofile=${SOFT}:${hard}`, '--'] });
});
after(async () => { pool.closeAll(); await server?.stop(); });

describe('descriptor limit', () => {
  it(`started with a soft limit of ${SOFT}, the server runs with the hard limit`, () => {
    const line = readFileSync(`/proc/${server.proc.pid}/limits`, 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const [soft, hardNow] = line.replace('Max open files', '').trim().split(/\s+/);
    assert.equal(hardNow, hard);
    assert.equal(soft, hard, `soft limit raised: ${line}`);
  });

  it(`${CLIENTS} clients at once, more than the soft limit it started with`, async () => {
    const sockets = await Promise.all(Array.from({ length: CLIENTS }, () => connectClient(pool, server.url, SETUPS[0])));
    const replies = await Promise.all(sockets.map((s, i) => s.timeout(5000).emitWithAck('echo', `n${i}`)));
    assert.deepEqual(replies, sockets.map((_, i) => `n${i}`));
  });
});
