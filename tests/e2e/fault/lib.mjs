// Shared pieces of the fault tests (tests/e2e/fault/): a small tmpfs the test mounts, fills
// and remounts read-only; the whole history of a chat over REST; the server's own resource
// figures from /proc.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, rmdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { getMessages } from '../helpers/chat.mjs';
import { buildDir } from '../helpers/server.mjs';

/** The reason a test that mounts filesystems cannot run here, or false when it can. */
export function needsRoot() {
  if (typeof process.getuid === 'function' && process.getuid() === 0) return false;
  return 'needs root: mounts a tmpfs (run the e2e tests as root, as CI does)';
}

function run(file, args) {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: 15_000 }, (err, stdout, stderr) => {
      if (err) {
        err.message += `\nstdout: ${stdout}\nstderr: ${stderr}`;
        reject(err);
      } else resolve({ stdout, stderr });
    });
  });
}

/**
 * Mounts a fresh tmpfs of `sizeMb` MB on a new temp folder. Returns { dir, readOnly(), writable(),
 * unmount() }; unmount() also removes the folder and is safe to call twice.
 */
export async function mountTmpfs(sizeMb) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'parley-fault-'));
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m,mode=0755`, 'tmpfs', dir]);
  } catch (e) {
    await rmdir(dir).catch(() => {});
    throw e;
  }
  let mounted = true;
  return {
    dir,
    /** remount read-only: fails with EBUSY while any process holds a file there open for writing */
    readOnly: () => run('mount', ['-o', 'remount,ro', dir]),
    writable: () => run('mount', ['-o', 'remount,rw', dir]),
    async unmount() {
      if (!mounted) return;
      mounted = false;
      await run('umount', [dir]);
      await rmdir(dir);
    },
  };
}

/**
 * Writes zeros into `file` until the filesystem answers ENOSPC (whole 64 KiB chunks first, then
 * down to single bytes, so that not even a partial block is left). Returns the bytes written.
 */
export function fillUntilFull(file) {
  const fd = openSync(file, 'w');
  let written = 0;
  try {
    for (let chunk = 64 * 1024; chunk >= 1; chunk = Math.floor(chunk / 2)) {
      const buf = Buffer.alloc(chunk);
      for (;;) {
        try {
          written += writeSync(fd, buf);
        } catch (e) {
          if (e.code !== 'ENOSPC') throw e;
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

/** Removes a filler file written by fillUntilFull. */
export async function removeFiller(file) {
  await rm(file, { force: true });
}

/**
 * Every message of `chatId` over REST, oldest first. Walks back from the newest page with
 * before= to the oldest message, then forward again from it with after=, and asserts that both
 * walks see the same messages in the same order.
 */
export async function history(srv, who, chatId) {
  let page = await getMessages(srv.url, who, chatId, { limit: 100 });
  let backward = [...page.messages];
  while (page.hasMore) {
    page = await getMessages(srv.url, who, chatId, { before: backward[0]._id, limit: 100 });
    backward = [...page.messages, ...backward];
  }
  if (backward.length === 0) return [];
  const forward = [backward[0]];
  for (;;) {
    page = await getMessages(srv.url, who, chatId, { after: forward[forward.length - 1]._id, limit: 100 });
    forward.push(...page.messages);
    if (!page.hasMore) break;
  }
  assert.deepEqual(forward.map((m) => m._id), backward.map((m) => m._id),
    'paging forward with after= and backward with before= see the same messages');
  return forward;
}

/** Asserts that no clientId (per sender) and no message id appears twice in `messages`. */
export function assertNoDuplicates(messages, what) {
  const ids = new Set();
  const keys = new Set();
  for (const m of messages) {
    assert.ok(!ids.has(m._id), `${what}: message id ${m._id} appears twice`);
    ids.add(m._id);
    const key = `${m.senderId}/${m.clientId}`;
    assert.ok(!keys.has(key), `${what}: clientId ${key} stored twice`);
    keys.add(key);
  }
}

/** The server's resident memory (kB) and open file descriptors, from /proc/<pid>. */
export async function processFigures(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const rss = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  assert.ok(rss, `VmRSS in /proc/${pid}/status`);
  const fds = await readdir(`/proc/${pid}/fd`);
  return { rssKb: Number(rss[1]), fds: fds.length };
}

/**
 * The sanitizers the binaries under test were built with (PARLEY_SANITIZE in the build's
 * CMakeCache.txt), e.g. 'address,undefined'; '' for a plain build.
 */
export async function sanitizers() {
  try {
    const cache = await readFile(path.join(buildDir(), 'CMakeCache.txt'), 'utf8');
    return /^PARLEY_SANITIZE:STRING=(.*)$/m.exec(cache)?.[1].trim() ?? '';
  } catch {
    return '';
  }
}
