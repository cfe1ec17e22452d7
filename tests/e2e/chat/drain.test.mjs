// A deploy's SIGTERM on one process under load: the server stops taking work, answers every
// send it took once the message is stored, closes every client's transport (the stock client
// reconnects, not a Socket.IO disconnect, which it would not retry) and exits 0 within
// --drain-timeout. Restarted on the same data and port, every client recovers: each
// acknowledged message is in the store, no message was acknowledged without being stored, and
// every member has every message of its chat once, in each sender's order.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { closeAllSockets, connect, groupOf, join, startChatServer } from '../helpers/chat.mjs';
import { ChatLoad } from '../helpers/chat-load.mjs';
import { freePort, scaled } from '../helpers/server.mjs';

const DRAIN_TIMEOUT_S = 5;
const RECONNECT = { reconnection: true, reconnectionDelay: 300, reconnectionDelayMax: 1000 };

describe('drain on SIGTERM (one process)', () => {
  it('answers what it took, closes transports, exits 0; after a restart every client recovers and nothing is lost',
    { skip: process.env.PARLEY_E2E_CLUSTER ? 'one process stopped and restarted on its own data and port' : false },
    async () => {
      const port = await freePort();
      const args = ['--port', String(port), '--drain-timeout', String(DRAIN_TIMEOUT_S), '--recovery-window', '60'];
      const first = await startChatServer({ args });
      let second;
      try {
        const load = new ChatLoad({ ratePerSecond: 0.95 });
        for (let c = 0; c < 6; c++) {
          const users = Array.from({ length: 10 }, () => first.user());
          const chat = await groupOf(first, users[0], users.slice(1));
          for (const user of users) {
            const socket = await first.connect(user, RECONNECT);
            await join(socket, chat._id);
            load.add(socket, user, chat._id);
          }
        }
        load.start();
        await new Promise((resolve) => setTimeout(resolve, 2000));

        const exited = new Promise((resolve) => first.server.proc.once('exit', (code, signal) => resolve({ code, signal })));
        const termAt = Date.now();
        first.server.proc.kill('SIGTERM');
        const { code, signal } = await exited;
        const took = Date.now() - termAt;
        assert.equal(code, 0, `exit code (signal ${signal}); logs:\n${first.logs().slice(-3000)}`);
        assert.ok(took < DRAIN_TIMEOUT_S * 1000, `exited ${took} ms after SIGTERM, within --drain-timeout`);
        assert.match(first.logs(), /drained in \d+ ms/, 'the drain finished before its deadline');
        const reasons = load.members.flatMap((m) => m.disconnectReasons);
        assert.equal(reasons.length, load.members.length, 'every client saw its connection end');
        assert.deepEqual([...new Set(reasons)], ['transport close'], 'a transport close, which the client retries');

        second = await startChatServer({ dir: first.dir, secret: first.secret, args });
        await load.stop();
        await load.settled();
        const figures = load.check();

        // Each acknowledged message is stored, with its clientId (history of each chat).
        for (const [chatId, acked] of load.ackedByChat()) {
          const reader = load.members.find((m) => m.chatId === chatId).user;
          const page = await second.getMessages(reader, chatId, { limit: 100 });
          assert.equal(page.hasMore, false, 'one page holds the chat');
          const stored = new Map(page.messages.map((m) => [m._id, m.clientId]));
          for (const [serverId, clientId] of acked) assert.equal(stored.get(serverId), clientId, `${serverId} stored`);
          assert.equal(stored.size, acked.size, 'nothing stored that was not acknowledged in the end');
        }
        console.log(`drain: exit ${took} ms after SIGTERM; ${JSON.stringify(figures)}`);
      } finally {
        closeAllSockets();
        await second?.stop();
        await first.removeDir();
      }
    });
});
