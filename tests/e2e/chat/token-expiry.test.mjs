// Tokens on live connections: a socket ends when its token does, and auth:renew extends it.
//   expiry:  at the token's end (exp + --jwt-leeway; a session token's own expiry) the socket
//            gets `auth:expired` [{ok:false,error:'UNAUTHORIZED',message:'token expired',correlationId}]
//            and then a server-side disconnect ('io server disconnect': the client does not
//            reconnect with the dead token)
//   renewal: `auth:renew` {token} → {ok:true,data:{expiresAt}}; the token is verified as at CONNECT
//            and must name the socket's user; a refused one changes nothing
//   logout:  the sockets of the session get `auth:expired` ('session ended by logout') too
//
// The server runs with --jwt-leeway 0, so a token's end is exp + 1 s (exp itself still verifies:
// whole seconds), and short-lived tokens expire within the test.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  startChatServer, closeAllSockets, emitAck, assertOk, assertError, makeToken, objectId, nextEvent, arrivedAt,
  assertHttpOk, randomUUID,
} from '../helpers/chat.mjs';
import { waitFor, scaled } from '../helpers/server.mjs';

/** The moment (Unix ms) a token with this exp stops verifying at leeway 0. */
const endOf = (token) => (JSON.parse(Buffer.from(token.split('.')[1], 'base64url')).exp + 1) * 1000;
const sleepUntil = (t) => new Promise((resolve) => setTimeout(resolve, Math.max(0, t - Date.now())));

/** Resolves with { reason, at } when `socket` disconnects (listener attached now). */
function ended(socket, timeoutMs) {
  return waitFor(socket, 'disconnect', timeoutMs).then(([reason]) => ({ reason, at: Date.now() }));
}

/** The socket got auth:expired with `message`, then a server-side disconnect, and will not reconnect. */
async function assertExpired(socket, end, message, what) {
  const payload = await nextEvent(socket, 'auth:expired', () => true, end.timeoutMs);
  assertError(payload, 'UNAUTHORIZED', `${what}: auth:expired`);
  assert.equal(payload.message, message, `${what}: message`);
  const { reason, at } = await end.promise;
  assert.equal(reason, 'io server disconnect', `${what}: disconnect reason`);
  assert.ok(arrivedAt(socket, payload) <= at, `${what}: auth:expired came before the disconnect`);
  assert.equal(socket.active, false, `${what}: the client does not try to reconnect`);
  return { payload, at: arrivedAt(socket, payload) };
}

let srv;
before(async () => { srv = await startChatServer({ args: ['--jwt-leeway', '0'] }); });
after(async () => { await srv?.stop(); });
afterEach(() => closeAllSockets());

/** A socket of `sub` with a token expiring in `seconds`, watched for its end. */
async function shortLived(sub, seconds, opts = {}) {
  const token = srv.token(sub, { expOffset: seconds });
  // reconnection on, as the stock client has it: the test proves it does not reconnect
  const socket = await srv.connect(token, { reconnection: true, reconnectionDelay: 50, ...opts });
  const timeoutMs = endOf(token) - Date.now() + 10_000;
  return { socket, token, end: { promise: ended(socket, timeoutMs), timeoutMs } };
}

describe('a token that expires on a live socket', () => {
  it('ends the socket at exp (+ leeway): auth:expired, then io server disconnect; a longer token stays', async () => {
    const sub = objectId();
    const { socket, token, end } = await shortLived(sub, 2);
    const other = await srv.connect(srv.token(sub, { expOffset: 3600 }));
    const { at } = await assertExpired(socket, end, 'token expired', 'expired JWT');
    assert.ok(at >= endOf(token) - 20, `ended ${endOf(token) - at} ms before the token's end`);
    assert.ok(at < endOf(token) + scaled(1500), `ended ${at - endOf(token)} ms after the token's end`);
    assert.equal(other.connected, true, 'the same user with a longer token stays connected');
    assertOk(await emitAck(other, 'presence:ping', {}), 'the longer token still answers');
    // the dead token is refused at CONNECT, so no client can come back with it
    const err = await srv.connectRefused(token);
    assert.equal(err.data.error, 'UNAUTHORIZED');
  });

  it('over long-polling too', async () => {
    const { socket, end } = await shortLived(objectId(), 1, { transports: ['polling'] });
    await assertExpired(socket, end, 'token expired', 'expired JWT over polling');
  });
});

describe('auth:renew', () => {
  it('before expiry keeps the socket past the old exp; it then ends at the new one', async () => {
    const sub = objectId();
    const { socket, token, end } = await shortLived(sub, 2);
    const renewed = srv.token(sub, { expOffset: 4 });
    const data = assertOk(await emitAck(socket, 'auth:renew', { token: renewed }), 'renewal');
    assert.deepEqual(data, { expiresAt: new Date(endOf(renewed)).toISOString() });

    await sleepUntil(endOf(token) + 300);
    assert.equal(socket.connected, true, 'still connected past the old token\'s end');
    assertOk(await emitAck(socket, 'presence:ping', {}), 'answers past the old token\'s end');
    assert.equal(socket.rec.has('auth:expired'), false);

    const { at } = await assertExpired(socket, end, 'token expired', 'renewed token');
    assert.ok(at >= endOf(renewed) - 20, `ended ${endOf(renewed) - at} ms before the renewed token's end`);
  });

  it("another user's token, a bad, an expired or an unknown token is refused and changes nothing", async () => {
    const sub = objectId();
    const { socket, token, end } = await shortLived(sub, 2);
    const refusals = [
      ["another user's valid token", srv.token(objectId(), { expOffset: 3600 }), 'FORBIDDEN'],
      ['signed with another secret', makeToken(sub, { expOffset: 3600, secret: randomBytes(32).toString('hex') }), 'UNAUTHORIZED'],
      ['expired two minutes ago', srv.token(sub, { expOffset: -120 }), 'UNAUTHORIZED'],
      ['alg none', makeToken(sub, { expOffset: 3600, alg: 'none' }), 'UNAUTHORIZED'],
      ['unknown session token', `pst_${randomBytes(32).toString('base64url')}`, 'UNAUTHORIZED'],
      ['garbage', 'not-a-token', 'UNAUTHORIZED'],
    ];
    const ids = new Set();
    for (const [what, bad, code] of refusals) {
      const ack = await emitAck(socket, 'auth:renew', { token: bad });
      ids.add(assertError(ack, code, what).correlationId);
    }
    assert.equal(ids.size, refusals.length, 'each refusal has its own correlationId');
    assertError(await emitAck(socket, 'auth:renew', {}), 'VALIDATION_ERROR', 'no token');
    assertError(await emitAck(socket, 'auth:renew', { token: 42 }), 'VALIDATION_ERROR', 'token not a string');

    // the old token and its timer are untouched: the socket ends at the old token's end
    assert.equal(socket.connected, true);
    const { at } = await assertExpired(socket, end, 'token expired', 'after refused renewals');
    assert.ok(at < endOf(token) + scaled(1500), `ended ${at - endOf(token)} ms after the old token's end`);
  });

  it('is bounded per socket (--token-renewals-per-minute, 6 by default): the 7th within a minute is RATE_LIMITED', async () => {
    const sub = objectId();
    const socket = await srv.connect(srv.token(sub, { expOffset: 3600 }));
    for (let i = 0; i < 6; i++) assertOk(await emitAck(socket, 'auth:renew', { token: srv.token(sub, { expOffset: 3600 + i }) }), `renewal ${i}`);
    const refused = assertError(await emitAck(socket, 'auth:renew', { token: srv.token(sub, { expOffset: 7200 }) }), 'RATE_LIMITED');
    assert.match(refused.message, /Too many token renewals/);
    // another socket of the same user has its own budget
    const second = await srv.connect(srv.token(sub, { expOffset: 3600 }));
    assertOk(await emitAck(second, 'auth:renew', { token: srv.token(sub, { expOffset: 3600 }) }), 'other socket');
  });

  it("expiresAt is the new token's end", async () => {
    const sub = objectId();
    const { socket } = await shortLived(sub, 2);
    const long = srv.token(sub, { expOffset: 3600 });
    const data = assertOk(await emitAck(socket, 'auth:renew', { token: long }));
    assert.equal(Date.parse(data.expiresAt), endOf(long));
  });
});

describe('session tokens', () => {
  async function login() {
    const email = `renew-${randomUUID().slice(0, 8)}@example.com`;
    const password = 'renew-pw-123';
    const user = await srv.addUser({ email, password, name: 'Renew' });
    const again = async () => assertHttpOk(await srv.api(null, 'POST', '/v1/auth/login', { email, password }), 200, 'login');
    return { user, login: again };
  }

  it('logout ends the sockets of the session with auth:expired (session ended by logout)', async () => {
    const { login: again } = await login();
    const session = await again();
    const socket = await srv.connect(session.sessionToken, { reconnection: true });
    const end = { promise: ended(socket, 10_000), timeoutMs: 10_000 };
    assertHttpOk(await srv.api(session.sessionToken, 'POST', '/v1/auth/logout'), 200, 'logout');
    await assertExpired(socket, end, 'session ended by logout', 'logged-out session');
  });

  it('a renewal to a session token puts the socket under that session: its logout ends it', async () => {
    const { user, login: again } = await login();
    const session = await again();
    const socket = await srv.connect(srv.token(user._id, { expOffset: 3600 }));
    const end = { promise: ended(socket, 10_000), timeoutMs: 10_000 };
    const data = assertOk(await emitAck(socket, 'auth:renew', { token: session.sessionToken }), 'renew to session');
    assert.ok(Date.parse(data.expiresAt) > Date.now() + 3600_000, `a session's expiry: ${data.expiresAt}`);
    assertHttpOk(await srv.api(session.sessionToken, 'POST', '/v1/auth/logout'), 200, 'logout');
    await assertExpired(socket, end, 'session ended by logout', 'renewed into a session');
  });

  it("a renewal away from a session token takes the socket out of that session's logout", async () => {
    const { user, login: again } = await login();
    const session = await again();
    const moved = await srv.connect(session.sessionToken);
    const stays = await srv.connect(session.sessionToken);
    const end = { promise: ended(stays, 10_000), timeoutMs: 10_000 };
    assertOk(await emitAck(moved, 'auth:renew', { token: srv.token(user._id, { expOffset: 3600 }) }), 'renew to a JWT');
    assertHttpOk(await srv.api(session.sessionToken, 'POST', '/v1/auth/logout'), 200, 'logout');
    // the socket still on the session is ended; the one that moved to a JWT is not
    await assertExpired(stays, end, 'session ended by logout', 'still on the session');
    assert.equal(moved.connected, true, 'the socket renewed to a JWT stays');
    assertOk(await emitAck(moved, 'presence:ping', {}), 'and answers');
    assert.equal(moved.rec.has('auth:expired'), false);
  });

  it("another user's session token is FORBIDDEN", async () => {
    const mine = await (await login()).login();
    const theirs = await (await login()).login();
    const socket = await srv.connect(mine.sessionToken);
    assertError(await emitAck(socket, 'auth:renew', { token: theirs.sessionToken }), 'FORBIDDEN');
    assertOk(await emitAck(socket, 'presence:ping', {}));
  });
});
