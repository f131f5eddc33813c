/**
 * Which phase's log a line lands in, for both kinds that run Laminar's Node.js runtime. Output
 * has one channel (a thread's messages, a process's stdout) and the reply says how much of it
 * came before it, so every line written before the reply is in its invocation's log, whole and in
 * order, and nothing written after it is: that goes to the next invocation, as in Lambda, whose
 * environment is frozen after a response and runs the timer when it thaws.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { InvokeOutcome } from '../../../src/environments/environment.js';
import { EnvTracker, NODE_KINDS, request, type NodeEnvironment } from './helpers.js';

/** The messages of an invocation's log: console lines without their time, request id and level; raw lines as written. */
function messages(logs: string): string[] {
  return logs
    .split('\n')
    .slice(0, -1)
    .map((line) => /^\d{4}-\d\d-\d\dT[\d:.]+Z\t[\w-]+\tINFO\t(.*)$/.exec(line)?.[1] ?? line);
}

/**
 * The first two lines, sorted: a timer and an immediate that a frozen thread runs once it thaws
 * may run in either order.
 */
function lateLines(lines: string[]): string[] {
  return lines.slice(0, 2).sort();
}

function linesOf(tag: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => [`${tag} line ${i}`, `${tag} raw ${i}`]).flat();
}

describe.each(NODE_KINDS)('%s environment: log phases', (kind) => {
  const envs = new EnvTracker<NodeEnvironment>(kind);
  afterEach(() => envs.destroyAll());

  async function ready(): Promise<NodeEnvironment> {
    const env = envs.create('log-phases');
    const init = await env.init();
    expect(init.ok, JSON.stringify(init.error)).toBe(true);
    expect(init.logs).toBe('');
    return env;
  }

  async function invoke(env: NodeEnvironment, event: Record<string, unknown>): Promise<InvokeOutcome & { lines: string[] }> {
    const outcome = await env.invoke(request(event));
    expect(outcome.status, outcome.payload.toString()).toBe('success');
    expect(outcome.logs === '' || outcome.logs.endsWith('\n')).toBe(true);
    return { ...outcome, lines: messages(outcome.logs) };
  }

  it('every line written before a handler returns is in its own invocation, whole and in order', async () => {
    const env = await ready();
    for (let i = 0; i < 30; i++) {
      const n = i % 2 === 0 ? 400 : 3;
      const outcome = await invoke(env, { tag: `n${i}`, lines: n });
      expect(outcome.lines).toEqual(linesOf(`n${i}`, n));
    }
  });

  // Repeated: what a timer writes right after a response races the response to the server.
  it("a timer's line written after the handler returned goes to the next invocation, not the finished one", async () => {
    const env = await ready();
    for (let i = 0; i < 5; i++) {
      const first = await invoke(env, { tag: `a${i}`, timer: true });
      expect(first.lines).toEqual([`a${i} before return`]);
      const second = await invoke(env, { tag: `b${i}`, awaitTimer: true, lines: 1 });
      expect(lateLines(second.lines)).toEqual([`a${i} immediate`, `a${i} timer`]);
      expect(second.lines.slice(2)).toEqual(linesOf(`b${i}`, 1));
    }
    const last = await invoke(env, { tag: 'c', lines: 1 });
    expect(last.lines).toEqual(linesOf('c', 1));
  });

  it('a callback handler keeps the lines written after callback() while the event loop drains', async () => {
    const env = await ready();
    const cb = await invoke(env, { tag: 'cb', callback: true });
    expect(JSON.parse(cb.payload.toString())).toBe('cb');
    expect(cb.lines.slice(0, 2)).toEqual(['cb before callback', 'cb after callback']);
    expect(lateLines(cb.lines.slice(2))).toEqual(['cb immediate', 'cb timer']);
    expect(cb.lines).toHaveLength(4);
    const next = await invoke(env, { tag: 'n', lines: 1 });
    expect(next.lines).toEqual(linesOf('n', 1));
  });

  it('with callbackWaitsForEmptyEventLoop = false, the line of a timer that outlives the response goes to the next invocation', async () => {
    const env = await ready();
    for (let i = 0; i < 5; i++) {
      const cb = await invoke(env, { tag: `nw${i}`, callback: true, wait: false });
      expect(cb.lines).toEqual([`nw${i} before callback`, `nw${i} after callback`]);
      const next = await invoke(env, { tag: `n${i}`, awaitTimer: true });
      expect(lateLines(next.lines)).toEqual([`nw${i} immediate`, `nw${i} timer`]);
      expect(next.lines).toHaveLength(2);
    }
  });
});
