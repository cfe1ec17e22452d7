// RFC 6455 on the wire, with a raw TCP client: the upgrade handshake and its refusals,
// fragmented messages, control frames between fragments, several frames in one TCP segment,
// the close handshake, and the close codes for frames the protocol forbids. After each refusal,
// another client is still served.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import crypto from 'node:crypto';
import { startServer } from '../helpers/server.mjs';
import { ClientPool, connectClient, SETUPS } from '../helpers/clients.mjs';

let server;
const pool = new ClientPool();
const open = new Set();

before(async () => {
  server = await startServer({ bin: 'parley-testbed' });
});
after(async () => { pool.closeAll(); await server?.stop(); });
afterEach(() => {
  for (const s of open) s.destroy();
  open.clear();
  pool.closeAll();
});

const OP = { cont: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa };

/** A client frame: masked unless `masked: false`; `fin` defaults to true; `rsv` sets RSV bits. */
function frame(opcode, payload, { fin = true, masked = true, rsv = 0 } = {}) {
  const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload ?? '');
  const len = data.length;
  const head = [((fin ? 0x80 : 0) | rsv | opcode)];
  const maskBit = masked ? 0x80 : 0;
  if (len < 126) head.push(maskBit | len);
  else if (len < 65536) head.push(maskBit | 126, len >> 8, len & 0xff);
  else {
    head.push(maskBit | 127, 0, 0, 0, 0);
    head.push((len >>> 24) & 0xff, (len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff);
  }
  if (!masked) return Buffer.concat([Buffer.from(head), data]);
  const mask = crypto.randomBytes(4);
  const body = Buffer.from(data);
  for (let i = 0; i < body.length; ++i) body[i] ^= mask[i % 4];
  return Buffer.concat([Buffer.from(head), mask, body]);
}

/** A raw WebSocket: the HTTP upgrade by hand, then server frames parsed as they arrive. */
class RawSocket {
  constructor() {
    this.frames = [];
    this.waiters = [];
    this.buffer = Buffer.alloc(0);
    this.ended = false;
  }

  /** Sends the upgrade with `headers` overriding the defaults; resolves with the HTTP head. */
  async connect(headers = {}) {
    const url = new URL(server.url);
    this.key = crypto.randomBytes(16).toString('base64');
    const all = {
      Host: url.host, Upgrade: 'websocket', Connection: 'Upgrade',
      'Sec-WebSocket-Key': this.key, 'Sec-WebSocket-Version': '13', ...headers,
    };
    this.sock = net.connect(Number(url.port), url.hostname);
    open.add(this.sock);
    this.sock.on('error', () => {});
    this.sock.on('close', () => { this.ended = true; this.wake(); });
    const lines = Object.entries(all).filter(([, v]) => v !== null).map(([k, v]) => `${k}: ${v}`);
    this.sock.write(`GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`);
    const head = await new Promise((resolve, reject) => {
      let text = Buffer.alloc(0);
      const onData = (d) => {
        text = Buffer.concat([text, d]);
        const end = text.indexOf('\r\n\r\n');
        if (end < 0) return;
        this.sock.off('data', onData);
        this.buffer = text.subarray(end + 4);
        resolve(text.subarray(0, end).toString());
      };
      this.sock.on('data', onData);
      this.sock.once('close', () => reject(new Error('closed during the handshake')));
      setTimeout(() => reject(new Error('no handshake reply')), 3000);
    });
    this.sock.on('data', (d) => { this.buffer = Buffer.concat([this.buffer, d]); this.parse(); });
    this.parse();
    return head;
  }

  parse() {
    while (this.buffer.length >= 2) {
      const b0 = this.buffer[0];
      const b1 = this.buffer[1];
      assert.equal(b1 & 0x80, 0, 'server frames are not masked');
      let len = b1 & 0x7f;
      let pos = 2;
      if (len === 126) { if (this.buffer.length < 4) return; len = this.buffer.readUInt16BE(2); pos = 4; }
      else if (len === 127) { if (this.buffer.length < 10) return; len = Number(this.buffer.readBigUInt64BE(2)); pos = 10; }
      if (this.buffer.length < pos + len) return;
      this.frames.push({ fin: !!(b0 & 0x80), opcode: b0 & 0x0f, payload: this.buffer.subarray(pos, pos + len) });
      this.buffer = this.buffer.subarray(pos + len);
    }
    this.wake();
  }

  wake() {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** The next frame from the server; engine.io pings ("2") are skipped unless `pings`. */
  async next({ timeout = 3000, pings = false } = {}) {
    const deadline = Date.now() + timeout;
    for (;;) {
      while (this.frames.length) {
        const f = this.frames.shift();
        if (!pings && f.opcode === OP.text && f.payload.toString() === '2') continue;
        return f;
      }
      if (this.ended) throw new Error('connection closed');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('no frame in time');
      await new Promise((resolve) => { this.waiters.push(resolve); setTimeout(resolve, left); });
    }
  }

  async nextText(opts) {
    const f = await this.next(opts);
    assert.equal(f.opcode, OP.text, `a text frame, got opcode ${f.opcode}`);
    return f.payload.toString();
  }

  /** Resolves once the server has ended the TCP connection. */
  async closed(timeout = 3000) {
    const deadline = Date.now() + timeout;
    while (!this.ended) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('the server did not end the connection');
      await new Promise((resolve) => { this.waiters.push(resolve); setTimeout(resolve, left); });
    }
  }

  /** The next ack packet (the testbed's echo also emits "echo-back" first). */
  async nextAck(opts) {
    for (;;) {
      const text = await this.nextText(opts);
      if (text.startsWith('43')) return text;
    }
  }

  send(buf) { this.sock.write(buf); }

  /** Handshake, Engine.IO open, Socket.IO CONNECT on "/": ready for events. */
  async ready() {
    const head = await this.connect();
    assert.match(head, /^HTTP\/1\.1 101/);
    const openPacket = await this.nextText();
    assert.match(openPacket, /^0\{/);
    this.send(frame(OP.text, '40'));
    assert.match(await this.nextText(), /^40\{"sid":/);
    return this;
  }
}

async function raw() {
  return new RawSocket();
}

async function expectClose(ws, code) {
  const f = await ws.next();
  assert.equal(f.opcode, OP.close, `a close frame, got opcode ${f.opcode}`);
  assert.equal(f.payload.readUInt16BE(0), code);
  ws.sock.end(); // the client's side of the close handshake
  await ws.closed();
}

async function othersStillServed() {
  const socket = await connectClient(pool, server.url, SETUPS[0]);
  assert.equal(await socket.timeout(3000).emitWithAck('echo', 'still here'), 'still here');
}

describe('websocket framing', () => {
  it('the 101 carries the RFC 6455 accept value and the open packet follows', async () => {
    const ws = await raw();
    const head = await ws.connect();
    assert.match(head, /^HTTP\/1\.1 101 Switching Protocols/);
    const expected = crypto.createHash('sha1').update(ws.key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
    assert.match(head, new RegExp(`\r\nSec-WebSocket-Accept: ${expected.replace(/[+/]/g, '\\$&')}(\r\n|$)`, 'i'));
    assert.match(head, /\r\nUpgrade: websocket/i);
    const open = JSON.parse((await ws.nextText()).slice(1));
    assert.ok(open.sid && open.pingInterval > 0, 'the Engine.IO open packet');
  });

  it('a version other than 13 gets 426 with Sec-WebSocket-Version: 13', async () => {
    const ws = await raw();
    const head = await ws.connect({ 'Sec-WebSocket-Version': '8' });
    assert.match(head, /^HTTP\/1\.1 426/);
    assert.match(head, /\r\nSec-WebSocket-Version: 13/i);
    await ws.closed();
    await othersStillServed();
  });

  it('a missing or malformed Sec-WebSocket-Key gets 400', async () => {
    for (const key of [null, 'short', 'dGhl!HNhbXBsZSBub25jZQ==']) {
      const ws = await raw();
      const head = await ws.connect({ 'Sec-WebSocket-Key': key });
      assert.match(head, /^HTTP\/1\.1 400/, `key ${key}`);
      await ws.closed();
    }
    await othersStillServed();
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
      await othersStillServed();
    });
  }
});
