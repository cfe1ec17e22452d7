// The socket.io admin UI's own page (@socket.io/admin-ui's built dashboard, served by Parley on
// /admin/) in headless Chromium through puppeteer-core, against `parley serve --admin-password`:
// the page logs in through its connection dialog, then shows the server, a chat client's socket,
// its rooms and its events. Every step waits for the DOM; none sleeps. The page asks for fonts
// and icons from CDNs; with no internet here those requests are answered empty by the test.
//
// PARLEY_SCREENSHOTS=1 saves the sockets page to docs/admin-ui.png.
// Skipped only when there is no Chromium (scripts/install-deps installs Debian's `chromium`);
// PARLEY_CHROMIUM names another binary.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import path from 'node:path';
import { startChatServer, closeAllSockets, emitAck, assertOk } from '../helpers/chat.mjs';
import { repoRoot, scaled } from '../helpers/server.mjs';

const CHROMIUM = process.env.PARLEY_CHROMIUM || '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing (scripts/install-deps installs Debian's chromium)`;
const WAIT = scaled(20_000);
const ADMIN = { username: 'ops', password: 'admin-ui-test-password' };

/** Waits until the page's visible text contains `text`. */
function showsText(page, text) {
  return page.waitForFunction((t) => document.body.innerText.includes(t), {}, text);
}

describe('the socket.io admin UI in Chromium', { skip }, () => {
  let srv;
  let browser;
  let page;
  const pageErrors = [];

  before(async () => {
    srv = await startChatServer({ args: ['--admin-username', ADMIN.username, '--admin-password', ADMIN.password] });
    const { default: puppeteer } = await import('puppeteer-core');
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--headless=new', '--disable-dev-shm-usage'],
    });
    page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 800 });
    page.setDefaultTimeout(WAIT);
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.setRequestInterception(true);
    page.on('request', (req) => {
      if (req.url().startsWith(srv.url)) return req.continue();
      // The page's web fonts and icon font: nothing to fetch them from here.
      return req.respond({ status: 200, contentType: req.resourceType() === 'stylesheet' ? 'text/css' : 'text/plain', body: '' });
    });
  });

  after(async () => {
    await browser?.close();
    closeAllSockets();
    await srv?.stop();
  });

  it('logs in and shows the server, a client\'s socket, its rooms and its events', async () => {
    const u = srv.user();
    const other = srv.user();
    const s = await srv.connect(u);
    const chat = await srv.createChat(u, { memberIds: [other.id] });
    assertOk(await emitAck(s, 'room:join', { chatId: chat._id }));

    await page.goto(`${srv.url}/admin/`);
    // The connection dialog: server URL, username, password.
    await page.waitForSelector('.v-dialog form input[type="password"]', { visible: true });
    const fields = await page.$$('.v-dialog form input[type="text"]');
    assert.ok(fields.length >= 2, 'the server URL and username fields');
    await fields[0].type(srv.url);
    await fields[1].type(ADMIN.username);
    await page.type('.v-dialog form input[type="password"]', ADMIN.password);
    await page.click('.v-dialog form button[type="submit"]');
    await page.waitForSelector('.v-dialog form', { hidden: true });

    // The servers page lists this server (its server_stats): its id is hostname#pid.
    await page.goto(`${srv.url}/admin/#/servers/`);
    await showsText(page, `${hostname()}#`);

    // The sockets page lists the chat client's socket (all_sockets), with its transport.
    await page.goto(`${srv.url}/admin/#/sockets/`);
    await showsText(page, s.id);
    await showsText(page, 'WebSocket');

    // Its rooms: its user room and the chat room it joined.
    await page.goto(`${srv.url}/admin/#/rooms/`);
    await showsText(page, `user:${u.id}`);
    await showsText(page, `chat:${chat._id}`);

    // An event it sends shows on the events page as it happens (event_received).
    await page.goto(`${srv.url}/admin/#/events/`);
    await page.waitForSelector('table');
    assertOk(await emitAck(s, 'message:send', { chatId: chat._id, body: 'seen on the dashboard', clientId: randomUUID() }));
    await showsText(page, 'message:send');

    if (process.env.PARLEY_SCREENSHOTS === '1') {
      await page.goto(`${srv.url}/admin/#/sockets/`);
      await showsText(page, s.id);
      // The page slides in: wait for its transitions to end.
      await page.waitForFunction(() => document.getAnimations().every((a) => a.playState !== 'running'));
      await page.screenshot({ path: path.join(repoRoot, 'docs', 'admin-ui.png') });
    }
    assert.deepEqual(pageErrors, [], 'no errors in the page');
  });

  it('shows the wrong password as the dialog\'s error', async () => {
    const context = await browser.createBrowserContext(); // no saved session
    const p = await context.newPage();
    p.setDefaultTimeout(WAIT);
    await p.setRequestInterception(true);
    p.on('request', (req) => (req.url().startsWith(srv.url) ? req.continue() : req.respond({ status: 200, body: '' })));
    try {
      await p.goto(`${srv.url}/admin/`);
      await p.waitForSelector('.v-dialog form input[type="password"]', { visible: true });
      const fields = await p.$$('.v-dialog form input[type="text"]');
      await fields[0].type(srv.url);
      await fields[1].type(ADMIN.username);
      await p.type('.v-dialog form input[type="password"]', 'not the password');
      await p.click('.v-dialog form button[type="submit"]');
      await p.waitForFunction(() => document.querySelector('.v-dialog .red--text')?.innerText.trim().length > 0);
      const shown = await p.$eval('.v-dialog .red--text', (e) => e.innerText);
      assert.match(shown, /invalid credentials/i);
    } finally {
      await context.close();
    }
  });
});
