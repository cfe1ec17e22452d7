#!/usr/bin/env node
// What connection state recovery costs the server, measured with it off (--recovery-window 0)
// and on (120): the server's CPU time (utime + stime of the process) for N sockets to connect,
// for each to room:join one group chat of N members (the first join writes the socket's
// recovery record), and for M messages fanned out to all N (each message:new carrying its
// offset with recovery on). Then, with recovery on, how long one client that missed K messages
// takes from its reconnect to the last replayed one.
//
//   node bench/recovery-cost.mjs [--sockets 500] [--messages 100] [--missed 200]
//
// Needs the release build and tests/e2e's packages (scripts/install-deps). Prints one JSON
// object per mode, then the recovery's.
import { readFileSync } from 'node:fs';
import { startChatServer, closeAllSockets, join, send, recorded } from '../tests/e2e/helpers/chat.mjs';
import { freePort, waitFor } from '../tests/e2e/helpers/server.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const N = opt('sockets', 500);
const M = opt('messages', 100);
const K = opt('missed', 200);
const TICK_MS = 1000 / 100; // USER_HZ

function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS; // utime, stime
}

async function timed(pid, fn) {
  const cpu0 = cpuMs(pid);
  const t0 = performance.now();
  await fn();
  return { wallMs: Math.round(performance.now() - t0), cpuMs: Math.round(cpuMs(pid) - cpu0) };
}

async function until(check, what, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function costs(window) {
  const srv = await startChatServer({ args: ['--recovery-window', String(window)] });
  const pid = srv.server.proc.pid;
  try {
    const users = Array.from({ length: N }, () => srv.user());
    const chat = await srv.createChat(users[0], { type: 'group', title: 'bench', memberIds: users.slice(1).map((u) => u.id) });
    const sockets = [];
    const connect = await timed(pid, async () => {
      for (let i = 0; i < N; i += 50)
        sockets.push(...await Promise.all(users.slice(i, i + 50).map((u) => srv.connect(u))));
    });
    const joins = await timed(pid, async () => {
      for (let i = 0; i < N; i += 50) await Promise.all(sockets.slice(i, i + 50).map((s) => join(s, chat._id)));
    });
    const fanout = await timed(pid, async () => {
      for (let i = 0; i < M; i++) await send(sockets[i % N], chat._id, `m${i}`);
      await until(() => sockets.every((s) => recorded(s, 'message:new').length >= M), 'every delivery');
    });
    return { window, sockets: N, messages: M, connect, joins, fanout, cpuUsPerDelivery: Math.round((fanout.cpuMs * 1000) / (M * N)) };
  } finally {
    closeAllSockets();
    await srv.stop();
  }
}

async function recoveryLatency() {
  const srv = await startChatServer({ args: ['--recovery-window', '120'] });
  try {
    const senders = Array.from({ length: Math.ceil(K / 10) }, () => srv.user());
    const b = srv.user();
    const chat = await srv.createChat(senders[0], { type: 'group', title: 'r', memberIds: [b.id, ...senders.slice(1).map((u) => u.id)] });
    const ss = await Promise.all(senders.map((u) => srv.connect(u)));
    const sb = await srv.connect(b, { reconnection: true, reconnectionDelay: 20, reconnectionDelayMax: 50, randomizationFactor: 0 });
    await join(sb, chat._id);
    sb.io.uri = `http://127.0.0.1:${await freePort()}`;
    const gone = waitFor(sb, 'disconnect');
    sb.io.engine.close();
    await gone;
    for (let i = 0; i < K; i++) await send(ss[Math.floor(i / 10)], chat._id, `missed ${i}`);
    const back = waitFor(sb, 'connect', 10_000);
    const t0 = performance.now();
    sb.io.uri = srv.url;
    await back;
    await until(() => recorded(sb, 'message:new').length >= K, 'the replay');
    return { recovered: sb.recovered, missed: K, reconnectToLastReplayedMs: Math.round(performance.now() - t0) };
  } finally {
    closeAllSockets();
    await srv.stop();
  }
}

for (const window of [0, 120]) console.log(JSON.stringify(await costs(window)));
console.log(JSON.stringify(await recoveryLatency()));
