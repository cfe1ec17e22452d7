// Structured logs: `--log-format json` writes every line as one JSON object (time, level,
// message, and the line's fields: an error's correlationId, an access line's method, path,
// status and duration); `--access-log` adds a line per REST request and Engine.IO handshake,
// with the path only (a token in the query string never reaches the log).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startChatServer, closeAllSockets, emitAck } from '../helpers/chat.mjs';
import { scaled, until } from '../helpers/server.mjs';

let srv;
before(async () => { srv = await startChatServer({ args: ['--log-format', 'json', '--access-log'] }); });
after(async () => { closeAllSockets(); await srv?.stop(); });

/** The server's log lines so far, each parsed (a line that is not JSON fails the test). */
function lines() {
  return srv.logs().split('\n').filter((l) => l.trim() !== '').map((l) => {
    try {
      return JSON.parse(l);
    } catch {
      throw new Error(`a log line is not JSON: ${l}`);
    }
  });
}

describe('--log-format json and --access-log', () => {
  it('every line is one JSON object with time, level and message', () => {
    const all = lines();
    assert.ok(all.length > 0);
    for (const l of all) {
      assert.match(l.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.ok(['trace', 'debug', 'info', 'warning', 'error', 'critical'].includes(l.level), l.level);
      assert.equal(typeof l.message, 'string');
    }
    assert.ok(all.some((l) => /listening on/.test(l.message)));
  });

  it('a REST request and a handshake each get an access line; the query string is never logged', async () => {
    const u = srv.user();
    const res = await srv.api(u, 'GET', '/v1/chats?probe=1');
    assert.equal(res.status, 200);
    // Over polling, so that the handshake is an HTTP request (a WebSocket-only client's is an
    // upgrade, which the access log does not cover).
    const socket = await srv.connect(u, { transports: ['polling'], query: { marker: 'never-logged-query' } });
    assert.ok(socket.connected);
    const rest = await until(() => lines().find((l) => l.event === 'http' && l.path === '/v1/chats'),
      (l) => l !== undefined, scaled(5000), 'the access line of GET /v1/chats');
    assert.equal(rest.method, 'GET');
    assert.equal(rest.status, 200);
    assert.equal(typeof rest.durationMs, 'number');
    assert.equal(typeof rest.remote, 'string');
    const handshakes = await until(() => lines().filter((l) => l.event === 'http' && l.path.startsWith('/socket.io')),
      (found) => found.length > 0, scaled(5000), 'the access line of the handshake');
    assert.equal(handshakes.length, 1, 'the handshake is logged, and none of the session\'s polls');
    assert.equal(handshakes[0].method, 'GET');
    assert.equal(handshakes[0].status, 200);
    assert.ok(!srv.logs().includes('never-logged-query'), 'no query string in the log');
    assert.ok(!srv.logs().includes(u.token), 'no token in the log');
  });

  it('an error answer\'s log line carries the correlationId the client got', async () => {
    const u = srv.user();
    const socket = await srv.connect(u);
    const ack = await emitAck(socket, 'message:send', { chatId: 'not-an-id', body: 'x', clientId: 'c' });
    assert.equal(ack.ok, false);
    const line = await until(() => lines().find((l) => l.correlationId === ack.correlationId),
      (l) => l !== undefined, scaled(5000), `a log line with correlationId ${ack.correlationId}`);
    assert.equal(line.error, ack.error);
  });
});
