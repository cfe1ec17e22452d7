// SIGKILL during a sustained message load, then a restart on the same data dir (SQLite): every
// acknowledged message is stored exactly once with the serverId of its ack, nothing is stored
// twice, and re-sending every send that got no ack is idempotent (fault/kill9-scenario.mjs).

import { describe, it } from 'node:test';
import { killDuringLoad } from './kill9-scenario.mjs';

describe('SIGKILL during a sustained load, then a restart', () => {
  it('keeps every acknowledged message exactly once, and a re-send of an unacknowledged one is idempotent',
    (t) => killDuringLoad(t));
});
