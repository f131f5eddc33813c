/**
 * An accepted event survives the server: `laminar serve` runs as a process of its own, is killed
 * with SIGKILL while events wait and run, and is started again on the same data dir. Every event
 * answered with 202 must then run, as counted by the handlers themselves (at least once:
 * an event that was running when the server died may run twice).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvokeCommand, LambdaClient, PutFunctionConcurrencyCommand } from '@aws-sdk/client-lambda';
import { describe, expect, it } from 'vitest';
import { deployFixture } from '../helpers/laminar.js';
import { sample, scrape } from '../helpers/metrics.js';
import { startProbe } from '../helpers/probe.js';
import { startServeProcess, type ServeProcess } from '../helpers/serve-process.js';

const EVENTS = 200;

/** Waits for a condition in another process (a handler's report, a restarted server's metrics). */
async function until(check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition never held');
    await new Promise((r) => setTimeout(r, 50));
  }
}

function clientFor(url: string): LambdaClient {
  return new LambdaClient({ endpoint: url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
}

describe('Event invocations across a crash', () => {
  it('a server killed with SIGKILL while events are queued and running loses none: after a restart every accepted event runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'laminar-async-kill-'));
    const probe = await startProbe();
    const servers: ServeProcess[] = [];
    try {
      const first = await startServeProcess(dir);
      servers.push(first);
      const client = clientFor(first.url);
      const fn = await deployFixture(client, 'counted', { Timeout: 30 });
      // Four at a time, 50 ms each: the queue holds most of the burst for a couple of seconds.
      await client.send(new PutFunctionConcurrencyCommand({ FunctionName: fn, ReservedConcurrentExecutions: 4 }));

      const accepted: string[] = [];
      let next = 0;
      await Promise.all(
        Array.from({ length: 20 }, async () => {
          while (next < EVENTS) {
            const id = String(next++);
            const payload = Buffer.from(JSON.stringify({ probe: probe.url, id, ms: 50 }));
            const out = await client.send(new InvokeCommand({ FunctionName: fn, InvocationType: 'Event', Payload: payload }));
            expect(out.StatusCode).toBe(202);
            accepted.push(id);
          }
        }),
      );
      client.destroy();
      expect(accepted).toHaveLength(EVENTS);

      await until(() => probe.seen.size >= 20);
      const depth = sample(await scrape(first.url), 'laminar_async_queue_depth', { function: fn });
      // Killed in the same turn as a handler is seen running (between one event and the next
      // none may be, for a moment).
      await until(() => probe.current > 0, 5000);
      const running = probe.current;
      first.child.kill('SIGKILL');
      expect(await first.exited).toBe('SIGKILL');
      const seenBefore = probe.seen.size;
      // The kill came with events still waiting and some running.
      expect(depth).toBeGreaterThan(0);
      expect(seenBefore).toBeLessThan(EVENTS);
      expect(running).toBeGreaterThan(0);

      const second = await startServeProcess(dir);
      servers.push(second);
      await until(() => accepted.every((id) => probe.seen.has(id)));
      await until(async () => sample(await scrape(second.url), 'laminar_async_queue_depth', { function: fn }) === 0);
      const missing = accepted.filter((id) => !probe.seen.has(id));
      expect(missing).toEqual([]);
      const duplicates = [...probe.seen.values()].filter((n) => n > 1).length;
      console.log(`async durability: ${seenBefore} of ${EVENTS} ran before SIGKILL (${running} running, ${depth} in the queue); all ran after the restart, ${duplicates} twice`);
    } finally {
      for (const s of servers) s.child.kill('SIGKILL');
      await Promise.all(servers.map((s) => s.exited));
      await probe.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
