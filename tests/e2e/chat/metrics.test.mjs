// GET /metrics: Prometheus text with the live counts of sessions, sockets and stored messages.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startChatServer, emitAck } from '../helpers/chat.mjs';
import { scaled, until } from '../helpers/server.mjs';

let srv;
before(async () => { srv = await startChatServer(); });
after(async () => { await srv?.stop(); });

// Every node's /metrics summed, in a cluster (a session or a commit counts on the node that has it).
async function metrics() {
  const text = await srv.metricsText();
  const values = {};
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+) (-?\d+)$/.exec(line);
    if (m) values[m[1]] = Number(m[2]);
  }
  return { text, values };
}

// Polls /metrics until `pred` holds: the counts change when the server has processed a close,
// which the client cannot observe directly.
async function metricsUntil(pred, timeoutMs = 3000) {
  return (await until(metrics, (m) => pred(m.values), scaled(timeoutMs), 'metrics to match')).values;
}

describe('GET /metrics', () => {
  it('is Prometheus text with HELP and TYPE lines', async () => {
    const { text, values } = await metrics();
    for (const name of ['parley_engineio_sessions', 'parley_engineio_sessions_opened_total', 'parley_socketio_sockets',
      'parley_chat_messages_stored_total']) {
      assert.match(text, new RegExp(`^# HELP ${name} `, 'm'));
      assert.match(text, new RegExp(`^# TYPE ${name} (gauge|counter)$`, 'm'));
      assert.equal(typeof values[name], 'number', name);
    }
  });

  it('counts sessions, sockets and stored messages, and goes back down on disconnect', async () => {
    const before = (await metrics()).values;
    const alice = srv.user();
    const chat = await srv.createChat(alice, { memberIds: [] });
    const s = await srv.connect(alice);
    await metricsUntil((v) => v.parley_engineio_sessions === before.parley_engineio_sessions + 1 &&
      v.parley_socketio_sockets === before.parley_socketio_sockets + 1);
    assert.equal((await emitAck(s, 'room:join', { chatId: chat._id })).ok, true);
    const payload = { chatId: chat._id, body: 'counted', clientId: 'metrics-1' };
    assert.equal((await emitAck(s, 'message:send', payload)).ok, true);
    assert.equal((await emitAck(s, 'message:send', payload)).ok, true); // a retry: not counted again
    const during = (await metrics()).values;
    assert.equal(during.parley_chat_messages_stored_total, before.parley_chat_messages_stored_total + 1);
    assert.ok(during.parley_engineio_sessions_opened_total >= before.parley_engineio_sessions_opened_total + 1);
    s.close();
    await metricsUntil((v) => v.parley_engineio_sessions === before.parley_engineio_sessions &&
      v.parley_socketio_sockets === before.parley_socketio_sockets);
  });

  it('counts store commits and the writes they carried (group commit)', async () => {
    const { text } = await metrics();
    for (const name of ['parley_store_commits_total', 'parley_store_committed_writes_total']) {
      assert.match(text, new RegExp(`^# HELP ${name} `, 'm'));
      assert.match(text, new RegExp(`^# TYPE ${name} counter$`, 'm'));
    }
    const users = [srv.user(), srv.user(), srv.user(), srv.user()];
    const chat = await srv.createChat(users[0], { type: 'group', memberIds: users.slice(1).map((u) => u.id) });
    const sockets = await Promise.all(users.map((u) => srv.connect(u)));
    for (const s of sockets) assert.equal((await emitAck(s, 'room:join', { chatId: chat._id })).ok, true);
    const before = (await metrics()).values;
    // Twenty sends at once, five from each user (under the rate limit): each is a write of its own.
    const acks = await Promise.all(Array.from({ length: 20 }, (_, i) =>
      emitAck(sockets[i % 4], 'message:send', { chatId: chat._id, body: `m${i}`, clientId: `gc-${i}` })));
    for (const ack of acks) assert.equal(ack.ok, true);
    const after = (await metrics()).values;
    const writes = after.parley_store_committed_writes_total - before.parley_store_committed_writes_total;
    const commits = after.parley_store_commits_total - before.parley_store_commits_total;
    assert.ok(writes >= 20, `${writes} writes committed for 20 acknowledged messages`);
    assert.ok(commits >= 1 && commits <= writes, `${commits} commits for ${writes} writes`);
    for (const s of sockets) s.close();
  });

  it('times every commit and every write in two histograms', async () => {
    const histogram = (text, name) => {
      const buckets = [...text.matchAll(new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\d+)$`, 'gm'))]
        .map((m) => [m[1], Number(m[2])]);
      const sum = Number(new RegExp(`^${name}_sum (\\S+)$`, 'm').exec(text)?.[1]);
      const count = Number(new RegExp(`^${name}_count (\\d+)$`, 'm').exec(text)?.[1]);
      return { buckets, sum, count };
    };
    const user = srv.user();
    const chat = await srv.createChat(user, { type: 'group', memberIds: [srv.user().id] });
    const s = await srv.connect(user);
    assert.equal((await emitAck(s, 'room:join', { chatId: chat._id })).ok, true);
    const before = await metrics();
    for (let i = 0; i < 3; i++)
      assert.equal((await emitAck(s, 'message:send', { chatId: chat._id, body: `t${i}`, clientId: `timed-${i}` })).ok, true);
    const after = await metrics();
    s.close();
    for (const name of ['parley_store_commit_seconds', 'parley_store_write_seconds']) {
      assert.match(after.text, new RegExp(`^# TYPE ${name} histogram$`, 'm'));
      const h = histogram(after.text, name);
      const was = histogram(before.text, name);
      assert.equal(h.buckets.length, 16, `${name}: 15 bounds and +Inf`);
      assert.deepEqual(h.buckets.at(-1), ['+Inf', h.count], `${name}: +Inf holds every observation`);
      for (let i = 1; i < h.buckets.length; i++) assert.ok(h.buckets[i][1] >= h.buckets[i - 1][1], `${name}: cumulative`);
      // Three acknowledged sends, one after another: three commits at least (each its own).
      assert.ok(h.count >= was.count + 3, `${name}: ${was.count} -> ${h.count}`);
      assert.ok(h.sum > was.sum, `${name}: the sum grows`);
    }
    // One timing per commit. A commit landing between the two reads of one answer (a closing
    // socket's write) could split them, so this waits for an answer where they agree.
    const agree = (m) => histogram(m.text, 'parley_store_commit_seconds').count === m.values.parley_store_commits_total;
    if (!agree(after)) await until(metrics, agree, scaled(3000), 'as many commit timings as commits');
  });
});
