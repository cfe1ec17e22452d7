// The admin UI's namespace across a cluster: every node's server_stats reaches a dashboard on any
// node (through the Redis adapter, as Node's instrument() does), so the page lists every server;
// the dashboard's commands act on the sockets of every node (socketsJoin, broadcasts). The socket
// list and live events are the dashboard's own node's (docs/admin-ui.md).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { closeAllSockets, connect } from '../helpers/chat.mjs';
import { startRedis } from '../helpers/redis.mjs';
import { startClusterChatServer, redisClient, waitForServers, CLUSTER_PEER } from '../helpers/cluster.mjs';

const ADMIN = { username: 'admin', password: 'cluster-admin-password' };
// The Node peer has no admin namespace.
const skip = CLUSTER_PEER === 'node' ? 'the Node peer does not run the admin UI' : false;

describe('the admin UI on a cluster of two', { skip }, () => {
  let redis;
  let raw;
  let nodeA;
  let nodeB;

  before(async () => {
    redis = await startRedis();
    raw = await redisClient(redis.url);
    const args = ['--admin-password', ADMIN.password];
    nodeA = await startClusterChatServer(redis.url, { args });
    nodeB = await startClusterChatServer(redis.url, { args, secret: nodeA.secret });
    await waitForServers(raw, 2);
  });
  after(async () => {
    closeAllSockets();
    await raw?.quit();
    await Promise.allSettled([nodeA?.stop(), nodeB?.stop()]);
    await redis?.stop();
  });

  it('lists both servers on a dashboard connected to one', async () => {
    const d = await connect(`${nodeA.url}/admin`, null, { auth: ADMIN });
    const ids = new Set();
    while (ids.size < 2) {
      const [stats] = await d.rec.next('server_stats', ([s]) => !ids.has(s.serverId), 8000);
      ids.add(stats.serverId);
    }
    assert.equal(ids.size, 2);
  });

  it('makes a socket of the other node join a room, and reaches it there', async () => {
    const d = await connect(`${nodeA.url}/admin`, null, { auth: ADMIN });
    await d.rec.next('all_sockets');
    const s = await nodeB.connect(nodeB.user());
    d.emit('join', '/', 'cluster-ops', s.id);
    // The join goes out before the emit on the same connection, but reaches node B through
    // Redis: the emit is repeated until the socket is in the room.
    const got = s.rec.next('ops:hello', () => true, 8000);
    const timer = setInterval(() => d.emit('emit', '/', 'cluster-ops', 'ops:hello', { from: 'A' }), 200);
    try {
      assert.deepEqual(await got, [{ from: 'A' }]);
    } finally {
      clearInterval(timer);
    }
  });
});
