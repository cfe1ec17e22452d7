// Parley's web client: plain JavaScript on the stock socket.io-client bundle (global `io`).
// The contract it speaks: shared/seed/realtime-messaging.md, docs/presence-and-typing.md, and
// the README's REST routes. State lives in the `state` object below; the render* functions draw
// it, and only they touch the DOM they own.
'use strict';

const SESSION_KEY = 'parley.session';
const TYPING_RENEW_MS = 2000; // typing:start at most this often while the user types
const PAGE = 50;              // history page size

const $ = (id) => document.getElementById(id);

const state = {
  session: null,          // { token, sessionToken, user: { _id, email, displayName } }
  socket: null,
  chats: new Map(),       // chatId -> chat of GET /v1/chats (+ unreadCount, lastMessage)
  presence: new Map(),    // userId -> { status, timestamp } (newest by timestamp)
  openChatId: null,
  messages: [],           // the open chat's messages, oldest first: server ones and our own pending
  hasMore: false,         // older history exists
  loadingOlder: false,
  cursors: new Map(),     // the open chat: userId -> messageId read up to
  typing: new Map(),      // chatId -> Set of userIds typing
  lastTypingSent: 0,      // when typing:start last went out (0: not typing)
  lastReceiptSent: null,  // the open chat's messageId last sent in receipt:read
};

// ------------------------------------------------------------------------------------------
// Names and times
// ------------------------------------------------------------------------------------------

function nameOf(userId) {
  if (state.session && userId === state.session.user._id) return 'You';
  return `user ${String(userId).slice(-6)}`;
}

function chatTitle(chat) {
  if (chat.title) return chat.title;
  const others = chat.memberIds.filter((id) => id !== state.session.user._id);
  return others.length ? others.map(nameOf).join(', ') : 'Just you';
}

function timeOf(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'testid') node.dataset.testid = v;
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k === 'className') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

// ------------------------------------------------------------------------------------------
// REST
// ------------------------------------------------------------------------------------------

async function api(method, path, body) {
  const headers = {};
  if (state.session) headers.authorization = `Bearer ${state.session.token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  let json = null;
  try { json = await res.json(); } catch { /* not JSON */ }
  if (res.status === 401 && state.session) {
    logout('Your session has ended: log in again');
    throw new Error('UNAUTHORIZED');
  }
  if (!json || json.ok !== true) {
    const err = new Error(json?.message ?? `HTTP ${res.status}`);
    err.code = json?.error;
    throw err;
  }
  return json.data;
}

// ------------------------------------------------------------------------------------------
// Login and logout
// ------------------------------------------------------------------------------------------

async function onLogin(event) {
  event.preventDefault();
  const error = $('login-error');
  error.hidden = true;
  $('login-submit').disabled = true;
  try {
    const res = await fetch('/v1/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: $('login-email').value.trim(), password: $('login-password').value }),
    });
    const json = await res.json().catch(() => null);
    if (!json?.ok) throw new Error(json?.message ?? `HTTP ${res.status}`);
    const { token, sessionToken, user } = json.data;
    // A server with only a public key issues no JWT: the session token authenticates as well.
    state.session = { token: token ?? sessionToken, sessionToken, user };
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(state.session));
    $('login-password').value = '';
    start();
  } catch (e) {
    error.textContent = e.message;
    error.hidden = false;
  } finally {
    $('login-submit').disabled = false;
  }
}

function logout(message) {
  const session = state.session;
  if (session && message === undefined) {
    // Best effort: the session ends on the server, and with it every socket it opened.
    fetch('/v1/auth/logout', { method: 'POST', headers: { authorization: `Bearer ${session.sessionToken}` } })
      .catch(() => {});
  }
  state.socket?.disconnect();
  state.socket = null;
  state.session = null;
  sessionStorage.removeItem(SESSION_KEY);
  Object.assign(state, {
    chats: new Map(), presence: new Map(), openChatId: null, messages: [], cursors: new Map(), typing: new Map(),
  });
  $('banner').hidden = true;
  $('app').hidden = true;
  $('login').hidden = false;
  const error = $('login-error');
  error.textContent = message ?? '';
  error.hidden = !message;
}

// ------------------------------------------------------------------------------------------
// The socket
// ------------------------------------------------------------------------------------------

function start() {
  $('login').hidden = true;
  $('app').hidden = false;
  $('me-name').textContent = state.session.user.displayName || state.session.user.email;
  $('me-name').title = state.session.user._id;
  renderChatList();
  renderChat();

  const socket = io({ auth: { token: state.session.token, presence: 'batch' } });
  state.socket = socket;

  socket.on('connect', () => {
    $('banner').hidden = true;
    // What the last connect was, for whoever looks (the browser test reports it).
    document.body.dataset.session = socket.recovered ? 'recovered' : 'fresh';
    // Recovered: same session, rooms joined, every missed event replayed (README, Reconnection).
    if (socket.recovered) return;
    // A fresh session (the first, or one the server could not recover): load what is current.
    resync().catch((e) => console.error('resync', e));
  });
  socket.on('disconnect', (reason) => {
    if (reason === 'io client disconnect') return; // our own logout
    // The server ended it (a logout elsewhere, an expired token): the client will not reconnect.
    if (!socket.active) return logout('Disconnected by the server: log in again');
    $('banner').hidden = false;
    state.lastTypingSent = 0;
  });
  socket.on('connect_error', (err) => {
    if (err.message === 'UNAUTHORIZED') return logout('Your session has ended: log in again');
    if (!socket.active) $('banner').hidden = false;
    // INTERNAL: the server could not check the token just now (its database); the token stands.
    if (err.message === 'INTERNAL') setTimeout(() => { if (state.socket === socket) socket.connect(); }, 3000);
  });
  socket.on('auth:expired', () => logout('Your session has expired: log in again'));

  // One snapshot of the contacts; with auth.presence "batch", one per chat, each with every member.
  socket.on('presence:snapshot', ({ users }) => {
    for (const u of users) applyPresence(u);
    renderPresence();
  });
  socket.on('presence:batch', ({ updates }) => {
    for (const u of updates) applyPresence(u);
    renderPresence();
  });
  socket.on('presence:update', (u) => {
    applyPresence(u);
    renderPresence();
  });
  socket.on('message:new', onMessageNew);
  socket.on('typing:update', onTypingUpdate);
  socket.on('receipt:update', onReceiptUpdate);
  socket.on('chat:update', ({ chat }) => {
    const known = state.chats.get(chat._id);
    const stillMember = chat.memberIds.includes(state.session.user._id);
    if (!stillMember) {
      state.chats.delete(chat._id);
      if (state.openChatId === chat._id) closeChat();
    } else {
      state.chats.set(chat._id, { unreadCount: 0, lastMessage: null, ...known, ...chat });
      if (!known) joinRoom(chat._id);
    }
    renderChatList();
    if (state.openChatId === chat._id) renderChatHeader();
  });
}

// Every chat of the list joined, so that its messages update the list live; then the open
// chat caught up: messages after the newest one shown, and the read cursors.
async function resync() {
  const chats = await api('GET', '/v1/chats');
  state.chats = new Map(chats.map((c) => [c._id, c]));
  renderChatList();
  await Promise.all(chats.map((c) => joinRoom(c._id)));
  const chatId = state.openChatId;
  if (!chatId) return;
  if (!state.chats.has(chatId)) return closeChat();
  await backfill(chatId);
  await loadCursors(chatId);
  markRead();
}

async function joinRoom(chatId) {
  const ack = await state.socket.timeout(10000).emitWithAck('room:join', { chatId }).catch(() => null);
  if (!ack?.ok) console.warn('room:join', chatId, ack);
}

// ------------------------------------------------------------------------------------------
// Presence: each user's newest state by timestamp (docs/presence-and-typing.md)
// ------------------------------------------------------------------------------------------

function applyPresence({ userId, status, timestamp }) {
  const held = state.presence.get(userId);
  const at = timestamp ? Date.parse(timestamp) : null; // null is older than any time
  if (held && held.at !== null && (at === null || at < held.at)) return;
  state.presence.set(userId, { status, at });
}

function statusOf(userId) {
  if (userId === state.session?.user._id) return state.socket?.connected ? 'online' : 'offline';
  return state.presence.get(userId)?.status ?? 'offline';
}

// ------------------------------------------------------------------------------------------
// The chat list
// ------------------------------------------------------------------------------------------

function sortedChats() {
  const activity = (c) => Date.parse(c.lastMessage?.createdAt ?? c.updatedAt ?? c.createdAt) || 0;
  return [...state.chats.values()].sort((a, b) => activity(b) - activity(a));
}

function renderChatList() {
  const list = $('chat-list');
  list.replaceChildren(...sortedChats().map((chat) => {
    const last = chat.lastMessage;
    const others = chat.memberIds.filter((id) => id !== state.session.user._id);
    const online = others.some((id) => statusOf(id) === 'online');
    return el('li', {
      className: `chat-item${chat._id === state.openChatId ? ' open' : ''}`,
      testid: 'chat-item',
      dataset: { chatId: chat._id },
      onclick: () => openChat(chat._id),
    },
    el('span', { className: `dot ${online ? 'online' : 'offline'}`, title: online ? 'someone is online' : 'nobody online' }),
    el('div', { className: 'chat-item-text' },
      el('div', { className: 'chat-item-title', testid: 'chat-title', text: chatTitle(chat) }),
      el('div', { className: 'chat-item-last', testid: 'chat-last', text: last ? `${nameOf(last.senderId)}: ${last.body}` : 'No messages yet' })),
    chat.unreadCount > 0 ? el('span', { className: 'badge', testid: 'chat-unread', text: String(chat.unreadCount) }) : null);
  }));
}

// ------------------------------------------------------------------------------------------
// The open chat
// ------------------------------------------------------------------------------------------

async function openChat(chatId) {
  if (state.openChatId === chatId) return;
  stopTyping();
  Object.assign(state, {
    openChatId: chatId, messages: [], hasMore: false, cursors: new Map(), lastReceiptSent: null, loadingOlder: false,
  });
  const chat = state.chats.get(chatId);
  if (chat) chat.unreadCount = 0;
  renderChatList();
  renderChat();
  await joinRoom(chatId);
  try {
    const page = await api('GET', `/v1/chats/${chatId}/messages?limit=${PAGE}`);
    if (state.openChatId !== chatId) return;
    mergeMessages(page.messages);
    state.hasMore = page.hasMore;
    await loadCursors(chatId);
  } catch (e) {
    console.error('history', e);
  }
  if (state.openChatId !== chatId) return;
  renderMessages({ toBottom: true });
  markRead();
  $('composer-input').focus();
}

function closeChat() {
  state.openChatId = null;
  state.messages = [];
  renderChat();
}

async function loadCursors(chatId) {
  const cursors = await api('GET', `/v1/chats/${chatId}/read-cursors`).catch(() => []);
  if (state.openChatId !== chatId) return;
  state.cursors = new Map(cursors.map((c) => [c.userId, c.messageId]));
  renderMessages();
}

// Messages after the newest one shown, page after page (after a session that was not recovered).
async function backfill(chatId) {
  for (;;) {
    const newest = [...state.messages].reverse().find((m) => m._id);
    const query = newest ? `after=${newest._id}&limit=100` : `limit=${PAGE}`;
    const page = await api('GET', `/v1/chats/${chatId}/messages?${query}`);
    if (state.openChatId !== chatId) return;
    mergeMessages(page.messages);
    if (!newest) state.hasMore = page.hasMore;
    renderMessages({ toBottom: isAtBottom() });
    if (!newest || !page.hasMore) return;
  }
}

async function loadOlder() {
  const chatId = state.openChatId;
  const oldest = state.messages.find((m) => m._id);
  if (!chatId || !oldest || !state.hasMore || state.loadingOlder) return;
  state.loadingOlder = true;
  try {
    const page = await api('GET', `/v1/chats/${chatId}/messages?before=${oldest._id}&limit=${PAGE}`);
    if (state.openChatId !== chatId) return;
    const list = $('messages');
    const fromBottom = list.scrollHeight - list.scrollTop;
    mergeMessages(page.messages);
    state.hasMore = page.hasMore;
    renderMessages();
    list.scrollTop = list.scrollHeight - fromBottom; // the same message stays under the eye
  } finally {
    state.loadingOlder = false;
  }
}

// Adds server messages to the open chat: each once (by _id), a pending one of ours replaced by
// its stored copy (by clientId); server messages in server order, pending ones last.
function mergeMessages(incoming) {
  for (const m of incoming) {
    // Ours acked already (it has the _id), or pending (only the clientId): take the stored copy.
    const known = state.messages.find((x) => x._id === m._id)
      ?? (m.clientId && state.messages.find((x) => !x._id && x.clientId === m.clientId));
    if (known) Object.assign(known, m, { status: 'sent', error: null });
    else state.messages.push({ ...m, status: 'sent' });
  }
  const stored = state.messages.filter((m) => m._id);
  const pending = state.messages.filter((m) => !m._id);
  stored.sort((a, b) => (Date.parse(a.createdAt) - Date.parse(b.createdAt)) || (a._id < b._id ? -1 : a._id > b._id ? 1 : 0));
  state.messages = [...stored, ...pending];
}

function onMessageNew(m) {
  const chat = state.chats.get(m.chatId);
  if (chat) {
    chat.lastMessage = m;
    const mine = m.senderId === state.session.user._id;
    const seenNow = m.chatId === state.openChatId && document.visibilityState === 'visible';
    if (!mine && !seenNow) chat.unreadCount = (chat.unreadCount ?? 0) + 1;
  }
  renderChatList();
  if (m.chatId !== state.openChatId) return;
  const atBottom = isAtBottom();
  mergeMessages([m]);
  renderMessages({ toBottom: atBottom || m.senderId === state.session.user._id });
  markRead();
}

// ------------------------------------------------------------------------------------------
// Sending: shown at once as pending, sent on the ack, failed with a retry on an error. The retry
// sends the same clientId, so a send that did reach the server is not stored twice.
// ------------------------------------------------------------------------------------------

function onSend(event) {
  event.preventDefault();
  const input = $('composer-input');
  const body = input.value.trim();
  if (!body || !state.openChatId) return;
  input.value = '';
  stopTyping();
  const message = {
    clientId: crypto.randomUUID(), chatId: state.openChatId, body, senderId: state.session.user._id,
    createdAt: new Date().toISOString(), status: 'pending',
  };
  state.messages.push(message);
  renderMessages({ toBottom: true });
  deliver(message);
}

function deliver(message) {
  message.status = 'pending';
  message.error = null;
  renderMessages();
  const { chatId, body, clientId } = message;
  state.socket.timeout(10000).emit('message:send', { chatId, body, clientId }, (err, ack) => {
    if (!err && ack?.ok) {
      // message:new may have brought the stored copy already.
      const stored = state.messages.find((x) => x._id === ack.data.serverId && x !== message);
      if (stored) state.messages = state.messages.filter((x) => x !== message);
      else Object.assign(message, { _id: ack.data.serverId, status: 'sent' });
      mergeMessages([]);
    } else {
      message.status = 'failed';
      message.error = err ? 'no answer' : `${ack?.error ?? 'error'}: ${ack?.message ?? ''}`;
    }
    if (message.chatId === state.openChatId) renderMessages();
  });
}

// ------------------------------------------------------------------------------------------
// Typing
// ------------------------------------------------------------------------------------------

function onComposerInput() {
  const chatId = state.openChatId;
  if (!chatId || !state.socket?.connected) return;
  if ($('composer-input').value.trim() === '') return stopTyping();
  const now = Date.now();
  if (now - state.lastTypingSent < TYPING_RENEW_MS) return;
  state.lastTypingSent = now;
  state.socket.emit('typing:start', { chatId });
}

function stopTyping() {
  if (!state.lastTypingSent) return;
  state.lastTypingSent = 0;
  if (state.openChatId && state.socket?.connected) state.socket.emit('typing:stop', { chatId: state.openChatId });
}

function onTypingUpdate({ chatId, userId, state: typingState }) {
  if (userId === state.session.user._id) return;
  const typists = state.typing.get(chatId) ?? new Set();
  if (typingState === 'start') typists.add(userId);
  else typists.delete(userId);
  state.typing.set(chatId, typists);
  if (chatId === state.openChatId) renderTyping();
}

// ------------------------------------------------------------------------------------------
// Read receipts
// ------------------------------------------------------------------------------------------

// receipt:read for the newest message, while the chat is open and the page is seen.
function markRead() {
  const chatId = state.openChatId;
  if (!chatId || document.visibilityState !== 'visible' || !state.socket?.connected) return;
  const newest = [...state.messages].reverse().find((m) => m._id);
  const chat = state.chats.get(chatId);
  if (chat?.unreadCount) {
    chat.unreadCount = 0;
    renderChatList();
  }
  if (!newest || newest._id === state.lastReceiptSent) return;
  state.lastReceiptSent = newest._id;
  state.socket.timeout(10000).emit('receipt:read', { chatId, messageId: newest._id }, (err, ack) => {
    if (err || !ack?.ok) state.lastReceiptSent = null; // tried again on the next occasion
  });
}

function onReceiptUpdate({ chatId, userId, messageId }) {
  if (chatId !== state.openChatId) return;
  state.cursors.set(userId, messageId);
  renderMessages();
}

// Who (besides us) has read up to `message` or past it.
function seenBy(message, index) {
  const readers = [];
  for (const [userId, cursorId] of state.cursors) {
    if (userId === state.session.user._id) continue;
    const at = state.messages.findIndex((m) => m._id === cursorId);
    // A cursor on a message not loaded: older than every loaded one, unless its id says newer.
    const reached = at >= 0 ? at >= index : cursorId >= message._id;
    if (reached) readers.push(userId);
  }
  return readers;
}

// ------------------------------------------------------------------------------------------
// Rendering the open chat
// ------------------------------------------------------------------------------------------

function isAtBottom() {
  const list = $('messages');
  return list.scrollHeight - list.scrollTop - list.clientHeight < 40;
}

function renderChat() {
  const open = state.openChatId !== null;
  $('chat').hidden = !open;
  $('no-chat').hidden = open;
  if (!open) return;
  $('chat').dataset.chatId = state.openChatId;
  renderChatHeader();
  renderMessages({ toBottom: true });
  renderTyping();
}

function renderChatHeader() {
  const chat = state.chats.get(state.openChatId);
  if (!chat) return;
  $('chat-title').textContent = chatTitle(chat);
  $('members').replaceChildren(...chat.memberIds
    .filter((id) => id !== state.session.user._id)
    .map((id) => {
      const status = statusOf(id);
      return el('li', { className: 'member', testid: 'member', dataset: { userId: id, status }, title: id },
        el('span', { className: `dot ${status}`, testid: 'presence-dot', dataset: { status } }),
        nameOf(id));
    }));
}

function renderPresence() {
  renderChatList();
  if (state.openChatId) renderChatHeader();
}

function renderMessages({ toBottom = false } = {}) {
  if (!state.openChatId) return;
  const list = $('messages');
  const me = state.session.user._id;
  let ownSeenShown = false;
  const items = state.messages.map((m, index) => {
    const own = m.senderId === me;
    let status = null;
    if (own) {
      if (m.status === 'failed') {
        status = el('span', { className: 'status failed', testid: 'message-status', title: m.error ?? '' },
          'failed — ',
          el('button', { type: 'button', className: 'link', testid: 'message-retry', onclick: () => deliver(m) }, 'retry'));
      } else {
        status = el('span', { className: `status ${m.status}`, testid: 'message-status', text: m.status });
      }
    }
    return { m, own, index, status };
  });
  // "seen by" under the newest of our messages that someone has seen (older ones are too).
  const nodes = [];
  for (let i = items.length - 1; i >= 0; i--) {
    const { m, own, index, status } = items[i];
    let seen = null;
    if (own && m._id && !ownSeenShown) {
      const readers = seenBy(m, index);
      if (readers.length) {
        ownSeenShown = true;
        const names = readers.map(nameOf);
        seen = el('span', {
          className: 'seen', testid: 'message-seen', dataset: { count: String(readers.length) },
          text: readers.length <= 3 ? `seen by ${names.join(', ')}` : `seen by ${readers.length}`,
        });
      }
    }
    nodes.unshift(el('li', {
      className: `message${own ? ' own' : ''} ${m.status}`,
      testid: 'message',
      dataset: { messageId: m._id ?? '', clientId: m.clientId ?? '', status: m.status, own: String(own) },
    },
    own ? null : el('div', { className: 'sender', testid: 'message-sender', text: nameOf(m.senderId) }),
    el('div', { className: 'body', testid: 'message-body', text: m.body }),
    el('div', { className: 'meta' }, el('time', { text: timeOf(m.createdAt) }), status, seen)));
  }
  if (state.hasMore) nodes.unshift(el('li', { className: 'more', testid: 'load-older', text: 'Scroll up for older messages' }));
  list.replaceChildren(...nodes);
  if (toBottom) list.scrollTop = list.scrollHeight;
}

function renderTyping() {
  const typists = [...(state.typing.get(state.openChatId) ?? [])];
  const names = typists.map(nameOf);
  $('typing').textContent = names.length === 0 ? ''
    : names.length === 1 ? `${names[0]} is typing…` : `${names.join(', ')} are typing…`;
}

// ------------------------------------------------------------------------------------------
// A new group chat
// ------------------------------------------------------------------------------------------

async function onNewChat(event) {
  event.preventDefault();
  const error = $('new-chat-error');
  error.hidden = true;
  const memberIds = $('new-chat-members').value.split(/[\s,]+/).filter(Boolean);
  const title = $('new-chat-title').value.trim();
  try {
    const chat = await api('POST', '/v1/chats', { type: 'group', memberIds, ...(title ? { title } : {}) });
    state.chats.set(chat._id, { unreadCount: 0, lastMessage: null, ...state.chats.get(chat._id), ...chat });
    await joinRoom(chat._id);
    $('new-chat-form').reset();
    $('new-chat-form').closest('details').open = false;
    renderChatList();
    openChat(chat._id);
  } catch (e) {
    error.textContent = e.message;
    error.hidden = false;
  }
}

// ------------------------------------------------------------------------------------------
// Wiring
// ------------------------------------------------------------------------------------------

$('login-form').addEventListener('submit', onLogin);
$('logout').addEventListener('click', () => logout());
$('composer').addEventListener('submit', onSend);
$('composer-input').addEventListener('input', onComposerInput);
$('composer-input').addEventListener('blur', stopTyping);
$('new-chat-form').addEventListener('submit', onNewChat);
$('messages').addEventListener('scroll', () => {
  if ($('messages').scrollTop < 40) loadOlder().catch((e) => console.error('older', e));
});
document.addEventListener('visibilitychange', markRead);

try {
  state.session = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? 'null');
} catch {
  state.session = null;
}
if (state.session?.token) start();
else logout();
