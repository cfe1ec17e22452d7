// The socket.io admin UI's server side (--admin-password): the /admin namespace speaks the
// protocol of @socket.io/admin-ui's instrument() (its lib/index.ts and lib/typed-events.ts),
// checked here with the stock socket.io-client as the dashboard page uses it: credentials and
// sessions, config, all_sockets, server_stats with aggregated events, the live events, the
// page's commands, read-only and production modes, and bad input. The page itself runs in
// Chromium in web/admin-ui.test.mjs.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Manager } from 'socket.io-client';
import { startChatServer, closeAllSockets, connect, connectRefused, emitAck, assertOk, ISO_RE } from '../helpers/chat.mjs';
import { scaled, waitFor } from '../helpers/server.mjs';

const ADMIN = { username: 'ops', password: 'correct horse battery staple' };
const ALL_FEATURES = ['EMIT', 'JOIN', 'LEAVE', 'DISCONNECT', 'MJOIN', 'MLEAVE', 'MDISCONNECT', 'AGGREGATED_EVENTS', 'ALL_EVENTS'];
const WAIT = 5000; // Recorder.next scales it

/** A dashboard: the /admin namespace with `auth`, its events recorded from the start. */
function dashboard(srv, auth = ADMIN, opts = {}) {
  return connect(`${srv.url}/admin`, null, { auth, ...opts });
}

/** The args of the next `event` on `socket` for which `match(args)` holds. */
function next(socket, event, match = () => true) {
  return socket.rec.next(event, match, WAIT);
}

/** Proves `s` (of user `u`) is served: it joins a new chat's room and sends a message there. */
async function assertChatAnswers(srv, u, s) {
  const chat = await srv.createChat(u, { memberIds: [srv.user().id] });
  assertOk(await emitAck(s, 'room:join', { chatId: chat._id }), 'room:join');
  assertOk(await emitAck(s, 'message:send', { chatId: chat._id, body: 'still here', clientId: randomUUID() }), 'message:send');
}

describe('the admin namespace, development mode', () => {
  let srv;
  before(async () => {
    srv = await startChatServer({ args: ['--admin-username', ADMIN.username, '--admin-password', ADMIN.password] });
  });
  after(async () => { closeAllSockets(); await srv?.stop(); });

  it('refuses a wrong password, a wrong name and no credentials with "invalid credentials"', async () => {
    for (const auth of [{ ...ADMIN, password: 'wrong' }, { ...ADMIN, username: 'admin' }, {}, { username: 1, password: [] }]) {
      const err = await connectRefused(`${srv.url}/admin`, null, { auth });
      assert.equal(err.message, 'invalid credentials', JSON.stringify(auth));
    }
  });

  it('lets the right credentials in: session, config, all_sockets and server_stats', async () => {
    const u = srv.user();
    const member = await srv.connect(u);
    const d = await dashboard(srv);
    const [session] = await next(d, 'session');
    assert.match(session, /^[0-9a-f]{32}$/);
    const [config] = await next(d, 'config');
    assert.deepEqual(config.supportedFeatures, ALL_FEATURES);
    const [sockets] = await next(d, 'all_sockets');
    const listed = sockets.find((s) => s.id === member.id);
    assert.ok(listed, 'the chat socket is listed');
    assert.equal(listed.nsp, '/');
    assert.equal(listed.transport, 'websocket');
    assert.equal(listed.clientId.length, 12);
    assert.equal(listed.data.userId, u.id);
    assert.ok(listed.rooms.includes(member.id), 'its own id room');
    assert.ok(listed.rooms.includes(`user:${u.id}`), 'its user room');
    assert.equal(listed.handshake.auth.token, undefined, 'the token never leaves the server');
    assert.match(listed.handshake.time, ISO_RE);
    assert.ok(sockets.some((s) => s.id === d.id && s.nsp === '/admin'), 'the dashboard itself');
    const [stats] = await next(d, 'server_stats');
    assert.equal(typeof stats.serverId, 'string');
    assert.equal(typeof stats.hostname, 'string');
    assert.equal(typeof stats.pid, 'number');
    assert.equal(typeof stats.uptime, 'number');
    assert.ok(stats.clientsCount >= 2, `clientsCount ${stats.clientsCount}`);
    assert.equal(typeof stats.pollingClientsCount, 'number');
    assert.ok(Array.isArray(stats.aggregatedEvents));
    const root = stats.namespaces.find((n) => n.name === '/');
    assert.ok(root && root.socketsCount >= 1, JSON.stringify(stats.namespaces));
    assert.ok(stats.namespaces.some((n) => n.name === '/admin' && n.socketsCount >= 1));
  });

  it('lets a known session id in without the password, and refuses an unknown one', async () => {
    const first = await dashboard(srv);
    const [session] = await next(first, 'session');
    const again = await dashboard(srv, { sessionId: session });
    await next(again, 'config');
    assert.equal(again.rec.all('session').length, 0, 'no new session for a session');
    const err = await connectRefused(`${srv.url}/admin`, null, { auth: { sessionId: 'f'.repeat(32) } });
    assert.equal(err.message, 'invalid credentials');
  });

  it('tells connections, rooms, events both ways and disconnections as they happen', async () => {
    const d = await dashboard(srv);
    await next(d, 'all_sockets');
    const a = srv.user();
    const b = srv.user();
    const sa = await srv.connect(a);
    const sb = await srv.connect(b);
    const [connected, at] = await next(d, 'socket_connected', ([s]) => s.id === sa.id);
    assert.equal(connected.nsp, '/');
    assert.match(at, ISO_RE);
    await next(d, 'room_joined', ([nsp, room, id]) => nsp === '/' && room === `user:${a.id}` && id === sa.id);

    const chat = await srv.createChat(a, { memberIds: [b.id] });
    assertOk(await emitAck(sb, 'room:join', { chatId: chat._id }));
    await next(d, 'room_joined', ([nsp, room, id]) => nsp === '/' && id === sb.id && room === `chat:${chat._id}`);

    const clientId = randomUUID();
    assertOk(await emitAck(sa, 'message:send', { chatId: chat._id, body: 'seen by ops', clientId }));
    const [, , received] = await next(d, 'event_received', ([, id, args]) => id === sa.id && args[0] === 'message:send');
    assert.deepEqual(received[1], { chatId: chat._id, body: 'seen by ops', clientId });
    const [nsp, , sent] = await next(d, 'event_sent', ([, id, args]) => id === sb.id && args[0] === 'message:new');
    assert.equal(nsp, '/');
    assert.equal(sent[1].body, 'seen by ops');

    const sbId = sb.id; // the client forgets it on disconnect
    sb.disconnect();
    const [gone, goneId, reason, goneAt] = await next(d, 'socket_disconnected', ([, id]) => id === sbId);
    assert.equal(gone, '/');
    assert.equal(goneId, sbId);
    assert.equal(reason, 'client namespace disconnect');
    assert.match(goneAt, ISO_RE);
  });

  it('tells an upgrade from polling to WebSocket as socket_updated', async () => {
    const d = await dashboard(srv);
    await next(d, 'all_sockets');
    const s = await srv.connect(srv.user(), { transports: ['polling', 'websocket'] });
    const [update] = await next(d, 'socket_updated', ([u]) => u.id === s.id);
    assert.deepEqual(update, { id: s.id, nsp: '/', transport: 'websocket' });
  });

  it('counts connections, packets and bytes in the aggregated events of server_stats', async () => {
    const d = await dashboard(srv);
    await next(d, 'all_sockets');
    const s = await srv.connect(srv.user());
    await emitAck(s, 'room:join', { chatId: '0'.repeat(24) }); // any traffic; the answer does not matter
    const seen = new Set();
    while (!['rawConnection', 'packetsIn', 'packetsOut', 'bytesIn', 'bytesOut'].every((t) => seen.has(t))) {
      const [stats] = await next(d, 'server_stats', ([st]) => st.aggregatedEvents.length > 0);
      for (const e of stats.aggregatedEvents) {
        assert.equal(typeof e.timestamp, 'number');
        assert.equal(e.timestamp % 1000, 0, 'stamped with its second');
        assert.ok(e.count > 0);
        seen.add(e.type);
      }
      d.rec.events.length = 0; // the next stats, not these again
    }
  });

  it('obeys join, emit, leave and _disconnect from the page', async () => {
    const d = await dashboard(srv);
    await next(d, 'all_sockets');
    const s = await srv.connect(srv.user());
    d.emit('join', '/', 'ops-room', s.id);
    await next(d, 'room_joined', ([, room, id]) => room === 'ops-room' && id === s.id);
    d.emit('emit', '/', 'ops-room', 'ops:notice', { hello: 1 }, 'two');
    const got = await s.rec.next('ops:notice', () => true, WAIT);
    assert.deepEqual(got, [{ hello: 1 }, 'two']);
    d.emit('leave', '/', 'ops-room', s.id);
    await next(d, 'room_left', ([, room, id]) => room === 'ops-room' && id === s.id);
    const id = s.id;
    const disconnected = waitFor(s, 'disconnect', scaled(WAIT));
    d.emit('_disconnect', '/', false, id);
    const [reason] = await disconnected;
    assert.equal(reason, 'io server disconnect');
    await next(d, 'socket_disconnected', ([, sid, why]) => sid === id && why === 'server namespace disconnect');
  });

  it('ignores commands with arguments of the wrong kinds or unknown namespaces, and keeps serving', async () => {
    const d = await dashboard(srv);
    await next(d, 'all_sockets');
    const u = srv.user();
    const s = await srv.connect(u);
    d.emit('join', 42, 'x', s.id);
    d.emit('join', '/nowhere', 'x', s.id);
    d.emit('join', '/', { room: 1 }, s.id);
    d.emit('_disconnect', '/', 'yes', s.id);
    d.emit('emit', '/', null);
    d.emit('emit');
    d.emit('leave');
    // Then a good one: handled in order after the bad ones, on the same connection.
    d.emit('join', '/', 'after-bad-input', s.id);
    await next(d, 'room_joined', ([, room, id]) => room === 'after-bad-input' && id === s.id);
    assert.ok(d.connected && s.connected);
    assert.equal(d.rec.all('room_joined').filter(([, room]) => room === 'x').length, 0);
    await assertChatAnswers(srv, u, s);
  });
});

describe('the admin namespace, read-only and production mode', () => {
  let srv;
  before(async () => {
    srv = await startChatServer({
      args: ['--admin-password', ADMIN.password, '--admin-username', ADMIN.username, '--admin-readonly',
        '--admin-mode', 'production'],
    });
  });
  after(async () => { closeAllSockets(); await srv?.stop(); });

  it('offers no commands nor live events, only stats', async () => {
    const d = await dashboard(srv);
    const [config] = await next(d, 'config');
    assert.deepEqual(config.supportedFeatures, ['AGGREGATED_EVENTS']);
    await next(d, 'server_stats');
    await srv.connect(srv.user());
    await next(d, 'server_stats', ([st]) => st.namespaces.some((n) => n.name === '/' && n.socketsCount >= 1));
    for (const event of ['all_sockets', 'socket_connected', 'room_joined', 'event_received', 'event_sent'])
      assert.equal(d.rec.all(event).length, 0, `no ${event} in production mode`);
  });

  it('ignores the page\'s commands', async () => {
    // The dashboard and a chat socket on one connection: the server reads its packets in order,
    // so the chat's ack comes after the server has handled the _disconnect before it.
    const u = srv.user();
    const manager = new Manager(srv.url, { transports: ['websocket'], reconnection: false });
    const d = manager.socket('/admin', { auth: ADMIN });
    const s = manager.socket('/', { auth: { token: u.token } });
    try {
      await Promise.all([d, s].map((x) => new Promise((resolve, reject) => {
        x.once('connect', resolve);
        x.once('connect_error', reject);
      })));
      let disconnected = false;
      s.on('disconnect', () => { disconnected = true; });
      d.emit('_disconnect', '/', false, s.id);
      d.emit('join', '/', 'readonly-room', s.id);
      await assertChatAnswers(srv, u, s);
      assert.equal(disconnected, false, 'the chat socket is still connected');
      assert.ok(s.connected);
    } finally {
      manager.engine?.close();
    }
  });

  it('refuses even the right password after 10 wrong ones from an address in a minute', async () => {
    for (let i = 0; i < 10; ++i) {
      const err = await connectRefused(`${srv.url}/admin`, null, { auth: { ...ADMIN, password: `guess-${i}` } });
      assert.equal(err.message, 'invalid credentials');
    }
    const err = await connectRefused(`${srv.url}/admin`, null, { auth: ADMIN });
    assert.equal(err.message, 'invalid credentials');
  });
});

describe('without --admin-password', () => {
  let srv;
  before(async () => { srv = await startChatServer(); });
  after(async () => { closeAllSockets(); await srv?.stop(); });

  it('has no /admin namespace and no admin page', async () => {
    const err = await connectRefused(`${srv.url}/admin`, null, { auth: ADMIN });
    assert.equal(err.message, 'Invalid namespace');
    assert.equal((await fetch(`${srv.url}/admin/`)).status, 404);
  });
});

describe('the admin page', () => {
  let srv;
  before(async () => { srv = await startChatServer({ args: ['--admin-password', ADMIN.password] }); });
  after(async () => { await srv?.stop(); });

  it('is served on /admin/ with its scripts and styles; /admin redirects there', async () => {
    const page = await fetch(`${srv.url}/admin/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type'), /^text\/html/);
    const html = await page.text();
    assert.match(html, /Socket\.IO Admin UI/);
    const assets = [...html.matchAll(/(?:src|href)="((?:js|css)\/[^"]+)"/g)].map((m) => m[1]);
    assert.ok(assets.length >= 4, assets.join(' '));
    for (const asset of assets) assert.equal((await fetch(`${srv.url}/admin/${asset}`)).status, 200, asset);
    const redirect = await fetch(`${srv.url}/admin`, { redirect: 'manual' });
    assert.equal(redirect.status, 308);
    assert.equal(redirect.headers.get('location'), '/admin/');
    for (const bad of ['/admin/fonts/x.css', '/admin/js/a/b.js', '/admin/js/..%2Findex.html', '/admin/.hidden.js'])
      assert.equal((await fetch(`${srv.url}${bad}`)).status, 404, bad);
  });
});
