import { Worker } from 'node:worker_threads';
import { PutFunctionConcurrencyCommand } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { somaxconn } from '../../src/api/listen-backlog.js';
import { deployFixture, startLaminar, type Harness } from '../helpers/laminar.js';

const BURST = 1000;

/**
 * Runs in a worker thread, so it keeps connecting while Laminar's event loop (this thread) is
 * blocked. Opens `n` connections of its own (no agent, no reuse), sends one invocation on each,
 * raises `state[0]` once all are established and posts every outcome when all have settled.
 */
const CLIENT = `
const { workerData, parentPort } = require('node:worker_threads');
const { request } = require('node:http');
const { url, n, sab } = workerData;
const state = new Int32Array(sab);
const outcomes = [];
const settle = (o) => {
  outcomes.push(o);
  if (outcomes.length === n) parentPort.postMessage(outcomes);
};
for (let i = 0; i < n; i++) {
  const req = request(url, { method: 'POST', agent: false }, (res) => {
    res.resume();
    res.on('end', () => settle({ status: res.statusCode }));
    res.on('error', (err) => settle({ error: err.code ?? err.message }));
  });
  req.on('socket', (socket) => socket.once('connect', () => {
    if (Atomics.add(state, 1, 1) + 1 === n) {
      Atomics.store(state, 0, 1);
      Atomics.notify(state, 0);
    }
  }));
  req.on('error', (err) => settle({ error: err.code ?? err.message }));
  req.end('{}');
}
`;

type Outcome = { status?: number; error?: string };

describe('connection bursts', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startLaminar();
  });
  afterAll(async () => h?.close());

  // The kernel caps every listen backlog at somaxconn; below the burst no server setting helps.
  it.skipIf((somaxconn() ?? 0) <= BURST)(
    `${BURST} new connections arriving while the event loop is busy are all queued and answered, none reset`,
    async () => {
      const fn = await deployFixture(h.client, 'echo');
      await h.client.send(new PutFunctionConcurrencyCommand({ FunctionName: fn, ReservedConcurrentExecutions: 10 }));
      const sab = new SharedArrayBuffer(8);
      const state = new Int32Array(sab);
      const worker = new Worker(CLIENT, { eval: true, workerData: { url: `${h.url}/2015-03-31/functions/${fn}/invocations`, n: BURST, sab } });
      try {
        const outcomes = new Promise<Outcome[]>((resolve, reject) => {
          worker.once('message', resolve);
          worker.once('error', reject);
        });
        // Blocks this thread, and with it Laminar's accept loop, until the kernel has completed
        // every handshake: only the listen backlog holds them meanwhile. With a backlog below the
        // burst the rest never connect, and the wait ends at its bound.
        const waited = Atomics.wait(state, 0, 0, 15_000);
        expect(waited, `connections established while Laminar was busy: ${Atomics.load(state, 1)} of ${BURST}`).toBe('ok');
        const results = await outcomes;
        expect(results.filter((o) => o.error !== undefined)).toEqual([]);
        expect(results.filter((o) => o.status !== 200 && o.status !== 429)).toEqual([]);
        expect(results).toHaveLength(BURST);
      } finally {
        await worker.terminate();
      }
    },
  );
});
