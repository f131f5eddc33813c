/**
 * Which invocation's log a function's line lands in, through the real SDK against a real server,
 * for Node.js functions in either kind of environment (`laminar:isolation`): every line written
 * before the handler returned is in its own invocation, between START and END, whole and in
 * order; a line a timer writes after the response is in the next invocation's, as in Lambda,
 * whose environment is frozen after a response and runs the timer when it thaws; no line is in
 * two invocations.
 */
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decode, deployFixture, startLaminar, type Harness } from '../helpers/laminar.js';

let h: Harness;
beforeAll(async () => {
  h = await startLaminar();
});
afterAll(async () => h.close());

/** The messages of a log: console lines without their time, request id and level; raw lines as written. */
function messages(app: string): string[] {
  return app
    .split('\n')
    .slice(0, -1)
    .map((line) => /^\d{4}-\d\d-\d\dT[\d:.]+Z\t[\w-]+\tINFO\t(.*)$/.exec(line)?.[1] ?? line);
}

function linesOf(tag: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => [`${tag} line ${i}`, `${tag} raw ${i}`]).flat();
}

/** A timer and an immediate that a frozen thread runs once it thaws may run in either order. */
function sorted(lines: string[]): string[] {
  return [...lines].sort();
}

/** Invokes, and returns the function's output in the invocation's stored log (between START and END). */
async function invoke(name: string, event: Record<string, unknown>): Promise<string[]> {
  const out = await h.client.send(new InvokeCommand({ FunctionName: name, Payload: JSON.stringify(event) }));
  expect(out.FunctionError).toBeUndefined();
  expect(decode(out.Payload)).toBe(event.tag);
  const requestId = out.$metadata.requestId ?? '';
  // The server writes (and echoes) an invocation's whole log, START to REPORT, before it answers.
  const log = h.echoed.find((text) => text.includes(`START RequestId: ${requestId} `));
  if (log === undefined) throw new Error(`no log for ${requestId}`);
  const start = log.indexOf(`START RequestId: ${requestId} `);
  const end = log.indexOf(`END RequestId: ${requestId}\n`);
  expect(end).toBeGreaterThan(start);
  expect(log.indexOf(`REPORT RequestId: ${requestId}\t`)).toBeGreaterThan(end);
  return messages(log.slice(log.indexOf('\n', start) + 1, end));
}

describe.each(['thread', 'process'])('laminar:isolation=%s', (isolation) => {
  const deploy = (): Promise<string> => deployFixture(h.client, 'log-phases', { Tags: { 'laminar:isolation': isolation } });

  it('every line written before the handler returns is in its own invocation, whole and in order', async () => {
    const name = await deploy();
    for (let i = 0; i < 10; i++) {
      const n = i % 2 === 0 ? 300 : 2;
      expect(await invoke(name, { tag: `n${i}`, lines: n })).toEqual(linesOf(`n${i}`, n));
    }
  });

  it("a timer's line written after the handler returned is in the next invocation, not the finished one", async () => {
    const name = await deploy();
    for (let i = 0; i < 3; i++) {
      expect(await invoke(name, { tag: `a${i}`, timer: true })).toEqual([`a${i} before return`]);
      const next = await invoke(name, { tag: `b${i}`, awaitTimer: true, lines: 1 });
      expect(sorted(next.slice(0, 2))).toEqual([`a${i} immediate`, `a${i} timer`]);
      expect(next.slice(2)).toEqual(linesOf(`b${i}`, 1));
    }
    expect(await invoke(name, { tag: 'c', lines: 1 })).toEqual(linesOf('c', 1));
  });

  it('a callback handler: lines after callback() are its own while the event loop drains, the next invocation has none', async () => {
    const name = await deploy();
    const lines = await invoke(name, { tag: 'cb', callback: true });
    expect(lines.slice(0, 2)).toEqual(['cb before callback', 'cb after callback']);
    expect(sorted(lines.slice(2))).toEqual(['cb immediate', 'cb timer']);
    expect(await invoke(name, { tag: 'n', lines: 1 })).toEqual(linesOf('n', 1));
  });

  it('a callback handler with callbackWaitsForEmptyEventLoop = false: a timer that outlives the response writes into the next invocation', async () => {
    const name = await deploy();
    for (let i = 0; i < 3; i++) {
      expect(await invoke(name, { tag: `nw${i}`, callback: true, wait: false })).toEqual([`nw${i} before callback`, `nw${i} after callback`]);
      expect(sorted(await invoke(name, { tag: `n${i}`, awaitTimer: true }))).toEqual([`nw${i} immediate`, `nw${i} timer`]);
    }
  });
});
