// Read-only database: a data dir prepared with the CLI and a few messages, the server stopped,
// the filesystem remounted read-only, the server started on it. It starts and serves reads and
// connections; sends are answered INTERNAL with a logged correlationId; once the filesystem is
// writable again, sends succeed without restarting the server.
//
// (The server is started on an already read-only filesystem because `mount -o remount,ro`
// fails with EBUSY while a process holds a file there open for writing.)

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  startChatServer, closeAllSockets, runCli, lastJsonLine, emitAck, assertOk, assertError, assertHttpError,
  assertHttpOk, join, send, randomUUID,
} from '../helpers/chat.mjs';
import { needsRoot, mountTmpfs, history, assertNoDuplicates } from './lib.mjs';
import { until } from '../helpers/server.mjs';

const skip = needsRoot();
const secret = randomUUID();

let mount;
let srv;
after(async () => {
  closeAllSockets();
  await srv?.stop();
  await mount?.unmount();
});

describe('read-only database', { skip }, () => {
  let dir;
  let alice;
  let bob;
  let chat;
  const earlier = [];

  before(async () => {
    if (skip) return;
    mount = await mountTmpfs(16);
    dir = path.join(mount.dir, 'data');
    const cli = async (...args) => lastJsonLine((await runCli([...args, '--data-dir', dir])).stdout);
    await runCli(['migrate', '--data-dir', dir]);
    const aliceRow = await cli('user', 'add', '--email', 'alice@example.com', '--password', 'alice-pw-1', '--name', 'Alice');
    const bobRow = await cli('user', 'add', '--email', 'bob@example.com', '--password', 'bob-pw-12', '--name', 'Bob');
    chat = await cli('chat', 'create', '--type', 'group', '--title', 'ro', '--created-by', aliceRow._id,
      '--member', bobRow._id);
    const token = async (id) => (await runCli(['token', '--data-dir', dir, '--jwt-secret', secret, '--user', id]))
      .stdout.trim();
    alice = { id: aliceRow._id, token: await token(aliceRow._id) };
    bob = { id: bobRow._id, token: await token(bobRow._id) };

    // A few messages while writable, then a clean stop.
    srv = await startChatServer({ dir, secret });
    const a = await srv.connect(alice);
    await join(a, chat._id);
    for (let i = 0; i < 3; i++) earlier.push(await send(a, chat._id, `before ${i}`));
    closeAllSockets();
    await srv.stop();
    srv = null;

    await mount.readOnly();
    srv = await startChatServer({ dir, secret });
  });

  it('starts on a read-only filesystem, serves reads, refuses sends with INTERNAL, recovers when writable',
    async (t) => {
      const pid = srv.server.proc.pid;
      // Reads and connections work.
      const a = await srv.connect(alice);
      const b = await srv.connect(bob);
      await join(a, chat._id);
      await join(b, chat._id);
      assertOk(await emitAck(b, 'presence:ping', {}), 'presence:ping on a read-only database');
      const seen = await history(srv, bob, chat._id);
      assert.deepEqual(seen.map((m) => m._id), earlier.map((m) => m.serverId), 'history: the messages stored before');
      const ready = await fetch(`${srv.url}/readyz`);
      assert.equal(ready.status, 200, 'readyz: the store answers reads');

      // Sends fail, each with a correlationId the server logged.
      const failed = [];
      for (let i = 0; i < 2; i++) {
        const payload = { chatId: chat._id, body: `read-only ${i}`, clientId: randomUUID() };
        const ack = assertError(await emitAck(a, 'message:send', payload), 'INTERNAL', 'message:send on a read-only db');
        await until(() => srv.logs(), (log) => log.includes(`correlationId=${ack.correlationId}`), 5000,
          `correlationId ${ack.correlationId} in the server log`);
        failed.push(payload);
      }
      const restPayload = { body: 'read-only over REST', clientId: randomUUID() };
      const err = assertHttpError(await srv.api(bob, 'POST', `/v1/chats/${chat._id}/messages`, restPayload), 500,
        'INTERNAL', 'POST messages on a read-only db');
      await until(() => srv.logs(), (log) => log.includes(`correlationId=${err.correlationId}`), 5000,
        `correlationId ${err.correlationId} in the server log`);
      assert.ok(a.connected && b.connected, 'the clients stay connected');
      assert.equal(b.rec.all('message:new').length, 0, 'no message:new for a refused send');

      // Writable again: the same process stores.
      await mount.writable();
      const resent = [];
      for (const payload of failed) resent.push(assertOk(await emitAck(a, 'message:send', payload), 're-send').serverId);
      const rest = assertHttpOk(await srv.api(bob, 'POST', `/v1/chats/${chat._id}/messages`, restPayload), 201,
        'REST re-send: created now, nothing had been stored');
      const after1 = await send(b, chat._id, 'after the fault');
      assert.equal(srv.server.proc.pid, pid, 'the same server process');
      assert.ok(srv.server.alive, 'the server never stopped');
      await b.rec.next('message:new', (args) => args[0]?._id === after1.serverId);

      const final = await history(srv, alice, chat._id);
      assertNoDuplicates(final, 'history after the fault');
      assert.deepEqual(final.map((m) => m._id),
        [...earlier.map((m) => m.serverId), ...resent, rest.serverId, after1.serverId],
        'the messages from before once each, then the ones stored after the fault');
      t.diagnostic(`stored before ${earlier.length}, refused while read-only ${failed.length + 1}, ` +
        `stored after ${resent.length + 2}`);
    });
});
