#!/usr/bin/env node
// A reconnect storm with connection state recovery, Parley against the Node peer (bench/peer,
// socket.io's in-memory connectionStateRecovery): every client loses its connection at once,
// misses K messages of its chat, and comes back at once.
//
// For each server (one process; Parley on its default SQLite store, the peer in memory; both
// with --recovery-window 120): N stock socket.io-client sockets (WebSocket only, reconnection
// on, reconnectionDelay 100 ms) connect through an in-process TCP relay, in group chats of G
// members, each room:join'ed to its chat. Each chat also has senders that are not on the
// relay (the contract allows 10 messages per 10 s per user: one sender per 10 messages). A
// first message to every chat gives each client an offset (socket.io recovers only a client
// that has received an event). Then the relay destroys both ends of every connection: the
// server sees a transport close, the clients see a disconnect and retry at once. The relay
// holds the retries (accepted, not forwarded) while the senders send K messages to every chat,
// each acknowledged, and until every client's retry is held. Then it forwards them all at once:
// the storm.
//
// Measured from that moment until every client is connected with `socket.recovered === true`
// and has received its chat's K missed messages: the wall time, the server's CPU time (utime +
// stime of the process, /proc/PID/stat) and this process's own (benchCore, its share of one
// core over the storm: near 1, the clients' side sets the wall time), then the server's RSS.
// Checked: every client recovered and got each missed message once, in the order of the acks;
// the counts of clients not recovered, messages missing, duplicated and out of order are in the
// figures, and a run that fails a check makes the exit code 1. Server and bench are pinned as
// in compare.mjs (`none` unpins), Parley runs --threads 1 as there.
//
//   node bench/storm.mjs [--clients 2000] [--group 10] [--missed 10] [--reps 3]
//                        [--servers parley,node] [--threads 1] [--server-cpus 0] [--bench-cpus 1]
//
// Needs the release build (PARLEY_BUILD_DIR, default build/release), tests/e2e's packages and
// bench/peer's (scripts/install-deps). Repetitions alternate which server goes first, each run
// on a fresh server. This process holds N client sockets and 2N relay sockets: N = 2000 needs
// ulimit -n above 6,400. Prints one JSON line per run, then one JSON object with the runs and
// the medians per server, then the command.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startChatServer, closeAllSockets, connect, join, send } from '../tests/e2e/helpers/chat.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const N = Number(opt('clients', 2000));
const G = Number(opt('group', 10));
const K = Number(opt('missed', 10));
const reps = Number(opt('reps', 3));
const serverNames = opt('servers', 'parley,node').split(',');
const WINDOW_S = 120; // --recovery-window of both servers (Parley's default)
const PER_SENDER = 10; // the contract's 10 messages per 10 s per user
const TIMEOUT_MS = Number(opt('timeout', 60)) * 1000; // the storm's limit
// As compare.mjs: the server on CPU 0, this process (clients and relay) on CPU 1 when there are
// two; `none` leaves either unpinned. Parley runs one io thread unless --threads says otherwise
// (the peer is one thread whatever it gets).
const cpus = os.cpus().length;
const serverCpu = opt('server-cpus', cpus > 1 ? '0' : 'none');
const benchCpu = opt('bench-cpus', cpus > 1 ? '1' : 'none');
const parleyThreads = opt('threads', '1');
const TICK_MS = 1000 / 100; // USER_HZ

if (!Number.isInteger(N) || !Number.isInteger(G) || G < 2 || N < G || N % G) throw new Error('--clients must be a multiple of --group (>= 2)');
if (!Number.isInteger(K) || K < 1 || K > 1000) throw new Error('--missed: 1..1000 (Parley replays at most 1000)');
for (const n of serverNames) if (n !== 'parley' && n !== 'node') throw new Error(`--servers ${n}: parley or node`);
// The helpers would run Parley on PostgreSQL or as a cluster: this bench is one process on SQLite.
for (const v of ['PARLEY_E2E_CLUSTER', 'PARLEY_E2E_PG_DIR'])
  if (process.env[v]) throw new Error(`${v} is set: the storm runs one Parley process on SQLite; unset it`);

const CHATS = N / G;
// Per chat: one first message, then K missed; sender j sends messages 10j .. 10j + 9.
const SENDERS = Math.ceil((K + 1) / PER_SENDER);

// Descriptors: this process holds the clients, both ends of each relayed connection and the
// senders; the server, the clients' and the senders' connections.
function openFilesLimit() {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
  return Number(line.trim().split(/\s+/)[3]);
}
const benchFds = 3 * N + CHATS * SENDERS + 100;
if (benchFds > openFilesLimit())
  throw new Error(`${N} clients need about ${benchFds} descriptors here; ulimit -n is ${openFilesLimit()}`);

function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS; // utime, stime
}

function rssMb(pid) {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
  return kb / 1024;
}

const benchCpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(check, what, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await sleep(5);
  }
}

// The relay: every client connects here; each connection is forwarded to the server on its own
// upstream connection. cut() destroys both ends of every forwarded connection and holds the new
// ones (accepted, paused, nothing forwarded) until reopen() forwards all of them at once.
function startRelay(targetPort) {
  const pairs = new Set();
  const held = [];
  let holding = false;
  const forward = (client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    const pair = { client, upstream };
    pairs.add(pair);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  };
  const server = net.createServer((client) => {
    client.setNoDelay(true);
    if (holding) {
      client.pause();
      client.on('error', () => client.destroy());
      held.push(client);
    } else {
      forward(client);
    }
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({
      url: `http://127.0.0.1:${server.address().port}`,
      held: () => held.length,
      cut() {
        holding = true;
        for (const { client, upstream } of pairs) {
          client.destroy();
          upstream.destroy();
        }
        pairs.clear();
      },
      reopen() {
        holding = false;
        const all = held.splice(0);
        for (const client of all) if (!client.destroyed) forward(client);
        return all.length;
      },
      close() {
        for (const { client, upstream } of pairs) {
          client.destroy();
          upstream.destroy();
        }
        for (const client of held.splice(0)) client.destroy();
        return new Promise((r) => server.close(r));
      },
    }));
  });
}

function pinned(cpu) {
  return cpu === 'none' ? [] : ['taskset', '-c', cpu];
}

async function run(server) {
  const peer = server === 'node';
  const srv = await startChatServer({
    args: ['--recovery-window', String(WINDOW_S), ...(peer ? [] : ['--threads', parleyThreads])],
    launcher: [...pinned(serverCpu), ...(peer ? [process.execPath] : [])],
    ...(peer ? { executable: path.join(root, 'bench', 'peer', 'server.mjs') } : {}),
  });
  const pid = srv.server.proc.pid;
  const relay = await startRelay(srv.port);
  try {
    // --- set-up: users, chats, senders, clients through the relay, each in its chat's room ---
    const chats = [];
    for (let c = 0; c < CHATS; c++) {
      const members = Array.from({ length: G }, () => srv.user());
      const senders = Array.from({ length: SENDERS }, () => srv.user());
      const chat = await srv.createChat(senders[0], {
        type: 'group', title: `storm ${c}`, memberIds: [...members, ...senders.slice(1)].map((u) => u.id),
      });
      chats.push({ id: chat._id, members, senders, senderSockets: [], clients: [], expected: [] });
    }
    for (const chat of chats) chat.senderSockets = await Promise.all(chat.senders.map((u) => srv.connect(u)));

    let phase = 'setup'; // setup -> cut -> storm
    let pending = N; // clients not yet settled in the storm
    let allSettled;
    const settledPromise = new Promise((r) => (allSettled = r));
    const stormStart = { wall: 0, cpu: 0, bench: 0 };
    let stormEnd = null;
    const settle = (st) => {
      if (st.settled) return;
      st.settled = true;
      if (--pending === 0) {
        stormEnd = { wall: performance.now(), cpu: cpuMs(pid), bench: benchCpuMs() };
        allSettled();
      }
    };

    const clientOpts = {
      transports: ['websocket'], reconnection: true, reconnectionDelay: 100, timeout: 20_000,
    };
    const all = [];
    for (const chat of chats) {
      for (const member of chat.members) {
        const st = { chat, member, socket: null, received: [], missedGot: new Set(), offsets: 0, stormConnects: 0,
          recovered: null, settled: false, connectErrors: 0 };
        chat.clients.push(st);
        all.push(st);
      }
    }
    for (let i = 0; i < all.length; i += 50) {
      await Promise.all(all.slice(i, i + 50).map(async (st) => {
        st.socket = await connect(relay.url, st.member, clientOpts);
        const s = st.socket;
        s.on('message:new', (m, offset) => {
          st.received.push({ id: m?._id, phase });
          if (typeof offset === 'string') st.offsets++;
          if (phase !== 'storm') return;
          if (st.chat.expected.includes(m?._id)) st.missedGot.add(m._id);
          // socket.io's client emits what it received before its CONNECT (Node's replay) just
          // before 'connect': `recovered` is already set then.
          if (s.recovered === true && st.missedGot.size === K) settle(st);
        });
        s.on('connect', () => {
          if (phase === 'setup') return;
          st.stormConnects++;
          st.recovered = s.recovered === true;
          // A fresh session gets no replay: settled (and counted as not recovered).
          if (!st.recovered || st.missedGot.size === K) settle(st);
        });
        s.on('connect_error', () => st.connectErrors++);
        await join(s, st.chat.id);
      }));
    }

    // The first message: every client gets an offset.
    await Promise.all(chats.map(async (chat) => {
      await send(chat.senderSockets[0], chat.id, `storm ${chat.id} first`);
    }));
    await until(() => all.every((st) => st.received.length >= 1), 'every client got the first message', 30_000);
    const withOffset = all.filter((st) => st.offsets > 0).length;

    // --- the cut: every connection at once; the retries are held ---
    phase = 'cut';
    relay.cut();
    await until(() => all.every((st) => !st.socket.connected), 'every client saw its disconnect', 10_000);
    const sendStart = performance.now();
    await Promise.all(chats.map(async (chat) => {
      for (let i = 1; i <= K; i++) {
        const sender = chat.senderSockets[Math.floor(i / PER_SENDER)];
        chat.expected.push((await send(sender, chat.id, `storm ${chat.id} missed ${i}`)).serverId);
      }
    }));
    const sendMs = performance.now() - sendStart;
    await until(() => relay.held() >= N, `every client's retry held (${relay.held()} of ${N})`, 15_000);
    const heldMs = performance.now() - sendStart;

    // --- the storm ---
    phase = 'storm';
    stormStart.cpu = cpuMs(pid);
    stormStart.bench = benchCpuMs();
    stormStart.wall = performance.now();
    const released = relay.reopen();
    let timer;
    const timedOut = await Promise.race([settledPromise.then(() => false),
      new Promise((r) => (timer = setTimeout(() => r(true), TIMEOUT_MS)))]);
    clearTimeout(timer);
    // Late copies: anything duplicated shortly after the last client settled is counted too.
    await sleep(500);
    const rss = rssMb(pid);

    // --- checks ---
    let recovered = 0;
    let missing = 0;
    let duplicates = 0;
    let outOfOrder = 0;
    let unexpected = 0;
    let reconnectedTwice = 0;
    for (const st of all) {
      if (st.recovered) recovered++;
      if (st.stormConnects > 1) reconnectedTwice++;
      const seen = new Map();
      for (const r of st.received) seen.set(r.id, (seen.get(r.id) ?? 0) + 1);
      for (const n of seen.values()) if (n > 1) duplicates += n - 1;
      const expected = st.chat.expected;
      const expectedSet = new Set(expected);
      const got = st.received.filter((r) => r.phase === 'storm').map((r) => r.id);
      for (const id of expected) if (!seen.has(id)) missing++;
      unexpected += got.filter((id) => !expectedSet.has(id)).length;
      const inExpected = got.filter((id) => expectedSet.has(id));
      const firsts = inExpected.filter((id, i) => inExpected.indexOf(id) === i);
      if (firsts.some((id, i) => id !== expected[i])) outOfOrder++;
    }
    const ok = !timedOut && recovered === N && !missing && !duplicates && !outOfOrder && !unexpected;
    const end = stormEnd ?? { wall: performance.now(), cpu: cpuMs(pid), bench: benchCpuMs() };
    return {
      server, clients: N, group: G, chats: CHATS, missed: K, ok,
      stormMs: Math.round(end.wall - stormStart.wall),
      serverCpuMs: Math.round(end.cpu - stormStart.cpu),
      serverCpuUsPerClient: Math.round((1000 * (end.cpu - stormStart.cpu)) / N),
      benchCpuMs: Math.round(end.bench - stormStart.bench),
      // This process's share of a core over the storm: near 1, the clients set the wall time.
      benchCore: Math.round((100 * (end.bench - stormStart.bench)) / (end.wall - stormStart.wall)) / 100,
      serverRssMb: Math.round(rss * 10) / 10,
      recovered, notRecovered: N - recovered, missingMessages: missing, duplicates, outOfOrder, unexpected,
      reconnectedTwice, connectErrors: all.reduce((a, st) => a + st.connectErrors, 0),
      timedOut, released, clientsWithOffsetBeforeCut: withOffset,
      sendMs: Math.round(sendMs), heldMs: Math.round(heldMs),
    };
  } finally {
    closeAllSockets();
    await relay.close();
    await srv.stop();
  }
}

const median = (xs) => {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return null;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};

if (benchCpu !== 'none') execFileSync('taskset', ['-a', '-pc', benchCpu, String(process.pid)], { stdio: 'ignore' });
const runs = [];
for (let rep = 1; rep <= reps; rep++) {
  const order = rep % 2 ? ['parley', 'node'] : ['node', 'parley'];
  for (const server of order.filter((n) => serverNames.includes(n))) {
    let result;
    try {
      result = { rep, ...(await run(server)) };
    } catch (err) {
      result = { rep, server, ok: false, error: err.message.slice(0, 2000) };
    }
    runs.push(result);
    console.log(JSON.stringify(result));
  }
}
const figures = ['stormMs', 'serverCpuMs', 'serverCpuUsPerClient', 'benchCpuMs', 'benchCore', 'serverRssMb', 'notRecovered',
  'missingMessages', 'duplicates', 'outOfOrder'];
const medians = {};
for (const server of serverNames) {
  const mine = runs.filter((r) => r.server === server);
  medians[server] = Object.fromEntries(figures.map((f) => [f, median(mine.map((r) => r[f]))]));
  medians[server].runsOk = `${mine.filter((r) => r.ok).length}/${mine.length}`;
}
const machine = `${os.cpus()[0]?.model ?? 'cpu'} x${cpus}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`;
console.log(JSON.stringify({
  params: { clients: N, group: G, chats: CHATS, missed: K, reps, recoveryWindowS: WINDOW_S, parleyThreads, serverCpu, benchCpu },
  machine, loadAverage: os.loadavg()[0], medians, runs,
}, null, 1));
console.log(`command: node bench/storm.mjs ${args.join(' ')}`.trim());
if (runs.some((r) => !r.ok)) process.exitCode = 1;
