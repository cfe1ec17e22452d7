// Concurrent membership changes of one group chat: every REST answer and every chat:update is a
// state that was committed, in one order of the changes. 20 members are removed and 20 users
// added by 40 requests all in flight at once; each request changes a different user, so every
// committed state is told apart by which changes it holds, and the states form one chain
// s0 -> s1 -> ... -> s40 where each step is one request's change. A store or a REST path that
// reads the chat, edits a copy and writes it back answers (and broadcasts) states that were
// never committed: two adds that read the same chat each answer it with only their own user.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startChatServer, closeAllSockets, assertHttpOk, nextEvent, recorded,
} from '../helpers/chat.mjs';
import { scaled, until } from '../helpers/server.mjs';

const CHANGES_EACH_WAY = 20;

let srv;
before(async () => { srv = await startChatServer(); });
after(async () => { await srv?.stop(); });

/** The changes (of `ops`) that `memberIds` holds: the added users present, the removed absent. */
function appliedIn(memberIds, ops) {
  const members = new Set(memberIds);
  return ops.filter((op) => (op.kind === 'add') === members.has(op.user.id));
}

/**
 * `memberIds` with `op` applied, in join order: by the time each member joined, then by the
 * order the joins were committed (`joinKey(id)` is [time, step, index]); a removed member
 * leaves its place.
 */
function apply(memberIds, op, joinKey) {
  if (op.kind === 'remove') return memberIds.filter((id) => id !== op.user.id);
  const cmp = (x, y) => {
    const [kx, ky] = [joinKey(x), joinKey(y)];
    for (let i = 0; i < kx.length; i++) if (kx[i] !== ky[i]) return kx[i] - ky[i];
    return 0;
  };
  return [...memberIds, op.user.id].sort(cmp);
}

describe('chat:update under concurrent membership changes', () => {
  it('every answer and every chat:update is a committed state, and the last one is the chat as stored', async () => {
    const owner = srv.user();
    const watcher = srv.user(); // a member throughout: receives every chat:update of the chat
    const leaving = Array.from({ length: CHANGES_EACH_WAY }, () => srv.user());
    const joining = Array.from({ length: CHANGES_EACH_WAY }, () => srv.user());
    const ws = await srv.connect(watcher);
    const created = await srv.createChat(owner, {
      type: 'group', title: 'race', memberIds: [watcher.id, ...leaving.map((u) => u.id)],
    });
    await nextEvent(ws, 'chat:update', (p) => p.chat._id === created._id);
    const s0 = created.memberIds;

    // Interleaved so that adds and removes reach the server mixed.
    const ops = [];
    for (let i = 0; i < CHANGES_EACH_WAY; i++) {
      ops.push({ kind: 'add', user: joining[i] }, { kind: 'remove', user: leaving[i] });
    }
    const path = `/v1/chats/${created._id}/members`;
    const answers = await Promise.all(ops.map(async (op) => {
      const res = op.kind === 'add'
        ? await srv.api(owner, 'POST', path, { userId: op.user.id })
        : await srv.api(owner, 'DELETE', `${path}/${op.user.id}`);
      return assertHttpOk(res, 200, `${op.kind} ${op.user.id}`);
    }));

    // The answers are the chain: the answer of the k-th change holds exactly k changes, and is
    // the answer of the (k-1)-th with its own change applied (members in join order: an added
    // member joined at the updatedAt its add answered).
    const byStep = new Map();
    answers.forEach((chat, i) => {
      const applied = appliedIn(chat.memberIds, ops);
      assert.ok(applied.includes(ops[i]), `the answer of ${ops[i].kind} ${ops[i].user.id} holds its own change`);
      const step = applied.length;
      assert.ok(!byStep.has(step),
        `two answers hold ${step} changes: a state answered was never committed\n` +
        `${JSON.stringify(byStep.get(step)?.chat.memberIds)}\n${JSON.stringify(chat.memberIds)}`);
      byStep.set(step, { chat, op: ops[i] });
    });
    const joined = new Map(s0.map((id, i) => [id, [Date.parse(created.createdAt), 0, i]]));
    for (let step = 1; step <= ops.length; step++) {
      const { chat, op } = byStep.get(step);
      if (op.kind === 'add') joined.set(op.user.id, [Date.parse(chat.updatedAt), step, 0]);
    }
    let previous = s0;
    for (let step = 1; step <= ops.length; step++) {
      const { chat, op } = byStep.get(step);
      assert.deepEqual(chat.memberIds, apply(previous, op, (id) => joined.get(id)),
        `step ${step} (${op.kind} ${op.user.id}) is step ${step - 1} with that change`);
      previous = chat.memberIds;
    }

    // The chat as stored is the end of the chain.
    const stored = assertHttpOk(await srv.api(owner, 'GET', `/v1/chats/${created._id}`), 200, 'GET chat');
    assert.deepEqual(stored, byStep.get(ops.length).chat, 'the stored chat is the last answer');

    // The watcher got one chat:update per change, each equal to the answer of the change that
    // caused it, and the last one it got is the chat as stored.
    const isRace = (p) => p.chat._id === created._id;
    await until(() => recorded(ws, 'chat:update', isRace).length - 1, (n) => n >= ops.length, scaled(10_000),
      `${ops.length} chat:update on the watcher`);
    const sentinel = assertHttpOk(await srv.api(owner, 'PATCH', `/v1/chats/${created._id}`, { title: 'sentinel' }));
    await nextEvent(ws, 'chat:update', (p) => isRace(p) && p.chat.title === 'sentinel');
    const all = recorded(ws, 'chat:update', isRace).slice(1);
    assert.equal(all.length, ops.length + 1, 'one chat:update per change, then the sentinel');
    assert.deepEqual(all[ops.length].chat, sentinel);
    const updates = all.slice(0, ops.length);
    const unmatched = new Map(answers.map((chat) => [JSON.stringify(chat.memberIds), chat]));
    for (const { chat } of updates) {
      const key = JSON.stringify(chat.memberIds);
      assert.ok(unmatched.has(key), `chat:update ${key} is the answer of one change (and only one update is)`);
      assert.deepEqual(chat, unmatched.get(key), 'the chat:update equals the answer of its change');
      unmatched.delete(key);
    }
    // Arriving in commit order, the last one is the chat as stored: a client that keeps the last
    // chat:update it got shows the chat as it is.
    const steps = updates.map(({ chat }) => appliedIn(chat.memberIds, ops).length);
    assert.deepEqual(updates[updates.length - 1].chat, stored,
      `the last chat:update is the chat as stored (the steps in the order they arrived: ${steps.join(' ')})`);
    closeAllSockets();
  });
});
