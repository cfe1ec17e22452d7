// The client half of tests/package/install-test.sh: against the installed server at URL, logs
// in through the REST API as EMAIL/PASSWORD, creates a group chat, connects the stock
// socket.io-client (the e2e tests' copy, tests/e2e/node_modules) with the login's token, sends
// a message and requires its ack to be ok, its message:new to arrive and the message to be
// stored. Exits 0, or prints what went wrong and exits 1.
//
//   node tests/package/chat-check.mjs URL EMAIL PASSWORD

import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';

const require = createRequire(new URL('../e2e/package.json', import.meta.url));
const { io } = require('socket.io-client');

const [url, email, password] = process.argv.slice(2);
if (!url || !email || !password) {
  console.error('usage: chat-check.mjs URL EMAIL PASSWORD');
  process.exit(2);
}

const TIMEOUT_MS = 10_000;

async function api(method, path, token, body) {
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url + path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  if (!json?.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return json.data;
}

/** Resolves with the first of `events` that `socket` emits, or rejects after TIMEOUT_MS. */
function first(socket, events, what) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: nothing within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
    for (const event of events) {
      socket.once(event, (...args) => { clearTimeout(timer); resolve({ event, args }); });
    }
  });
}

let socket;
try {
  const login = await api('POST', '/v1/auth/login', null, { email, password });
  const { token } = login; // the JWT: the package's server signs with its generated secret
  if (!token) throw new Error(`login: no token in ${JSON.stringify(login)}`);
  console.log(`chat-check: logged in as ${login.user?._id ?? email}`);

  const chat = await api('POST', '/v1/chats', token, { type: 'group', title: 'package install test', memberIds: [] });
  console.log(`chat-check: created chat ${chat._id}`);

  socket = io(url, { auth: { token }, reconnection: false, timeout: TIMEOUT_MS });
  const connected = await first(socket, ['connect', 'connect_error'], 'connect');
  if (connected.event === 'connect_error') {
    const err = connected.args[0];
    throw new Error(`connect_error: ${err?.message} ${JSON.stringify(err?.data ?? null)}`);
  }
  console.log(`chat-check: socket.io-client connected over ${socket.io.engine.transport.name}`);

  const joined = await socket.timeout(TIMEOUT_MS).emitWithAck('room:join', { chatId: chat._id });
  if (joined?.ok !== true) throw new Error(`room:join ack: ${JSON.stringify(joined)}`);

  const clientId = randomUUID();
  const body = `hello from the installed package ${clientId}`;
  const arrives = first(socket, ['message:new'], 'message:new');
  const ack = await socket.timeout(TIMEOUT_MS).emitWithAck('message:send', { chatId: chat._id, body, clientId });
  if (ack?.ok !== true || ack.data?.clientId !== clientId || !ack.data?.serverId)
    throw new Error(`message:send ack is not ok: ${JSON.stringify(ack)}`);
  console.log(`chat-check: message:send acked ok, serverId ${ack.data.serverId}`);

  const { args: [message] } = await arrives;
  if (message?._id !== ack.data.serverId || message.body !== body)
    throw new Error(`message:new is not the message sent: ${JSON.stringify(message)}`);

  const stored = await api('GET', `/v1/chats/${chat._id}/messages`, token);
  if (!stored.messages?.some((m) => m._id === ack.data.serverId && m.body === body))
    throw new Error(`the message is not in the chat's history: ${JSON.stringify(stored).slice(0, 300)}`);
  console.log('chat-check: message:new received and the message is stored');
} catch (e) {
  console.error(`chat-check: FAILED: ${e.message}`);
  process.exitCode = 1;
} finally {
  socket?.close();
}
