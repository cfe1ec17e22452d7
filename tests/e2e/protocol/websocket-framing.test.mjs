// RFC 6455 on the wire, with a raw TCP client: the upgrade handshake and its refusals,
// fragmented messages, control frames between fragments, several frames in one TCP segment,
// the close handshake, and the close codes for frames the protocol forbids. After each refusal,
// another client is still served.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { startServer } from '../helpers/server.mjs';
import { ClientPool, SETUPS, othersStillServed } from '../helpers/clients.mjs';
import { OP, WireSocket, destroyWireSockets, parseOpen, wsFrame as frame } from '../helpers/eio.mjs';

let server;
const pool = new ClientPool();

before(async () => {
  server = await startServer({ bin: 'parley-testbed' });
});
after(async () => { pool.closeAll(); await server?.stop(); });
afterEach(() => {
  destroyWireSockets();
  pool.closeAll();
});

async function raw() {
  return new WireSocket(server.url);
}

async function expectClose(ws, code) {
  const f = await ws.next();
  assert.equal(f.opcode, OP.close, `a close frame, got opcode ${f.opcode}`);
  assert.equal(f.payload.readUInt16BE(0), code);
  ws.sock.end(); // the client's side of the close handshake
  await ws.closed();
}

describe('websocket framing', () => {
  it('the 101 carries the RFC 6455 accept value and the open packet follows', async () => {
    const ws = await raw();
    const head = await ws.connect();
    assert.match(head, /^HTTP\/1\.1 101 Switching Protocols/);
    const expected = crypto.createHash('sha1').update(ws.key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
    assert.match(head, new RegExp(`\r\nSec-WebSocket-Accept: ${expected.replace(/[+/]/g, '\\$&')}(\r\n|$)`, 'i'));
    assert.match(head, /\r\nUpgrade: websocket/i);
    const open = parseOpen(await ws.nextText());
    assert.ok(open.sid && open.pingInterval > 0, 'the Engine.IO open packet');
  });

  it('a version other than 13 gets 426 with Sec-WebSocket-Version: 13', async () => {
    const ws = await raw();
    const head = await ws.connect({ 'Sec-WebSocket-Version': '8' });
    assert.match(head, /^HTTP\/1\.1 426/);
    assert.match(head, /\r\nSec-WebSocket-Version: 13/i);
    await ws.closed();
    await othersStillServed(pool, server.url, SETUPS[0]);
  });

  it('a missing or malformed Sec-WebSocket-Key gets 400', async () => {
    for (const key of [null, 'short', 'dGhl!HNhbXBsZSBub25jZQ==']) {
      const ws = await raw();
      const head = await ws.connect({ 'Sec-WebSocket-Key': key });
      assert.match(head, /^HTTP\/1\.1 400/, `key ${key}`);
      await ws.closed();
    }
    await othersStillServed(pool, server.url, SETUPS[0]);
  });

  it('a message in three fragments, with a ping between them, arrives whole; the pong echoes the ping', async () => {
    const ws = await (await raw()).ready();
    ws.send(frame(OP.text, '421["ec', { fin: false }));
    ws.send(frame(OP.ping, 'are you there'));
    ws.send(frame(OP.cont, 'ho","fragm', { fin: false }));
    ws.send(frame(OP.cont, 'ented"]'));
    const pong = await ws.next();
    assert.equal(pong.opcode, OP.pong);
    assert.equal(pong.payload.toString(), 'are you there');
    assert.equal(await ws.nextAck(), '431["fragmented"]');
  });

  it('several frames in one TCP segment are each answered; 16-bit lengths both ways', async () => {
    const ws = await (await raw()).ready();
    const long = 'L'.repeat(300);
    ws.send(Buffer.concat([
      frame(OP.text, '421["echo","one"]'),
      frame(OP.text, `422["echo","${long}"]`),
      frame(OP.text, '423["echo","three"]'),
    ]));
    assert.equal(await ws.nextAck(), '431["one"]');
    assert.equal(await ws.nextAck(), `432["${long}"]`);
    assert.equal(await ws.nextAck(), '433["three"]');
  });

  it('a frame split across many TCP writes is put back together', async () => {
    const ws = await (await raw()).ready();
    const bytes = frame(OP.text, '427["echo","byte by byte"]');
    for (let i = 0; i < bytes.length; ++i) {
      ws.send(bytes.subarray(i, i + 1));
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(await ws.nextAck(), '437["byte by byte"]');
  });

  it('a client close is echoed with its code, then the server ends the connection', async () => {
    const ws = await (await raw()).ready();
    const code = Buffer.alloc(2);
    code.writeUInt16BE(4321);
    ws.send(frame(OP.close, code));
    const f = await ws.next();
    assert.equal(f.opcode, OP.close);
    assert.equal(f.payload.readUInt16BE(0), 4321);
    await ws.closed();
  });

  const refusals = [
    ['an unmasked client frame', () => frame(OP.text, '421["echo","x"]', { masked: false }), 1002],
    ['a reserved opcode', () => frame(0x3, 'x'), 1002],
    ['RSV1 set without an extension', () => frame(OP.text, '421["echo","x"]', { rsv: 0x40 }), 1002],
    ['a continuation with no message begun', () => frame(OP.cont, 'x'), 1002],
    ['a new message inside a fragmented one', () => Buffer.concat([frame(OP.text, '42', { fin: false }), frame(OP.text, 'x')]), 1002],
    ['a fragmented ping', () => frame(OP.ping, 'x', { fin: false }), 1002],
    ['a text message that is not UTF-8', () => frame(OP.text, Buffer.from([0x34, 0x32, 0xc0, 0xaf])), 1007],
    ['a close frame with a reserved code', () => frame(OP.close, Buffer.from([0x03, 0xed])), 1002],
  ];
  for (const [what, make, code] of refusals) {
    it(`${what} closes with ${code}; other clients are served`, async () => {
      const ws = await (await raw()).ready();
      ws.send(make());
      await expectClose(ws, code);
      await othersStillServed(pool, server.url, SETUPS[0]);
    });
  }
});
