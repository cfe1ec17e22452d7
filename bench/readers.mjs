#!/usr/bin/env node
// REST readers for compare.mjs's acks-under-reads scenario: N clients that read as fast as the
// server answers them, next to the load generator's senders.
//
//   node bench/readers.mjs --url http://127.0.0.1:PORT --secret S [--readers 50] [--history 100]
//
// Set-up: each reader gets its own group chat with 10 other members (fresh ObjectIds, HS256
// JWTs signed with --secret), whose members post --history messages into it over REST (10 each,
// the contract's rate limit). Then every reader loops, one request at a time on its own
// keep-alive connection: GET /v1/chats (each chat with its unread count), the newest history
// page of its chat, the page before that. "reading" on stdout says the loops run; on SIGTERM or
// SIGINT the loops stop and the last line of stdout is one JSON object: requests, errors,
// requestsPerSec and latencyMs {p50, p99, max}.
import http from 'node:http';
import { createHmac, randomBytes } from 'node:crypto';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const url = new URL(opt('url', 'http://127.0.0.1:3001'));
const secret = opt('secret', '');
const readers = Number(opt('readers', 50));
const history = Number(opt('history', 100));
const MEMBERS = 10; // besides the reader
const PER_SENDER = 10; // the contract's 10 messages per 10 s

const objectId = () => randomBytes(12).toString('hex');
const b64 = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
function token(sub) {
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub, exp: Math.floor(Date.now() / 1000) + 3600 })}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: readers + 8 });

/** One request; resolves to { status, data } (data of the {ok,data} envelope). */
function request(method, path, auth, body) {
  return new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request({
      host: url.hostname, port: url.port, method, path, agent,
      headers: { authorization: `Bearer ${auth}`, ...(text ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } : {}) },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        let parsed = null;
        try {
          parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch { /* not JSON: counted as an error by the caller */ }
        resolve({ status: res.statusCode, data: parsed?.data });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(text);
  });
}

async function setUp(i) {
  const reader = objectId();
  const members = Array.from({ length: MEMBERS }, objectId);
  const created = await request('POST', '/v1/chats', token(reader), { type: 'group', title: `reader ${i}`, memberIds: members });
  if (created.status !== 201) throw new Error(`POST /v1/chats: ${created.status}`);
  const chatId = created.data._id;
  const senders = members.slice(0, Math.ceil(history / PER_SENDER));
  let sent = 0;
  await Promise.all(senders.map(async (s, k) => {
    const t = token(s);
    for (let n = 0; n < PER_SENDER && k * PER_SENDER + n < history; n++) {
      const r = await request('POST', `/v1/chats/${chatId}/messages`, t, { body: `history ${k}.${n}`, clientId: `r${i}-${k}-${n}` });
      if (r.status !== 201) throw new Error(`POST /v1/chats/:id/messages: ${r.status}`);
      sent++;
    }
  }));
  return { token: token(reader), chatId, sent };
}

const latencies = [];
let errors = 0;
let running = true;

async function timed(method, path, auth) {
  const t0 = process.hrtime.bigint();
  let r;
  try {
    r = await request(method, path, auth);
  } catch {
    errors++;
    return undefined;
  }
  latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
  if (r.status !== 200) errors++;
  return r.data;
}

async function readLoop({ token: auth, chatId }) {
  while (running) {
    await timed('GET', '/v1/chats', auth);
    const page = await timed('GET', `/v1/chats/${chatId}/messages?limit=50`, auth);
    const oldest = page?.messages?.[0]?._id;
    if (oldest && running) await timed('GET', `/v1/chats/${chatId}/messages?limit=50&before=${oldest}`, auth);
  }
}

const quantile = (sorted, q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : null);

const setups = [];
for (let i = 0; i < readers; i += 10) setups.push(...await Promise.all(Array.from({ length: Math.min(10, readers - i) }, (_, k) => setUp(i + k))));
const startNs = process.hrtime.bigint();
const loops = setups.map(readLoop);
console.log(`reading: ${readers} readers, ${setups.reduce((a, s) => a + s.sent, 0)} messages of history`);

const stop = async () => {
  if (!running) return;
  running = false;
  const seconds = Number(process.hrtime.bigint() - startNs) / 1e9;
  await Promise.race([Promise.all(loops), new Promise((r) => setTimeout(r, 3000))]);
  const sorted = latencies.slice().sort((a, b) => a - b);
  console.log(JSON.stringify({
    readers, requests: latencies.length, errors, seconds,
    requestsPerSec: latencies.length / seconds,
    latencyMs: { p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), max: sorted[sorted.length - 1] ?? null },
  }));
  agent.destroy();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
