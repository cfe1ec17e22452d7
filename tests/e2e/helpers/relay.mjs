// A TCP relay in the test process, between clients and one server, for connections that must
// go silent without closing (the server sees no close and no pong until its own ping timeout).
//
//   const relay = await startRelay(server.port);
//   const socket = await connect(relay.url, user);   // through the relay
//   relay.blackhole();                               // every open connection drops what it gets
//   await relay.close();

import net from 'node:net';

/**
 * A relay to 127.0.0.1:`port`. blackhole() makes every connection open at that moment drop what
 * either side sends; connections made afterwards relay normally.
 */
export async function startRelay(port) {
  const pairs = new Set();
  const server = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    const pair = { client, upstream, cut: false };
    client.on('data', (d) => { if (!pair.cut) upstream.write(d); });
    upstream.on('data', (d) => { if (!pair.cut) client.write(d); });
    client.on('error', () => {}); upstream.on('error', () => {});
    client.on('close', () => { if (!pair.cut) upstream.destroy(); });
    upstream.on('close', () => { if (!pair.cut) client.destroy(); });
    pairs.add(pair);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    blackhole() { for (const p of pairs) p.cut = true; },
    async close() {
      for (const p of pairs) { p.client.destroy(); p.upstream.destroy(); }
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
