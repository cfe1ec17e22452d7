// Security: every kind of bad token is refused on BOTH transports, the same way.
//   socket: connect_error, message 'UNAUTHORIZED', data = {ok:false,error:'UNAUTHORIZED',message,correlationId}
//           (token in auth.token over websocket and over long-polling, and in the ?token= query)
//   REST:   HTTP 401 with the same envelope (GET /v1/chats and POST /v1/chats)
// Each family also has a control: the same construction done right is accepted, so a test that
// refuses everything cannot pass by accident.
//
// Servers: an HS256 server (the default), one that requires iss + aud, and one with an RSA public
// key (--jwt-public-key) for algorithm confusion. Deleted sessions use POST /v1/auth/logout.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, createPublicKey, createSign, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  startChatServer, closeAllSockets, connect, connectRefused, api, emitAck, assertOk, assertError,
  assertHttpError, assertHttpOk, makeToken, objectId, join, send, nextEvent, groupOf, randomUUID, assertUnauthorized,
} from '../helpers/chat.mjs';
import { waitFor } from '../helpers/server.mjs';

const now = () => Math.floor(Date.now() / 1000);
const b64url = (x) => Buffer.from(x).toString('base64url');
const enc = (o) => b64url(JSON.stringify(o));

/** A JWT from arbitrary header and claims, signed HS256 with `secret` (Buffer or string). */
function hsJwt(header, claims, secret) {
  const input = `${enc(header)}.${enc(claims)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

/** A JWT signed RS256 with an RSA private key. */
function rsJwt(claims, privateKey, header = { alg: 'RS256', typ: 'JWT' }) {
  const input = `${enc(header)}.${enc(claims)}`;
  return `${input}.${createSign('SHA256').update(input).sign(privateKey).toString('base64url')}`;
}

/** An unsigned token with the given alg spelling and signature part. */
function unsigned(alg, claims, signature = '') {
  return `${enc({ alg, typ: 'JWT' })}.${enc(claims)}.${signature}`;
}

const claimsFor = (sub, extra = {}) => ({ sub, iat: now(), exp: now() + 3600, ...extra });

/** `token` is refused over websocket, long-polling, the ?token= query, and REST (GET and POST). */
async function assertRefusedEverywhere(url, token, what) {
  const ids = [];
  ids.push(assertUnauthorized(await connectRefused(url, token, { transports: ['websocket'] }), `${what} [websocket]`).correlationId);
  ids.push(assertUnauthorized(await connectRefused(url, token, { transports: ['polling'] }), `${what} [polling]`).correlationId);
  ids.push(assertUnauthorized(await connectRefused(url, null, { query: { token } }), `${what} [?token=]`).correlationId);
  ids.push(assertHttpError(await api(url, token, 'GET', '/v1/chats'), 401, 'UNAUTHORIZED', `${what} [REST GET /v1/chats]`).correlationId);
  ids.push(assertHttpError(await api(url, token, 'POST', '/v1/chats', { type: 'group', memberIds: [] }),
    401, 'UNAUTHORIZED', `${what} [REST POST /v1/chats]`).correlationId);
  assert.equal(new Set(ids).size, ids.length, `${what}: every refusal has its own correlationId`);
}

/** `token` is accepted by a socket (websocket) and by REST. */
async function assertAcceptedEverywhere(url, token, what) {
  let socket;
  try {
    socket = await connect(url, token);
  } catch (e) {
    assert.fail(`${what}: the socket must connect (${e.message})`);
  }
  assertOk(await emitAck(socket, 'presence:ping', {}), `${what}: presence:ping`);
  socket.close();
  assertHttpOk(await api(url, token, 'GET', '/v1/chats'), 200, `${what}: REST GET /v1/chats`);
}

afterEach(() => closeAllSockets());

// ---------------------------------------------------------------------------------------
// HS256 server (the default configuration)
// ---------------------------------------------------------------------------------------

describe('HS256 server: refused tokens (socket CONNECT_ERROR + REST 401)', () => {
  let srv;
  let good; // a valid token, the base of the truncation / signature cases
  before(async () => {
    srv = await startChatServer();
    good = srv.token(objectId());
  });
  after(async () => { await srv?.stop(); });

  it('control: a valid HS256 token is accepted on both transports', async () => {
    await assertAcceptedEverywhere(srv.url, good, 'valid token');
    await assertAcceptedEverywhere(srv.url, srv.token(objectId(), { expOffset: 10 }), 'valid token expiring in 10 s');
  });

  it('expired: exp one hour ago, and exp 2 minutes ago (beyond the clock-skew leeway)', async () => {
    await assertRefusedEverywhere(srv.url, srv.token(objectId(), { expOffset: -3600, iat: now() - 7200 }), 'exp -1h');
    await assertRefusedEverywhere(srv.url, srv.token(objectId(), { expOffset: -120, iat: now() - 600 }), 'exp -2min');
  });

  it('not yet valid: nbf one hour ahead, and 2 minutes ahead (beyond the leeway)', async () => {
    await assertRefusedEverywhere(srv.url, srv.token(objectId(), { payload: { nbf: now() + 3600 } }), 'nbf +1h');
    await assertRefusedEverywhere(srv.url, srv.token(objectId(), { payload: { nbf: now() + 120 } }), 'nbf +2min');
  });

  it('signed with the wrong key: another secret, the secret with one char changed, a prefix of it', async () => {
    const sub = objectId();
    const s = srv.secret;
    const flipped = s.slice(0, -1) + (s.at(-1) === '0' ? '1' : '0');
    await assertRefusedEverywhere(srv.url, makeToken(sub, { secret: randomBytes(32).toString('hex') }), 'random secret');
    await assertRefusedEverywhere(srv.url, makeToken(sub, { secret: flipped }), 'last secret char changed');
    await assertRefusedEverywhere(srv.url, makeToken(sub, { secret: s.slice(0, -1) }), 'secret prefix');
    await assertRefusedEverywhere(srv.url, makeToken(sub, { secret: `${s}x` }), 'secret with a suffix');
  });

  it('alg none in every spelling, with an empty, a junk or a real HS256 signature', async () => {
    const claims = claimsFor(objectId());
    for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
      await assertRefusedEverywhere(srv.url, unsigned(alg, claims), `alg ${alg}, empty signature`);
      await assertRefusedEverywhere(srv.url, unsigned(alg, claims, 'c2ln'), `alg ${alg}, junk signature`);
    }
    // header says none but the token carries a valid HMAC of its input under the server's secret
    await assertRefusedEverywhere(srv.url, hsJwt({ alg: 'none', typ: 'JWT' }, claims, srv.secret), 'alg none, real HMAC');
    // no alg at all, and alg of the wrong type
    await assertRefusedEverywhere(srv.url, hsJwt({ typ: 'JWT' }, claims, srv.secret), 'no alg member');
    await assertRefusedEverywhere(srv.url, hsJwt({ alg: null, typ: 'JWT' }, claims, srv.secret), 'alg null');
    await assertRefusedEverywhere(srv.url, hsJwt({ alg: ['HS256'], typ: 'JWT' }, claims, srv.secret), 'alg an array');
  });

  it('algorithms the HS256 server does not hold a key for: RS256 (really signed), ES256 and HS512 headers', async () => {
    const claims = claimsFor(objectId());
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await assertRefusedEverywhere(srv.url, rsJwt(claims, privateKey), 'RS256 signed with some RSA key');
    await assertRefusedEverywhere(srv.url, hsJwt({ alg: 'RS256', typ: 'JWT' }, claims, srv.secret), 'RS256 header, HMAC signature');
    await assertRefusedEverywhere(srv.url, hsJwt({ alg: 'ES256', typ: 'JWT' }, claims, srv.secret), 'ES256 header, HMAC signature');
    await assertRefusedEverywhere(srv.url, hsJwt({ alg: 'HS512', typ: 'JWT' }, claims, srv.secret), 'HS512 header, HS256 signature');
  });

  it('truncated: signature part missing or cut, payload cut, header only, last character dropped', async () => {
    const [h, p, sig] = good.split('.');
    const cases = {
      'header.payload (no signature part)': `${h}.${p}`,
      'header.payload. (empty signature)': `${h}.${p}.`,
      'signature minus its last char': `${h}.${p}.${sig.slice(0, -1)}`,
      'signature cut in half': `${h}.${p}.${sig.slice(0, sig.length >> 1)}`,
      'payload cut in half': `${h}.${p.slice(0, p.length >> 1)}.${sig}`,
      'header only': h,
      'header.': `${h}.`,
      'first 40 characters': good.slice(0, 40),
      'last character dropped': good.slice(0, -1),
      'first character dropped': good.slice(1),
    };
    for (const [what, token] of Object.entries(cases)) await assertRefusedEverywhere(srv.url, token, `truncated: ${what}`);
  });

  it('bad signature bytes: one character changed, all zero, a signature of another token, extra bytes', async () => {
    const [h, p, sig] = good.split('.');
    const other = srv.token(objectId()).split('.')[2];
    const swap = (c) => (c === 'A' ? 'B' : 'A');
    const cases = {
      'first char changed': `${h}.${p}.${swap(sig[0])}${sig.slice(1)}`,
      'middle char changed': `${h}.${p}.${sig.slice(0, 20)}${swap(sig[20])}${sig.slice(21)}`,
      'all-zero bytes': `${h}.${p}.${b64url(Buffer.alloc(32))}`,
      "another token's valid signature": `${h}.${p}.${other}`,
      'signature with 3 extra bytes': `${h}.${p}.${b64url(Buffer.concat([Buffer.from(sig, 'base64url'), Buffer.from([1, 2, 3])]))}`,
      'signature of the payload alone': `${h}.${p}.${createHmac('sha256', srv.secret).update(p).digest('base64url')}`,
      'SHA-256 (not HMAC) of the input': `${h}.${p}.${createHash('sha256').update(`${h}.${p}`).digest('base64url')}`,
      'four parts': `${good}.${sig}`,
    };
    for (const [what, token] of Object.entries(cases)) await assertRefusedEverywhere(srv.url, token, `bad signature: ${what}`);
  });

  it('tampered claims under the original signature: another sub, a later exp', async () => {
    const [h, , sig] = good.split('.');
    await assertRefusedEverywhere(srv.url, `${h}.${enc(claimsFor(objectId()))}.${sig}`, 'sub swapped');
    const expired = srv.token(objectId(), { expOffset: -3600 });
    const [eh, ep, esig] = expired.split('.');
    const revived = { ...JSON.parse(Buffer.from(ep, 'base64url')), exp: now() + 3600 };
    await assertRefusedEverywhere(srv.url, `${eh}.${enc(revived)}.${esig}`, 'exp pushed forward');
  });

  it('sub not an ObjectId: a name, empty, 23 or 25 hex, uppercase, a number, an array, missing', async () => {
    const id = objectId();
    const subs = {
      'a name': 'alice', empty: '', '23 hex': id.slice(1), '25 hex': `${id}0`, uppercase: id.toUpperCase(),
      'with a space': ` ${id}`, 'SQL-looking': "' OR 1=1 --",
    };
    for (const [what, sub] of Object.entries(subs)) await assertRefusedEverywhere(srv.url, srv.token(sub), `sub ${what}`);
    await assertRefusedEverywhere(srv.url, hsJwt({ alg: 'HS256', typ: 'JWT' }, { sub: 123456, exp: now() + 3600 }, srv.secret), 'sub a number');
    await assertRefusedEverywhere(srv.url, hsJwt({ alg: 'HS256', typ: 'JWT' }, { sub: [id], exp: now() + 3600 }, srv.secret), 'sub an array');
    await assertRefusedEverywhere(srv.url, srv.token(undefined), 'no sub');
  });

  it('session-token lookalikes that name no session: random pst_ token, pst_ with a bad length, a JWT-less string', async () => {
    await assertRefusedEverywhere(srv.url, `pst_${randomBytes(32).toString('base64url')}`, 'unknown pst_ token');
    await assertRefusedEverywhere(srv.url, `pst_${randomBytes(16).toString('base64url')}`, 'short pst_ token');
    await assertRefusedEverywhere(srv.url, 'pst_', 'bare prefix');
    await assertRefusedEverywhere(srv.url, 'f'.repeat(64), '64 hex (a session hash, not a token)');
  });
});

// ---------------------------------------------------------------------------------------
// iss / aud when configured
// ---------------------------------------------------------------------------------------

describe('server with --jwt-issuer and --jwt-audience: wrong iss / aud refused', () => {
  const ISS = 'https://issuer.example';
  const AUD = 'parley-api';
  let srv;
  before(async () => { srv = await startChatServer({ args: ['--jwt-issuer', ISS, '--jwt-audience', AUD] }); });
  after(async () => { await srv?.stop(); });
  const tok = (claims) => srv.token(objectId(), { payload: claims });

  it('control: the right iss with aud as a string or as an array containing it is accepted', async () => {
    await assertAcceptedEverywhere(srv.url, tok({ iss: ISS, aud: AUD }), 'right iss + aud');
    await assertAcceptedEverywhere(srv.url, tok({ iss: ISS, aud: ['other', AUD] }), 'right iss + aud array');
  });

  it('wrong, missing or differently-cased iss', async () => {
    await assertRefusedEverywhere(srv.url, tok({ iss: 'https://evil.example', aud: AUD }), 'wrong iss');
    await assertRefusedEverywhere(srv.url, tok({ aud: AUD }), 'missing iss');
    await assertRefusedEverywhere(srv.url, tok({ iss: ISS.toUpperCase(), aud: AUD }), 'iss in another case');
    await assertRefusedEverywhere(srv.url, tok({ iss: `${ISS}/`, aud: AUD }), 'iss with a trailing slash');
    await assertRefusedEverywhere(srv.url, tok({ iss: [ISS], aud: AUD }), 'iss as an array');
  });

  it('wrong, missing or not-containing aud', async () => {
    await assertRefusedEverywhere(srv.url, tok({ iss: ISS, aud: 'other-api' }), 'wrong aud');
    await assertRefusedEverywhere(srv.url, tok({ iss: ISS }), 'missing aud');
    await assertRefusedEverywhere(srv.url, tok({ iss: ISS, aud: ['a', 'b'] }), 'aud array without ours');
    await assertRefusedEverywhere(srv.url, tok({ iss: ISS, aud: [] }), 'empty aud array');
    await assertRefusedEverywhere(srv.url, tok({ iss: ISS, aud: `${AUD}x` }), 'aud with a suffix');
  });

  it('a token from the built-in login carries this iss and aud and is accepted', async () => {
    const email = `iss-${randomUUID().slice(0, 8)}@example.com`;
    await srv.addUser({ email, password: 'issuer-pw-1', name: 'Iss' });
    const data = assertHttpOk(await srv.api(null, 'POST', '/v1/auth/login', { email, password: 'issuer-pw-1' }), 200, 'login');
    await assertAcceptedEverywhere(srv.url, data.token, 'login JWT');
  });
});

// ---------------------------------------------------------------------------------------
// RSA public key: HS/RS algorithm confusion
// ---------------------------------------------------------------------------------------

describe('server with --jwt-public-key (RSA): HS/RS confusion refused', () => {
  let server; let dir; let privateKey; let publicKey; let publicPem;
  before(async () => {
    ({ privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 }));
    publicPem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' });
    dir = await mkdtemp(path.join(os.tmpdir(), 'parley-sec-keys-'));
    const pemFile = path.join(dir, 'public.pem');
    await writeFile(pemFile, publicPem);
    server = await startChatServer({ args: ['--jwt-public-key', pemFile] });
  });
  after(async () => {
    closeAllSockets();
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('control: RS256 signed with the matching private key is accepted', async () => {
    await assertAcceptedEverywhere(server.url, rsJwt(claimsFor(objectId()), privateKey), 'RS256');
  });

  it('HS256 whose HMAC secret is the public key (PEM as served, PEM without newline, PKCS#1 PEM, DER, JWK)', async () => {
    const claims = claimsFor(objectId());
    const secrets = {
      'SPKI PEM': publicPem,
      'SPKI PEM without the trailing newline': publicPem.trimEnd(),
      'PKCS#1 PEM': publicKey.export({ type: 'pkcs1', format: 'pem' }),
      'SPKI DER': publicKey.export({ type: 'spki', format: 'der' }),
      'JWK JSON': JSON.stringify(publicKey.export({ format: 'jwk' })),
    };
    for (const [what, secret] of Object.entries(secrets)) {
      await assertRefusedEverywhere(server.url, hsJwt({ alg: 'HS256', typ: 'JWT' }, claims, secret), `HS256 keyed with the ${what}`);
    }
    // the same confusion with the header claiming RS256 (an HMAC where an RSA signature belongs)
    await assertRefusedEverywhere(server.url, hsJwt({ alg: 'RS256', typ: 'JWT' }, claims, publicPem), 'RS256 header, HMAC-with-PEM signature');
  });

  it('RS256 signed with another RSA key, alg none, an expired RS256 token, an ES256 header', async () => {
    const claims = claimsFor(objectId());
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    await assertRefusedEverywhere(server.url, rsJwt(claims, other), 'RS256 other key');
    await assertRefusedEverywhere(server.url, unsigned('none', claims), 'alg none');
    await assertRefusedEverywhere(server.url, rsJwt(claimsFor(objectId(), { exp: now() - 3600 }), privateKey), 'RS256 expired');
    await assertRefusedEverywhere(server.url, rsJwt(claims, privateKey, { alg: 'ES256', typ: 'JWT' }), 'ES256 header, RSA signature');
    await assertRefusedEverywhere(server.url, rsJwt(claims, privateKey, { alg: 'PS256', typ: 'JWT' }), 'PS256 header, RS256 signature');
    const [h, p, sig] = rsJwt(claims, privateKey).split('.');
    await assertRefusedEverywhere(server.url, `${h}.${p}.${sig.slice(0, -2)}`, 'RS256 truncated signature');
  });
});

// ---------------------------------------------------------------------------------------
// Deleted sessions: POST /v1/auth/logout
// ---------------------------------------------------------------------------------------

describe('deleted session (POST /v1/auth/logout)', () => {
  let srv;
  before(async () => { srv = await startChatServer(); });
  after(async () => { await srv?.stop(); });

  async function loginUser() {
    const email = `out-${randomUUID().slice(0, 8)}@example.com`;
    const password = 'logout-pw-123';
    const user = await srv.addUser({ email, password, name: 'Log Out' });
    const login = async () => assertHttpOk(await srv.api(null, 'POST', '/v1/auth/login', { email, password }), 200, 'login');
    return { user, login };
  }

  it('after logout the session token gets UNAUTHORIZED everywhere; sockets connected with it are disconnected; the other session and the JWT keep working', async () => {
    const { user, login } = await loginUser();
    const first = await login();
    const second = await login();
    assert.notEqual(first.sessionToken, second.sessionToken);
    assert.match(first.sessionToken, /^pst_[A-Za-z0-9_-]{43}$/);
    const peer = srv.user();
    const chat = await groupOf(srv, peer, [{ id: user._id }]);

    // the session works on both transports and REST before logout
    const ws = await srv.connect(first.sessionToken);
    const poll = await srv.connect(first.sessionToken, { transports: ['polling'] });
    const viaQuery = await srv.connect(null, { query: { token: first.sessionToken } });
    const kept = await srv.connect(second.sessionToken);
    const viaJwt = await srv.connect(first.token);
    const sp = await srv.connect(peer);
    for (const s of [ws, poll, viaQuery, kept, viaJwt, sp]) await join(s, chat._id);
    assertHttpOk(await srv.api(first.sessionToken, 'GET', `/v1/chats/${chat._id}`), 200, 'before logout');

    const gone = [ws, poll, viaQuery].map((s) => waitFor(s, 'disconnect', 5000));
    const out = await srv.api(first.sessionToken, 'POST', '/v1/auth/logout');
    assert.deepEqual(assertHttpOk(out, 200, 'logout'), {});
    for (const [i, reason] of (await Promise.all(gone)).entries()) {
      assert.equal(reason[0], 'io server disconnect', `socket ${i} of the deleted session: disconnect reason`);
    }

    // the deleted session: refused on every path, like any unknown token
    await assertRefusedEverywhere(srv.url, first.sessionToken, 'deleted session');
    assertHttpError(await srv.api(first.sessionToken, 'GET', `/v1/chats/${chat._id}/messages`), 401, 'UNAUTHORIZED', 'deleted session: history');
    assertHttpError(await srv.api(first.sessionToken, 'POST', `/v1/chats/${chat._id}/messages`, { body: 'x', clientId: randomUUID() }),
      401, 'UNAUTHORIZED', 'deleted session: REST send');
    assertHttpError(await srv.api(first.sessionToken, 'POST', '/v1/auth/logout'), 401, 'UNAUTHORIZED', 'second logout');

    // the user's other session, the JWT from the same login, and the peer are unaffected
    assert.equal(kept.connected, true, 'the other session stays connected');
    assert.equal(viaJwt.connected, true, 'the JWT socket stays connected');
    assertHttpOk(await srv.api(second.sessionToken, 'GET', '/v1/chats'), 200, 'other session over REST');
    const m = await send(sp, chat._id, 'after logout');
    for (const s of [kept, viaJwt]) await nextEvent(s, 'message:new', (p) => p._id === m.serverId);
    for (const s of [ws, poll, viaQuery]) assert.equal(s.connected, false, 'a socket of the deleted session reconnected');
    const m2 = await send(kept, chat._id, 'still here');
    assert.equal((await nextEvent(sp, 'message:new', (p) => p._id === m2.serverId)).senderId, user._id);
  });

  it('logout needs a live session token: JWT -> 400 VALIDATION_ERROR; none, garbage, unknown pst_ -> 401', async () => {
    const { login } = await loginUser();
    const data = await login();
    assertHttpError(await srv.api(data.token, 'POST', '/v1/auth/logout'), 400, 'VALIDATION_ERROR', 'JWT bearer');
    assertHttpError(await srv.api(null, 'POST', '/v1/auth/logout'), 401, 'UNAUTHORIZED', 'no bearer');
    assertHttpError(await srv.api('garbage', 'POST', '/v1/auth/logout'), 401, 'UNAUTHORIZED', 'garbage bearer');
    assertHttpError(await srv.api(`pst_${randomBytes(32).toString('base64url')}`, 'POST', '/v1/auth/logout'),
      401, 'UNAUTHORIZED', 'unknown session');
    assertHttpError(await srv.api(srv.token(objectId(), { expOffset: -3600 }), 'POST', '/v1/auth/logout'),
      401, 'UNAUTHORIZED', 'expired JWT');
    // none of these touched the session
    assertHttpOk(await srv.api(data.sessionToken, 'GET', '/v1/chats'), 200, 'session still valid');
    const s = await srv.connect(data.sessionToken);
    assertOk(await emitAck(s, 'presence:ping', {}));
  });

  it("one user's logout never ends another user's session", async () => {
    const a = await (await loginUser()).login();
    const b = await (await loginUser()).login();
    const sb = await srv.connect(b.sessionToken);
    assertHttpOk(await srv.api(a.sessionToken, 'POST', '/v1/auth/logout'), 200, 'a logs out');
    await assertRefusedEverywhere(srv.url, a.sessionToken, "a's session");
    assert.equal(sb.connected, true);
    assertOk(await emitAck(sb, 'presence:ping', {}), "b's socket still answers");
    assertHttpOk(await srv.api(b.sessionToken, 'GET', '/v1/chats'), 200, "b's session over REST");
  });
});

// ---------------------------------------------------------------------------------------
// A token without exp (--jwt-require-exp, on by default)
// ---------------------------------------------------------------------------------------

describe('a JWT without exp (--jwt-require-exp)', () => {
  const noExp = (secret, sub = objectId()) => hsJwt({ alg: 'HS256', typ: 'JWT' }, { sub, iat: now() }, secret);

  it('by default it is refused everywhere like any invalid token; one with exp is accepted', async () => {
    const srv = await startChatServer();
    try {
      await assertRefusedEverywhere(srv.url, noExp(srv.secret), 'no exp');
      const err = await connectRefused(srv.url, noExp(srv.secret));
      assert.match(err.data.message, /no expiry/, err.data.message);
      await assertAcceptedEverywhere(srv.url, hsJwt({ alg: 'HS256', typ: 'JWT' }, claimsFor(objectId()), srv.secret), 'with exp');
    } finally {
      await srv.stop();
    }
  });

  it("Parley's own tokens carry exp: `parley token` is accepted by default", async () => {
    const srv = await startChatServer();
    try {
      await assertAcceptedEverywhere(srv.url, await srv.cliToken(objectId()), 'parley token');
    } finally {
      await srv.stop();
    }
  });

  for (const [what, opts] of [
    ['--jwt-require-exp=false', { args: ['--jwt-require-exp=false'] }],
    ['--jwt-require-exp 0', { args: ['--jwt-require-exp', '0'] }],
    ['PARLEY_JWT_REQUIRE_EXP=false', { env: { PARLEY_JWT_REQUIRE_EXP: 'false' } }],
  ]) {
    it(`${what}: it is accepted (the old behaviour, for issuers that never set exp)`, async () => {
      const srv = await startChatServer(opts);
      try {
        await assertAcceptedEverywhere(srv.url, noExp(srv.secret), 'no exp, not required');
      } finally {
        await srv.stop();
      }
    });
  }

  it('the bare flag --jwt-require-exp turns it on (over PARLEY_JWT_REQUIRE_EXP=false)', async () => {
    const srv = await startChatServer({ args: ['--jwt-require-exp'], env: { PARLEY_JWT_REQUIRE_EXP: 'false' } });
    try {
      await assertRefusedEverywhere(srv.url, noExp(srv.secret), 'no exp, required');
    } finally {
      await srv.stop();
    }
  });
});
