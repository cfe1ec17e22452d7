// Socket authentication: JWT (HS256) or session token, from auth.token or the ?token= query.
// A refused CONNECT is connect_error with message 'UNAUTHORIZED' and data = the error envelope.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import {
  startChatServer, closeAllSockets, emitAck, assertOk, assertError, makeToken, objectId, join, send,
  nextEvent, groupOf, randomUUID, assertHttpOk, openSocket, assertUnauthorized,
} from '../helpers/chat.mjs';
import { scaled, until, waitForAny } from '../helpers/server.mjs';
import { WsClient, wsUrl } from '../helpers/eio.mjs';

let srv;
before(async () => { srv = await startChatServer(); });
after(async () => { await srv?.stop(); });
afterEach(() => closeAllSockets());

/** Signs arbitrary header/payload objects with `secret` (HS256). */
function rawJwt(header, payload, secret) {
  const enc = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${enc(header)}.${enc(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

describe('accepted tokens', () => {
  it('a valid HS256 JWT in auth.token connects (websocket and polling); the sub is the identity', async () => {
    const a = srv.user(); const b = srv.user();
    const chat = await groupOf(srv, a, [b]);
    const sa = await srv.connect(a);
    const sb = await srv.connect(b, { transports: ['polling'] });
    await join(sa, chat._id); await join(sb, chat._id);
    const m = await send(sb, chat._id, 'who am I');
    assert.equal((await nextEvent(sa, 'message:new', (p) => p._id === m.serverId)).senderId, b.id);
  });

  it('the token may come as the ?token= query parameter', async () => {
    const a = srv.user(); const b = srv.user();
    const chat = await groupOf(srv, a, [b]);
    const sa = await srv.connect(null, { query: { token: a.token } });
    const sb = await srv.connect(null, { query: { token: b.token }, transports: ['polling'] });
    await join(sa, chat._id); await join(sb, chat._id);
    const m = await send(sa, chat._id, 'via query');
    assert.equal((await nextEvent(sb, 'message:new', (p) => p._id === m.serverId)).senderId, a.id);
  });

  it('a bad token in the query is refused', async () => {
    assertUnauthorized(await srv.connectRefused(null, { query: { token: 'garbage' } }), 'bad query token');
  });

  it('a user needs no local row: any valid sub can chat', async () => {
    const ghost = srv.user();
    const other = srv.user();
    const chat = await groupOf(srv, ghost, [other]); // ghost creates a chat with an unknown user
    const s = await srv.connect(ghost);
    await join(s, chat._id);
    await send(s, chat._id, 'hello from nowhere');
  });

  it('a token printed by `parley token --user ID` works', async () => {
    const id = objectId();
    const tok = await srv.cliToken(id);
    assert.match(tok, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, 'a JWT');
    const s = await srv.connect(tok);
    const b = srv.user();
    const chat = await groupOf(srv, b, [{ id }]);
    await join(s, chat._id);
    const m = await send(s, chat._id, 'cli');
    assert.equal((await nextEvent(s, 'message:new', (p) => p._id === m.serverId)).senderId, id);
  });

  it('the login sessionToken (and the login JWT) work as socket auth tokens', async () => {
    const email = `s-${randomUUID().slice(0, 8)}@example.com`;
    const user = await srv.addUser({ email, password: 'correct horse battery', name: 'Sess Ion' });
    const res = await srv.api(null, 'POST', '/v1/auth/login', { email, password: 'correct horse battery' });
    const data = assertHttpOk(res, 200, 'login');
    const s1 = await srv.connect(data.sessionToken);
    const s2 = await srv.connect(data.token, { transports: ['polling'] });
    const other = srv.user();
    const chat = await groupOf(srv, other, [{ id: user._id }]);
    await join(s1, chat._id); await join(s2, chat._id);
    const m = await send(s1, chat._id, 'session');
    assert.equal((await nextEvent(s2, 'message:new', (p) => p._id === m.serverId)).senderId, user._id);
  });
});

describe('refused tokens -> connect_error UNAUTHORIZED', () => {
  const now = () => Math.floor(Date.now() / 1000);
  const cases = [
    ['missing (no auth object)', () => ({ who: null })],
    ['missing (auth {} without token)', () => ({ who: null, opts: { auth: {} } })],
    ['empty string', () => ({ who: '' })],
    ['token is a number', () => ({ who: null, opts: { auth: { token: 12345 } } })],
    ['garbage', () => ({ who: 'not a token at all' })],
    ['garbage with dots', () => ({ who: 'aaa.bbb.ccc' })],
    ['expired', () => ({ who: srv.token(objectId(), { expOffset: -3600, iat: now() - 7200 }) })],
    ['not yet valid (nbf in the future)', () => ({ who: srv.token(objectId(), { payload: { nbf: now() + 3600 } }) })],
    ['wrong secret', () => ({ who: makeToken(objectId(), { secret: 'some other secret' }) })],
    ['alg none', () => ({ who: makeToken(objectId(), { alg: 'none' }) })],
    ['alg none with a signature', () => ({ who: `${makeToken(objectId(), { alg: 'none' })}c2ln` })],
    ['tampered payload', () => {
      const good = srv.token(objectId());
      const [h, , sig] = good.split('.');
      const p = Buffer.from(JSON.stringify({ sub: objectId(), iat: now(), exp: now() + 3600 })).toString('base64url');
      return { who: `${h}.${p}.${sig}` };
    }],
    ['alg HS256 header lying about RS256', () => ({ who: rawJwt({ alg: 'RS256', typ: 'JWT' }, { sub: objectId(), exp: now() + 3600 }, srv.secret) })],
    ['sub not an ObjectId (name)', () => ({ who: srv.token('alice') })],
    ['sub of 23 hex chars', () => ({ who: srv.token(objectId().slice(1)) })],
    ['sub in uppercase hex', () => ({ who: srv.token(`A${objectId().slice(1).toUpperCase()}`) })],
    ['sub a number', () => ({ who: rawJwt({ alg: 'HS256', typ: 'JWT' }, { sub: 123456, exp: now() + 3600 }, srv.secret) })],
    ['no sub', () => ({ who: srv.token(undefined) })],
    ['unknown session token', () => ({ who: 'f'.repeat(64) })],
  ];
  for (const [name, make] of cases) {
    it(name, async () => {
      const { who, opts } = make();
      assertUnauthorized(await srv.connectRefused(who, opts), name);
    });
  }

  it('refusals over HTTP long-polling look the same', async () => {
    assertUnauthorized(await srv.connectRefused('garbage', { transports: ['polling'] }), 'polling garbage');
    assertUnauthorized(await srv.connectRefused(srv.token(objectId(), { expOffset: -3600 }), { transports: ['polling'] }), 'polling expired');
  });

  it('each refusal has its own correlationId, which appears in the server log', async () => {
    const e1 = assertUnauthorized(await srv.connectRefused('garbage-1'), 'first');
    const e2 = assertUnauthorized(await srv.connectRefused('garbage-2'), 'second');
    assert.notEqual(e1.correlationId, e2.correlationId);
    await until(() => srv.logs(), (log) => log.includes(e2.correlationId), scaled(2000), 'the second refusal logged').catch(() => {});
    assert.ok(srv.logs().includes(e1.correlationId), `correlationId ${e1.correlationId} not in the server log`);
    assert.ok(srv.logs().includes(e2.correlationId), `correlationId ${e2.correlationId} not in the server log`);
  });

  it('the server keeps serving after refusals', async () => {
    for (let i = 0; i < 5; i++) await srv.connectRefused(`junk-${i}`);
    const s = await srv.connect(srv.user());
    assertOk(await emitAck(s, 'presence:ping', {}));
  });
});

describe('retrying after a refusal', () => {
  it('socket.auth can be fixed and socket.connect() retried on the same manager (token refresh)', async () => {
    const u = srv.user();
    const s = openSocket(srv.url, 'expired-or-garbage');
    try {
      const { event, args } = await waitForAny(s, ['connect', 'connect_error'], 5000);
      assert.equal(event, 'connect_error');
      assert.equal(args[0].message, 'UNAUTHORIZED');
      s.auth = { token: u.token };
      s.connect();
      const second = await waitForAny(s, ['connect', 'connect_error'], 5000);
      assert.equal(second.event, 'connect', `retry: ${second.args[0]?.message ?? ''}`);
      assertOk(await emitAck(s, 'presence:ping', {}));
    } finally {
      s.close();
    }
  });
});

describe('wire format of a refused CONNECT', () => {
  it('is 44{"message":"UNAUTHORIZED","data":{ok:false,error,message,correlationId}}', async () => {
    const raw = new WsClient(wsUrl(srv.url));
    try {
      await raw.open();
      raw.send(`40${JSON.stringify({ token: 'garbage' })}`);
      const m = await raw.nextNonPing(3000);
      assert.match(m, /^44\{/, `expected CONNECT_ERROR, got ${m}`);
      const body = JSON.parse(m.slice(2));
      assert.deepEqual(Object.keys(body).sort(), ['data', 'message']);
      assert.equal(body.message, 'UNAUTHORIZED');
      assertError(body.data, 'UNAUTHORIZED', 'CONNECT_ERROR data');
      // the same Engine.IO session may retry CONNECT with a good token
      const u = srv.user();
      raw.send(`40${JSON.stringify({ token: u.token })}`);
      // (with its pid for connection state recovery, on by default: docs/recovery.md)
      assert.match(await raw.nextNonPing(3000), /^40\{"sid":"[^"]+"(,"pid":"[A-Za-z0-9_-]{22}")?\}$/);
    } finally {
      raw.close();
    }
  });
});
