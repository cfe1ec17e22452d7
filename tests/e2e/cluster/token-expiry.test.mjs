// Tokens on live connections across a cluster: two `parley serve --redis URL --store
// postgres://...` on one scratch Redis and one scratch PostgreSQL, one JWT secret. A logout on
// one node ends the session's sockets on every node with the same auth:expired event as an
// expiry ('session ended by logout'), then a server-side disconnect; a socket renewed into a
// session on one node is reached by that session's logout on the other.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  closeAllSockets, emitAck, assertOk, assertError, assertHttpOk, nextEvent, arrivedAt, randomUUID, runCli, lastJsonLine,
} from '../helpers/chat.mjs';
import { waitFor } from '../helpers/server.mjs';
import { CLUSTER_PEER, startTwoNodes } from '../helpers/cluster.mjs';

const skip = CLUSTER_PEER === 'node' && 'the peer has no local users, sessions or token renewal';

let two;
let nodeA;
let nodeB;
let store;

before(async () => {
  if (skip) return;
  two = await startTwoNodes();
  ({ nodeA, nodeB, store } = two);
});
after(async () => { await two?.stop(); });
afterEach(() => closeAllSockets());

/** A user with a password, in the shared database, and a login on node A. */
async function account() {
  const email = `tok-${randomUUID().slice(0, 8)}@example.com`;
  const password = 'token-pw-123';
  const { stdout } = await runCli(['user', 'add', '--data-dir', nodeA.dir, '--store', store,
    '--email', email, '--password', password, '--name', 'Tok']);
  const user = lastJsonLine(stdout);
  const login = async () => assertHttpOk(await nodeA.api(null, 'POST', '/v1/auth/login', { email, password }), 200, 'login');
  return { user, login };
}

/** auth:expired with `message`, then 'io server disconnect'; `gone` was attached before. */
async function assertEnded(socket, gone, message, what) {
  const payload = await nextEvent(socket, 'auth:expired', () => true, 5000);
  assertError(payload, 'UNAUTHORIZED', `${what}: auth:expired`);
  assert.equal(payload.message, message, `${what}: message`);
  const [reason] = await gone;
  assert.equal(reason, 'io server disconnect', `${what}: disconnect reason`);
  assert.equal(socket.active, false, `${what}: no reconnection`);
  return arrivedAt(socket, payload);
}

describe('logout and renewal across nodes', { skip }, () => {
  it('a logout on node A ends the session\'s sockets on both nodes with auth:expired', async () => {
    const { login } = await account();
    const session = await login();
    const other = await login();
    const onA = await nodeA.connect(session.sessionToken, { reconnection: true });
    const onB = await nodeB.connect(session.sessionToken, { reconnection: true });
    const keep = await nodeB.connect(other.sessionToken);
    const goneA = waitFor(onA, 'disconnect', 5000);
    const goneB = waitFor(onB, 'disconnect', 5000);
    assertHttpOk(await nodeA.api(session.sessionToken, 'POST', '/v1/auth/logout'), 200, 'logout');
    await assertEnded(onA, goneA, 'session ended by logout', 'node A');
    await assertEnded(onB, goneB, 'session ended by logout', 'node B');
    assert.equal(keep.connected, true, "the user's other session stays");
    assertOk(await emitAck(keep, 'presence:ping', {}));
  });

  it('a socket renewed into a session on node B is ended by that session\'s logout on node A', async () => {
    const { user, login } = await account();
    const session = await login();
    const socket = await nodeB.connect(nodeB.token(user._id, { expOffset: 3600 }));
    const gone = waitFor(socket, 'disconnect', 5000);
    assertOk(await emitAck(socket, 'auth:renew', { token: session.sessionToken }), 'renew into the session');
    assertHttpOk(await nodeA.api(session.sessionToken, 'POST', '/v1/auth/logout'), 200, 'logout');
    await assertEnded(socket, gone, 'session ended by logout', 'renewed on node B');
  });

  it('a session logged out on node A cannot be renewed into on node B', async () => {
    const { user, login } = await account();
    const session = await login();
    assertHttpOk(await nodeA.api(session.sessionToken, 'POST', '/v1/auth/logout'), 200, 'logout');
    const socket = await nodeB.connect(nodeB.token(user._id, { expOffset: 3600 }));
    const refused = assertError(await emitAck(socket, 'auth:renew', { token: session.sessionToken }), 'UNAUTHORIZED');
    assert.equal(refused.message, 'Unknown session');
    assertOk(await emitAck(socket, 'presence:ping', {}), 'the socket keeps its own token');
  });
});
