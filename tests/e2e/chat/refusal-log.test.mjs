// Refusals do not amplify into the log: a client that pipelines thousands of refused requests
// gets every refusal answered, each with its own correlationId, while the server logs only a
// bounded number of refusal lines at info plus summaries that account for the rest (their
// count, and the first and last correlationId kept out).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startChatServer, closeAllSockets, objectId } from '../helpers/chat.mjs';
import { until, withTimeout } from '../helpers/server.mjs';

const REFUSALS = 5000;
const REFUSAL_LINE = / info (FORBIDDEN|RATE_LIMITED|VALIDATION_ERROR) correlationId=([0-9a-f-]{36}) /;
const SUMMARY_LINE = / info (\d+) similar refusals suppressed in \d+ ms \(logged at debug\) correlationIds ([0-9a-f-]{36}) \.\. ([0-9a-f-]{36})/;

describe('refusal logging is rate-bounded', () => {
  let srv;
  before(async () => { srv = await startChatServer(); });
  after(async () => { closeAllSockets(); await srv?.stop(); });

  it(`${REFUSALS} pipelined refused room:joins: every reply has a correlationId, the log holds far fewer lines and a summary`, async () => {
    const user = srv.user();
    const socket = await srv.connect(user.token);
    const chatId = objectId(); // no such chat: "Not a member" like any chat the user is not in

    const replies = await withTimeout(Promise.all(Array.from({ length: REFUSALS },
      () => new Promise((resolve) => socket.emit('room:join', { chatId }, resolve)))), 60000, `${REFUSALS} acks`);
    const ids = new Set();
    for (const reply of replies) {
      assert.equal(reply.ok, false, JSON.stringify(reply));
      assert.match(reply.correlationId ?? '', /^[0-9a-f-]{36}$/, `a correlationId in ${JSON.stringify(reply)}`);
      ids.add(reply.correlationId);
    }
    assert.equal(ids.size, REFUSALS, 'every reply has its own correlationId');

    // Each refusal is accounted for once: its own info line, or a summary's count. The last
    // summary is written within about a second of the burst's end.
    const account = () => {
      let lines = 0;
      let suppressed = 0;
      const summaries = [];
      for (const line of srv.logs().split('\n')) {
        const r = REFUSAL_LINE.exec(line);
        if (r && ids.has(r[2])) ++lines;
        const s = SUMMARY_LINE.exec(line);
        if (s) {
          suppressed += Number(s[1]);
          summaries.push({ first: s[2], last: s[3] });
        }
      }
      return { lines, suppressed, summaries };
    };
    const seen = await until(account, (a) => a.lines + a.suppressed >= REFUSALS, 10000,
      'info lines + suppressed counts cover every refusal');
    assert.equal(seen.lines + seen.suppressed, REFUSALS, 'no refusal counted twice');
    assert.ok(seen.lines <= REFUSALS / 10, `far fewer info lines than refusals: ${seen.lines}`);
    assert.ok(seen.summaries.length >= 1, 'a suppression summary');
    for (const { first, last } of seen.summaries) {
      assert.ok(ids.has(first) && ids.has(last), 'the summary names correlationIds of the refused replies');
    }

    // The server still serves this client.
    const ack = await socket.timeout(5000).emitWithAck('presence:ping', {});
    assert.equal(ack.ok, true, JSON.stringify(ack));
  });
});
