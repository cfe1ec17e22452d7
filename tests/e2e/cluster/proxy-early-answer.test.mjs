// Behind nginx (helpers/nginx.mjs, the configuration of docs/cluster.md, which streams request
// bodies upstream: proxy_request_buffering off), an answer the server gives before it has read
// the whole request reaches the client: a body over --max-payload is answered 413 by Parley, not
// turned into a 502 by nginx. The server reads and drops the rest of such a request before it
// closes the connection (net/HttpConnection.hpp, kLingerTimeout): closing with the body still
// arriving resets the connection under nginx's feet while it is still sending.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { api, objectId, startChatServer } from '../helpers/chat.mjs';
import { startNginx } from '../helpers/nginx.mjs';

const ROUNDS = 100;

describe('an oversized request behind nginx', () => {
  let srv;
  let lb;
  before(async () => {
    srv = await startChatServer({ args: ['--max-payload', '10000'] });
    lb = await startNginx([srv.port]);
  });
  after(async () => {
    await lb?.stop();
    await srv?.stop();
  });

  it(`is answered 413 with the error envelope every time (${ROUNDS} in a row), never 502`, async () => {
    const a = srv.user();
    const statuses = {};
    let last;
    for (let i = 0; i < ROUNDS; i++) {
      const res = await api(lb.url, a, 'POST', `/v1/chats/${objectId()}/messages`,
        { body: 'x'.repeat(20_000), clientId: `big-${i}` });
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      last = res;
    }
    const nginxErrors = await readFile(path.join(lb.dir, 'error.log'), 'utf8').catch(() => '');
    assert.deepEqual(statuses, { 413: ROUNDS }, `statuses through nginx; nginx's error log:\n${nginxErrors.slice(0, 2000)}`);
    assert.equal(last.body?.error, 'VALIDATION_ERROR');
    // The connection after it is served as usual.
    assert.equal((await fetch(`${lb.url}/healthz`)).status, 200);
  });
});
