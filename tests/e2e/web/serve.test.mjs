// `parley serve` answers the web client (src/http/WebRoot.hpp, --web-root): its files with their
// types, HEAD, the socket.io-client bundle under /socket.io/ while the engine keeps its own
// requests, nothing outside the web root, and a 404 (with one warning) when the root is missing.
// Requests go out raw (node:http), not through fetch, which would normalise `/../` away.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startChatServer } from '../helpers/chat.mjs';
import { repoRoot, scaled } from '../helpers/server.mjs';

/** One request with `target` sent as is; resolves { status, headers, body }. */
function raw(url, method, target, headers = {}) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, method, path: target, headers, timeout: scaled(5000) }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${target}: no answer`)));
    req.on('error', reject);
    req.end();
  });
}

const webDir = path.join(repoRoot, 'web');

describe('the web client from the build\'s web/ (the default --web-root)', () => {
  let srv;
  before(async () => { srv = await startChatServer(); });
  after(async () => { await srv?.stop(); });

  it('says where the web client is, after "listening on"', async () => {
    const line = new RegExp(`web client at http://127\\.0\\.0\\.1:${srv.port}/`);
    const deadline = Date.now() + scaled(5000);
    while (!line.test(srv.logs()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.match(srv.logs(), line);
  });

  it('GET / is index.html, and each file has its type, no-cache and an ETag', async () => {
    const index = await raw(srv.url, 'GET', '/');
    assert.equal(index.status, 200);
    assert.equal(index.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(index.body, readFileSync(path.join(webDir, 'index.html'), 'utf8'));
    assert.equal(index.headers['cache-control'], 'no-cache');
    assert.ok(index.headers.etag, 'an ETag');

    const js = await raw(srv.url, 'GET', '/app.js');
    assert.equal(js.status, 200);
    assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(js.body, readFileSync(path.join(webDir, 'app.js'), 'utf8'));
    const css = await raw(srv.url, 'GET', '/style.css?v=1');
    assert.equal(css.status, 200);
    assert.equal(css.headers['content-type'], 'text/css; charset=utf-8');

    const again = await raw(srv.url, 'GET', '/app.js', { 'if-none-match': js.headers.etag });
    assert.equal(again.status, 304);
    assert.equal(again.body, '');
  });

  it('HEAD answers the GET header without the body', async () => {
    const head = await raw(srv.url, 'HEAD', '/app.js');
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(Number(head.headers['content-length']), readFileSync(path.join(webDir, 'app.js')).length);
    assert.equal(head.body, '');
  });

  it('serves the socket.io-client bundle at /socket.io/socket.io.min.js, and the engine its own path', async () => {
    const bundle = path.join(webDir, 'vendor', 'socket.io.min.js');
    assert.ok(existsSync(bundle), `${bundle} (scripts/install-deps copies it from web/node_modules)`);
    const res = await raw(srv.url, 'GET', '/socket.io/socket.io.min.js');
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(res.body, readFileSync(bundle, 'utf8'));
    assert.match(res.body, /Socket\.IO v4\.8\.1/, 'socket.io-client 4.8.1');
    assert.equal((await raw(srv.url, 'GET', '/socket.io/socket.io.js')).status, 200);
    assert.equal((await raw(srv.url, 'HEAD', '/socket.io/socket.io.min.js')).status, 200);

    const handshake = await raw(srv.url, 'GET', '/socket.io/?EIO=4&transport=polling');
    assert.equal(handshake.status, 200);
    assert.match(handshake.body, /^0\{"sid":/, 'an Engine.IO open packet');
  });

  it('answers nothing outside the web root, nor hidden or unlisted files', async () => {
    for (const target of ['/../CMakeLists.txt', '/%2e%2e/CMakeLists.txt', '/..%2fCMakeLists.txt', '/%2e%2e%2fREADME.md',
      '/.hidden', '/.gitignore', '/package.json', '/package-lock.json', '/vendor/socket.io.min.js', '/node_modules',
      '/app.js%00.png', '/missing.js']) {
      const res = await raw(srv.url, 'GET', target);
      assert.equal(res.status, 404, `${target}: ${res.status} ${res.body.slice(0, 80)}`);
      assert.equal(JSON.parse(res.body).error, 'NOT_FOUND', target);
    }
    // Under the engine's prefix, what is not the bundle is the engine's (a bad request), never a file.
    const under = await raw(srv.url, 'GET', '/socket.io/../CMakeLists.txt');
    assert.notEqual(under.status, 200);
    assert.doesNotMatch(under.body, /cmake_minimum_required/);
  });

  it('leaves the API as it was: REST routes, 405, and 404 for other methods', async () => {
    assert.equal((await raw(srv.url, 'GET', '/healthz')).status, 200);
    assert.equal((await raw(srv.url, 'HEAD', '/healthz')).status, 405);
    assert.equal((await raw(srv.url, 'POST', '/app.js')).status, 404);
    assert.equal((await raw(srv.url, 'GET', '/v1/nothing')).status, 404);
  });
});

describe('--web-root', () => {
  it('serves another directory', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'parley-web-'));
    await mkdir(path.join(dir, 'vendor'));
    await writeFile(path.join(dir, 'index.html'), '<p>elsewhere</p>');
    await writeFile(path.join(dir, 'logo.svg'), '<svg/>');
    const srv = await startChatServer({ args: ['--web-root', dir] });
    try {
      const index = await raw(srv.url, 'GET', '/');
      assert.equal(index.body, '<p>elsewhere</p>');
      assert.equal((await raw(srv.url, 'GET', '/logo.svg')).headers['content-type'], 'image/svg+xml');
      assert.equal((await raw(srv.url, 'GET', '/socket.io/socket.io.min.js')).status, 404, 'no bundle in its vendor/');
    } finally {
      await srv.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a directory that does not exist: the server starts, warns once, and / is 404', async () => {
    const missing = path.join(os.tmpdir(), `parley-no-web-${process.pid}`);
    const srv = await startChatServer({ args: ['--web-root', missing] });
    try {
      assert.equal((await raw(srv.url, 'GET', '/')).status, 404);
      assert.equal((await raw(srv.url, 'GET', '/socket.io/socket.io.min.js')).status, 404);
      assert.equal((await raw(srv.url, 'GET', '/healthz')).status, 200);
      const warnings = srv.logs().split('\n').filter((l) => l.includes('no web client'));
      assert.equal(warnings.length, 1, srv.logs());
      assert.match(warnings[0], /warn/);
      assert.ok(warnings[0].includes(missing));
      assert.doesNotMatch(srv.logs(), /web client at/);
    } finally {
      await srv.stop();
    }
  });

  it('none: no web client, and no warning', async () => {
    const srv = await startChatServer({ args: ['--web-root', 'none'] });
    try {
      const res = await raw(srv.url, 'GET', '/');
      assert.equal(res.status, 404);
      assert.equal(JSON.parse(res.body).message, 'No such route');
      const bundle = await raw(srv.url, 'GET', '/socket.io/socket.io.min.js');
      assert.notEqual(bundle.status, 200, 'the engine\'s answer, not the bundle');
      assert.doesNotMatch(srv.logs(), /no web client|web client at/);
    } finally {
      await srv.stop();
    }
  });
});
