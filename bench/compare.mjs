#!/usr/bin/env node
// make bench: Parley and the Node peer (bench/peer) under the same offered load, side by side.
//
// Each server runs pinned to CPU 0 (taskset), the generator (parley-bench) on CPU 1. Runs are
// interleaved A, B, A, B ... for --reps repetitions; the table shows medians per server and
// the ratio Parley / Node. The generator samples the server's own CPU time (all threads,
// /proc/PID/stat) and RSS at the window edges. Results also go to bench/results/<time>.json.
// This reports; it never fails on a figure.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const reps = Number(opt('reps', 3));
const buildDir = opt('build', process.env.PARLEY_BUILD_DIR ?? path.join(root, 'build', 'release'));
const secret = 'bench-secret-' + process.pid;
const quick = args.includes('--quick');
const cpus = os.cpus().length;
const serverCpu = cpus > 1 ? '0' : null;
const loadCpu = cpus > 1 ? '1' : null;

// name -> generator arguments, and which figures matter for it
const allScenarios = {
  'fanout-1000': { args: ['fanout', '--chats', '100', '--members', '10', '--duration', quick ? '5' : '10'], kind: 'fanout' },
  'fanout-2000': { args: ['fanout', '--chats', '200', '--members', '10', '--duration', quick ? '5' : '10'], kind: 'fanout' },
  'fanout-3000': { args: ['fanout', '--chats', '300', '--members', '10', '--duration', quick ? '5' : '10'], kind: 'fanout' },
  'hold-10000': { args: ['hold', '--clients', quick ? '2000' : '10000', '--max-clients', '10000', '--duration', '5'], kind: 'hold' },
  churn: { args: ['churn', '--clients', '50', '--cycles', quick ? '1000' : '5000'], kind: 'churn' },
  polling: { args: ['polling', '--clients', '20', '--duration', quick ? '5' : '10'], kind: 'fanout' },
  'reconnect-storm': { args: ['reconnect-storm', '--clients', '2000'], kind: 'storm' },
};
const wanted = (opt('scenarios', Object.keys(allScenarios).join(','))).split(',');
const scenarios = Object.fromEntries(Object.entries(allScenarios).filter(([k]) => wanted.includes(k)));

const servers = {
  parley: (dir) => ({
    cmd: path.join(buildDir, 'parley'),
    // Every client comes from 127.0.0.1 here: the per-address limits are for the internet.
    args: ['serve', '--port', '0', '--threads', '1', '--data-dir', dir, '--jwt-secret', secret,
      '--max-connections-per-ip', '0', '--handshakes-per-second', '0'],
  }),
  node: () => ({ cmd: 'node', args: [path.join(root, 'bench', 'peer', 'server.mjs'), '--port', '0', '--jwt-secret', secret] }),
};

function pinned(cpu, cmd, cmdArgs) {
  return cpu === null ? [cmd, cmdArgs] : ['taskset', ['-c', cpu, cmd, ...cmdArgs]];
}

function startServer(name) {
  const dir = mkdtempSync(path.join(os.tmpdir(), `bench-${name}-`));
  const { cmd, args: a } = servers[name](dir);
  const [c, ca] = pinned(serverCpu, cmd, a);
  const proc = spawn(c, ca, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start:\n${log}`)), 15000);
    const onData = (d) => {
      log += d;
      const m = /listening on [0-9.]+:(\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, port: Number(m[1]), dir, log: () => log });
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('exit', (code) => reject(new Error(`${name} exited (${code}):\n${log}`)));
  });
}

async function stopServer(s) {
  const gone = new Promise((r) => s.proc.once('exit', r));
  s.proc.kill('SIGTERM');
  const t = setTimeout(() => s.proc.kill('SIGKILL'), 5000);
  await gone;
  clearTimeout(t);
  rmSync(s.dir, { recursive: true, force: true });
}

function runGenerator(genArgs, port, pid) {
  const all = [...genArgs, '--url', `http://127.0.0.1:${port}`, '--secret', secret, '--server-pid', String(pid)];
  const [c, ca] = pinned(loadCpu, path.join(buildDir, 'parley-bench'), all);
  return new Promise((resolve) => {
    const p = spawn(c, ca, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('exit', (code) => {
      const last = out.trim().split('\n').pop();
      try {
        resolve({ code, result: JSON.parse(last), stderr: err });
      } catch {
        resolve({ code, result: null, stderr: err + out });
      }
    });
  });
}

// --- the figures of one run ---------------------------------------------------------------
function figures(kind, r) {
  if (!r) return {};
  const f = {};
  if (kind === 'fanout') {
    f['CPU µs / delivery'] = r.serverCpuUsPerDeliveredMessage;
    f['ack p50 ms'] = r.ackLatencyUs?.p50 / 1000;
    f['ack p99 ms'] = r.ackLatencyUs?.p99 / 1000;
    f['deliveries/s'] = r.deliveriesPerSec;
    f['lost'] = r.lost;
    f['duplicated'] = r.duplicated;
    f['RSS MB'] = r.serverRssKb / 1024;
  } else if (kind === 'hold') {
    f['RSS KB / conn'] = r.serverRssKbPerConnection;
    f['CPU µs / connect'] = r.serverCpuUsPerConnection;
  } else if (kind === 'churn') {
    f['CPU µs / cycle'] = r.serverCpuUsPerCycle;
    f['cycles/s'] = r.cyclesPerSec;
  } else if (kind === 'storm') {
    f['all back ms'] = r.allBackMs;
    f['CPU µs / reconnect'] = r.serverCpuUsPerConnection;
  }
  f['generator bound'] = r.generatorBound ? 1 : 0;
  return f;
}

const median = (xs) => {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return NaN;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};

// --- main -----------------------------------------------------------------------------------
for (const bin of ['parley', 'parley-bench'])
  if (!existsSync(path.join(buildDir, bin))) throw new Error(`missing ${path.join(buildDir, bin)}: build first`);
if (!existsSync(path.join(root, 'bench', 'peer', 'node_modules')))
  execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: path.join(root, 'bench', 'peer'), stdio: 'inherit' });

const runs = []; // {scenario, server, rep, result, figures}
const started = new Date();
for (let rep = 1; rep <= reps; ++rep) {
  for (const [name, sc] of Object.entries(scenarios)) {
    // Alternate which server goes first, so neither always runs on a warmer machine.
    const order = rep % 2 ? ['parley', 'node'] : ['node', 'parley'];
    for (const server of order) {
      const s = await startServer(server);
      const { code, result, stderr } = await runGenerator(sc.args, s.port, s.proc.pid);
      await stopServer(s);
      const f = figures(sc.kind, result);
      runs.push({ scenario: name, server, rep, code, result, figures: f });
      const brief = Object.entries(f).map(([k, v]) => `${k}=${typeof v === 'number' ? +v.toFixed(2) : v}`).join(' ');
      process.stderr.write(`[rep ${rep}] ${name} ${server}: ${result ? brief : 'FAILED\n' + stderr.slice(-2000)}\n`);
    }
  }
}

// --- table ------------------------------------------------------------------------------------
const lines = [];
const fmt = (v) => (Number.isFinite(v) ? (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2)) : '-');
lines.push(`| scenario | figure | Parley | Node | Parley / Node |`);
lines.push(`|---|---|---:|---:|---:|`);
const summary = {};
for (const name of Object.keys(scenarios)) {
  const keys = [...new Set(runs.filter((r) => r.scenario === name).flatMap((r) => Object.keys(r.figures)))];
  summary[name] = {};
  for (const k of keys) {
    const p = median(runs.filter((r) => r.scenario === name && r.server === 'parley').map((r) => r.figures[k]));
    const n = median(runs.filter((r) => r.scenario === name && r.server === 'node').map((r) => r.figures[k]));
    summary[name][k] = { parley: p, node: n, ratio: n ? p / n : NaN };
    lines.push(`| ${name} | ${k} | ${fmt(p)} | ${fmt(n)} | ${Number.isFinite(p / n) && n ? (p / n).toFixed(2) : '-'} |`);
  }
}
const machine = `${os.cpus()[0]?.model ?? 'cpu'} x${cpus}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}`;
const command = `node bench/compare.mjs ${args.join(' ')}`.trim();
console.log(`\nParley vs Node socket.io 4.8 peer — medians of ${reps} interleaved runs; server on CPU ${serverCpu ?? 'any'}, generator on CPU ${loadCpu ?? 'any'}`);
console.log(`machine: ${machine}`);
console.log(`command: ${command}\n`);
console.log(lines.join('\n'));

mkdirSync(path.join(root, 'bench', 'results'), { recursive: true });
const file = path.join(root, 'bench', 'results', `${started.toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify({ started, machine, command, reps, summary, runs }, null, 1));
console.log(`\nresults: ${path.relative(root, file)}`);
