// The SIGKILL scenario of fault/kill9.test.mjs (SQLite) and fault/kill9-pg.test.mjs
// (PostgreSQL): SIGKILL during a sustained message load, then a restart on the same store:
// every acknowledged message is stored exactly once with the serverId of its ack, nothing is
// stored twice, and re-sending every send that got no ack is idempotent (a stored one answers
// its stored serverId, none appears twice).

import assert from 'node:assert/strict';
import {
  startChatServer, closeAllSockets, emitAck, assertOk, assertObjectId, randomUUID,
} from '../helpers/chat.mjs';
import { history, assertNoDuplicates } from './lib.mjs';

// 100 users x 9 messages into 5 shared chats: each user stays under the 10-per-10-s limit and
// keeps 3 sends in flight (the next one goes out as each ack comes back). A third of the way
// through the acks, the ack callback that crosses the line sends its user's next message and
// kills the server right after: that send, at least, is certainly in flight at the kill.
const USERS = 100;
const CHATS = 5;
const PER_USER = 9;
const WINDOW = 3;
const KILL_AFTER_ACKS = (USERS * PER_USER) / 3;

/**
 * Runs the scenario on `store` (a --store URI; undefined: SQLite in the server's data dir),
 * reporting its figures as diagnostics of `t`. Stops its servers, failed or not.
 */
export async function killDuringLoad(t, { store } = {}) {
  let first;
  let second;
  try {
    first = await startChatServer({ store, args: ['--handshakes-per-second', '0'] });
    const owner = first.user();
    const users = Array.from({ length: USERS }, () => first.user());
    const chats = [];
    for (let c = 0; c < CHATS; c++) {
      chats.push(await first.createChat(owner, { type: 'group', title: `load-${c}`, memberIds: users.map((u) => u.id) }));
    }
    const sockets = await Promise.all(users.map((u) => first.connect(u)));

    // Every send, in the order emitted: { user, chatId, clientId, body, ack }.
    const sends = [];
    const errors = [];
    let acked = 0;
    let killed = false;
    let resolveKilled;
    const killDone = new Promise((resolve) => { resolveKilled = resolve; });

    const sentBy = new Array(USERS).fill(0);
    const sendNext = (u) => {
      const nth = sentBy[u]++;
      const rec = {
        user: users[u], chatId: chats[(u + nth) % CHATS]._id, clientId: randomUUID(),
        body: `load u${u} n${nth} ${randomUUID()}`, ack: null,
      };
      sends.push(rec);
      // A plain callback: it simply never fires for a send the kill cut off.
      sockets[u].emit('message:send', { chatId: rec.chatId, body: rec.body, clientId: rec.clientId }, (ack) => {
        rec.ack = ack;
        if (ack?.ok !== true) {
          errors.push(ack);
          return;
        }
        acked += 1;
        if (killed || sentBy[u] >= PER_USER) return;
        sendNext(u);
        if (acked >= KILL_AFTER_ACKS) {
          killed = true;
          first.kill9().then(resolveKilled);
        }
      });
    };
    for (let u = 0; u < USERS; u++) {
      for (let w = 0; w < WINDOW; w++) sendNext(u);
    }
    await killDone;
    // Whatever was already on its way still counts: an ack is an ack. Then the clients go.
    closeAllSockets();

    assert.deepEqual(errors, [], 'no send was refused before the kill');
    const ackedSends = sends.filter((s) => s.ack?.ok === true);
    const unacked = sends.filter((s) => s.ack === null);
    t.diagnostic(`sent ${sends.length}, acknowledged ${ackedSends.length}, in flight at the kill ${unacked.length}`);
    assert.ok(ackedSends.length >= KILL_AFTER_ACKS, 'the kill came after the acks it waited for');
    assert.ok(unacked.length > 0, 'the kill cut off sends in flight');
    for (const s of ackedSends) {
      assert.equal(s.ack.data?.clientId, s.clientId, 'the ack echoes the clientId');
      assertObjectId(s.ack.data?.serverId, 'acked serverId');
    }

    // Restart on the same data dir and secret (the same tokens stay valid).
    second = await startChatServer({ store, dir: first.dir, secret: first.secret, args: ['--handshakes-per-second', '0'] });
    const key = (senderId, clientId) => `${senderId}/${clientId}`;
    const stored = new Map();
    for (const chat of chats) {
      const messages = await history(second, owner, chat._id);
      assertNoDuplicates(messages, `chat ${chat._id} after the restart`);
      for (const m of messages) stored.set(key(m.senderId, m.clientId), m);
    }
    const sentKeys = new Set(sends.map((s) => key(s.user.id, s.clientId)));
    for (const k of stored.keys()) assert.ok(sentKeys.has(k), `stored message ${k} was sent by this test`);
    for (const s of ackedSends) {
      const m = stored.get(key(s.user.id, s.clientId));
      assert.ok(m, `acknowledged message ${s.clientId} (serverId ${s.ack.data.serverId}) survived the kill`);
      assert.equal(m._id, s.ack.data.serverId, 'stored under the serverId of its ack');
      assert.equal(m.body, s.body);
      assert.equal(m.chatId, s.chatId);
    }
    const storedUnacked = unacked.filter((s) => stored.has(key(s.user.id, s.clientId)));
    t.diagnostic(`after the restart: ${stored.size} stored; of the ${unacked.length} unacknowledged, ` +
      `${storedUnacked.length} had been committed, ${unacked.length - storedUnacked.length} not`);

    // Re-send every unacknowledged message twice, back to back (both in flight at once).
    const bySender = new Map();
    for (const u of users) bySender.set(u.id, await second.connect(u));
    const resent = await Promise.all(unacked.map(async (s) => {
      const socket = bySender.get(s.user.id);
      const payload = { chatId: s.chatId, body: s.body, clientId: s.clientId };
      const [a, b] = await Promise.all([emitAck(socket, 'message:send', payload), emitAck(socket, 'message:send', payload)]);
      return { s, a: assertOk(a, `re-send ${s.clientId}`), b: assertOk(b, `second re-send ${s.clientId}`) };
    }));
    for (const { s, a, b } of resent) {
      assert.equal(a.clientId, s.clientId);
      assert.equal(b.serverId, a.serverId, 'both re-sends answer the same serverId');
      const before = stored.get(key(s.user.id, s.clientId));
      if (before) assert.equal(a.serverId, before._id, 'a committed send answers its stored serverId');
    }
    // And a retry of an acknowledged one answers its acked serverId.
    for (const s of ackedSends.slice(0, 20)) {
      const a = assertOk(await emitAck(bySender.get(s.user.id), 'message:send',
        { chatId: s.chatId, body: s.body, clientId: s.clientId }), 'retry of an acknowledged send');
      assert.equal(a.serverId, s.ack.data.serverId);
    }

    // Now every send is stored exactly once.
    let total = 0;
    const finalIds = new Map();
    for (const chat of chats) {
      const messages = await history(second, owner, chat._id);
      assertNoDuplicates(messages, `chat ${chat._id} after the re-sends`);
      total += messages.length;
      for (const m of messages) finalIds.set(key(m.senderId, m.clientId), m._id);
    }
    assert.equal(total, sends.length, 'every send is stored exactly once');
    for (const { s, a } of resent) assert.equal(finalIds.get(key(s.user.id, s.clientId)), a.serverId);
    for (const s of ackedSends) assert.equal(finalIds.get(key(s.user.id, s.clientId)), s.ack.data.serverId);
  } finally {
    closeAllSockets();
    await second?.stop(); // the restarted server, on first's data dir
    await first?.stop(); // already killed: only removes its data dir
  }
}
