// Connection state recovery across a cluster: a client of node A drops and reconnects through
// node B, which recovers it from the shared PostgreSQL: the same socket id, its rooms (on B now,
// reached through Redis from A), and the messages it missed, in order, once. Also when A has not
// noticed the drop (a connection gone silent): B has A disconnect the stale socket first; and
// when the client noticed it by its own ping timeout.

import assert from 'node:assert/strict';
import { describe, it, before, after } from 'node:test';
import { startCluster } from '../helpers/cluster.mjs';
import {
  connect, join, nextEvent, recorded, send, RECONNECT, dropTransport, comeBack,
} from '../helpers/chat.mjs';
import { startRelay } from '../helpers/relay.mjs';
import { freePort, metrics, scaled, until, waitFor } from '../helpers/server.mjs';

let cluster;
let deadUrl;
before(async () => {
  cluster = await startCluster({ nodes: 2, args: ['--recovery-window', '60'] });
  deadUrl = `http://127.0.0.1:${await freePort()}`;
});
after(async () => { await cluster?.stop(); });

const received = (socket, id) => nextEvent(socket, 'message:new', (m) => m._id === id, 5000);
const idsOf = (socket) => recorded(socket, 'message:new').map((m) => m._id);

describe('connection state recovery in a cluster', () => {
  it('a client of node A that drops recovers through node B', async () => {
    const [nodeA, nodeB] = cluster.nodes;
    const a = cluster.user(); const b = cluster.user();
    const chat = await cluster.createChat(a, { type: 'group', title: 'recovery', memberIds: [b.id] });
    const sa = await connect(nodeA.url, a);
    const sb = await connect(nodeA.url, b, RECONNECT);
    await join(sb, chat._id);
    const first = (await send(sa, chat._id, 'before')).serverId;
    await received(sb, first);
    const sid = sb.id;

    await dropTransport(sb, deadUrl);
    const missed = [];
    for (let i = 0; i < 3; i++) missed.push((await send(sa, chat._id, `missed ${i}`)).serverId);

    await comeBack(sb, nodeB.url);
    assert.equal(sb.recovered, true, 'recovered on the other node');
    assert.equal(sb.id, sid, 'the same socket id');
    await received(sb, missed.at(-1));

    // Its room is on node B now: a message sent through node A reaches it over Redis.
    const live = (await send(sa, chat._id, 'through A')).serverId;
    await received(sb, live);
    assert.deepEqual(idsOf(sb), [first, ...missed, live], 'every message once, in order');
  });

  it('a client whose connection to node A went silent comes back through node B: A drops the stale socket, nothing is missed', async () => {
    const [nodeA, nodeB] = cluster.nodes;
    const relay = await startRelay(nodeA.port);
    try {
      const a = cluster.user(); const b = cluster.user();
      const chat = await cluster.createChat(a, { type: 'group', title: 'silent', memberIds: [b.id] });
      const sa = await connect(nodeB.url, a);
      const sb = await connect(relay.url, b, RECONNECT);
      await join(sb, chat._id);
      const first = (await send(sa, chat._id, 'before')).serverId;
      await received(sb, first);
      const sid = sb.id;
      const onA = (await metrics(nodeA.url)).parley_socketio_sockets;

      // Silent both ways: A keeps b's socket (default ping timing, far longer than this test).
      relay.blackhole();
      await dropTransport(sb, deadUrl);
      const missed = (await send(sa, chat._id, 'missed')).serverId;

      await comeBack(sb, nodeB.url);
      assert.equal(sb.recovered, true, 'recovered on node B');
      assert.equal(sb.id, sid);
      await received(sb, missed);
      await until(async () => (await metrics(nodeA.url)).parley_socketio_sockets, (n) => n === onA - 1,
        scaled(3000), 'node A dropped the stale socket when node B took the session over');
      const live = (await send(sa, chat._id, 'live')).serverId;
      await received(sb, live);
      assert.deepEqual(idsOf(sb), [first, missed, live], 'every message once, in order');
    } finally {
      await relay.close();
    }
  });

  it('a frozen connection to node A: after the ping timeout the client recovers through node B', async () => {
    const quick = await startCluster({ nodes: 2, args: ['--recovery-window', '60', '--ping-interval', '300', '--ping-timeout', '200'] });
    const relay = await startRelay(quick.nodes[0].port);
    try {
      const a = quick.user(); const b = quick.user();
      const chat = await quick.createChat(a, { type: 'group', title: 'frozen', memberIds: [b.id] });
      const sa = await connect(quick.nodes[1].url, a);
      const sb = await connect(relay.url, b, RECONNECT);
      await join(sb, chat._id);
      const first = (await send(sa, chat._id, 'before')).serverId;
      await received(sb, first);
      const sid = sb.id;
      const gone = waitFor(sb, 'disconnect', 5000);
      sb.io.uri = deadUrl;
      relay.blackhole(); // no ping reaches the client, no pong node A
      await gone; // the client's own ping timeout
      const missed = (await send(sa, chat._id, 'missed')).serverId;
      await comeBack(sb, quick.nodes[1].url);
      assert.equal(sb.recovered, true, 'recovered on node B');
      assert.equal(sb.id, sid);
      await received(sb, missed);
      const live = (await send(sa, chat._id, 'live')).serverId;
      await received(sb, live);
      assert.deepEqual(idsOf(sb), [first, missed, live], 'every message once, in order');
    } finally {
      await relay.close();
      await quick.stop();
    }
  });
});
