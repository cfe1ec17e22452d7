// 1,000 clients connecting and dropping in a loop, 100 at a time: each connects with a token,
// joins a chat, pings presence, then drops, abruptly (its TCP connection destroyed, no close
// packet) or cleanly (disconnect). Afterwards the server's own figures from /proc are back:
// the same file descriptors as before the loop, and resident memory grown by less than a bound.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startChatServer, closeAllSockets, disconnectSocket, emitAck, assertOk, join } from '../helpers/chat.mjs';
import { processFigures, sanitizers } from './lib.mjs';
import { metrics, scaled, until } from '../helpers/server.mjs';

const BATCH = 100;
const ROUNDS = 10; // 1,000 clients
const RSS_GROWTH_LIMIT_KB = 8 * 1024;
const FD_SLACK = 2; // the test's own keep-alive HTTP connection to /metrics may come and go

let srv;
before(async () => {
  // Short heartbeats: a session whose client vanished without a word is reaped within ~2 s.
  // 1,000 clients from 127.0.0.1 in a few seconds: the per-address limits are not under test here.
  srv = await startChatServer({
    // (Scaled on sanitizer builds, which answer pings several times slower.)
    args: ['--ping-interval', String(scaled(1000)), '--ping-timeout', String(scaled(1000)),
      '--handshakes-per-second', '0', '--max-connections-per-ip', '0'],
  });
});
after(async () => {
  closeAllSockets();
  await srv?.stop();
});

/** Destroys the client's connection without a close frame or packet: the server sees it vanish. */
function dropAbruptly(socket) {
  const transport = socket.io.engine?.transport;
  assert.equal(transport?.name, 'websocket', 'abrupt drops are done on websocket clients');
  transport.ws.terminate();
}

/**
 * One batch: `BATCH` clients connect at once (one in five over long-polling), join, ping, then
 * drop, half of the websocket ones abruptly. Resolves when every client has done all of it.
 */
async function batch(users, chatId, round) {
  let abrupt = 0;
  await Promise.all(users.map(async (user, i) => {
    const transports = i % 5 === 0 ? ['polling'] : ['websocket'];
    const socket = await srv.connect(user, { transports });
    await join(socket, chatId);
    assertOk(await emitAck(socket, 'presence:ping', {}), `presence:ping round ${round} client ${i}`);
    if (transports[0] === 'websocket' && (i + round) % 2 === 0) {
      abrupt += 1;
      dropAbruptly(socket);
    } else {
      await disconnectSocket(socket);
    }
  }));
  closeAllSockets(); // forget the dropped sockets (already closed)
  return abrupt;
}

/** Waits until the server has no session and no socket left open. */
async function allGone(what) {
  return until(() => metrics(srv.url),
    (v) => v.parley_engineio_sessions === 0 && v.parley_socketio_sockets === 0, 20_000, what);
}

describe('1,000 clients connecting and dropping', () => {
  it('leaves no file descriptors and no memory growth behind', { timeout: 180_000 }, async (t) => {
    const owner = srv.user();
    const users = Array.from({ length: BATCH }, () => srv.user());
    const chat = await srv.createChat(owner, { type: 'group', title: 'churn', memberIds: users.map((u) => u.id) });
    const pid = srv.server.proc.pid;

    // Warm-up: the first round grows pools, caches and allocator arenas to their working size.
    await batch(users, chat._id, -1);
    await allGone('sessions closed after the warm-up round');
    const baseline = await processFigures(pid);
    const opened0 = (await metrics(srv.url)).parley_engineio_sessions_opened_total;

    const started = Date.now();
    let abrupt = 0;
    for (let round = 0; round < ROUNDS; round++) abrupt += await batch(users, chat._id, round);
    const loopMs = Date.now() - started;
    const m = await allGone('every session of the loop closed');
    assert.ok(m.parley_engineio_sessions_opened_total - opened0 >= BATCH * ROUNDS,
      `the server saw ${BATCH * ROUNDS} sessions (opened counter ${opened0} -> ${m.parley_engineio_sessions_opened_total})`);

    // Closing a session releases its descriptor at once, but an HTTP connection of a finished
    // long-poll may linger until the client closes it: wait for the count, bounded.
    const end = await until(() => processFigures(pid), (f) => f.fds <= baseline.fds + FD_SLACK, 20_000,
      `fd count back to the baseline ${baseline.fds}`);
    const growthKb = end.rssKb - baseline.rssKb;
    t.diagnostic(`${BATCH * ROUNDS} clients (${abrupt} dropped abruptly) in ${loopMs} ms; ` +
      `fds ${baseline.fds} -> ${end.fds}; VmRSS ${baseline.rssKb} kB -> ${end.rssKb} kB (${growthKb >= 0 ? '+' : ''}${growthKb} kB)`);
    assert.ok(abrupt > 0, 'some clients dropped abruptly');
    assert.ok(Math.abs(end.fds - baseline.fds) <= FD_SLACK, `fds ${baseline.fds} -> ${end.fds}`);
    // A sanitizer's allocator holds freed memory in quarantine (and shadow memory besides), so
    // resident memory says nothing about leaks there: LeakSanitizer checks those at exit.
    const sanitized = await sanitizers();
    if (sanitized) t.diagnostic(`VmRSS bound not asserted: a ${sanitized} build quarantines freed memory`);
    else assert.ok(growthKb < RSS_GROWTH_LIMIT_KB, `VmRSS grew ${growthKb} kB (limit ${RSS_GROWTH_LIMIT_KB} kB)`);
    assert.ok(srv.server.alive, 'the server is still running');
  });
});
