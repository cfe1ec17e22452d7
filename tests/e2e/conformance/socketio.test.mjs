// CONFORMANCE.md A.4: Socket.IO v5 on /socket.io/ (namespaces "/" and "/custom"), with raw
// Engine.IO packets over WebSocket and over HTTP long-polling. Replies are compared as text.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { CONNECT_TIMEOUT, startParley } from './lib.mjs';
import { sleep, withTimeout } from '../helpers/server.mjs';
import {
  RS, WAIT, openWs, openPolling, sioWs, sioPolling, sioConnect, WsClient, wsUrl, closeAll, show, PH,
} from '../helpers/eio.mjs';

const T = { timeout: 8000 };
let srv;
let base;

before(async () => { srv = await startParley(); base = srv.url; });
after(async () => { await closeAll(); await srv?.stop(); });
afterEach(() => closeAll());

const PATH = '/socket.io/';
const PH0 = JSON.stringify(PH(0)); // {"_placeholder":true,"num":0}
const PH1 = JSON.stringify(PH(1));
const b64 = (bytes) => 'b' + Buffer.from(bytes).toString('base64');

// Values whose canonical JSON text (JSON.stringify) is what the server must send back.
const TRICKY_ARGS = [
  1, -2, 3.5, 0, 0.1, -0.25, 123456789012, 9007199254740991,
  'plain', '', 'héllo wörld — ñ', '日本語テキスト', '😀👍🏽🇫🇷', 'line\u2028sep\u2029para',
  'quote " backslash \\ slash / tab-free', '<script>&amp;</script>',
  true, false, null,
  { z: 1, a: 2, m: { y: [], x: {} }, 'k e y': 'v', 'ключ': 'значение' },
  [[], {}, [null, [true]]],
];

/** Reads `n` text packets from a WsClient or looping PollingClient. */
async function texts(c, n, timeout = WAIT) {
  const got = await c.take(n, timeout);
  got.forEach((g, i) => assert.equal(typeof g, 'string', `packet ${i} should be text, got ${show(g)}`));
  return got;
}

function assertBinary(frame, bytes, what) {
  assert.ok(Buffer.isBuffer(frame), `${what}: expected a binary frame, got ${show(frame)}`);
  assert.deepEqual([...frame], bytes, what);
}

// ---------------------------------------------------------------------------------------
// CONNECT
// ---------------------------------------------------------------------------------------

const CONNECT_CASES = [
  { send: '40', reply: /^40\{"sid":"[^"]+"\}$/, auth: '42["auth",{}]', off: 2 },
  { send: '40{"token":"123"}', reply: /^40\{"sid":"[^"]+"\}$/, auth: '42["auth",{"token":"123"}]', off: 2 },
  { send: '40/custom,', reply: /^40\/custom,\{"sid":"[^"]+"\}$/, auth: '42/custom,["auth",{}]', off: 10 },
  { send: '40/custom,{"token":"abc"}', reply: /^40\/custom,\{"sid":"[^"]+"\}$/, auth: '42/custom,["auth",{"token":"abc"}]', off: 10 },
  { send: '40/custom', reply: /^40\/custom,\{"sid":"[^"]+"\}$/, auth: '42/custom,["auth",{}]', off: 10 },
];

describe('A.4 CONNECT over WebSocket', () => {
  for (const k of CONNECT_CASES) {
    it(`${k.send} -> connect reply with only "sid", then ${k.auth}`, T, async () => {
      const c = await openWs(base, { path: PATH });
      await c.send(k.send);
      const [reply, auth] = await texts(c, 2);
      assert.match(reply, k.reply);
      assert.deepEqual(Object.keys(JSON.parse(reply.slice(k.off))), ['sid']);
      assert.equal(auth, k.auth);
    });
  }

  it('the auth payload is echoed as compact text: key order, strings, unicode, integers', T, async () => {
    const c = await openWs(base, { path: PATH });
    const auth = '{"token":"t😀k","z":{"b":[1,-2,true,null,"\u2028","",{}],"a":"é"},"n":123456789012}';
    await c.send(`40/custom,${auth}`);
    const [reply, ev] = await texts(c, 2);
    assert.match(reply, /^40\/custom,\{"sid":"[^"]+"\}$/);
    assert.equal(ev, `42/custom,["auth",${auth}]`);
  });

  it('the auth payload keeps non-integer numbers as given (2.5, 0.1, -0.25)', T, async () => {
    const c = await openWs(base, { path: PATH });
    const auth = '{"a":2.5,"b":[0.1,-0.25],"c":3.14159}';
    await c.send(`40${auth}`);
    const [reply, ev] = await texts(c, 2);
    assert.match(reply, /^40\{"sid":"[^"]+"\}$/);
    assert.equal(ev, `42["auth",${auth}]`);
  });

  it('each namespace connection gets a sid; two namespaces on one connection', T, async () => {
    const c = await openWs(base, { path: PATH });
    const a = await sioConnect(c, '/');
    const b = await sioConnect(c, '/custom');
    assert.equal(typeof a, 'string');
    assert.equal(typeof b, 'string');
    assert.notEqual(a, b);
  });

  it('40/random -> 44/random,{"message":"Invalid namespace"}; the connection stays open', T, async () => {
    const c = await openWs(base, { path: PATH });
    await c.send('40/random');
    assert.equal(await c.nextText(), '44/random,{"message":"Invalid namespace"}');
    await c.send('40/random,{"token":"x"}');
    assert.equal(await c.nextText(), '44/random,{"message":"Invalid namespace"}');
    // Still usable: connect to "/" and exchange a message.
    await sioConnect(c, '/');
    await c.send('42["message","after-invalid-nsp"]');
    assert.equal(await c.nextText(), '42["message-back","after-invalid-nsp"]');
    assert.equal(c.isOpen, true);
  });
});

describe('A.4 CONNECT over polling', () => {
  for (const k of CONNECT_CASES) {
    it(`${k.send} -> connect reply with only "sid", then ${k.auth}`, T, async () => {
      const c = await openPolling(base, { path: PATH, loop: true });
      await c.send(k.send);
      const [reply, auth] = await texts(c, 2);
      assert.match(reply, k.reply);
      assert.deepEqual(Object.keys(JSON.parse(reply.slice(k.off))), ['sid']);
      assert.equal(auth, k.auth);
    });
  }

  it('40/random -> 44/random,{"message":"Invalid namespace"}; the session stays open', T, async () => {
    const c = await openPolling(base, { path: PATH, loop: true });
    await c.send('40/random');
    assert.equal(await c.next(), '44/random,{"message":"Invalid namespace"}');
    await sioConnect(c, '/custom');
    await c.send('42/custom,["message",1]');
    assert.equal(await c.next(), '42/custom,["message-back",1]');
  });
});

// ---------------------------------------------------------------------------------------
// Events, acks and the text of the JSON sent back
// ---------------------------------------------------------------------------------------

const TRANSPORTS = [
  { name: 'WebSocket', open: (opts) => sioWs(base, opts) },
  { name: 'polling', open: (opts) => sioPolling(base, opts) },
];

for (const tr of TRANSPORTS) {
  describe(`A.4 events and acks over ${tr.name}`, () => {
    it('42["message",1,"2",{"3":[true]}] -> 42["message-back",1,"2",{"3":[true]}]', T, async () => {
      const c = await tr.open();
      await c.send('42["message",1,"2",{"3":[true]}]');
      assert.equal(await c.next(), '42["message-back",1,"2",{"3":[true]}]');
    });

    it('message with no arguments -> 42["message-back"]', T, async () => {
      const c = await tr.open();
      await c.send('42["message"]');
      assert.equal(await c.next(), '42["message-back"]');
    });

    it('/custom: 42/custom,["message",...] -> 42/custom,["message-back",...]', T, async () => {
      const c = await tr.open({ nsps: ['/custom'] });
      await c.send('42/custom,["message",{"x":[1,"y"]}]');
      assert.equal(await c.next(), '42/custom,["message-back",{"x":[1,"y"]}]');
    });

    it('42456["message-with-ack",1,"2",{"3":[false]}] -> 43456[1,"2",{"3":[false]}]', T, async () => {
      const c = await tr.open();
      await c.send('42456["message-with-ack",1,"2",{"3":[false]}]');
      assert.equal(await c.next(), '43456[1,"2",{"3":[false]}]');
    });

    it('ack id 0 with no arguments -> 430[]; large ack id round-trips', T, async () => {
      const c = await tr.open();
      await c.send('420["message-with-ack"]');
      assert.equal(await c.next(), '430[]');
      await c.send('422147483647["message-with-ack","big"]');
      assert.equal(await c.next(), '432147483647["big"]');
    });

    it('/custom ack: 42/custom,7["message-with-ack","x"] -> 43/custom,7["x"]', T, async () => {
      const c = await tr.open({ nsps: ['/custom'] });
      await c.send('42/custom,7["message-with-ack","x"]');
      assert.equal(await c.next(), '43/custom,7["x"]');
    });

    it('the JSON sent back is compact text: key order, numbers, non-ASCII, emoji, U+2028 preserved', T, async () => {
      const c = await tr.open();
      await c.send('42' + JSON.stringify(['message', ...TRICKY_ARGS]));
      assert.equal(await c.next(), '42' + JSON.stringify(['message-back', ...TRICKY_ARGS]));
      await c.send('4299' + JSON.stringify(['message-with-ack', ...TRICKY_ARGS]));
      assert.equal(await c.next(), '4399' + JSON.stringify(TRICKY_ARGS));
    });

    it('control characters come back escaped exactly as JSON.stringify escapes them', T, async () => {
      const c = await tr.open();
      const s = 'a\u0001b\u001ec\u001f\n\r\t\b\f\u007f\u0000z';
      await c.send('42' + JSON.stringify(['message', s]));
      assert.equal(await c.next(), '42' + JSON.stringify(['message-back', s]));
    });

    it('both namespaces multiplexed on one connection, replies in order with the right prefix', T, async () => {
      const c = await tr.open({ nsps: ['/', '/custom'] });
      const sent = [];
      const expected = [];
      for (let i = 0; i < 10; i++) {
        const nsp = i % 2 ? '/custom,' : '';
        sent.push(`42${nsp}["message",${i}]`);
        expected.push(`42${nsp}["message-back",${i}]`);
      }
      if (c instanceof WsClient) await c.sendAll(sent); else await c.send(sent.join(RS));
      assert.deepEqual(await texts(c, expected.length), expected);
    });

    it('100 back-to-back messages are answered in order', T, async () => {
      const c = await tr.open();
      const sent = Array.from({ length: 100 }, (_, i) => `42["message",${i},"m${i}"]`);
      if (c instanceof WsClient) await c.sendAll(sent); else await c.send(sent.join(RS));
      const got = await texts(c, 100, 4000);
      assert.deepEqual(got, sent.map((_, i) => `42["message-back",${i},"m${i}"]`));
    });

    it('a 200 kB message is echoed exactly', T, async () => {
      const c = await tr.open();
      const big = 'x'.repeat(100_000) + 'é😀'.repeat(25_000); // > 200 kB of UTF-8
      await c.send(`42["message",${JSON.stringify(big)}]`);
      const got = await c.next(4000);
      assert.ok(got === `42["message-back",${JSON.stringify(big)}]`, `reply differs (length ${got.length})`);
    });
  });
}

// ---------------------------------------------------------------------------------------
// Binary attachments
// ---------------------------------------------------------------------------------------

describe('A.4 binary over WebSocket', () => {
  it('452-["message",<ph0>,<ph1>] + 2 binary frames -> 452-["message-back",<ph0>,<ph1>] + the 2 frames', T, async () => {
    const c = await sioWs(base);
    await c.sendAll([`452-["message",${PH0},${PH1}]`, Buffer.from([1, 2, 3]), Buffer.from([4, 5, 6])]);
    const [head, a, b] = await c.take(3);
    assert.equal(head, `452-["message-back",${PH0},${PH1}]`);
    assertBinary(a, [1, 2, 3], 'attachment 0');
    assertBinary(b, [4, 5, 6], 'attachment 1');
  });

  it('452-789["message-with-ack",<ph0>,<ph1>] + 2 frames -> 462-789[<ph0>,<ph1>] + the 2 frames', T, async () => {
    const c = await sioWs(base);
    await c.sendAll([`452-789["message-with-ack",${PH0},${PH1}]`, Buffer.from([1, 2, 3]), Buffer.from([4, 5, 6])]);
    const [head, a, b] = await c.take(3);
    assert.equal(head, `462-789[${PH0},${PH1}]`);
    assertBinary(a, [1, 2, 3], 'attachment 0');
    assertBinary(b, [4, 5, 6], 'attachment 1');
  });

  it('/custom binary ack: 452-/custom,789[...] -> 462-/custom,789[...] + frames', T, async () => {
    const c = await sioWs(base, { nsps: ['/custom'] });
    await c.sendAll([`452-/custom,789["message-with-ack",${PH0},${PH1}]`, Buffer.from([0xff, 0]), Buffer.from([0x1e])]);
    const [head, a, b] = await c.take(3);
    assert.equal(head, `462-/custom,789[${PH0},${PH1}]`);
    assertBinary(a, [0xff, 0], 'attachment 0');
    assertBinary(b, [0x1e], 'attachment 1');
  });

  it('a placeholder nested in objects and mixed with JSON round-trips', T, async () => {
    const c = await sioWs(base);
    const head = `["message",{"meta":"é😀\u2028","ratio":0.5,"file":${PH0},"list":[1,-2.25,{"blob":${PH1}}]},"tail"]`;
    await c.sendAll([`452-${head}`, Buffer.from('hello'), Buffer.from([0, 1, 2, 3, 4])]);
    const [h, a, b] = await c.take(3);
    assert.equal(h, `452-${head.replace('"message"', '"message-back"')}`);
    assertBinary(a, [...Buffer.from('hello')], 'attachment 0');
    assertBinary(b, [0, 1, 2, 3, 4], 'attachment 1');
  });

  it('a text message right after a binary packet is answered after it, in order', T, async () => {
    const c = await sioWs(base);
    await c.sendAll([`451-["message",${PH0}]`, Buffer.from([42]), '42["message","next"]']);
    const [h, a, t] = await c.take(3);
    assert.equal(h, `451-["message-back",${PH0}]`);
    assertBinary(a, [42], 'attachment');
    assert.equal(t, '42["message-back","next"]');
  });
});

describe('A.4 binary over polling (b<base64> attachments)', () => {
  it('452-["message",<ph0>,<ph1>] + bAQID + bBAUG -> 452-["message-back",...] + bAQID + bBAUG', T, async () => {
    const c = await sioPolling(base);
    await c.send([`452-["message",${PH0},${PH1}]`, b64([1, 2, 3]), b64([4, 5, 6])].join(RS));
    assert.deepEqual(await c.take(3), [`452-["message-back",${PH0},${PH1}]`, 'bAQID', 'bBAUG']);
  });

  it('452-789["message-with-ack",...] + 2 attachments -> 462-789[<ph0>,<ph1>] + the 2 attachments', T, async () => {
    const c = await sioPolling(base);
    await c.send([`452-789["message-with-ack",${PH0},${PH1}]`, b64([1, 2, 3]), b64([4, 5, 6])].join(RS));
    assert.deepEqual(await c.take(3), [`462-789[${PH0},${PH1}]`, 'bAQID', 'bBAUG']);
  });

  it('attachments sent in separate POSTs are reassembled (/custom)', T, async () => {
    const c = await sioPolling(base, { nsps: ['/custom'] });
    await c.send(`452-/custom,5["message-with-ack",${PH0},${PH1}]`);
    await c.send(b64([250, 251]));
    await c.send(b64([0]));
    assert.deepEqual(await c.take(3), [`462-/custom,5[${PH0},${PH1}]`, b64([250, 251]), b64([0])]);
  });

  it('binary attachments over polling are delivered as binary frames after an upgrade', T, async () => {
    const c = await sioPolling(base);
    const ws = new WsClient(wsUrl(base, { path: PATH, sid: c.sid }));
    await withTimeout(ws.opened, WAIT, 'upgrade websocket');
    await ws.sendAll(['2probe', '5']);
    assert.equal(await ws.nextText(), '3probe');
    await ws.sendAll([`451-["message",${PH0}]`, Buffer.from([7, 7])]);
    const [h, a] = await ws.take(2);
    assert.equal(h, `451-["message-back",${PH0}]`);
    assertBinary(a, [7, 7], 'attachment');
  });
});

// ---------------------------------------------------------------------------------------
// DISCONNECT
// ---------------------------------------------------------------------------------------

describe('A.4 DISCONNECT', () => {
  it('41/custom: nothing sent back, "/" keeps working, re-CONNECT to /custom works', T, async () => {
    const c = await sioWs(base, { nsps: ['/', '/custom'] });
    await c.sendAll(['41/custom', '42["message","to main"]']);
    assert.equal(await c.nextText(), '42["message-back","to main"]');
    await sioConnect(c, '/custom');
    await c.send('42/custom,["message","custom again"]');
    assert.equal(await c.nextText(), '42/custom,["message-back","custom again"]');
  });

  it('41: nothing sent back, the Engine.IO connection stays, /custom keeps working, re-CONNECT to "/" works', T, async () => {
    const c = await sioWs(base, { nsps: ['/', '/custom'] });
    await c.sendAll(['41', '42/custom,["message","to custom"]']);
    assert.equal(await c.nextText(), '42/custom,["message-back","to custom"]');
    await sioConnect(c, '/');
    await c.send('42["message","main again"]');
    assert.equal(await c.nextText(), '42["message-back","main again"]');
  });

  it('41 on the only namespace: silence, the connection stays open, a later CONNECT works', T, async () => {
    const c = await sioWs(base);
    await c.send('41');
    // Nothing answers the 41: the first frame after it is the answer to the next CONNECT.
    await sioConnect(c, '/');
    await c.send('42["message","back"]');
    assert.equal(await c.nextText(), '42["message-back","back"]');
  });

  it('over polling: 41/custom is silent and "/" keeps working', T, async () => {
    const c = await sioPolling(base, { nsps: ['/', '/custom'] });
    await c.send(`41/custom${RS}42["message","main"]`);
    assert.equal(await c.next(), '42["message-back","main"]');
    await sioConnect(c, '/custom');
  });
});

// ---------------------------------------------------------------------------------------
// Invalid packets close the Engine.IO connection
// ---------------------------------------------------------------------------------------

describe('A.4 invalid packets close the connection', () => {
  // Auto-pong is on, so neither the heartbeat nor (after a CONNECT) connectTimeout can be
  // what closes the socket within these bounds.
  it('4abc as the very first packet (before any CONNECT) -> closed', T, async () => {
    const c = await openWs(base, { path: PATH });
    await c.send('4abc');
    const info = await c.waitClosed(CONNECT_TIMEOUT - 300);
    assert.ok(info.at - c.handshakeAt < CONNECT_TIMEOUT - 200, 'closed by connectTimeout, not by the invalid packet');
  });

  for (const bad of [
    '4abc',
    '42{}',
    '42"message"',
    '42abc["message-with-ack",1,"2",{"3":[false]}]',
    '42["message"',
    '42["message",1,]',
  ]) {
    it(`${show(bad)} after CONNECT -> closed`, T, async () => {
      const c = await sioWs(base);
      await c.send(bad);
      await c.waitClosed(WAIT);
    });
  }

  it('over polling: 42{} after CONNECT closes the session (later GET -> 400)', T, async () => {
    const c = await sioPolling(base);
    await c.send('42{}').catch(() => {}); // the POST itself may be refused or dropped
    const info = await c.waitClosed(WAIT);
    assert.ok(info.status === 400 || info.error, `session end: ${JSON.stringify(info)}`);
  });
});

// ---------------------------------------------------------------------------------------
// connectTimeout (1000 ms)
// ---------------------------------------------------------------------------------------

describe('A.4 connectTimeout', () => {
  it('WebSocket without CONNECT is closed ~1000 ms after the handshake (pings answered)', T, async () => {
    const c = await openWs(base, { path: PATH });
    const info = await c.waitClosed(CONNECT_TIMEOUT + 1000);
    const ms = info.at - c.handshakeAt;
    assert.ok(ms >= CONNECT_TIMEOUT - 200, `closed after ${ms.toFixed(0)} ms although pings were answered`);
    assert.ok(c.pings >= 2, `pings answered: ${c.pings}`);
  });

  it('polling without CONNECT is closed ~1000 ms after the handshake (pings answered)', T, async () => {
    const c = await openPolling(base, { path: PATH, loop: true });
    const info = await c.waitClosed(CONNECT_TIMEOUT + 1000);
    const ms = info.at - c.handshakeAt;
    assert.ok(ms >= CONNECT_TIMEOUT - 200, `closed after ${ms.toFixed(0)} ms although pings were answered`);
  });

  it('a CONNECT in time keeps the connection past 1000 ms', T, async () => {
    const c = await sioWs(base);
    await sleep(CONNECT_TIMEOUT + 300);
    assert.equal(c.isOpen, true, `closed: ${JSON.stringify(c.queue.closeInfo)}`);
    await c.send('42["message","late"]');
    assert.equal(await c.nextText(), '42["message-back","late"]');
  });
});

// ---------------------------------------------------------------------------------------
// Upgrade carrying Socket.IO, and many clients
// ---------------------------------------------------------------------------------------

describe('A.4 Socket.IO across an upgrade and with many clients', () => {
  it('CONNECT over polling, upgrade, then events and acks over the WebSocket', T, async () => {
    const c = await sioPolling(base, { nsps: ['/', '/custom'] });
    const ws = new WsClient(wsUrl(base, { path: PATH, sid: c.sid }));
    await withTimeout(ws.opened, WAIT, 'upgrade websocket');
    await ws.send('2probe');
    assert.equal(await ws.nextText(), '3probe');
    await ws.send('5');
    await ws.sendAll(['42["message","over ws"]', '42/custom,3["message-with-ack","ack over ws"]']);
    assert.deepEqual(await ws.take(2), ['42["message-back","over ws"]', '43/custom,3["ack over ws"]']);
  });

  it('50 concurrent WebSocket clients each get their own replies', T, async () => {
    const clients = await Promise.all(Array.from({ length: 50 }, () => sioWs(base)));
    await Promise.all(clients.map((c, i) => c.send(`42["message","client ${i}"]`)));
    const replies = await Promise.all(clients.map((c) => c.nextText()));
    replies.forEach((r, i) => assert.equal(r, `42["message-back","client ${i}"]`));
  });

  it('20 concurrent polling clients each get their own replies', T, async () => {
    const clients = await Promise.all(Array.from({ length: 20 }, () => sioPolling(base)));
    await Promise.all(clients.map((c, i) => c.send(`42${i}["message-with-ack","client ${i}"]`)));
    const replies = await Promise.all(clients.map((c) => c.next()));
    replies.forEach((r, i) => assert.equal(r, `43${i}["client ${i}"]`));
  });
});

