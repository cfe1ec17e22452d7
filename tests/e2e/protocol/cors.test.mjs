// --cors-origin applies everywhere: REST answers and preflights show themselves only to an
// allowed origin, and a browser page from another origin can neither open an Engine.IO session
// (polling or WebSocket) nor upgrade one (cross-site WebSocket hijacking: WebSockets are not
// subject to CORS, so the server must check Origin itself). Without the flag any origin is served.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { WsClient, parseOpen, pollingUrl, request, wsUrl } from '../helpers/eio.mjs';
import { startChatServer, objectId } from '../helpers/chat.mjs';

const ALLOWED = 'https://app.example';
const OTHER_ALLOWED = 'https://admin.example';
const EVIL = 'https://evil.example';
const FORBIDDEN_BODY = { code: 4, message: 'Forbidden' };

/** A raw WebSocket upgrade request to `url` with the given Origin (none if undefined). */
function upgrade(url, origin) {
  const headers = {
    Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13',
    'Sec-WebSocket-Key': Buffer.from('0123456789abcdef').toString('base64'),
  };
  if (origin !== undefined) headers.Origin = origin;
  return request(url.replace(/^ws/, 'http'), { headers });
}

/** Opens a WebSocket (Origin as given); resolves its first message (the OPEN packet). */
async function openWs(url, origin) {
  const ws = new WsClient(url, { headers: origin === undefined ? undefined : { Origin: origin } });
  try {
    await ws.opened.catch((e) => assert.fail(`the WebSocket opens (got ${e.refused?.status ?? e.message})`));
    return await ws.nextText(5000);
  } finally {
    await ws.close();
  }
}

const polling = (srv, origin) => request(pollingUrl(srv.url), { headers: origin ? { Origin: origin } : {} });

function assertForbidden(res, what) {
  assert.equal(res.status, 403, `${what}: status (${res.text})`);
  assert.deepEqual(JSON.parse(res.text), FORBIDDEN_BODY, `${what}: Engine.IO error body`);
  assert.equal(res.headers['access-control-allow-origin'], undefined, `${what}: no ACAO`);
}

describe('--cors-origin set', () => {
  let srv;
  before(async () => { srv = await startChatServer({ args: ['--cors-origin', ALLOWED, '--cors-origin', OTHER_ALLOWED] }); });
  after(async () => { await srv?.stop(); });

  it('REST: an allowed origin is echoed with Vary: Origin; another gets no Access-Control-Allow-Origin', async () => {
    const token = srv.token(objectId());
    for (const [path, headers] of [['/healthz', {}], ['/v1/chats', { Authorization: `Bearer ${token}` }]]) {
      for (const origin of [ALLOWED, OTHER_ALLOWED]) {
        const res = await request(`${srv.url}${path}`, { headers: { ...headers, Origin: origin } });
        assert.equal(res.status, 200, `${path} from ${origin}`);
        assert.equal(res.headers['access-control-allow-origin'], origin, `${path}: the allowed origin is echoed`);
        assert.match(res.headers.vary ?? '', /Origin/, `${path}: Vary: Origin`);
      }
      const evil = await request(`${srv.url}${path}`, { headers: { ...headers, Origin: EVIL } });
      assert.equal(evil.status, 200, `${path}: the request itself is served (CORS is the browser's to enforce)`);
      assert.equal(evil.headers['access-control-allow-origin'], undefined, `${path}: no ACAO for ${EVIL}`);
      assert.match(evil.headers.vary ?? '', /Origin/, `${path}: Vary: Origin for caches`);
    }
    // An error answer too.
    const unauthorized = await request(`${srv.url}/v1/chats`, { headers: { Origin: ALLOWED } });
    assert.equal(unauthorized.status, 401);
    assert.equal(unauthorized.headers['access-control-allow-origin'], ALLOWED);
  });

  it('REST preflight: allowed origin echoed, another gets no Access-Control-Allow-Origin', async () => {
    const ask = (origin) => request(`${srv.url}/v1/chats`, {
      method: 'OPTIONS',
      headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization,content-type' },
    });
    const ok = await ask(ALLOWED);
    assert.equal(ok.status, 204);
    assert.equal(ok.headers['access-control-allow-origin'], ALLOWED);
    assert.match(ok.headers.vary ?? '', /Origin/);
    assert.match(ok.headers['access-control-allow-methods'] ?? '', /POST/);
    const evil = await ask(EVIL);
    assert.equal(evil.headers['access-control-allow-origin'], undefined, 'no ACAO for another origin');
  });

  it('Engine.IO preflight: allowed origin echoed, another gets no Access-Control-Allow-Origin', async () => {
    const ask = (origin) => request(pollingUrl(srv.url), {
      method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': 'POST' },
    });
    assert.equal((await ask(ALLOWED)).headers['access-control-allow-origin'], ALLOWED);
    assert.equal((await ask(EVIL)).headers['access-control-allow-origin'], undefined);
  });

  it('a polling handshake from another origin gets 403 {"code":4}; from an allowed one or without Origin it opens', async () => {
    assertForbidden(await polling(srv, EVIL), 'polling handshake from another origin');
    const ok = await polling(srv, ALLOWED);
    assert.equal(ok.status, 200);
    assert.ok(parseOpen(ok.text).sid);
    assert.equal(ok.headers['access-control-allow-origin'], ALLOWED);
    const plain = await polling(srv);
    assert.equal(plain.status, 200, 'no Origin: not a browser, served');
    assert.ok(parseOpen(plain.text).sid);
  });

  it('a WebSocket handshake from another origin gets 403 {"code":4}; from an allowed one or without Origin it opens', async () => {
    assertForbidden(await upgrade(wsUrl(srv.url), EVIL), 'WebSocket upgrade from another origin');
    assert.ok(parseOpen(await openWs(wsUrl(srv.url), ALLOWED)).sid, 'allowed origin');
    assert.ok(parseOpen(await openWs(wsUrl(srv.url))).sid, 'no Origin');
  });

  it("upgrading someone's polling session from another origin gets 403; the session is not taken over", async () => {
    const open = parseOpen((await polling(srv, ALLOWED)).text);
    assertForbidden(await upgrade(wsUrl(srv.url, { sid: open.sid }), EVIL), 'upgrade of a session from another origin');
    // The session is still there, on polling: a POST to it is taken ("ok"), not 400 Session ID unknown.
    const post = await request(pollingUrl(srv.url, { sid: open.sid }), {
      method: 'POST', headers: { Origin: ALLOWED, 'Content-Type': 'text/plain;charset=UTF-8' }, body: '40',
    });
    assert.equal(post.status, 200, `the session survives (${post.text})`);
    assert.equal(post.text, 'ok');
  });
});

describe('--cors-origin unset', () => {
  let srv;
  before(async () => { srv = await startChatServer(); });
  after(async () => { await srv?.stop(); });

  it('REST answers any origin with *; Engine.IO handshakes from any origin open', async () => {
    const res = await request(`${srv.url}/healthz`, { headers: { Origin: EVIL } });
    assert.equal(res.headers['access-control-allow-origin'], '*');
    const pre = await request(`${srv.url}/v1/chats`, { method: 'OPTIONS', headers: { Origin: EVIL } });
    assert.equal(pre.headers['access-control-allow-origin'], '*');
    const ok = await polling(srv, EVIL);
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['access-control-allow-origin'], '*');
    assert.ok(parseOpen(await openWs(wsUrl(srv.url), EVIL)).sid, 'a WebSocket from any origin');
  });
});
