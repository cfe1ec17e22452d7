// A chat of 1,000 members: all of them connect at once, and each one ends with exactly one
// presence state for every other member (online), learnt from its presence:snapshot or from one
// update, never twice from updates. A client keeps each member's newest state by timestamp, as
// the contract says: across a cluster an update may overtake the snapshot taken before it. Most take the batched form (presence:batch), whose events
// carry several changes each; a few take presence:update, one event per change, as the contract
// has it. The figures (time to all connected, to every view complete, events per client) are
// printed, never asserted.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startChatServer } from '../helpers/chat.mjs';
import { io } from '../helpers/clients.mjs';
import { scaled } from '../helpers/server.mjs';

const N = 1000;
const SINGLE = 20; // clients 0..SINGLE-1 take presence:update
const CONNECTING = 100; // handshakes in flight at once
const TIMEOUT_MS = Number(process.env.BIG_CHAT_TIMEOUT_MS ?? 90_000);

describe('a chat of 1,000 members connecting at once', () => {
  let srv;
  const sockets = [];
  before(async () => { srv = await startChatServer(); });
  after(async () => {
    for (const s of sockets) s.close();
    await srv?.stop();
  });

  it('every member ends with one online state for each of the 999 others', async () => {
    const users = Array.from({ length: N }, () => srv.user());
    const index = new Map(users.map((u, i) => [u.id, i]));
    const chat = await srv.createChat(users[0], { type: 'group', memberIds: users.slice(1).map((u) => u.id) });
    assert.equal(chat.memberIds.length, N);

    // Per client: view[j] 0 unknown, 1 online, 2 offline, as of at[j] (ms; 0: never told);
    // told[j] online updates about j.
    const clients = users.map((u, i) => ({
      i, single: i < SINGLE, view: new Uint8Array(N), at: new Float64Array(N), told: new Uint8Array(N), online: 0,
      snapshots: 0, updates: 0, batches: 0, entries: 0, foreign: 0,
    }));
    let complete = 0;
    let allComplete;
    const everyViewComplete = new Promise((resolve) => { allComplete = resolve; });
    const set = (c, userId, status, timestamp, fromUpdate) => {
      const j = index.get(userId);
      if (j === undefined) { c.foreign += 1; return; }
      if (j === c.i) return;
      if (fromUpdate && status === 'online') c.told[j] += 1;
      const at = timestamp ? Date.parse(timestamp) : 0;
      if (c.view[j] !== 0 && at < c.at[j]) return; // older than the state held
      c.at[j] = at;
      const was = c.view[j];
      c.view[j] = status === 'online' ? 1 : 2;
      c.online += (c.view[j] === 1 ? 1 : 0) - (was === 1 ? 1 : 0);
      check(c);
    };
    const check = (c) => {
      if (c.online === N - 1 && c.snapshots > 0 && !c.done) {
        c.done = true;
        if (++complete === N) allComplete();
      }
    };

    const t0 = Date.now();
    let next = 0;
    const connectOne = (c) => new Promise((resolve, reject) => {
      const u = users[c.i];
      const auth = c.single ? { token: u.token } : { token: u.token, presence: 'batch' };
      const s = io(srv.url, { transports: ['websocket'], forceNew: true, reconnection: false, auth, timeout: scaled(20_000) });
      sockets.push(s);
      s.on('presence:snapshot', (p) => {
        c.snapshots += 1;
        c.snapshotChat = p.chatId;
        c.snapshotHasSelf = p.users.some((u2) => u2.userId === u.id);
        for (const u2 of p.users) set(c, u2.userId, u2.status, u2.timestamp, false);
        check(c);
      });
      s.on('presence:update', (p) => { c.updates += 1; set(c, p.userId, p.status, p.timestamp, true); });
      s.on('presence:batch', (p) => {
        c.batches += 1;
        c.entries += p.updates.length;
        for (const u2 of p.updates) set(c, u2.userId, u2.status, u2.timestamp, true);
      });
      s.once('connect', resolve);
      s.once('connect_error', (e) => reject(new Error(`client ${c.i}: ${e.message}`)));
    });
    await Promise.all(Array.from({ length: CONNECTING }, async () => {
      while (next < N) await connectOne(clients[next++]);
    }));
    const connectedMs = Date.now() - t0;

    let timer;
    const deadline = new Promise((_, reject) => {
      timer = setTimeout(() => {
        const missing = clients.filter((c) => !c.done).slice(0, 5).map((c) => {
          const peers = [];
          for (let j = 0; j < N && peers.length < 3; j += 1) {
            if (j !== c.i && c.view[j] !== 1) {
              const toldOthers = clients.filter((o) => o.told[j] > 0).length;
              peers.push(`member ${j} ${c.view[j] === 2 ? 'offline' : 'unknown'} (told online to ${toldOthers} others)`);
            }
          }
          return `client ${c.i}: ${c.snapshots} snapshots, ${c.online} online; ${peers.join(', ')}`;
        });
        const errors = srv.logs().split('\n').filter((l) => /presence|error/i.test(l)).slice(0, 5);
        reject(new Error(`after ${scaled(TIMEOUT_MS)} ms only ${complete} of ${N} views are complete ` +
          `(${missing.join('; ')}); the server said: ${errors.join(' | ')}`));
      }, scaled(TIMEOUT_MS));
    });
    await Promise.race([everyViewComplete, deadline]).finally(() => clearTimeout(timer)).catch(async (e) => {
      if (process.env.BIG_CHAT_DEBUG) {
        const m = await srv.metrics();
        console.log(Object.entries(m).filter(([k]) => /cluster|presence/.test(k)).map(([k, v]) => `${k}=${v}`).join('\n'));
      }
      throw e;
    });
    const completeMs = Date.now() - t0;

    for (const c of clients) {
      assert.equal(c.snapshots, 1, `client ${c.i}: one presence:snapshot`);
      // The batched form's snapshot is the chat's, every member listed; the plain one the contacts'.
      assert.equal(c.snapshotChat, c.single ? undefined : chat._id, `client ${c.i}: the snapshot's chatId`);
      assert.equal(c.snapshotHasSelf, !c.single, `client ${c.i}: itself in the snapshot`);
      assert.equal(c.foreign, 0, `client ${c.i}: presence of a non-member`);
      for (let j = 0; j < N; j += 1) {
        if (j === c.i) continue;
        assert.equal(c.view[j], 1, `client ${c.i}: member ${j} is online`);
        assert.ok(c.told[j] <= 1, `client ${c.i}: told ${c.told[j]} times that member ${j} came online`);
      }
      if (c.single) assert.equal(c.batches, 0, `client ${c.i}: a plain client got presence:batch`);
      else assert.equal(c.updates, 0, `client ${c.i}: a batched client got presence:update`);
    }
    const batched = clients.filter((c) => !c.single);
    const frames = batched.reduce((n, c) => n + c.batches, 0);
    const entries = batched.reduce((n, c) => n + c.entries, 0);
    assert.ok(entries > frames, `presence:batch carried ${entries} changes in ${frames} events: no event held two`);
    const plain = clients.filter((c) => c.single).reduce((n, c) => n + c.updates, 0);
    console.log(`# ${N} members: all connected in ${connectedMs} ms, every view complete at ${completeMs} ms; ` +
      `batched clients: ${(frames / batched.length).toFixed(1)} presence:batch events each ` +
      `(${(entries / batched.length).toFixed(1)} changes); plain clients: ${(plain / SINGLE).toFixed(1)} presence:update each`);
  });
});
