// CONFORMANCE.md A.2 heartbeat: server ping "2" every pingInterval (300 ms) after the
// handshake and after each pong, session closed pingTimeout (200 ms) after an unanswered
// ping was queued. These rules are about time, so bounded waits are the rule itself.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { ENDPOINTS, PING_INTERVAL, PING_TIMEOUT, startParley } from './lib.mjs';
import { scaled, sleep } from '../helpers/server.mjs';
import { WAIT, openWs, openPolling, splitPayload, closeAll, sioConnect, now, show } from '../helpers/eio.mjs';

const T = { timeout: 8000 };
let srv;
let base;

before(async () => { srv = await startParley(); base = srv.url; });
after(async () => { await closeAll(); await srv?.stop(); });
afterEach(() => closeAll());

// A ping is due PING_INTERVAL after its reference point; allow scheduling slack both ways.
const EARLY = PING_INTERVAL - 60;
const LATE = PING_INTERVAL + 150;

function assertPingDelay(ms, what) {
  assert.ok(ms >= EARLY && ms <= LATE, `${what}: ping after ${ms.toFixed(0)} ms, expected ~${PING_INTERVAL} ms`);
}

/**
 * On /socket.io/ a session without a Socket.IO CONNECT is closed after connectTimeout
 * (1000 ms), so tests that run longer connect first. Over polling the replies are read
 * with GETs here, before the heartbeat rounds start.
 */
async function pollingConnectIfNeeded(c, path) {
  if (path !== '/socket.io/') return;
  await c.send('40');
  const got = [];
  while (got.length < 2) {
    const r = await c.get();
    assert.equal(r.status, 200);
    for (const p of splitPayload(r.text)) if (p !== '2') got.push(p); else throw new Error('ping arrived during connect');
  }
  assert.match(got[0], /^40\{"sid":"[^"]+"\}$/);
  assert.equal(got[1], '42["auth",{}]');
}

for (const path of ENDPOINTS) {
  describe(`A.2 heartbeat over polling ${path}`, () => {
    it('a pending GET receives exactly "2" ~300 ms after the handshake, then ~300 ms after each pong', T, async () => {
      const c = await openPolling(base, { path });
      await pollingConnectIfNeeded(c, path);
      let ref = c.handshakeAt;
      for (let round = 0; round < 3; round++) {
        const r = await c.get();
        const at = now();
        assert.equal(r.status, 200, `round ${round}`);
        assert.equal(r.text, '2', `round ${round}: GET body ${show(r.text)}`);
        assertPingDelay(at - ref, `round ${round}`);
        ref = now();
        const p = await c.post('3');
        assert.equal(p.status, 200, `pong POST: ${p.status} ${show(p.text)}`);
        assert.equal(p.text, 'ok');
      }
    });

    it('a ping queued while no GET is pending is delivered by the next GET; a pong in time keeps the session', T, async () => {
      const c = await openPolling(base, { path });
      await sleep(PING_INTERVAL + 60); // the ping is queued at 300 ms, nobody is polling
      const r = await c.get();
      assert.equal(r.status, 200);
      assert.equal(r.text, '2');
      assert.ok(r.ms < 100, `queued ping should be returned at once, took ${r.ms.toFixed(0)} ms`);
      await c.send('3');
      // The session is alive: the next ping comes ~300 ms after the pong.
      const r2 = await c.get();
      assert.equal(r2.status, 200);
      assert.equal(r2.text, '2');
    });

    it('no pong: at ~500 ms after the handshake a GET gets 400 (ping never fetched)', T, async () => {
      const c = await openPolling(base, { path });
      await sleep(PING_INTERVAL + PING_TIMEOUT + scaled(20) - (now() - c.handshakeAt));
      const r = await c.get();
      assert.equal(r.status, 400, `GET at ${(now() - c.handshakeAt).toFixed(0)} ms: ${r.status} ${show(r.text)}`);
    });

    // The official suite waits exactly pingInterval + pingTimeout after it read the handshake,
    // with no margin. The session's deadline runs from the server's own clock (when the ping
    // was due, not when its timer happened to run), so a GET sent then is already too late,
    // whichever thread it reaches the session through and however busy the owner is.
    it('no pong: a GET exactly pingInterval + pingTimeout after the handshake gets 400, for 40 sessions at once', T, async () => {
      const sessions = await Promise.all(Array.from({ length: 40 }, () => openPolling(base, { path })));
      const results = await Promise.all(sessions.map(async (c) => {
        await sleep(PING_INTERVAL + PING_TIMEOUT - (now() - c.handshakeAt));
        return c.get();
      }));
      const late = results.filter((r) => r.status !== 400);
      assert.equal(late.length, 0, `answered instead of 400: ${late.map((r) => `${r.status} ${show(r.text)}`).join(', ')}`);
    });

    it('no pong: at ~500 ms after the handshake a GET gets 400 (ping fetched, not answered)', T, async () => {
      const c = await openPolling(base, { path });
      const r = await c.get();
      assert.equal(r.text, '2');
      await sleep(PING_INTERVAL + PING_TIMEOUT + scaled(20) - (now() - c.handshakeAt));
      const r2 = await c.get();
      assert.equal(r2.status, 400, `GET at ${(now() - c.handshakeAt).toFixed(0)} ms: ${r2.status} ${show(r2.text)}`);
    });

    it('a session answering pings stays alive well past several intervals', T, async () => {
      const c = await openPolling(base, { path, loop: true });
      if (path === '/socket.io/') await sioConnect(c, '/');
      await sleep(4 * PING_INTERVAL);
      await c.pingsAtLeast(3);
      assert.equal(c.queue.isClosed, false, `closed: ${JSON.stringify(c.queue.closeInfo)}`);
      assert.ok(c.pings >= 3, `pings seen: ${c.pings}`);
      if (path === '/engine.io/') {
        await c.send('4still-here');
        assert.equal(await c.next(), '4still-here');
      } else {
        await c.send('42["message","still-here"]');
        assert.equal(await c.next(), '42["message-back","still-here"]');
      }
    });
  });

  describe(`A.2 heartbeat over WebSocket ${path}`, () => {
    it('the server sends a frame exactly "2" ~300 ms after the handshake, then ~300 ms after each pong', T, async () => {
      const c = await openWs(base, { path, autoPong: false });
      if (path === '/socket.io/') {
        await c.send('40');
        const [connect, auth] = await c.take(2);
        assert.match(connect, /^40\{"sid":"[^"]+"\}$/);
        assert.equal(auth, '42["auth",{}]');
      }
      let ref = c.handshakeAt;
      for (let round = 0; round < 3; round++) {
        const f = await c.next(WAIT);
        const at = now();
        assert.equal(f, '2', `round ${round}: frame ${show(f)}`);
        assertPingDelay(at - ref, `round ${round}`);
        ref = now();
        await c.send('3');
      }
    });

    it('no pong: the WebSocket is closed ~200 ms after the ping', T, async () => {
      const c = await openWs(base, { path, autoPong: false });
      const f = await c.next(WAIT);
      const pingAt = now();
      assert.equal(f, '2');
      const info = await c.waitClosed(WAIT);
      const afterPing = info.at - pingAt;
      const afterHandshake = info.at - c.handshakeAt;
      assert.ok(afterPing >= PING_TIMEOUT - 60, `closed ${afterPing.toFixed(0)} ms after the ping (too early)`);
      assert.ok(afterHandshake <= PING_INTERVAL + PING_TIMEOUT + 200,
        `closed ${afterHandshake.toFixed(0)} ms after the handshake, expected ~${PING_INTERVAL + PING_TIMEOUT}`);
    });

    it('a session answering pings stays alive well past several intervals', T, async () => {
      const c = await openWs(base, { path });
      if (path === '/socket.io/') await sioConnect(c, '/');
      await sleep(4 * PING_INTERVAL);
      await c.pingsAtLeast(3);
      assert.equal(c.isOpen, true, `closed: ${JSON.stringify(c.queue.closeInfo)}`);
      assert.ok(c.pings >= 3, `pings seen: ${c.pings}`);
      if (path === '/engine.io/') {
        await c.send('4still-here');
        assert.equal(await c.nextText(), '4still-here');
      } else {
        await c.send('42["message","still-here"]');
        assert.equal(await c.nextText(), '42["message-back","still-here"]');
      }
    });
  });
}
