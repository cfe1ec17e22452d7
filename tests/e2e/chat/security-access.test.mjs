// Security: a user who is not a member of a chat can never read it, join it, type in it, send to
// it, mark it read or change it, through sockets or REST; a removed member loses all of that at
// once; and message-id cursors pointing into another chat leak nothing.
//
// Contract (shared/DESIGN.md): a non-member and a non-existent chat both get FORBIDDEN (HTTP 403)
// with the same message text; typing from a non-member is dropped without a word; receipt:read
// checks membership first (FORBIDDEN), then that the message is in the chat (NOT_FOUND).
// "Nothing arrives" is proven with a sentinel: a later message in a chat the observer does share
// must arrive, and nothing for the protected chat may have been recorded before it.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  startChatServer, closeAllSockets, emitAck, assertOk, assertError, assertHttpError, assertHttpOk,
  join, send, nextEvent, recorded, groupOf, objectId, randomUUID,
} from '../helpers/chat.mjs';

let srv;
before(async () => { srv = await startChatServer(); });
after(async () => { await srv?.stop(); });
afterEach(() => closeAllSockets());

/**
 * Users a, b (members of the protected chat G, which has one message from a), x (an outsider)
 * and y; H is x's own chat with y (with one message), S is a chat a, b and x all share (for
 * sentinels). Returns everything, G's message included.
 */
async function world() {
  const a = srv.user(); const b = srv.user(); const x = srv.user(); const y = srv.user();
  const H = await groupOf(srv, x, [y], 'outsider chat');
  const hMsg = assertHttpOk(await srv.api(x, 'POST', `/v1/chats/${H._id}/messages`, { body: 'in H', clientId: randomUUID() }), 201, 'H message');
  const G = await groupOf(srv, a, [b], 'protected');
  const gMsg = assertHttpOk(await srv.api(a, 'POST', `/v1/chats/${G._id}/messages`, { body: 'secret in G', clientId: randomUUID() }), 201, 'G message');
  const S = await groupOf(srv, a, [b, x], 'shared');
  return { a, b, x, y, G, H, S, gMsgId: gMsg.serverId, hMsgId: hMsg.serverId };
}

/** Every recorded event on `socket` that concerns chat `chatId` (message:new, receipt:update, typing:update, chat:update). */
function eventsAbout(socket, chatId, fromIndex = 0) {
  return socket.rec.events.slice(fromIndex).filter(({ event, args }) => {
    const p = args[0];
    if (event === 'chat:update') return p?.chat?._id === chatId;
    return ['message:new', 'receipt:update', 'typing:update'].includes(event) && p?.chatId === chatId;
  });
}

/** Same call against chat `chatId` and a chat that does not exist: both 403 FORBIDDEN, same message. */
async function assertForbiddenLikeMissing(who, chatId, method, pathOf, body, what) {
  const real = assertHttpError(await srv.api(who, method, pathOf(chatId), body), 403, 'FORBIDDEN', `${what}`);
  const missing = assertHttpError(await srv.api(who, method, pathOf(objectId()), body), 403, 'FORBIDDEN', `${what} (no such chat)`);
  assert.equal(real.message, missing.message, `${what}: a non-member cannot tell an existing chat from a missing one`);
  return real;
}

describe('a non-member over the socket', () => {
  it('room:join, message:send and receipt:read -> FORBIDDEN (same text as a missing chat); nothing stored or broadcast', async () => {
    const w = await world();
    const sa = await srv.connect(w.a); const sb = await srv.connect(w.b);
    const sx = await srv.connect(w.x);
    for (const s of [sa, sb]) { await join(s, w.G._id); await join(s, w.S._id); }
    await join(sx, w.S._id);

    const missing = objectId();
    const pairs = [
      ['room:join', { chatId: w.G._id }, { chatId: missing }],
      ['message:send', { chatId: w.G._id, body: 'let me in', clientId: randomUUID() }, { chatId: missing, body: 'x', clientId: randomUUID() }],
      ['receipt:read', { chatId: w.G._id, messageId: w.gMsgId }, { chatId: missing, messageId: w.gMsgId }],
      // a message id the outsider legitimately knows (from its own chat H) changes nothing
      ['receipt:read', { chatId: w.G._id, messageId: w.hMsgId }, { chatId: missing, messageId: w.hMsgId }],
    ];
    for (const [event, payload, missingPayload] of pairs) {
      const e1 = assertError(await emitAck(sx, event, payload), 'FORBIDDEN', `${event} ${JSON.stringify(payload)}`);
      const e2 = assertError(await emitAck(sx, event, missingPayload), 'FORBIDDEN', `${event} on a missing chat`);
      assert.equal(e1.message, e2.message, `${event}: same text for a non-member and a missing chat`);
    }
    // the same clientId used again (a retry of the refused send) is still refused, not "found"
    const clientId = randomUUID();
    assertError(await emitAck(sx, 'message:send', { chatId: w.G._id, body: 'retry', clientId }), 'FORBIDDEN');
    assertError(await emitAck(sx, 'message:send', { chatId: w.G._id, body: 'retry', clientId }), 'FORBIDDEN', 'retried send');
    assert.equal(sx.connected, true, 'refusals never disconnect');

    // sentinel from x in the shared chat: the members saw nothing about G from x before it
    const sentinel = await send(sx, w.S._id, 'sentinel');
    for (const s of [sa, sb]) await nextEvent(s, 'message:new', (p) => p._id === sentinel.serverId);
    for (const s of [sa, sb]) assert.deepEqual(eventsAbout(s, w.G._id), [], 'a member saw an event caused by a non-member');

    // the store is unchanged: G holds a's single message, and no read cursor of x exists
    const page = await srv.getMessages(w.a, w.G._id);
    assert.deepEqual(page.messages.map((m) => [m._id, m.senderId]), [[w.gMsgId, w.a.id]]);
    const cursors = assertHttpOk(await srv.api(w.a, 'GET', `/v1/chats/${w.G._id}/read-cursors`));
    assert.ok(!cursors.some((c) => c.userId === w.x.id), `x got a read cursor in G: ${JSON.stringify(cursors)}`);
  });

  it('typing:start / typing:stop from a non-member (websocket and polling) reach no member', async () => {
    const w = await world();
    const sa = await srv.connect(w.a); const sb = await srv.connect(w.b, { transports: ['polling'] });
    const sx1 = await srv.connect(w.x); const sx2 = await srv.connect(w.x, { transports: ['polling'] });
    for (const s of [sa, sb]) { await join(s, w.G._id); await join(s, w.S._id); }
    for (const s of [sx1, sx2]) {
      assertError(await emitAck(s, 'room:join', { chatId: w.G._id }), 'FORBIDDEN');
      s.emit('typing:start', { chatId: w.G._id });
      s.emit('typing:stop', { chatId: w.G._id });
    }
    // sentinels from both of x's sockets, sent after the typing events on the same sockets
    for (const s of [sx1, sx2]) {
      const m = await send(s, w.S._id, 'sentinel');
      for (const member of [sa, sb]) await nextEvent(member, 'message:new', (p) => p._id === m.serverId);
    }
    for (const s of [sa, sb]) assert.deepEqual(recorded(s, 'typing:update'), [], 'non-member typing reached a member');
  });

  it('never receives message:new, receipt:update or typing:update of the chat on any of its sockets', async () => {
    const w = await world();
    const sa = await srv.connect(w.a); const sb = await srv.connect(w.b);
    const xs = [await srv.connect(w.x), await srv.connect(w.x, { transports: ['polling'] }),
      await srv.connect(null, { query: { token: w.x.token } })];
    for (const s of [sa, sb]) { await join(s, w.G._id); await join(s, w.S._id); }
    for (const s of xs) {
      await join(s, w.S._id);
      assertError(await emitAck(s, 'room:join', { chatId: w.G._id }), 'FORBIDDEN', 'x joins G');
    }

    // all the traffic G can have: socket and REST messages, a read receipt, typing
    const m1 = await send(sa, w.G._id, 'socket message in G');
    const m2 = assertHttpOk(await srv.api(w.b, 'POST', `/v1/chats/${w.G._id}/messages`, { body: 'REST message in G', clientId: randomUUID() }), 201);
    await nextEvent(sb, 'message:new', (p) => p._id === m1.serverId);
    assertOk(await emitAck(sb, 'receipt:read', { chatId: w.G._id, messageId: m2.serverId }), 'b reads');
    await nextEvent(sa, 'receipt:update', (p) => p.userId === w.b.id);
    sa.emit('typing:start', { chatId: w.G._id });
    await nextEvent(sb, 'typing:update', (p) => p.chatId === w.G._id);
    // a PATCH of G goes to its members only
    assertHttpOk(await srv.api(w.a, 'PATCH', `/v1/chats/${w.G._id}`, { title: 'renamed' }));
    await nextEvent(sb, 'chat:update', (p) => p.chat._id === w.G._id && p.chat.title === 'renamed');

    const sentinel = await send(sa, w.S._id, 'sentinel');
    for (const s of xs) await nextEvent(s, 'message:new', (p) => p._id === sentinel.serverId);
    for (const [i, s] of xs.entries()) assert.deepEqual(eventsAbout(s, w.G._id), [], `outsider socket ${i} got an event of G`);
  });
});

describe('a non-member over REST', () => {
  it('GET chat / messages (no cursor, before, after, limit) / read-cursors -> 403 FORBIDDEN, like a missing chat; GET /v1/chats does not list it', async () => {
    const w = await world();
    const base = (id) => `/v1/chats/${id}`;
    await assertForbiddenLikeMissing(w.x, w.G._id, 'GET', base, undefined, 'GET chat');
    await assertForbiddenLikeMissing(w.x, w.G._id, 'GET', (id) => `${base(id)}/messages`, undefined, 'GET messages');
    await assertForbiddenLikeMissing(w.x, w.G._id, 'GET', (id) => `${base(id)}/messages?before=${w.gMsgId}`, undefined, 'GET messages before');
    await assertForbiddenLikeMissing(w.x, w.G._id, 'GET', (id) => `${base(id)}/messages?after=${w.gMsgId}`, undefined, 'GET messages after');
    await assertForbiddenLikeMissing(w.x, w.G._id, 'GET', (id) => `${base(id)}/messages?after=${w.hMsgId}&limit=100`, undefined, 'GET messages after (own chat id)');
    await assertForbiddenLikeMissing(w.x, w.G._id, 'GET', (id) => `${base(id)}/messages?limit=1`, undefined, 'GET messages limit');
    await assertForbiddenLikeMissing(w.x, w.G._id, 'GET', (id) => `${base(id)}/read-cursors`, undefined, 'GET read-cursors');
    const mine = assertHttpOk(await srv.api(w.x, 'GET', '/v1/chats'));
    assert.ok(!mine.some((c) => c._id === w.G._id), 'G listed for a non-member');
  });

  it('POST messages, PATCH, POST members (self or another), DELETE members -> 403 FORBIDDEN; nothing changes, nothing is broadcast', async () => {
    const w = await world();
    const sa = await srv.connect(w.a); const sb = await srv.connect(w.b);
    for (const s of [sa, sb]) { await join(s, w.G._id); await join(s, w.S._id); }
    const before = assertHttpOk(await srv.api(w.a, 'GET', `/v1/chats/${w.G._id}`));

    await assertForbiddenLikeMissing(w.x, w.G._id, 'POST', (id) => `/v1/chats/${id}/messages`, { body: 'hi', clientId: randomUUID() }, 'POST message');
    await assertForbiddenLikeMissing(w.x, w.G._id, 'PATCH', (id) => `/v1/chats/${id}`, { title: 'pwned' }, 'PATCH title');
    await assertForbiddenLikeMissing(w.x, w.G._id, 'PATCH', (id) => `/v1/chats/${id}`, { title: null }, 'PATCH title null');
    await assertForbiddenLikeMissing(w.x, w.G._id, 'POST', (id) => `/v1/chats/${id}/members`, { userId: w.x.id }, 'POST members (self)');
    await assertForbiddenLikeMissing(w.x, w.G._id, 'POST', (id) => `/v1/chats/${id}/members`, { userId: w.y.id }, 'POST members (another)');
    await assertForbiddenLikeMissing(w.x, w.G._id, 'DELETE', (id) => `/v1/chats/${id}/members/${w.b.id}`, undefined, 'DELETE a member');
    await assertForbiddenLikeMissing(w.x, w.G._id, 'DELETE', (id) => `/v1/chats/${id}/members/${w.a.id}`, undefined, 'DELETE the creator');
    await assertForbiddenLikeMissing(w.x, w.G._id, 'DELETE', (id) => `/v1/chats/${id}/members/${w.x.id}`, undefined, 'DELETE self');

    // nothing changed
    assert.deepEqual(assertHttpOk(await srv.api(w.a, 'GET', `/v1/chats/${w.G._id}`)), before, 'G changed');
    const page = await srv.getMessages(w.b, w.G._id);
    assert.deepEqual(page.messages.map((m) => m._id), [w.gMsgId], 'a message was stored');
    // and nothing was broadcast to the members (sentinel from x in the shared chat)
    const sentinel = assertHttpOk(await srv.api(w.x, 'POST', `/v1/chats/${w.S._id}/messages`, { body: 'sentinel', clientId: randomUUID() }), 201);
    for (const s of [sa, sb]) await nextEvent(s, 'message:new', (p) => p._id === sentinel.serverId);
    for (const s of [sa, sb]) assert.deepEqual(eventsAbout(s, w.G._id), [], 'a member got an event for G');
  });
});

describe('a removed member', () => {
  it('loses every right at once, on every device and over REST; gets no event of the chat afterwards', async () => {
    const w = await world();
    const c = srv.user();
    assertHttpOk(await srv.api(w.a, 'POST', `/v1/chats/${w.G._id}/members`, { userId: c.id }));
    assertHttpOk(await srv.api(w.a, 'POST', `/v1/chats/${w.S._id}/members`, { userId: c.id }));
    const sa = await srv.connect(w.a); const sb = await srv.connect(w.b);
    const cs = [await srv.connect(c), await srv.connect(c, { transports: ['polling'] })];
    for (const s of [sa, sb, ...cs]) { await join(s, w.G._id); await join(s, w.S._id); }
    // as a member, c can do everything
    const cm = await send(cs[0], w.G._id, 'c was here');
    assertOk(await emitAck(cs[1], 'receipt:read', { chatId: w.G._id, messageId: w.gMsgId }));
    assertHttpOk(await srv.api(c, 'GET', `/v1/chats/${w.G._id}/messages`));

    // a removes c; every device of c hears about it, and from then on c is an outsider
    assertHttpOk(await srv.api(w.a, 'DELETE', `/v1/chats/${w.G._id}/members/${c.id}`));
    for (const s of cs) await nextEvent(s, 'chat:update', (p) => p.chat._id === w.G._id && !p.chat.memberIds.includes(c.id));
    const marks = cs.map((s) => s.rec.events.length);

    for (const s of cs) {
      // typing first: the acked calls below queue behind its membership check on the same socket
      s.emit('typing:start', { chatId: w.G._id });
      assertError(await emitAck(s, 'message:send', { chatId: w.G._id, body: 'still here?', clientId: randomUUID() }), 'FORBIDDEN', 'send after removal');
      // a retry of the message c sent as a member is refused too (no "existing" answer)
      assertError(await emitAck(s, 'message:send', { chatId: w.G._id, body: cm.body, clientId: cm.clientId }), 'FORBIDDEN', 'retry after removal');
      assertError(await emitAck(s, 'receipt:read', { chatId: w.G._id, messageId: cm.serverId }), 'FORBIDDEN', 'read after removal');
      assertError(await emitAck(s, 'room:join', { chatId: w.G._id }), 'FORBIDDEN', 'rejoin after removal');
    }
    await assertForbiddenLikeMissing(c, w.G._id, 'GET', (id) => `/v1/chats/${id}`, undefined, 'removed: GET chat');
    await assertForbiddenLikeMissing(c, w.G._id, 'GET', (id) => `/v1/chats/${id}/messages?after=${cm.serverId}`, undefined, 'removed: GET messages after own message');
    await assertForbiddenLikeMissing(c, w.G._id, 'GET', (id) => `/v1/chats/${id}/read-cursors`, undefined, 'removed: GET read-cursors');
    await assertForbiddenLikeMissing(c, w.G._id, 'POST', (id) => `/v1/chats/${id}/messages`, { body: 'x', clientId: cm.clientId }, 'removed: REST retry');
    await assertForbiddenLikeMissing(c, w.G._id, 'PATCH', (id) => `/v1/chats/${id}`, { title: 'mine now' }, 'removed: PATCH');
    await assertForbiddenLikeMissing(c, w.G._id, 'POST', (id) => `/v1/chats/${id}/members`, { userId: c.id }, 'removed: re-add self');
    await assertForbiddenLikeMissing(c, w.G._id, 'DELETE', (id) => `/v1/chats/${id}/members/${w.b.id}`, undefined, 'removed: remove another');

    // the chat goes on without c: message (socket + REST), receipt, typing
    const m1 = await send(sa, w.G._id, 'after removal');
    const m2 = assertHttpOk(await srv.api(w.b, 'POST', `/v1/chats/${w.G._id}/messages`, { body: 'REST after removal', clientId: randomUUID() }), 201);
    await nextEvent(sb, 'message:new', (p) => p._id === m1.serverId);
    assertOk(await emitAck(sb, 'receipt:read', { chatId: w.G._id, messageId: m2.serverId }));
    sa.emit('typing:start', { chatId: w.G._id });
    await nextEvent(sb, 'typing:update', (p) => p.chatId === w.G._id && p.userId === w.a.id);
    const sentinel = await send(sa, w.S._id, 'sentinel');
    for (const s of cs) await nextEvent(s, 'message:new', (p) => p._id === sentinel.serverId);
    for (const [i, s] of cs.entries()) assert.deepEqual(eventsAbout(s, w.G._id, marks[i]), [], `removed member's socket ${i} got an event of G`);
    // c's typing after removal reached nobody (it was handled before c's refused calls were answered)
    for (const s of [sa, sb]) assert.ok(!recorded(s, 'typing:update').some((p) => p.userId === c.id), 'typing of the removed member was broadcast');
    // c keeps its rights in the chat it is still in
    const inS = await send(cs[1], w.S._id, 'still a member of S');
    await nextEvent(sa, 'message:new', (p) => p._id === inS.serverId);
  });
});

describe('cursors pointing into another chat', () => {
  it('before/after = a message of a chat I am not in: 404 NOT_FOUND, exactly like an unknown id', async () => {
    const w = await world(); // H's message is older than G's
    const moreG = [];
    for (let i = 0; i < 3; i++) moreG.push((await srv.api(w.a, 'POST', `/v1/chats/${w.G._id}/messages`, { body: `g${i}`, clientId: randomUUID() })).body.data.serverId);
    // a message in H that is newer than everything in G
    const hNew = assertHttpOk(await srv.api(w.x, 'POST', `/v1/chats/${w.H._id}/messages`, { body: 'newer in H', clientId: randomUUID() }), 201).serverId;
    // The answer without its correlationId (unique per answer).
    const notFound = async (q, what) => {
      const res = await srv.api(w.a, 'GET', `/v1/chats/${w.G._id}/messages?${new URLSearchParams(q)}`);
      const { correlationId, ...rest } = assertHttpError(res, 404, 'NOT_FOUND', what);
      void correlationId;
      return rest;
    };
    const unknown = objectId();
    const expected = await notFound({ after: unknown }, 'after=unknown');
    assert.deepEqual(await notFound({ before: unknown }, 'before=unknown'), expected, 'before=unknown');
    for (const [what, q] of Object.entries({
      'after an older H message': { after: w.hMsgId },
      'before a newer H message': { before: hNew },
      'after an older H message, limit 100': { after: w.hMsgId, limit: '100' },
      'before a newer H message, limit 1': { before: hNew, limit: '1' },
      'after the S chat id': { after: w.S._id },
    })) {
      assert.deepEqual(await notFound(q, what), expected, `${what}: the same answer as an unknown id`);
    }
    // the real cursors still page normally
    const fwd = await srv.getMessages(w.a, w.G._id, { after: w.gMsgId });
    assert.deepEqual(fwd.messages.map((m) => m._id), moreG);
    assert.ok(fwd.messages.every((m) => m.chatId === w.G._id));
  });

  it("receipt:read for a message of another chat -> NOT_FOUND like an unknown id; the member's cursor does not move", async () => {
    const w = await world();
    const sa = await srv.connect(w.a);
    const sx = await srv.connect(w.x);
    await join(sa, w.G._id);
    const e1 = assertError(await emitAck(sa, 'receipt:read', { chatId: w.G._id, messageId: w.hMsgId }), 'NOT_FOUND', 'H message in G');
    const e2 = assertError(await emitAck(sa, 'receipt:read', { chatId: w.G._id, messageId: objectId() }), 'NOT_FOUND', 'unknown message');
    assert.equal(e1.message, e2.message, 'another chat\'s message looks like an unknown one');
    // the outsider, in its own chat H, naming G's message
    const e3 = assertError(await emitAck(sx, 'receipt:read', { chatId: w.H._id, messageId: w.gMsgId }), 'NOT_FOUND', 'G message in H');
    assert.equal(e3.message, e2.message);
    assert.deepEqual(assertHttpOk(await srv.api(w.a, 'GET', `/v1/chats/${w.G._id}/read-cursors`)), [], 'a cursor appeared in G');
    assert.deepEqual(assertHttpOk(await srv.api(w.x, 'GET', `/v1/chats/${w.H._id}/read-cursors`)), [], 'a cursor appeared in H');
  });
});
