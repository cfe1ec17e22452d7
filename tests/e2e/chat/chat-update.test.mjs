// chat:update {chat} to user:<id> of every member (removed members included) on create, title
// change, member add and member removal; removal takes the member's sockets out of chat:<id>.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  startChatServer, closeAllSockets, emitAck, assertError, assertHttpOk, assertHttpError, assertChatShape,
  join, send, nextEvent, recorded, groupOf, sorted, randomUUID,
} from '../helpers/chat.mjs';

let srv;
before(async () => { srv = await startChatServer(); });
after(async () => { await srv?.stop(); });
afterEach(() => closeAllSockets());

function okStatus(res, what) {
  assert.ok(res.status === 200 || res.status === 201, `${what}: HTTP ${res.status} ${res.text}`);
  assert.equal(res.body?.ok, true, `${what}: ok:true (${res.text})`);
  return res.body.data;
}

const updateOf = (chatId, pred = () => true) => (p) => p?.chat?._id === chatId && pred(p.chat);

describe('chat:update', () => {
  it('POST /v1/chats -> 201 with the chat; every member (creator included) gets chat:update on every device', async () => {
    const a = srv.user(); const b = srv.user(); const c = srv.user(); const outsider = srv.user();
    const a1 = await srv.connect(a); const a2 = await srv.connect(a, { transports: ['polling'] });
    const sb = await srv.connect(b); const sc = await srv.connect(c); const so = await srv.connect(outsider);
    const before = Date.now();
    const res = await srv.api(a, 'POST', '/v1/chats', { type: 'group', title: 'Team', memberIds: [b.id, c.id] });
    const chat = assertHttpOk(res, 201, 'create');
    assertChatShape(chat);
    assert.deepEqual(Object.keys(chat).sort(), ['_id', 'createdAt', 'createdBy', 'memberIds', 'title', 'type', 'updatedAt']);
    assert.equal(chat.type, 'group');
    assert.equal(chat.title, 'Team');
    assert.equal(chat.createdBy, a.id);
    assert.deepEqual(sorted(chat.memberIds), sorted([a.id, b.id, c.id]));
    assert.ok(Date.parse(chat.createdAt) >= before - 5000);

    for (const [s, who] of [[a1, 'creator'], [a2, "creator's 2nd device"], [sb, 'b'], [sc, 'c']]) {
      const u = await nextEvent(s, 'chat:update', updateOf(chat._id));
      assert.deepEqual(Object.keys(u), ['chat'], `${who}: payload is {chat}`);
      assert.deepEqual(u.chat, chat, `${who}: same chat as the REST answer`);
    }
    // sentinel for the outsider
    await groupOf(srv, a, [outsider]);
    await nextEvent(so, 'chat:update');
    assert.ok(!recorded(so, 'chat:update').some((p) => p.chat._id === chat._id), 'outsider got chat:update');
  });

  it('the creator is always a member, even when not in memberIds; title is optional (null)', async () => {
    const a = srv.user(); const b = srv.user();
    const chat = await srv.createChat(a, { type: 'group', memberIds: [b.id] });
    assert.ok(chat.memberIds.includes(a.id));
    assert.equal(chat.title, null);
    const again = await srv.createChat(a, { type: 'group', title: 'x', memberIds: [a.id, b.id] });
    assert.equal(again.memberIds.filter((id) => id === a.id).length, 1, 'creator listed once');
    assert.equal(again.memberIds.length, 2);
  });

  it('PATCH title -> chat:update; {title:null} clears it', async () => {
    const a = srv.user(); const b = srv.user();
    const chat = await groupOf(srv, a, [b], 'old');
    const sa = await srv.connect(a); const sb = await srv.connect(b);
    const upd = okStatus(await srv.api(b, 'PATCH', `/v1/chats/${chat._id}`, { title: 'new title' }), 'PATCH title');
    assertChatShape(upd);
    assert.equal(upd.title, 'new title');
    assert.ok(Date.parse(upd.updatedAt) >= Date.parse(chat.updatedAt));
    for (const s of [sa, sb]) {
      const u = await nextEvent(s, 'chat:update', updateOf(chat._id, (c) => c.title === 'new title'));
      assert.deepEqual(u.chat.memberIds.sort(), sorted(chat.memberIds));
      assert.equal(u.chat.createdAt, chat.createdAt);
    }
    assert.equal(assertHttpOk(await srv.api(a, 'GET', `/v1/chats/${chat._id}`)).title, 'new title');

    const cleared = okStatus(await srv.api(a, 'PATCH', `/v1/chats/${chat._id}`, { title: null }), 'PATCH null');
    assert.equal(cleared.title, null);
    await nextEvent(sb, 'chat:update', updateOf(chat._id, (c) => c.title === null));
    assert.equal(assertHttpOk(await srv.api(b, 'GET', `/v1/chats/${chat._id}`)).title, null);
  });

  it('PATCH by a non-member -> 403; bad title -> 400', async () => {
    const a = srv.user(); const b = srv.user();
    const chat = await groupOf(srv, a, [b], 't');
    assertHttpError(await srv.api(srv.user(), 'PATCH', `/v1/chats/${chat._id}`, { title: 'hijack' }), 403, 'FORBIDDEN');
    assertHttpError(await srv.api(a, 'PATCH', `/v1/chats/${chat._id}`, { title: 42 }), 400, 'VALIDATION_ERROR');
    assert.equal(assertHttpOk(await srv.api(a, 'GET', `/v1/chats/${chat._id}`)).title, 't');
  });

  it('POST members -> chat:update to old and new members; the new member can join and chat', async () => {
    const a = srv.user(); const b = srv.user(); const c = srv.user();
    const chat = await groupOf(srv, a, [b]);
    const sa = await srv.connect(a); const sb = await srv.connect(b); const sc = await srv.connect(c);
    assertError(await emitAck(sc, 'room:join', { chatId: chat._id }), 'FORBIDDEN', 'before being added');
    const upd = okStatus(await srv.api(a, 'POST', `/v1/chats/${chat._id}/members`, { userId: c.id }), 'add member');
    assertChatShape(upd);
    assert.deepEqual(sorted(upd.memberIds), sorted([a.id, b.id, c.id]));
    for (const s of [sa, sb, sc]) {
      const u = await nextEvent(s, 'chat:update', updateOf(chat._id, (x) => x.memberIds.includes(c.id)));
      assert.deepEqual(sorted(u.chat.memberIds), sorted([a.id, b.id, c.id]));
    }
    await join(sc, chat._id); await join(sa, chat._id);
    const m = await send(sc, chat._id, 'hi, I am new');
    await nextEvent(sa, 'message:new', (p) => p._id === m.serverId);
  });

  it('DELETE member -> chat:update to everyone incl. the removed member; its sockets leave chat:<id> on every device', async () => {
    const a = srv.user(); const b = srv.user(); const r = srv.user();
    const chat = await groupOf(srv, a, [b, r]);
    const side = await groupOf(srv, a, [r]); // sentinel room shared with r
    const sa = await srv.connect(a); const sb = await srv.connect(b);
    const r1 = await srv.connect(r); const r2 = await srv.connect(r, { transports: ['polling'] });
    for (const s of [sa, sb, r1, r2]) await join(s, chat._id);
    for (const s of [sa, r1, r2]) await join(s, side._id);
    const m0 = await send(sa, chat._id, 'before removal');
    await nextEvent(r1, 'message:new', (p) => p._id === m0.serverId);
    await nextEvent(r2, 'message:new', (p) => p._id === m0.serverId);

    const upd = okStatus(await srv.api(a, 'DELETE', `/v1/chats/${chat._id}/members/${r.id}`), 'remove member');
    assert.deepEqual(sorted(upd.memberIds), sorted([a.id, b.id]));
    for (const [s, who] of [[sa, 'a'], [sb, 'b'], [r1, 'removed dev 1'], [r2, 'removed dev 2']]) {
      const u = await nextEvent(s, 'chat:update', updateOf(chat._id, (x) => !x.memberIds.includes(r.id)));
      assert.deepEqual(sorted(u.chat.memberIds), sorted([a.id, b.id]), who);
    }

    const gone = await send(sa, chat._id, 'after removal');
    const sentinel = await send(sa, side._id, 'sentinel');
    await nextEvent(sb, 'message:new', (p) => p._id === gone.serverId);
    for (const s of [r1, r2]) {
      await nextEvent(s, 'message:new', (p) => p._id === sentinel.serverId);
      assert.ok(!recorded(s, 'message:new').some((p) => p._id === gone.serverId), 'removed member still receives the chat');
    }
    // and the removed member is refused everywhere
    assertError(await emitAck(r1, 'room:join', { chatId: chat._id }), 'FORBIDDEN');
    assertError(await emitAck(r2, 'message:send', { chatId: chat._id, body: 'x', clientId: randomUUID() }), 'FORBIDDEN');
    assertHttpError(await srv.api(r, 'GET', `/v1/chats/${chat._id}/messages`), 403, 'FORBIDDEN');
    const list = assertHttpOk(await srv.api(r, 'GET', '/v1/chats'));
    assert.ok(!list.some((c) => c._id === chat._id), 'removed chat still listed');
  });

  it('a member can leave (DELETE own membership) and gets chat:update too', async () => {
    const a = srv.user(); const b = srv.user();
    const chat = await groupOf(srv, a, [b]);
    const sa = await srv.connect(a); const sb = await srv.connect(b);
    okStatus(await srv.api(b, 'DELETE', `/v1/chats/${chat._id}/members/${b.id}`), 'leave');
    await nextEvent(sb, 'chat:update', updateOf(chat._id, (x) => !x.memberIds.includes(b.id)));
    await nextEvent(sa, 'chat:update', updateOf(chat._id, (x) => !x.memberIds.includes(b.id)));
  });
});

describe('dm chats', () => {
  it('a dm has exactly two members; adding a member -> 400 VALIDATION_ERROR, no chat:update', async () => {
    const a = srv.user(); const b = srv.user(); const c = srv.user();
    const sa = await srv.connect(a);
    const dm = await srv.createChat(a, { type: 'dm', memberIds: [b.id] });
    assert.equal(dm.type, 'dm');
    assert.deepEqual(sorted(dm.memberIds), sorted([a.id, b.id]));
    await nextEvent(sa, 'chat:update', updateOf(dm._id));
    assertHttpError(await srv.api(a, 'POST', `/v1/chats/${dm._id}/members`, { userId: c.id }), 400, 'VALIDATION_ERROR');
    const got = assertHttpOk(await srv.api(a, 'GET', `/v1/chats/${dm._id}`));
    assert.deepEqual(sorted(got.memberIds), sorted([a.id, b.id]));
    // sentinel: a later title change is the next chat:update for the dm
    okStatus(await srv.api(a, 'PATCH', `/v1/chats/${dm._id}`, { title: 'us' }), 'PATCH dm');
    await nextEvent(sa, 'chat:update', updateOf(dm._id, (x) => x.title === 'us'));
    assert.equal(recorded(sa, 'chat:update', updateOf(dm._id)).length, 2);
  });

  it('creating a dm with other than exactly one other user -> 400', async () => {
    const a = srv.user(); const b = srv.user(); const c = srv.user();
    assertHttpError(await srv.api(a, 'POST', '/v1/chats', { type: 'dm', memberIds: [b.id, c.id] }), 400, 'VALIDATION_ERROR');
    assertHttpError(await srv.api(a, 'POST', '/v1/chats', { type: 'dm', memberIds: [] }), 400, 'VALIDATION_ERROR');
  });
});
