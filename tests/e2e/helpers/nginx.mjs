// nginx as a round-robin load balancer in front of chat servers, for the cluster tests.
//
//   const lb = await startNginx([p1, p2, p3]);   // nginx on a free loopback port, in a temp dir
//   lb.url                                       // 'http://127.0.0.1:PORT'
//   lb.accessLog()                               // one line per finished request: "... upstream=ADDR"
//   await lb.stop();                             // SIGTERM (SIGKILL after 3 s), removes the dir
//
// The configuration is the one scripts/cluster writes (docs/cluster.md): plain round-robin (no
// ip_hash, no sticky cookie), HTTP/1.1 to the upstreams with the Upgrade/Connection headers of
// a WebSocket handshake passed on, hour-long read timeouts, X-Forwarded-For appended, and a
// request that a node answers with 503 retried on the next (a WebSocket upgrade of a session
// that node does not own). One worker process, so that consecutive connections go to
// consecutive upstreams: N connections opened one after another (with no other request through
// nginx in between) land on N different servers.
// nginx runs in the foreground as a child of the test (daemon off), its pid, logs and temp
// files in the temp dir. /usr/sbin/nginx, or PARLEY_NGINX names another binary; a missing nginx
// fails the file (scripts/install-deps installs it).

import { spawn } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort, killOnExit, scaled } from './server.mjs';

const START_TIMEOUT_MS = scaled(10_000);
const STOP_GRACE_MS = scaled(3_000);

/** The nginx binary to run; throws a clear error when there is none. */
export function nginxBinary() {
  const bin = process.env.PARLEY_NGINX || '/usr/sbin/nginx';
  if (!existsSync(bin)) {
    throw new Error(`${bin} not found: the cluster tests need nginx (scripts/install-deps, or \`apt-get install -y nginx\`)`);
  }
  return bin;
}

/** nginx.conf for a load balancer on `port` over `upstreamPorts`, everything under `dir`. */
export function nginxConfig(dir, port, upstreamPorts) {
  const servers = upstreamPorts.map((p) => `    server 127.0.0.1:${p} max_fails=0;`).join('\n');
  return `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  log_format cluster '$remote_addr "$request" $status upstream=$upstream_addr';
  access_log ${dir}/access.log cluster;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  upstream chat {
${servers}
  }
  server {
    listen 127.0.0.1:${port};
    client_max_body_size 2m;
    location / {
      proxy_pass http://chat;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_read_timeout 1h;
      proxy_send_timeout 1h;
      proxy_buffering off;
      proxy_request_buffering off;
      proxy_next_upstream error timeout http_503;
    }
  }
}
`;
}

/** Resolves once a TCP connection to `port` succeeds; rejects when `failed()` says so or at the deadline. */
async function waitListening(port, failed) {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    const why = failed();
    if (why) throw new Error(why);
    if (Date.now() > deadline) throw new Error(`nginx not listening on ${port} within ${START_TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function spawnNginx(bin, dir, port) {
  const conf = path.join(dir, 'nginx.conf');
  const proc = spawn(bin, ['-c', conf, '-p', `${dir}/`, '-e', path.join(dir, 'error.log')],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  killOnExit(proc);
  proc.log = '';
  const append = (chunk) => { proc.log += chunk.toString('utf8'); };
  proc.stdout.on('data', append);
  proc.stderr.on('data', append);
  proc.exited = new Promise((resolve) => proc.once('exit', (code, signal) => {
    resolve({ code, signal });
  }));
  let exitInfo = null;
  proc.exited.then((info) => { exitInfo = info; });
  proc.once('error', (err) => { exitInfo = { error: err.message }; });
  try {
    await waitListening(port, () => exitInfo && `nginx exited (${JSON.stringify(exitInfo)}):\n${proc.log}`);
  } catch (e) {
    proc.kill('SIGKILL');
    const errorLog = await readFile(path.join(dir, 'error.log'), 'utf8').catch(() => '');
    e.message += `\n${errorLog}`;
    throw e;
  }
  return proc;
}

/** Starts nginx round-robin over `upstreamPorts` (loopback); see the header. */
export async function startNginx(upstreamPorts) {
  const bin = nginxBinary();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'parley-nginx-'));
  // As root nginx's workers run as `nobody`: they must reach the dir and write its temp files.
  await chmod(dir, 0o755);
  await mkdir(path.join(dir, 'tmp'));
  if (process.getuid?.() === 0) await chown(path.join(dir, 'tmp'), 65534, 65534).catch(() => {});
  let port;
  let proc;
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    await writeFile(path.join(dir, 'nginx.conf'), nginxConfig(dir, port, upstreamPorts));
    try {
      proc = await spawnNginx(bin, dir, port);
      break;
    } catch (err) {
      // A free port can be taken between the probe and the bind: try a few.
      if (attempt >= 4 || !/Address already in use/.test(err.message)) {
        await rm(dir, { recursive: true, force: true });
        throw err;
      }
    }
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    dir,
    /** The access log: a line per finished request (a WebSocket's when it closes). */
    accessLog: () => readFile(path.join(dir, 'access.log'), 'utf8').catch(() => ''),
    async stop() {
      try {
        if (proc.exitCode === null && proc.signalCode === null) {
          proc.kill('SIGTERM');
          const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_GRACE_MS);
          await proc.exited;
          clearTimeout(timer);
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
