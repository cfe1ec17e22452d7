// Tokens signed with asymmetric keys: `parley serve --jwt-public-key FILE` accepts RS256 or
// ES256 tokens for that key and refuses everything else, algorithm confusion included.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, createPublicKey, createSign, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { connect, connectRefused, objectId, startChatServer, UUID_RE } from '../helpers/chat.mjs';

const b64url = (x) => Buffer.from(x).toString('base64url');

function sign(alg, sub, key, { expOffset = 3600 } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const input = `${b64url(JSON.stringify({ alg, typ: 'JWT' }))}.${b64url(JSON.stringify({ sub, iat: now, exp: now + expOffset }))}`;
  let sig;
  if (alg === 'HS256') sig = createHmac('sha256', key).update(input).digest('base64url');
  else if (alg === 'RS256') sig = createSign('SHA256').update(input).sign(key).toString('base64url');
  else if (alg === 'ES256') sig = createSign('SHA256').update(input).sign({ key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
  return `${input}.${sig}`;
}

for (const kind of ['rsa', 'ec']) {
  const alg = kind === 'rsa' ? 'RS256' : 'ES256';
  describe(`--jwt-public-key with an ${kind.toUpperCase()} key (${alg})`, () => {
    let server, dir, privateKey, publicPem, other;
    before(async () => {
      const opts = kind === 'rsa' ? { modulusLength: 2048 } : { namedCurve: 'P-256' };
      ({ privateKey } = generateKeyPairSync(kind, opts));
      publicPem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' });
      other = generateKeyPairSync(kind, opts).privateKey;
      dir = await mkdtemp(path.join(os.tmpdir(), 'parley-keys-'));
      const pemFile = path.join(dir, 'public.pem');
      await writeFile(pemFile, publicPem);
      server = await startChatServer({ args: ['--jwt-public-key', pemFile] });
    });
    after(async () => {
      await server?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it(`accepts a ${alg} token signed with the matching private key`, async () => {
      const socket = await connect(server.url, sign(alg, objectId(), privateKey));
      assert.ok(socket.connected);
      socket.close();
    });

    it('refuses a token signed with another key', async () => {
      const err = await connectRefused(server.url, sign(alg, objectId(), other));
      assert.equal(err.message, 'UNAUTHORIZED');
      assert.equal(err.data.error, 'UNAUTHORIZED');
      assert.match(err.data.correlationId, UUID_RE);
    });

    it('refuses HS256 signed with the public key PEM as the secret (algorithm confusion)', async () => {
      const err = await connectRefused(server.url, sign('HS256', objectId(), publicPem));
      assert.equal(err.message, 'UNAUTHORIZED');
    });

    it('refuses an expired token', async () => {
      const err = await connectRefused(server.url, sign(alg, objectId(), privateKey, { expOffset: -3600 }));
      assert.equal(err.message, 'UNAUTHORIZED');
    });

    it('accepts the token as a REST bearer too', async () => {
      const token = sign(alg, objectId(), privateKey);
      const res = await fetch(`${server.url}/v1/chats`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { ok: true, data: [] });
    });
  });
}
