// /readyz of a cluster node says whether the node reaches Redis, and stays 200 without it: a
// node cut off from Redis still stores and acknowledges messages and serves its own clients,
// and a Redis restart must not take every node out of the load balancer at once.

import { it } from 'node:test';
import assert from 'node:assert/strict';
import { assertHttpOk, closeAllSockets, emitAck, assertOk, groupOf, join, randomUUID } from '../helpers/chat.mjs';
import { scaled, until } from '../helpers/server.mjs';
import { startRedis } from '../helpers/redis.mjs';
import { startClusterChatServer } from '../helpers/cluster.mjs';

it('/readyz reports the Redis connection; without Redis the node stays ready and acknowledges sends', async () => {
  const redis = await startRedis();
  let node;
  let redisUp = true;
  try {
    node = await startClusterChatServer(redis.url);
    const ready = () => node.api(undefined, 'GET', '/readyz').then((res) => assertHttpOk(res, 200, '/readyz'));
    await until(ready, (data) => data.cluster === 'connected', scaled(5000), '/readyz cluster connected');
    assert.equal((await ready()).status, 'ready');

    const alice = node.user();
    const chat = await groupOf(node, alice, [node.user()]);
    const s = await node.connect(alice);
    await join(s, chat._id);

    await redis.stop();
    redisUp = false;
    const data = await until(ready, (d) => d.cluster === 'disconnected', scaled(5000), '/readyz cluster disconnected');
    assert.equal(data.status, 'ready', 'still ready without Redis');
    const ack = await emitAck(s, 'message:send', { chatId: chat._id, body: 'without redis', clientId: randomUUID() });
    assertOk(ack, 'a send while Redis is gone');
    const page = await node.getMessages(alice, chat._id);
    assert.ok(page.messages.some((m) => m._id === ack.data.serverId), 'the acknowledged message is stored');
  } finally {
    closeAllSockets();
    await node?.stop();
    if (redisUp) await redis.stop();
  }
});
