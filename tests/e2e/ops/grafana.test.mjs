// The Grafana dashboard (docs/grafana/parley.json) against the real server: the dashboard is a
// model Grafana 10 imports (uid, unique panel ids, panels that do not overlap, every query on
// the ${DS_PROMETHEUS} input and filtered by $instance), and every metric its queries name is one
// that /metrics really shows. A panel on a name the server does not have would stay empty
// without a word; here it fails the file.
//
// Names are checked where they exist: parley_cluster_* and parley_redis_* on a `parley serve
// --redis` (one node on a scratch Redis, the store on SQLite), every other name on a plain
// `parley serve` as well. The ack histogram the latency panel reads is also shown to count: one
// observation per ack, ok or error, on each path the dashboard's panels rely on.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  startChatServer, closeAllSockets, emitAck, assertOk, assertError, assertHttpOk, join, randomUUID,
} from '../helpers/chat.mjs';
import { startClusterChatServer, redisClient, waitForServers } from '../helpers/cluster.mjs';
import { startRedis } from '../helpers/redis.mjs';
import { repoRoot } from '../helpers/server.mjs';

const DASHBOARD = path.join(repoRoot, 'docs', 'grafana', 'parley.json');
const DATASOURCE_UID = '${DS_PROMETHEUS}';
const INSTANCE_FILTER = 'instance=~"$instance"';
const ACK = 'parley_chat_message_ack_seconds';
// What the single-process server cannot show: the cluster bus and its Redis client.
const CLUSTER_ONLY = /^parley_(cluster|redis)_/;

/** Every panel, those inside a row's `panels` (a collapsed row's) included. */
function allPanels(dashboard) {
  return dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

/** Every PromQL query of the dashboard: each target's expr, and the template variables' queries. */
function queries(dashboard) {
  const out = [];
  for (const p of allPanels(dashboard)) {
    for (const t of p.targets ?? []) out.push({ where: `panel ${p.id} "${p.title}" ${t.refId}`, expr: t.expr });
  }
  for (const v of dashboard.templating?.list ?? []) {
    const q = typeof v.query === 'string' ? v.query : v.query?.query;
    if (q) out.push({ where: `variable $${v.name}`, expr: q });
  }
  return out;
}

/**
 * The series each query selects: { name, matchers } per metric name in it (names matching
 * /parley_[a-z_]+/), with the equality matchers of its braces (`{result="ok", ...}`).
 */
function selectors(expr) {
  return [...expr.matchAll(/(parley_[a-z_]+)(\{([^}]*)\})?/g)].map((m) => ({
    name: m[1],
    braces: m[2] ?? '',
    matchers: [...(m[3] ?? '').matchAll(/([a-zA-Z_]\w*)\s*=\s*"([^"]*)"/g)].map((x) => [x[1], x[2]]),
  }));
}

/** The sample lines of a /metrics text: [{ name, labels (text inside the braces), value }]. */
function samples(text) {
  const out = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (m) out.push({ name: m[1], labels: m[2] ?? '', value: Number(m[3]) });
  }
  return out;
}

/**
 * Why `sel` is not shown by the server whose samples these are, or null when it is: a sample of
 * that exact name (a histogram's _bucket, _sum or _count series by its own name), and one that
 * carries every label="value" the query asks for besides the scrape's own `instance`.
 */
function missing(sel, all) {
  const named = all.filter((s) => s.name === sel.name);
  if (named.length === 0) return `no series ${sel.name}`;
  for (const [key, value] of sel.matchers) {
    if (key === 'instance') continue;
    if (!named.some((s) => s.labels.split(',').includes(`${key}="${value}"`))) {
      return `no series ${sel.name} with ${key}="${value}"`;
    }
  }
  return null;
}

/** The ack histogram's count, sum and buckets for one result, from a /metrics text. */
function ackSeries(text, result) {
  const mine = samples(text).filter((s) => s.labels.split(',').includes(`result="${result}"`));
  const one = (name) => mine.find((s) => s.name === name)?.value;
  const buckets = mine.filter((s) => s.name === `${ACK}_bucket`).map((s) => [/le="([^"]+)"/.exec(s.labels)[1], s.value]);
  return { count: one(`${ACK}_count`), sum: one(`${ACK}_sum`), buckets };
}

const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8'));

describe('docs/grafana/parley.json: the model', () => {
  it('is an importable dashboard: uid, title, a Prometheus input, time series and rows only', () => {
    assert.equal(dashboard.uid, 'parley');
    assert.equal(dashboard.title, 'Parley');
    assert.equal(dashboard.id, null, 'no id of another Grafana: import assigns one');
    assert.ok(Number.isInteger(dashboard.schemaVersion), 'schemaVersion');
    const input = dashboard.__inputs?.find((i) => i.name === 'DS_PROMETHEUS');
    assert.ok(input, '__inputs has DS_PROMETHEUS');
    assert.equal(input.type, 'datasource');
    assert.equal(input.pluginId, 'prometheus');
    assert.ok(allPanels(dashboard).length > 10, 'panels');
    for (const p of allPanels(dashboard)) assert.ok(['row', 'timeseries'].includes(p.type), `panel ${p.id}: ${p.type}`);
  });

  it('every panel has an id of its own', () => {
    const ids = allPanels(dashboard).map((p) => p.id);
    for (const id of ids) assert.ok(Number.isInteger(id) && id > 0, `id ${id}`);
    assert.equal(new Set(ids).size, ids.length, `ids ${ids.join(',')}`);
  });

  it('every panel lies on the 24-column grid, and no two overlap', () => {
    const boxes = allPanels(dashboard).map((p) => ({ id: p.id, ...p.gridPos }));
    for (const b of boxes) {
      for (const k of ['x', 'y', 'w', 'h']) assert.ok(Number.isInteger(b[k]), `panel ${b.id}: gridPos.${k} ${b[k]}`);
      assert.ok(b.x >= 0 && b.y >= 0 && b.w >= 1 && b.h >= 1 && b.x + b.w <= 24, `panel ${b.id}: ${JSON.stringify(b)}`);
    }
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const [a, b] = [boxes[i], boxes[j]];
        const apart = a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y;
        assert.ok(apart, `panels ${a.id} and ${b.id} overlap: ${JSON.stringify(a)} ${JSON.stringify(b)}`);
      }
    }
  });

  it('every panel and query uses the ${DS_PROMETHEUS} input, and every panel has a unit', () => {
    for (const p of allPanels(dashboard).filter((x) => x.type !== 'row')) {
      assert.deepEqual(p.datasource, { type: 'prometheus', uid: DATASOURCE_UID }, `panel ${p.id} datasource`);
      assert.ok(p.targets?.length > 0, `panel ${p.id} has queries`);
      for (const t of p.targets) {
        assert.deepEqual(t.datasource, { type: 'prometheus', uid: DATASOURCE_UID }, `panel ${p.id} ${t.refId}`);
        assert.equal(typeof t.expr, 'string', `panel ${p.id} ${t.refId} expr`);
      }
      const refIds = p.targets.map((t) => t.refId);
      assert.equal(new Set(refIds).size, refIds.length, `panel ${p.id} refIds ${refIds}`);
      assert.ok(['s', 'ops', 'short'].includes(p.fieldConfig?.defaults?.unit), `panel ${p.id} unit`);
    }
  });

  it('has the $instance variable, and every series a query selects is filtered by it', () => {
    const v = dashboard.templating?.list?.find((x) => x.name === 'instance');
    assert.ok(v, 'templating has instance');
    assert.equal(v.type, 'query');
    assert.deepEqual(v.datasource, { type: 'prometheus', uid: DATASOURCE_UID });
    assert.equal(v.query?.query ?? v.query, 'label_values(parley_socketio_sockets, instance)');
    for (const q of queries(dashboard).filter((x) => !x.where.startsWith('variable'))) {
      const sels = selectors(q.expr);
      assert.ok(sels.length > 0, `${q.where}: names a parley_ metric: ${q.expr}`);
      for (const s of sels) assert.ok(s.braces.includes(INSTANCE_FILTER), `${q.where}: ${s.name}${s.braces} lacks ${INSTANCE_FILTER}`);
    }
  });
});

describe('docs/grafana/parley.json: every metric it names is exposed', () => {
  let single;
  let redis;
  let raw;
  let clustered;
  before(async () => {
    single = await startChatServer();
    redis = await startRedis();
    raw = await redisClient(redis.url);
    clustered = await startClusterChatServer(redis.url);
    await waitForServers(raw, 1);
  });
  after(async () => {
    closeAllSockets();
    await raw?.quit();
    try {
      await Promise.all([single?.stop(), clustered?.stop()]);
    } finally {
      await redis?.stop();
    }
  });

  /** Two users of `srv` made with `parley user add`, each logged in: [{ id, token }]. */
  async function loggedInUsers(srv) {
    return Promise.all(['Ada', 'Grace'].map(async (name) => {
      const email = `${name.toLowerCase()}-${randomUUID().slice(0, 8)}@example.com`;
      const password = `${name} has a password`;
      const user = await srv.addUser({ email, password, name });
      const login = assertHttpOk(await srv.api(null, 'POST', '/v1/auth/login', { email, password }), 200, 'login');
      return { id: user._id, token: login.token };
    }));
  }

  /**
   * Real traffic on `srv`: two users log in, one connects the stock client, joins their chat
   * and sends a message, acked. Resolves the socket and the chat.
   */
  async function someTraffic(srv) {
    const [ada, grace] = await loggedInUsers(srv);
    const chat = await srv.createChat(ada.token, { type: 'group', title: 'dashboard', memberIds: [grace.id] });
    const s = await srv.connect(ada.token);
    await join(s, chat._id);
    assertOk(await emitAck(s, 'message:send', { chatId: chat._id, body: 'hello', clientId: randomUUID() }), 'send');
    return { s, chat };
  }

  it('every name of every query is on the server: the cluster ones on a --redis node, the rest on both', async () => {
    await someTraffic(single);
    await someTraffic(clustered);
    const exposed = { single: samples(await single.metricsText()), clustered: samples(await clustered.metricsText()) };
    const sels = queries(dashboard).flatMap((q) => selectors(q.expr).map((s) => ({ ...s, where: q.where })));
    assert.ok(sels.length > 30, `${sels.length} series selected`);
    const problems = [];
    for (const sel of sels) {
      const servers = CLUSTER_ONLY.test(sel.name) ? ['clustered'] : ['single', 'clustered'];
      for (const server of servers) {
        const why = missing(sel, exposed[server]);
        if (why) problems.push(`${sel.where}: ${why} on the ${server === 'single' ? 'single-process' : '--redis'} server`);
      }
    }
    assert.deepEqual(problems, [], 'every metric the dashboard names is exposed');
    // The cluster-only names are so for a reason: were one on the single process, it would be
    // checked there instead.
    for (const sel of sels.filter((x) => CLUSTER_ONLY.test(x.name))) {
      assert.notEqual(missing(sel, exposed.single), null, `${sel.name} is on the single process too`);
    }
  });

  it(`${ACK} counts every message:send ack, ok and error, once`, async () => {
    const { s, chat } = await someTraffic(single);
    const before = await single.metricsText();
    const was = { ok: ackSeries(before, 'ok'), error: ackSeries(before, 'error') };
    assert.equal(typeof was.ok.count, 'number', `${ACK}_count{result="ok"} in ${before}`);
    assert.equal(typeof was.error.count, 'number', `${ACK}_count{result="error"}`);

    const payload = { chatId: chat._id, body: 'timed', clientId: randomUUID() };
    assertOk(await emitAck(s, 'message:send', payload), 'a new message');
    assertOk(await emitAck(s, 'message:send', payload), 'its retry: the stored copy');
    assertError(await emitAck(s, 'message:send', { chatId: chat._id, clientId: randomUUID() }), 'VALIDATION_ERROR',
      'no body');
    const strangers = await single.createChat(single.user(), { type: 'group', title: 'not mine', memberIds: [] });
    assertError(await emitAck(s, 'message:send', { chatId: strangers._id, body: 'x', clientId: randomUUID() }),
      'FORBIDDEN', 'not a member');

    // Each ack is timed before it is sent: a client that has its acks finds them counted.
    const now = await single.metricsText();
    const is = { ok: ackSeries(now, 'ok'), error: ackSeries(now, 'error') };
    assert.equal(is.ok.count - was.ok.count, 2, 'two ok acks: the message and its retry');
    assert.equal(is.error.count - was.error.count, 2, 'two error acks: validation and membership');
    for (const result of ['ok', 'error']) {
      const h = is[result];
      assert.equal(h.buckets.length, 16, `${result}: 15 bounds and +Inf`);
      assert.deepEqual(h.buckets.at(-1), ['+Inf', h.count], `${result}: +Inf holds every ack`);
      for (let i = 1; i < h.buckets.length; i++) assert.ok(h.buckets[i][1] >= h.buckets[i - 1][1], `${result}: cumulative`);
      assert.ok(h.sum > was[result].sum, `${result}: the sum grows (${was[result].sum} -> ${h.sum})`);
    }
  });
});
