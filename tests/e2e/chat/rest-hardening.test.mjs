// REST hardening: history cursors that name no message of the chat, a member list far past the
// cap, and the login path (same work and answer for unknown emails, per-address and per-account
// limits, a bounded queue of password hashes).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startChatServer, assertHttpOk, assertHttpError, objectId, randomUUID,
} from '../helpers/chat.mjs';
import { scaled, until } from '../helpers/server.mjs';

const login = (srv, email, password) => srv.api(null, 'POST', '/v1/auth/login', { email, password });
const newEmail = (tag) => `${tag}-${randomUUID().slice(0, 8)}@example.com`;
// An error body without its correlationId (unique per answer).
const withoutCorrelation = ({ correlationId, ...rest }) => { void correlationId; return rest; };

describe('GET /v1/chats/:id/messages cursors', () => {
  let srv; let alice; let bob; let chat; let other; let sent; let elsewhere;
  before(async () => {
    srv = await startChatServer();
    alice = srv.user(); bob = srv.user();
    chat = await srv.createChat(alice, { type: 'group', title: 'here', memberIds: [bob.id] });
    other = await srv.createChat(alice, { type: 'group', title: 'there', memberIds: [bob.id] });
    sent = [];
    for (const body of ['one', 'two', 'three']) {
      const data = assertHttpOk(await srv.api(alice, 'POST', `/v1/chats/${chat._id}/messages`,
        { body, clientId: randomUUID() }), 201, `send ${body}`);
      sent.push(data.serverId);
    }
    elsewhere = assertHttpOk(await srv.api(bob, 'POST', `/v1/chats/${other._id}/messages`,
      { body: 'in the other chat', clientId: randomUUID() }), 201, 'send elsewhere').serverId;
  });
  after(async () => { await srv?.stop(); });

  const page = (who, query) => srv.api(who, 'GET', `/v1/chats/${chat._id}/messages?${new URLSearchParams(query)}`);

  it('an unknown message id as before= or after= is 404 NOT_FOUND', async () => {
    const unknown = objectId();
    assertHttpError(await page(alice, { before: unknown }), 404, 'NOT_FOUND', 'before=unknown');
    assertHttpError(await page(alice, { after: unknown }), 404, 'NOT_FOUND', 'after=unknown');
  });

  it('a message of another chat (that the user is also in) is the same 404, word for word', async () => {
    const unknown = withoutCorrelation(assertHttpError(await page(alice, { before: objectId() }), 404, 'NOT_FOUND', 'unknown'));
    for (const key of ['before', 'after']) {
      const res = await page(alice, { [key]: elsewhere });
      const foreign = withoutCorrelation(assertHttpError(res, 404, 'NOT_FOUND', `${key}=<message of another chat>`));
      assert.deepEqual(foreign, unknown, `${key}: no way to tell an id of another chat from an unknown one`);
    }
  });

  it('a cursor of this chat still pages both ways', async () => {
    const back = assertHttpOk(await page(bob, { before: sent[2] }), 200, 'before=third');
    assert.deepEqual(back.messages.map((m) => m._id), [sent[0], sent[1]]);
    assert.equal(back.hasMore, false);
    const fwd = assertHttpOk(await page(bob, { after: sent[0], limit: '1' }), 200, 'after=first');
    assert.deepEqual(fwd.messages.map((m) => m._id), [sent[1]]);
    assert.equal(fwd.hasMore, true);
    const end = assertHttpOk(await page(bob, { after: sent[2] }), 200, 'after=last');
    assert.deepEqual(end, { messages: [], hasMore: false }, 'the newest message as cursor: an empty page, not 404');
  });

  it('a non-member still gets 403 (membership is checked before the cursor)', async () => {
    assertHttpError(await page(srv.user(), { before: objectId() }), 403, 'FORBIDDEN', 'outsider');
  });
});

describe('POST /v1/chats with a huge memberIds', () => {
  let srv;
  // Two io threads: two stalled requests would hold every one of them.
  before(async () => { srv = await startChatServer({ args: ['--threads', '2'] }); });
  after(async () => { await srv?.stop(); });

  const huge = () => Array.from({ length: 35_000 }, () => objectId()); // ~945 kB of JSON, under --max-payload

  it('35,000 distinct ids: 400 "at most 5000 members" at once', async () => {
    const owner = srv.user();
    const memberIds = huge();
    assert.equal(new Set(memberIds).size, memberIds.length, 'distinct ids');
    const t0 = Date.now();
    const res = await srv.api(owner, 'POST', '/v1/chats', { type: 'group', memberIds });
    const elapsed = Date.now() - t0;
    const err = assertHttpError(res, 400, 'VALIDATION_ERROR', '35,000 members');
    assert.equal(err.message, 'at most 5000 members');
    assert.ok(elapsed < scaled(2000), `answered in ${elapsed} ms`);
  });

  it('a full chat takes no more members: POST /v1/chats/:id/members past 5000 is the same 400', async () => {
    const owner = srv.user();
    const full = await srv.createChat(owner, { type: 'group', memberIds: Array.from({ length: 4999 }, () => objectId()) });
    assert.equal(full.memberIds.length, 5000, 'the creator and 4999 others');
    const res = await srv.api(owner, 'POST', `/v1/chats/${full._id}/members`, { userId: objectId() });
    assert.equal(assertHttpError(res, 400, 'VALIDATION_ERROR', 'member 5001').message, 'at most 5000 members');
    const after = assertHttpOk(await srv.api(owner, 'GET', `/v1/chats/${full._id}`), 200, 'GET the chat');
    assert.equal(after.memberIds.length, 5000, 'nobody was added');
    // Adding an existing member is still the no-op it was.
    assertHttpOk(await srv.api(owner, 'POST', `/v1/chats/${full._id}/members`, { userId: full.memberIds[5] }), 200, 'existing member');
  });

  it('/healthz keeps answering while two such requests are in flight', async () => {
    const owner = srv.user();
    let done = 0;
    const bigs = [huge(), huge()].map((memberIds) =>
      srv.api(owner, 'POST', '/v1/chats', { type: 'group', memberIds }, { timeoutMs: 20_000 })
        .finally(() => { done += 1; }));
    // Probe until both are answered: each probe must be answered promptly.
    let probes = 0;
    do {
      const t0 = Date.now();
      const res = await fetch(`${srv.url}/healthz`, { signal: AbortSignal.timeout(scaled(10_000)) });
      const elapsed = Date.now() - t0;
      assert.equal(res.status, 200, '/healthz');
      assert.ok(elapsed < scaled(2000), `/healthz answered in ${elapsed} ms while member lists were checked`);
      probes += 1;
    } while (done < 2);
    assert.ok(probes >= 1);
    for (const res of await Promise.all(bigs)) {
      assert.equal(assertHttpError(res, 400, 'VALIDATION_ERROR', 'huge list').message, 'at most 5000 members');
    }
  });
});

describe('POST /v1/auth/login: no account probing', () => {
  let srv; let email;
  const password = 'right password 1';
  before(async () => {
    srv = await startChatServer();
    email = newEmail('known');
    await srv.addUser({ email, password, name: 'Known' });
  });
  after(async () => { await srv?.stop(); });

  it('unknown email and wrong password: the same status and body', async () => {
    const wrong = await login(srv, email, 'not it');
    const unknown = await login(srv, newEmail('nobody'), password);
    assertHttpError(wrong, 401, 'UNAUTHORIZED', 'wrong password');
    assertHttpError(unknown, 401, 'UNAUTHORIZED', 'unknown email');
    assert.deepEqual(withoutCorrelation(unknown.body), withoutCorrelation(wrong.body));
    assert.equal(unknown.headers.get('content-type'), wrong.headers.get('content-type'));
  });

  it('an unknown email costs a password hash, as a wrong password does', async () => {
    const before0 = (await srv.metrics()).parley_password_hashes_total;
    assert.equal(typeof before0, 'number', 'parley_password_hashes_total is exported');
    assertHttpError(await login(srv, newEmail('nobody'), 'whatever'), 401, 'UNAUTHORIZED', 'unknown email');
    const before1 = (await srv.metrics()).parley_password_hashes_total;
    assert.equal(before1 - before0, 1, 'one hash for the unknown email');
    assertHttpError(await login(srv, email, 'whatever'), 401, 'UNAUTHORIZED', 'wrong password');
    assert.equal((await srv.metrics()).parley_password_hashes_total - before1, 1, 'one hash for the wrong password');
  });
});

// The login budgets are counted by each process (docs/cluster.md): in a cluster, these tests log
// in on one node (onNode(0), the context itself on one process), whose budget is the rule.
describe('POST /v1/auth/login: limits', () => {
  it('per address: past the budget a minute, 429 RATE_LIMITED with Retry-After, even with the right password', async () => {
    const srv = await startChatServer({ args: ['--login-per-ip-per-minute', '5'] });
    const one = srv.onNode(0);
    try {
      const email = newEmail('ip');
      await srv.addUser({ email, password: 'right password 2', name: 'Ip' });
      for (let i = 0; i < 5; i++)
        assertHttpError(await login(one, i % 2 ? email : newEmail('guess'), `wrong-${i}`), 401, 'UNAUTHORIZED', `attempt ${i + 1}`);
      const res = await login(one, email, 'right password 2');
      const err = assertHttpError(res, 429, 'RATE_LIMITED', 'attempt 6');
      assert.match(err.message, /address/);
      const retryAfter = Number(res.headers.get('retry-after'));
      assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After ${res.headers.get('retry-after')}`);
      assert.ok((await srv.metrics()).parley_logins_refused_total >= 1, 'counted in parley_logins_refused_total');
      // The rest of the API from that address is not affected.
      assert.equal((await fetch(`${srv.url}/healthz`)).status, 200);
    } finally {
      await srv.stop();
    }
  });

  it('behind a trusted proxy, the login budget counts each forwarded client, and the header is ignored from others', async () => {
    const srv = (await startChatServer({ args: ['--login-per-ip-per-minute', '3', '--trusted-proxy', '127.0.0.1'] })).onNode(0);
    // A cluster's nodes trust nginx (127.0.0.1) unless told otherwise: these trust only an
    // address no request comes from, as a server without --trusted-proxy trusts nobody.
    const untrusted = srv.cluster ? ['--trusted-proxy', '192.0.2.1'] : [];
    const direct = (await startChatServer({ args: ['--login-per-ip-per-minute', '3', ...untrusted] })).onNode(0);
    try {
      const from = (ip) => ({ headers: { 'x-forwarded-for': ip } });
      const loginVia = (s, ip, email, password) => s.api(null, 'POST', '/v1/auth/login', { email, password }, from(ip));
      const email = newEmail('proxied');
      await srv.addUser({ email, password: 'right password 3', name: 'Proxied' });
      for (let i = 0; i < 3; i++)
        assertHttpOk(await loginVia(srv, '198.51.100.7', email, 'right password 3'), 200, `client A login ${i + 1}`);
      assertHttpError(await loginVia(srv, '198.51.100.7', email, 'right password 3'), 429, 'RATE_LIMITED', 'client A past its budget');
      // Another client behind the same proxy has a budget of its own.
      assertHttpOk(await loginVia(srv, '198.51.100.8', email, 'right password 3'), 200, 'client B');

      // Without --trusted-proxy, the header names nobody: every login counts against the peer.
      const email2 = newEmail('direct');
      await direct.addUser({ email: email2, password: 'right password 4', name: 'Direct' });
      for (let i = 0; i < 3; i++)
        assertHttpOk(await loginVia(direct, `198.51.100.${10 + i}`, email2, 'right password 4'), 200, `login ${i + 1}`);
      assertHttpError(await loginVia(direct, '198.51.100.99', email2, 'right password 4'), 429, 'RATE_LIMITED', 'forged header');
    } finally {
      await srv.stop();
      await direct.stop();
    }
  });

  it('a flood of wrong logins for one account does not starve a right login for another', async () => {
    const srv = (await startChatServer({ args: ['--login-failures-per-account', '3'] })).onNode(0);
    try {
      const victim = newEmail('victim'); const user = newEmail('user');
      await srv.addUser({ email: victim, password: 'victim password', name: 'Victim' });
      await srv.addUser({ email: user, password: 'user password', name: 'User' });
      const flood = Array.from({ length: 60 }, (_, i) => login(srv, victim, `guess-${i}`));
      const t0 = Date.now();
      const right = await login(srv, user, 'user password');
      const elapsed = Date.now() - t0;
      assert.equal(assertHttpOk(right, 200, 'the right login during the flood').user.email, user);
      assert.ok(elapsed < scaled(2000), `the right login took ${elapsed} ms during the flood`);
      const answers = await Promise.all(flood);
      const statuses = answers.map((r) => r.status);
      assert.ok(statuses.every((s) => s === 401 || s === 429), `statuses ${statuses}`);
      assert.ok(statuses.filter((s) => s === 401).length <= 3, 'at most 3 guesses checked');
      for (const r of answers.filter((a) => a.status === 429)) assertHttpError(r, 429, 'RATE_LIMITED', 'flood');
    } finally {
      await srv.stop();
    }
  });

  it('per account: after N failures even the right password is refused until the window passes', async () => {
    const windowMs = 1500;
    const srv = (await startChatServer({
      args: ['--login-failures-per-account', '3', '--login-failure-window-ms', String(windowMs)],
    })).onNode(0);
    try {
      const email = newEmail('acct'); const other = newEmail('other');
      await srv.addUser({ email, password: 'right password 3', name: 'Acct' });
      await srv.addUser({ email: other, password: 'other password', name: 'Other' });
      const t0 = Date.now(); // before the first failure: the window cannot end before t0 + windowMs
      for (let i = 0; i < 3; i++)
        assertHttpError(await login(srv, email, `wrong-${i}`), 401, 'UNAUTHORIZED', `failure ${i + 1}`);
      const refused = await login(srv, email, 'right password 3');
      const err = assertHttpError(refused, 429, 'RATE_LIMITED', 'right password after 3 failures');
      assert.match(err.message, /account/);
      const retryAfter = refused.headers.get('retry-after');
      assert.ok(retryAfter === '1' || retryAfter === '2', `Retry-After: the rest of the window in whole seconds (got ${retryAfter})`);
      // The same email in another case is the same account.
      assertHttpError(await login(srv, email.toUpperCase(), 'right password 3'), 429, 'RATE_LIMITED', 'upper case');
      // Other accounts from the same address are not affected.
      assertHttpOk(await login(srv, other, 'other password'), 200, 'another account');
      // Refused attempts do not extend the window: polling with the right password gets in.
      const ok = await until(() => login(srv, email, 'right password 3'), (r) => {
        assert.ok(r.status === 429 || r.status === 200, `status ${r.status}`);
        return r.status === 200;
      }, scaled(windowMs + 5000), 'the window to pass');
      assert.ok(Date.now() - t0 >= windowMs, 'not before the window passed');
      assert.equal(ok.body.data.user.email, email);
      // A success forgets the failures: the next mistake is a plain 401.
      assertHttpError(await login(srv, email, 'wrong again'), 401, 'UNAUTHORIZED', 'after a success');
    } finally {
      await srv.stop();
    }
  });

  it('password hashes do not queue without bound: past the queue, 429 "busy" at once', async () => {
    const srv = await startChatServer({ args: ['--login-hash-queue', '2'] });
    try {
      const email = newEmail('busy');
      await srv.addUser({ email, password: 'right password 4', name: 'Busy' });
      const answers = await Promise.all(Array.from({ length: 30 }, () => login(srv, newEmail('nobody'), 'guess')));
      const statuses = answers.map((r) => r.status);
      assert.ok(statuses.every((s) => s === 401 || s === 429), `statuses ${statuses}`);
      const busy = answers.filter((r) => r.status === 429);
      assert.ok(busy.length >= 1, 'some logins were refused rather than queued');
      assert.ok(statuses.filter((s) => s === 401).length >= 2, 'the queue was used');
      for (const r of busy) {
        assert.match(assertHttpError(r, 429, 'RATE_LIMITED', 'busy').message, /busy/i);
        assert.ok(Number(r.headers.get('retry-after')) >= 1, 'Retry-After');
      }
      // Once the queue drains, logins are served again.
      assertHttpOk(await login(srv, email, 'right password 4'), 200, 'after the burst');
    } finally {
      await srv.stop();
    }
  });
});
