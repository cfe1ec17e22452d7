// Chats under steady load across server restarts, with the stock socket.io-client's reconnection
// and connection state recovery, and the checks of what every member received.
//
//   const load = new ChatLoad({ ratePerSecond: 0.95 });
//   load.add(socket, user, chatId);        // a connected member that has joined the chat's room
//   load.start();
//   ... restart servers ...
//   await load.stop();                     // stops sending, waits until every send is acked
//   await load.settled(10_000);            // waits until every member has every acked message
//   load.check();                          // exactly once, per-sender order, every reconnect recovered
//
// Each member sends one message at a time, the next at least 1/ratePerSecond after the previous
// one went out (so the server's 10-per-10-seconds limit is never reached), with a clientId of
// its own. A send that is not acknowledged on its connection (the node drained without taking
// it, or the connection closed before the ack) is sent again, same clientId, as soon as the
// socket has reconnected: the clientId makes the retry idempotent. Bodies are "<user>:<n>", so
// a receiver can check each sender's order.

import assert from 'node:assert/strict';
import { scaled } from './server.mjs';

export class ChatLoad {
  constructor({ ratePerSecond = 0.95 } = {}) {
    this.intervalMs = 1000 / ratePerSecond;
    this.members = [];
    this.running = false;
    this.loops = [];
  }

  /** A connected socket of `user`, in the room of `chatId`. */
  add(socket, user, chatId) {
    const m = {
      socket, user, chatId,
      sent: 0,
      acked: new Map(), // clientId -> serverId
      received: [], // message:new payloads, in arrival order
      connects: 0,
      recoveries: [], // socket.recovered at each connect after add(): the reconnects
      disconnectReasons: [],
      gaps: [], // ms from each disconnect to the reconnect
      refusals: [], // error acks (rate limit, ...): the send was retried
    };
    // What happened to the socket, in order, with the local time: for the report of a failure.
    m.timeline = [];
    const note = (what) => m.timeline.push(`${what}@${new Date().toISOString().slice(17, 23)}`);
    socket.on('message:new', (msg) => { m.received.push(msg); note(msg._id); });
    socket.on('connect', () => {
      if (m.leftAt !== undefined) m.gaps.push(Date.now() - m.leftAt);
      m.connects += 1;
      m.recoveries.push(socket.recovered);
      note(`[connect recovered=${socket.recovered}]`);
    });
    socket.on('disconnect', (reason) => {
      m.leftAt = Date.now();
      m.disconnectReasons.push(reason);
      note(`[disconnect ${reason}]`);
    });
    this.members.push(m);
    return m;
  }

  start() {
    this.running = true;
    for (const m of this.members) this.loops.push(this.#sendLoop(m));
  }

  async #sendLoop(m) {
    // Spread the members' first sends over one interval.
    await sleepMs(Math.random() * this.intervalMs);
    while (this.running) {
      const startedAt = Date.now();
      const n = m.sent++;
      const clientId = `${m.user.id}-${n}`;
      const serverId = await this.#deliver(m, { chatId: m.chatId, body: `${m.user.id}:${n}`, clientId });
      m.acked.set(clientId, serverId);
      await sleepMs(Math.max(0, startedAt + this.intervalMs - Date.now()));
    }
  }

  // Resolves with the serverId once the send is acknowledged: sent now if connected, and again
  // after every reconnect until then.
  #deliver(m, payload) {
    return new Promise((resolve) => {
      let done = false;
      const attempt = () => {
        if (done || !m.socket.connected) return;
        m.socket.emit('message:send', payload, (ack) => {
          if (done) return;
          if (ack?.ok === true) {
            done = true;
            m.socket.off('connect', attempt);
            assert.equal(ack.data?.clientId, payload.clientId, 'the ack echoes the clientId');
            resolve(ack.data.serverId);
            return;
          }
          m.refusals.push(ack);
          setTimeout(attempt, 1000);
        });
      };
      m.socket.on('connect', attempt);
      attempt();
    });
  }

  /** Stops sending and waits until every member's last send is acknowledged. */
  async stop(timeoutMs = scaled(15_000)) {
    this.running = false;
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`sends still unacknowledged after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([Promise.all(this.loops), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Every acknowledged message of each chat: serverId -> clientId. */
  ackedByChat() {
    const byChat = new Map();
    for (const m of this.members) {
      if (!byChat.has(m.chatId)) byChat.set(m.chatId, new Map());
      for (const [clientId, serverId] of m.acked) byChat.get(m.chatId).set(serverId, clientId);
    }
    return byChat;
  }

  /** Waits until every member has received every acknowledged message of its chat. */
  async settled(timeoutMs = scaled(10_000)) {
    const byChat = this.ackedByChat();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const missing = this.members.reduce((sum, m) => {
        const got = new Set(m.received.map((msg) => msg._id));
        return sum + [...byChat.get(m.chatId).keys()].filter((id) => !got.has(id)).length;
      }, 0);
      if (missing === 0) return;
      if (Date.now() > deadline) throw new Error(`${missing} deliveries of acknowledged messages still missing after ${timeoutMs} ms`);
      await sleepMs(50);
    }
  }

  /**
   * Every acknowledged message reached every member of its chat exactly once, each sender's in
   * the order sent; nothing else arrived; every socket is connected and every reconnect was a
   * recovery. Returns figures for the test's log.
   */
  check() {
    const byChat = this.ackedByChat();
    let deliveries = 0;
    let reconnects = 0;
    for (const m of this.members) {
      const acked = byChat.get(m.chatId);
      const seen = new Map();
      const lastOf = new Map(); // sender -> last n received
      for (const [k, msg] of m.received.entries()) {
        if (seen.has(msg._id)) {
          const at = m.timeline.findLastIndex((entry) => entry.startsWith(msg._id));
          const around = m.timeline.slice(Math.max(0, at - 16), at + 3);
          assert.fail(`member ${m.user.id} got ${msg._id} (${msg.body} at ${msg.createdAt}) twice: ${around.join(' ')}`);
        }
        seen.set(msg._id, (seen.get(msg._id) ?? 0) + 1);
        assert.ok(acked.has(msg._id), `member ${m.user.id} got ${msg._id} (${msg.body}), which no sender had acknowledged`);
        const [sender, n] = msg.body.split(':');
        const last = lastOf.get(sender) ?? -1;
        assert.ok(Number(n) > last, `member ${m.user.id} got ${msg.body} after ${sender}:${last}: out of the sender's order`);
        lastOf.set(sender, Number(n));
      }
      const doubled = [...seen].filter(([, count]) => count > 1);
      assert.deepEqual(doubled, [], `member ${m.user.id} got messages more than once`);
      assert.equal(seen.size, acked.size, `member ${m.user.id} got every acknowledged message of its chat`);
      assert.equal(m.socket.connected, true, `member ${m.user.id} is connected`);
      const again = m.recoveries; // connects after add(): reconnects only
      assert.deepEqual(again.filter((r) => r !== true), [],
        `member ${m.user.id}: every reconnect recovered (reasons ${m.disconnectReasons.join(', ')})`);
      deliveries += m.received.length;
      reconnects += again.length;
    }
    const acked = [...byChat.values()].reduce((sum, ids) => sum + ids.size, 0);
    const refusals = this.members.reduce((sum, m) => sum + m.refusals.length, 0);
    const gaps = this.members.flatMap((m) => m.gaps).sort((a, b) => a - b);
    const at = (q) => gaps[Math.min(gaps.length - 1, Math.floor(q * gaps.length))];
    const awayMs = gaps.length === 0 ? null : { median: at(0.5), p99: at(0.99), max: gaps.at(-1) };
    return { acked, deliveries, reconnects, refusals, awayMs };
  }
}

function sleepMs(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
