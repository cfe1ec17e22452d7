// CONFORMANCE.md A.2 (handshake and transport rules over WebSocket) and A.3 (/engine.io/
// echo) over a raw WebSocket.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { ENDPOINTS, MAX_PAYLOAD, startParley } from './lib.mjs';
import {
  WAIT, openWs, openPolling, request, pollingUrl, wsUrl, wsOutcome, isRefused, closeAll, show,
} from '../helpers/eio.mjs';

const T = { timeout: 8000 };
let srv;
let base;

before(async () => { srv = await startParley(); base = srv.url; });
after(async () => { await closeAll(); await srv?.stop(); });
afterEach(() => closeAll());

const HANDSHAKE_KEYS = ['maxPayload', 'pingInterval', 'pingTimeout', 'sid', 'upgrades'];

function assertRefused(outcome, what) {
  assert.ok(isRefused(outcome), `${what}: expected HTTP 400 or a closed socket, got ${JSON.stringify(outcome, (k, v) => (typeof v === 'string' && v.length > 200 ? v.slice(0, 200) : v))}`);
}

for (const path of ENDPOINTS) {
  describe(`A.2 handshake over WebSocket ${path}`, () => {
    it('first frame is a text 0{...} with exactly the five keys and "upgrades":[]', T, async () => {
      const c = await openWs(base, { path });
      assert.equal(typeof c.openPacket, 'string');
      const open = c.handshake;
      assert.deepEqual(Object.keys(open).sort(), HANDSHAKE_KEYS);
      assert.equal(typeof open.sid, 'string');
      assert.ok(open.sid.length > 0);
      assert.deepEqual(open.upgrades, []);
      assert.equal(open.pingInterval, 300);
      assert.equal(open.pingTimeout, 200);
      assert.equal(open.maxPayload, MAX_PAYLOAD);
    });

    it('unknown query parameters are ignored', T, async () => {
      const c = await openWs(base, { path, query: '&t=Nx81qa&foo=bar' });
      assert.deepEqual(c.handshake.upgrades, []);
    });

    for (const [label, query] of [
      ['EIO missing', 'transport=websocket'],
      ['EIO=abc', 'EIO=abc&transport=websocket'],
      ['EIO=3', 'EIO=3&transport=websocket'],
      ['transport missing', 'EIO=4'],
      ['transport=abc', 'EIO=4&transport=abc'],
    ]) {
      it(`${label} -> refused (HTTP 400 or closed)`, T, async () => {
        const url = `${base.replace(/^http/, 'ws')}${path}?${query}`;
        assertRefused(await wsOutcome(url), label);
      });
    }

    it('unknown sid -> refused (HTTP 400 or closed)', T, async () => {
      assertRefused(await wsOutcome(wsUrl(base, { path, sid: 'doesNotExist0000' })), 'unknown sid');
    });

    it('HTTP polling requests with the sid of a WebSocket session -> 400; the WebSocket keeps working', T, async () => {
      const c = await openWs(base, { path });
      const g = await request(pollingUrl(base, { path, sid: c.sid }));
      assert.equal(g.status, 400, `GET: ${g.status} ${show(g.text)}`);
      const p = await request(pollingUrl(base, { path, sid: c.sid }), { method: 'POST', body: '4x' });
      assert.equal(p.status, 400, `POST: ${p.status} ${show(p.text)}`);
      assert.equal(c.isOpen, true);
      await c.send(path === '/engine.io/' ? '4ok' : '40');
      const f = await c.nextText();
      if (path === '/engine.io/') assert.equal(f, '4ok'); else assert.match(f, /^40\{"sid":"[^"]+"\}$/);
    });

    it('malformed text frame "abc" closes the WebSocket', T, async () => {
      const c = await openWs(base, { path });
      await c.send('abc');
      await c.waitClosed(1000);
    });

    it(`a frame over maxPayload (${MAX_PAYLOAD + 1} bytes) closes the WebSocket with code 1009`, T, async () => {
      const c = await openWs(base, { path });
      // The server may close as soon as it has read the frame header; the rest of our write
      // can then fail (EPIPE / ECONNRESET), which is fine: only the close matters.
      await c.send('4' + 'a'.repeat(MAX_PAYLOAD)).catch(() => {});
      const info = await c.waitClosed(WAIT);
      assert.equal(info.code, 1009, `close info ${JSON.stringify(info)}`);
    });

    it('client close packet "1" closes the WebSocket (at once or at the next ping timeout)', T, async () => {
      // No auto-pong, so a server that ignores "1" (as the reference does) closes it at ~500 ms.
      const c = await openWs(base, { path, autoPong: false });
      await c.send('1');
      await c.waitClosed(1500);
    });
  });
}

describe('A.3 /engine.io/ echo over WebSocket', () => {
  const path = '/engine.io/';

  it('a text message comes back in one text frame, unchanged', T, async () => {
    const c = await openWs(base, { path });
    await c.send('4hello');
    assert.equal(await c.nextText(), '4hello');
  });

  it('a binary frame comes back as a binary frame with the raw bytes only', T, async () => {
    const c = await openWs(base, { path });
    const bytes = Buffer.from([1, 2, 3, 4, 0, 0x34, 0x62, 0xff]); // includes '4' and 'b' bytes
    await c.send(bytes);
    const got = await c.next();
    assert.ok(Buffer.isBuffer(got), `expected a binary frame, got ${show(got)}`);
    assert.deepEqual([...got], [...bytes]);
  });

  it('text stays text and binary stays binary, one packet per frame, in order', T, async () => {
    const c = await openWs(base, { path });
    const frames = ['4a', Buffer.from([10]), '4', '4b', Buffer.from([]), Buffer.from('4text-looking', 'utf8'), '4c'];
    await c.sendAll(frames);
    const got = await c.take(frames.length);
    got.forEach((g, i) => {
      const want = frames[i];
      if (typeof want === 'string') assert.equal(g, want, `frame ${i}`);
      else {
        assert.ok(Buffer.isBuffer(g), `frame ${i}: expected binary, got ${show(g)}`);
        assert.deepEqual([...g], [...want], `frame ${i}`);
      }
    });
  });

  it('UTF-8 text (non-ASCII, emoji, U+2028) is echoed unchanged', T, async () => {
    const c = await openWs(base, { path });
    const text = '4héllo wörld — 日本語 😀👍🏽 \u2028 \u2029 \uFEFF \u0000 "quoted" \\ {}';
    await c.send(text);
    assert.equal(await c.nextText(), text);
  });

  it(`a frame of exactly maxPayload (${MAX_PAYLOAD} bytes) is accepted and echoed`, T, async () => {
    const c = await openWs(base, { path });
    const big = '4' + 'z'.repeat(MAX_PAYLOAD - 1);
    await c.send(big);
    const got = await c.nextText(WAIT);
    assert.equal(got.length, big.length);
    assert.ok(got === big, 'echo differs');
  });

  it('500 back-to-back messages are echoed in order', T, async () => {
    const c = await openWs(base, { path });
    const frames = Array.from({ length: 500 }, (_, i) => `4#${i}`);
    await c.sendAll(frames);
    assert.deepEqual(await c.take(frames.length, 4000), frames);
  });

  it('nothing else is sent: only pings besides the echoes', T, async () => {
    const c = await openWs(base, { path });
    await c.sendAll(['4one', Buffer.from([7])]);
    assert.equal(await c.nextText(), '4one');
    assert.deepEqual([...(await c.nextBinary())], [7]);
    // Pings keep flowing; the first frame after them is the echo of a probe, so nothing else came.
    await c.pingsAtLeast(2);
    await c.send('4probe');
    assert.equal(await c.nextText(), '4probe', 'only pings came between the echoes and the probe');
  });

  it('sessions are independent: each socket gets only its own echoes', T, async () => {
    const a = await openWs(base, { path });
    const b = await openWs(base, { path });
    await a.send('4for-a');
    await b.send('4for-b');
    assert.equal(await a.nextText(), '4for-a');
    assert.equal(await b.nextText(), '4for-b');
    // b's echo came; a's next frame is the echo of its own probe, not b's.
    await a.send('4probe-a');
    assert.equal(await a.nextText(), '4probe-a');
  });

  it('a WebSocket session and a polling session share the echo endpoint without crosstalk', T, async () => {
    const w = await openWs(base, { path });
    const p = await openPolling(base, { path, loop: true });
    await w.send('4ws');
    await p.send('4poll');
    assert.equal(await w.nextText(), '4ws');
    assert.equal(await p.next(), '4poll');
  });
});
