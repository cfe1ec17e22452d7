// The server of the conformance tests (parley serve --conformance) and the settings it runs
// with. The raw Engine.IO client the tests speak through is helpers/eio.mjs.

import { startServer } from '../helpers/server.mjs';

export const PING_INTERVAL = 300;
export const PING_TIMEOUT = 200;
export const MAX_PAYLOAD = 1_000_000;
export const CONNECT_TIMEOUT = 1000;
export const ENDPOINTS = ['/engine.io/', '/socket.io/'];

/** PARLEY_URL if set (another server under test), else one `parley serve --conformance` per test file. */
export async function startParley() {
  if (process.env.PARLEY_URL) {
    return { url: process.env.PARLEY_URL.replace(/\/+$/, ''), stop: async () => {}, logs: () => '' };
  }
  return startServer({ bin: 'parley', args: ['serve', '--conformance'] });
}
