// SIGKILL of the server during a sustained message load on PostgreSQL, then a restart on the
// same database: every acknowledged message is stored exactly once with the serverId of its
// ack, nothing is stored twice, and re-sending every send that got no ack is idempotent
// (fault/kill9-scenario.mjs). The PostgreSQL server is this file's own.

import { describe, it, before, after } from 'node:test';
import { startPgScratch } from '../helpers/pg.mjs';
import { killDuringLoad } from './kill9-scenario.mjs';

let pg;
before(async () => { pg = await startPgScratch(); });
after(async () => { await pg?.stop(); });

describe('SIGKILL during a sustained load on PostgreSQL, then a restart', () => {
  it('keeps every acknowledged message exactly once, and a re-send of an unacknowledged one is idempotent',
    async (t) => killDuringLoad(t, { store: await pg.createDatabase() }));
});
