// The web client (web/) in a real browser: headless Chromium through puppeteer-core, two users
// in two browser contexts (each its own sessionStorage and cookies), against `parley serve` and
// its default --web-root. Every step waits for the DOM; none sleeps.
//
// PARLEY_SCREENSHOTS=1 saves both pages at the end to docs/web-client-a.png and -b.png.
// Skipped only when there is no Chromium (scripts/install-deps installs Debian's `chromium`);
// PARLEY_CHROMIUM names another binary.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { startChatServer } from '../helpers/chat.mjs';
import { repoRoot, scaled } from '../helpers/server.mjs';

const CHROMIUM = process.env.PARLEY_CHROMIUM || '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing (scripts/install-deps installs Debian's chromium)`;

// Long enough for a reconnect after the network comes back (socket.io-client's backoff is at most 5 s).
const WAIT = scaled(20_000);

const ALICE = { email: 'alice@example.com', password: 'alice-pw-1', name: 'Alice' };
const BOB = { email: 'bob@example.com', password: 'bob-pw-123', name: 'Bob' };

async function launch() {
  const { default: puppeteer } = await import('puppeteer-core');
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Root in a container: no sandbox. Each page stays "visible" (receipts need it).
    args: ['--no-sandbox', '--headless=new', '--disable-dev-shm-usage', '--disable-background-timer-throttling',
      '--disable-renderer-backgrounding', '--disable-backgrounding-occluded-windows'],
  });
}

/** A page in a browser context of its own (incognito: its own sessionStorage). */
async function newPage(browser, who, pageErrors) {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  await page.setViewport({ width: 900, height: 600 });
  page.setDefaultTimeout(WAIT);
  page.on('pageerror', (e) => pageErrors.push(`${who}: ${e.message}`));
  return page;
}

async function logIn(srv, page, user) {
  await page.goto(`${srv.url}/`);
  await page.waitForSelector('[data-testid="login-form"]', { visible: true });
  await page.type('[data-testid="login-email"]', user.email);
  await page.type('[data-testid="login-password"]', user.password);
  await page.click('[data-testid="login-submit"]');
  await page.waitForSelector('[data-testid="app"]', { visible: true });
}

/** Clicks what `selector` finds once it is there, found and clicked in one go: the lists are
 *  redrawn on every update, so an element found first and clicked after may be gone. */
async function clickWhenThere(page, selector) {
  await page.waitForSelector(selector);
  await page.$eval(selector, (e) => e.click());
}

const hasBody = (page, body) => page.waitForFunction((text) => [...document.querySelectorAll('[data-testid="message-body"]')]
  .some((e) => e.textContent === text), {}, body);

const sel = {
  chatItem: (chatId) => `[data-testid="chat-item"][data-chat-id="${chatId}"]`,
  member: (userId, status) => `[data-testid="member"][data-user-id="${userId}"][data-status="${status}"]`,
  pane: (chatId) => `[data-testid="chat-pane"][data-chat-id="${chatId}"]:not([hidden])`,
};

describe('the web client in Chromium', { skip }, () => {
  let srv;
  let browser;
  let alice;
  let bob;
  let chat;
  const pages = {};
  const pageErrors = [];

  before(async () => {
    // A short heartbeat: a browser whose network goes away is noticed within seconds either way.
    srv = await startChatServer({ args: ['--ping-interval', '2000', '--ping-timeout', '2000'] });
    alice = await srv.addUser(ALICE);
    bob = await srv.addUser(BOB);
    chat = await srv.createChat(srv.token(alice._id), { type: 'group', title: 'Web test', memberIds: [bob._id] });
    // History from before either page opens.
    const res = await srv.api(srv.token(bob._id), 'POST', `/v1/chats/${chat._id}/messages`,
      { body: 'from the history', clientId: crypto.randomUUID() });
    assert.equal(res.status, 201, res.text);

    browser = await launch();
    for (const who of ['a', 'b']) pages[who] = await newPage(browser, who, pageErrors);
  });

  after(async () => {
    await browser?.close();
    await srv?.stop();
  });

  const statusesOf = (page, body) => page.evaluate((b) => window.__statuses?.[b] ?? [], body);
  const textOf = (page, selector) => page.$eval(selector, (e) => e.textContent);

  it('a wrong password is told, and the right one logs each user in', async () => {
    const { a, b } = pages;
    await a.goto(`${srv.url}/`);
    await a.waitForSelector('[data-testid="login-form"]', { visible: true });
    await a.type('[data-testid="login-email"]', ALICE.email);
    await a.type('[data-testid="login-password"]', 'wrong-password');
    await a.click('[data-testid="login-submit"]');
    await a.waitForSelector('[data-testid="login-error"]', { visible: true });
    assert.match(await textOf(a, '[data-testid="login-error"]'), /wrong email or password/i);

    await logIn(srv, a, ALICE);
    await logIn(srv, b, BOB);
    assert.equal(await textOf(a, '[data-testid="me-name"]'), 'Alice');
    assert.equal(await textOf(b, '[data-testid="me-name"]'), 'Bob');
    // The token is kept for the tab only.
    const kept = await a.evaluate(() => JSON.parse(sessionStorage.getItem('parley.session')));
    assert.equal(kept.user._id, alice._id);
    assert.ok(kept.token);
  });

  it('lists the chat with its last message and unread count', async () => {
    const { a } = pages;
    await a.waitForSelector(sel.chatItem(chat._id));
    assert.equal(await textOf(a, `${sel.chatItem(chat._id)} [data-testid="chat-title"]`), 'Web test');
    assert.match(await textOf(a, `${sel.chatItem(chat._id)} [data-testid="chat-last"]`), /from the history/);
    assert.equal(await textOf(a, `${sel.chatItem(chat._id)} [data-testid="chat-unread"]`), '1');
  });

  it('A opens the chat: its history, and B online', async () => {
    const { a } = pages;
    await clickWhenThere(a, sel.chatItem(chat._id));
    await a.waitForSelector(sel.pane(chat._id));
    await a.waitForFunction(() => [...document.querySelectorAll('[data-testid="message-body"]')]
      .some((e) => e.textContent === 'from the history'));
    await a.waitForSelector(sel.member(bob._id, 'online'));
    assert.equal(await a.$(`${sel.chatItem(chat._id)} [data-testid="chat-unread"]`), null, 'read: no unread badge');
  });

  it('A sends: pending at once, then sent; B sees it in its chat list', async () => {
    const { a, b } = pages;
    // Every status each message element of this body shows, in order (elements are redrawn).
    await a.evaluate(() => {
      window.__statuses = {};
      new MutationObserver(() => {
        for (const li of document.querySelectorAll('[data-testid="message"][data-own="true"]')) {
          const body = li.querySelector('[data-testid="message-body"]').textContent;
          const seen = (window.__statuses[body] ??= []);
          if (seen.at(-1) !== li.dataset.status) seen.push(li.dataset.status);
        }
      }).observe(document.getElementById('messages'), { childList: true, subtree: true, attributes: true });
    });
    await a.type('[data-testid="composer-input"]', 'hello from Alice');
    await a.keyboard.press('Enter');
    await a.waitForFunction(() => [...document.querySelectorAll('[data-testid="message"][data-own="true"]')]
      .some((li) => li.textContent.includes('hello from Alice') && li.dataset.status === 'sent' && li.dataset.messageId));
    assert.deepEqual(await statusesOf(a, 'hello from Alice'), ['pending', 'sent']);
    assert.equal(await a.$eval('[data-testid="composer-input"]', (e) => e.value), '');

    await b.waitForFunction((s) => document.querySelector(s)?.textContent.includes('hello from Alice'), {},
      `${sel.chatItem(chat._id)} [data-testid="chat-last"]`);
    // B's own message of the history is not unread to B: only A's.
    assert.equal(await textOf(b, `${sel.chatItem(chat._id)} [data-testid="chat-unread"]`), '1');
  });

  it('B opens the chat: the message is there, A online, and A sees it seen', async () => {
    const { a, b } = pages;
    await clickWhenThere(b, sel.chatItem(chat._id));
    await b.waitForSelector(sel.pane(chat._id));
    await b.waitForFunction(() => [...document.querySelectorAll('[data-testid="message-body"]')]
      .some((e) => e.textContent === 'hello from Alice'));
    await b.waitForSelector(sel.member(alice._id, 'online'));
    await a.waitForSelector('[data-testid="message"][data-own="true"] [data-testid="message-seen"]');
    const seen = await textOf(a, '[data-testid="message-seen"]');
    assert.equal(seen, `seen by user ${bob._id.slice(-6)}`);
  });

  it('B types: A sees it, and B sending ends it', async () => {
    const { a, b } = pages;
    await b.type('[data-testid="composer-input"]', 'hi Alice');
    await a.waitForFunction(() => /is typing/.test(document.querySelector('[data-testid="typing-indicator"]').textContent));
    assert.equal(await textOf(a, '[data-testid="typing-indicator"]'), `user ${bob._id.slice(-6)} is typing…`);
    await b.keyboard.press('Enter');
    await a.waitForFunction(() => [...document.querySelectorAll('[data-testid="message-body"]')]
      .some((e) => e.textContent === 'hi Alice'));
    await a.waitForFunction(() => document.querySelector('[data-testid="typing-indicator"]').textContent === '');
  });

  it('B goes offline: B shows it is reconnecting, A sees B offline; A sends meanwhile', async () => {
    const { a, b } = pages;
    await b.setOfflineMode(true);
    await b.waitForSelector('[data-testid="connection-banner"]', { visible: true });
    assert.equal(await textOf(b, '[data-testid="connection-banner"]'), 'reconnecting…');
    // After the presence throttle (2 s) at most.
    await a.waitForSelector(sel.member(bob._id, 'offline'));
    await a.type('[data-testid="composer-input"]', 'sent while Bob was away');
    await a.keyboard.press('Enter');
    await a.waitForFunction(() => [...document.querySelectorAll('[data-testid="message"][data-own="true"]')]
      .some((li) => li.textContent.includes('sent while Bob was away') && li.dataset.status === 'sent'));
  });

  it('B comes back: the banner goes, and B has the message it missed; A sees B online', async (t) => {
    const { a, b } = pages;
    await b.setOfflineMode(false);
    await b.waitForSelector('[data-testid="connection-banner"]', { hidden: true });
    await b.waitForFunction(() => [...document.querySelectorAll('[data-testid="message-body"]')]
      .some((e) => e.textContent === 'sent while Bob was away'));
    // Once, whether the session was recovered (replayed) or backfilled.
    const count = await b.$$eval('[data-testid="message-body"]',
      (els) => els.filter((e) => e.textContent === 'sent while Bob was away').length);
    assert.equal(count, 1);
    await a.waitForSelector(sel.member(bob._id, 'online'));
    // B, reading the chat, marks the new message read: A's newest message shows it seen.
    await a.waitForFunction(() => {
      const own = [...document.querySelectorAll('[data-testid="message"][data-own="true"]')];
      return own.at(-1)?.querySelector('[data-testid="message-seen"]') !== null;
    });
    t.diagnostic(`B's session after the drop: ${await b.evaluate(() => document.body.dataset.session)}`);
  });

  it('a send without an ack fails, and its retry (the same clientId) is stored once', async () => {
    const { a, b } = pages;
    await a.setOfflineMode(true);
    await a.waitForSelector('[data-testid="connection-banner"]', { visible: true });
    await a.type('[data-testid="composer-input"]', 'retried');
    await a.keyboard.press('Enter');
    const mine = '[data-testid="message"][data-own="true"]';
    const clientId = await a.$$eval(mine, (els) => els.at(-1).dataset.clientId);
    const item = `${mine}[data-client-id="${clientId}"]`;
    // No ack within the client's 10 s: failed, with a retry.
    await a.waitForSelector(`${item}[data-status="failed"] [data-testid="message-retry"]`, { timeout: scaled(30_000) });
    assert.match(await textOf(a, `${item} [data-testid="message-status"]`), /^failed — retry$/);
    await clickWhenThere(a, `${item} [data-testid="message-retry"]`);
    await a.waitForSelector(`${item}[data-status="pending"]`);
    await a.setOfflineMode(false);
    await a.waitForSelector(`${item}[data-status="sent"]`);
    // The first send went out too on reconnection (socket.io-client buffers it): one message all the same.
    await b.waitForFunction(() => [...document.querySelectorAll('[data-testid="message-body"]')]
      .some((e) => e.textContent === 'retried'));
    const copies = (page) => page.$$eval('[data-testid="message-body"]', (els) => els.filter((e) => e.textContent === 'retried').length);
    assert.equal(await copies(b), 1);
    assert.equal(await copies(a), 1);
    const page = await srv.getMessages(srv.token(alice._id), chat._id, { limit: '100' });
    assert.equal(page.messages.filter((m) => m.body === 'retried').length, 1, 'stored once');
    assert.equal(page.messages.find((m) => m.body === 'retried').clientId, clientId);
    await a.waitForSelector('[data-testid="connection-banner"]', { hidden: true });
  });

  it('both pages end without a script error (PARLEY_SCREENSHOTS=1: saved to docs/)', async () => {
    const { a, b } = pages;
    if (process.env.PARLEY_SCREENSHOTS === '1') {
      await a.screenshot({ path: path.join(repoRoot, 'docs', 'web-client-a.png') });
      await b.screenshot({ path: path.join(repoRoot, 'docs', 'web-client-b.png') });
    }
    assert.deepEqual(pageErrors, [], 'no script errors in either page');
  });
});

// Without connection state recovery (--recovery-window 0) a client that comes back has a fresh
// session: the page joins the rooms again and backfills the open chat with ?after=<newest id>.
describe('the web client after a drop the server cannot recover', { skip }, () => {
  let srv;
  let browser;
  const pageErrors = [];

  before(async () => {
    srv = await startChatServer({ args: ['--ping-interval', '2000', '--ping-timeout', '2000', '--recovery-window', '0'] });
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    await srv?.stop();
  });

  it('rejoins and backfills every message sent while it was away, each once', async () => {
    const alice = await srv.addUser(ALICE);
    const bob = await srv.addUser(BOB);
    const aliceToken = srv.token(alice._id);
    const chat = await srv.createChat(aliceToken, { type: 'group', title: 'Backfill', memberIds: [bob._id] });
    const post = async (body) => {
      const res = await srv.api(aliceToken, 'POST', `/v1/chats/${chat._id}/messages`, { body, clientId: crypto.randomUUID() });
      assert.equal(res.status, 201, res.text);
    };
    await post('before the drop');

    const b = await newPage(browser, 'b', pageErrors);
    await logIn(srv, b, BOB);
    await clickWhenThere(b, sel.chatItem(chat._id));
    await hasBody(b, 'before the drop');
    assert.equal(await b.evaluate(() => document.body.dataset.session), 'fresh');

    await b.setOfflineMode(true);
    await b.waitForSelector('[data-testid="connection-banner"]', { visible: true });
    for (let i = 1; i <= 3; i++) await post(`missed ${i}`);
    await b.setOfflineMode(false);
    await b.waitForSelector('[data-testid="connection-banner"]', { hidden: true });
    await hasBody(b, 'missed 3');
    assert.equal(await b.evaluate(() => document.body.dataset.session), 'fresh', 'not recovered');
    const bodies = await b.$$eval('[data-testid="message-body"]', (els) => els.map((e) => e.textContent));
    assert.deepEqual(bodies, ['before the drop', 'missed 1', 'missed 2', 'missed 3']);
    // The room is joined again: a message now arrives live.
    await post('after the return');
    await hasBody(b, 'after the return');
    assert.deepEqual(pageErrors, []);
  });
});
