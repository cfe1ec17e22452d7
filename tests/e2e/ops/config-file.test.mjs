// The config file: `parley serve --config FILE` takes every setting from a TOML file whose keys
// are the flags without their dashes, under PARLEY_* and the flags; `parley config` prints the
// settings in effect (secrets masked); a file with an unknown key or a bad value stops the server
// before it listens, naming the file, the line and the key.

import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { closeAllSockets, connect, makeToken, objectId } from '../helpers/chat.mjs';
import { binaryPath, scaled, startServer } from '../helpers/server.mjs';

const dir = mkdtempSync(path.join(tmpdir(), 'parley-config-'));
after(() => { closeAllSockets(); rmSync(dir, { recursive: true, force: true }); });

const SECRET = 'a-secret-from-the-config-file-0123456789';

function writeConfig(name, text) {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** Runs `parley ...args`; resolves { code, stdout, stderr } whatever the exit code. */
function parley(args, env = {}) {
  return new Promise((resolve) => {
    execFile(binaryPath('parley'), args, { timeout: scaled(15_000), env: { ...process.env, ...env } },
      (err, stdout, stderr) => resolve({ code: err ? err.code : 0, stdout, stderr }));
  });
}

describe('the config file', () => {
  it('parley serve --config FILE takes its settings from the file', async () => {
    const file = writeConfig('serve.toml', [
      '# the settings of one deployment',
      `jwt-secret = "${SECRET}"`,
      'ping-interval = 4321',
      `data-dir = "${path.join(dir, 'data')}"`,
      '',
    ].join('\n'));
    const srv = await startServer({ args: ['serve', '--config', file] });
    try {
      // The Engine.IO handshake carries the file's ping interval.
      const res = await fetch(`${srv.url}/socket.io/?EIO=4&transport=polling`);
      const open = JSON.parse((await res.text()).slice(1));
      assert.equal(open.pingInterval, 4321);
      // A token signed with the file's secret is accepted.
      const socket = await connect(srv.url, makeToken(objectId(), { secret: SECRET }));
      assert.ok(socket.connected);
    } finally {
      await srv.stop();
    }
  });

  it('parley config prints the settings in effect: flag over environment over file, secrets masked', async () => {
    const file = writeConfig('layers.toml', `port = 4100\nthreads = 3\nlog-level = "debug"\njwt-secret = "${SECRET}"\n`);
    const { code, stdout, stderr } = await parley(['config', '--config', file, '--threads', '2'],
      { PARLEY_LOG_LEVEL: 'warn' });
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^port = 4100$/m, 'from the file');
    assert.match(stdout, /^log-level = "warn"$/m, 'the environment over the file');
    assert.match(stdout, /^threads = 2$/m, 'the flag over the file');
    assert.match(stdout, /^jwt-secret = "\*\*\*"$/m);
    assert.ok(!stdout.includes(SECRET), 'the secret is not printed');
    assert.match(stdout, /^ping-interval = 25000$/m, 'what nobody set: the default');
  });

  it('an unknown key or a bad value: the server does not start, and says where', async () => {
    const unknown = writeConfig('unknown.toml', 'port = 4100\nprot = 4200\n');
    let r = await parley(['serve', '--config', unknown]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`${unknown.replace(/[.]/g, '\\.')}:2: prot: unknown key`));
    assert.ok(!/listening on/.test(r.stdout + r.stderr), 'it never listened');

    const bad = writeConfig('bad.toml', '\n\nping-timeout = "soon"\n');
    r = await parley(['serve', '--config', bad]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /bad\.toml:3: ping-timeout: expected a non-negative integer, got 'soon'/);

    r = await parley(['serve', '--config', path.join(dir, 'missing.toml')]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /missing\.toml/);
  });
});
