// Disk full: the data dir lives on a small tmpfs that the test fills to the last byte. Sends,
// over the socket and over REST, are answered INTERNAL with a correlationId that the server
// logged; the server keeps serving everything else; once the filler is deleted, sends succeed
// again without a restart, and every message acknowledged before the fault is still stored once.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  startChatServer, emitAck, assertOk, assertError, assertHttpError, assertHttpOk, join, send, randomUUID,
} from '../helpers/chat.mjs';
import { needsRoot, mountTmpfs, fillUntilFull, removeFiller, history, assertNoDuplicates } from './lib.mjs';
import { until } from '../helpers/server.mjs';

const skip = needsRoot();

let mount;
let srv;
before(async () => {
  if (skip) return;
  mount = await mountTmpfs(8);
  srv = await startChatServer({ dir: path.join(mount.dir, 'data') });
});
after(async () => {
  await srv?.stop();
  await mount?.unmount();
});

/** Waits until the server log shows the INTERNAL line of `correlationId` (stdout is a pipe); returns it. */
async function loggedWith(correlationId) {
  const log = await until(() => srv.logs(), (text) => text.includes(`correlationId=${correlationId}`), 5000,
    `correlationId ${correlationId} in the server log`);
  return log.split('\n').find((line) => line.includes(`correlationId=${correlationId}`));
}

describe('disk full', { skip }, () => {
  it('answers sends with INTERNAL, keeps serving, and recovers without a restart when space is back', async (t) => {
    const alice = srv.user();
    const bob = srv.user();
    const dave = srv.user();
    const erin = srv.user();
    const chat = await srv.createChat(alice, { memberIds: [bob.id, dave.id, erin.id] });
    const a = await srv.connect(alice);
    const b = await srv.connect(bob);
    const d = await srv.connect(dave);
    for (const s of [a, b, d]) await join(s, chat._id);

    // Before the fault: five socket sends and one REST send, all acknowledged.
    const before = [];
    for (let i = 0; i < 5; i++) before.push(await send(a, chat._id, `before ${i}`));
    const restBefore = assertHttpOk(await srv.api(alice, 'POST', `/v1/chats/${chat._id}/messages`,
      { body: 'before over REST', clientId: randomUUID() }), 201, 'REST send before the fault');
    before.push({ clientId: restBefore.clientId, serverId: restBefore.serverId, body: 'before over REST' });

    const filler = path.join(mount.dir, 'filler');
    const filled = fillUntilFull(filler);
    t.diagnostic(`filler: ${filled} bytes, until ENOSPC`);

    // Sends now fail: socket (dave) and REST (erin), each answered INTERNAL with a logged id.
    const failed = [];
    for (let i = 0; i < 3; i++) {
      const payload = { chatId: chat._id, body: `during ${i}`, clientId: randomUUID() };
      const ack = assertError(await emitAck(d, 'message:send', payload), 'INTERNAL', 'message:send on a full disk');
      const line = await loggedWith(ack.correlationId);
      assert.match(line, /INTERNAL/, 'logged as INTERNAL');
      if (i === 0) t.diagnostic(`server log: ${line}`);
      failed.push({ socket: d, who: dave, payload });
    }
    for (let i = 0; i < 2; i++) {
      const payload = { body: `during REST ${i}`, clientId: randomUUID() };
      const res = await srv.api(erin, 'POST', `/v1/chats/${chat._id}/messages`, payload);
      const err = assertHttpError(res, 500, 'INTERNAL', 'POST messages on a full disk');
      const line = await loggedWith(err.correlationId);
      if (i === 0) t.diagnostic(`server log: ${line}`);
      failed.push({ who: erin, payload: { chatId: chat._id, ...payload } });
    }
    assert.ok(srv.server.alive, 'the server is still running');

    // Everything else keeps working: heartbeats of the app, reads, the other clients.
    assertOk(await emitAck(b, 'presence:ping', {}), 'presence:ping on a full disk');
    assert.ok(a.connected && b.connected && d.connected, 'every client is still connected');
    const during = await history(srv, bob, chat._id);
    assert.deepEqual(during.map((m) => m._id), before.map((m) => m.serverId),
      'history on a full disk: exactly the messages acknowledged before it');
    const ready = await fetch(`${srv.url}/readyz`);
    assert.equal(ready.status, 200, 'readyz: the store still answers reads');
    const late = await srv.connect(srv.user());
    assert.ok(late.connected, 'a new client can connect on a full disk');
    assert.equal(b.rec.all('message:new').length, before.length, 'no message:new for a send that failed');

    // Space is back: the same server stores again.
    await removeFiller(filler);
    const after1 = await send(a, chat._id, 'after the fault');
    const resent = [];
    for (const f of failed) {
      if (f.socket) {
        const ack = assertOk(await emitAck(f.socket, 'message:send', f.payload), 're-send after the fault');
        resent.push(ack.serverId);
      } else {
        const { chatId, ...body } = f.payload;
        const data = assertHttpOk(await srv.api(f.who, 'POST', `/v1/chats/${chatId}/messages`, body), 201,
          'REST re-send after the fault: created now, so nothing had been stored');
        resent.push(data.serverId);
      }
    }
    assert.equal(new Set(resent).size, failed.length, 'each re-send stored its own new message');

    const final = await history(srv, bob, chat._id);
    assertNoDuplicates(final, 'history after the fault');
    assert.deepEqual(final.map((m) => m._id), [...before.map((m) => m.serverId), after1.serverId, ...resent],
      'every acknowledged message once, in order; no trace of the failed attempts');
    for (const m of before) {
      const stored = final.find((x) => x._id === m.serverId);
      assert.equal(stored.clientId, m.clientId);
      assert.equal(stored.body, m.body);
    }
    t.diagnostic(`acknowledged before the fault ${before.length}, refused during it ${failed.length}, ` +
      `stored after it ${1 + resent.length}`);
  });
});
