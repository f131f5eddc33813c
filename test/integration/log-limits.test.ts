/**
 * A function's log volume is bounded, through the real SDK against a real server with real
 * environments of each kind: a function that writes 100 MiB in one invocation completes, the
 * server's peak memory barely moves, its stored log keeps 1 MiB and one line saying what was
 * dropped, START/END/REPORT stay whole, and the next invocation logs normally. A 1 MiB line is
 * cut at 256 KiB. A function's stored log stays within its retention however much it writes.
 */
import { InvokeCommand, UpdateFunctionConfigurationCommand, waitUntilFunctionUpdatedV2, type Runtime } from '@aws-sdk/client-lambda';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { showLogs } from '../../src/cli/logs.js';
import { lineTruncatedMarker } from '../../src/environments/log-limit.js';
import { LogStore } from '../../src/logs/log-store.js';
import { decode, deployFixture, startLaminar, type Harness } from '../helpers/laminar.js';

const MiB = 1024 * 1024;
/** The default of `logBytesPerInvocation`. */
const BUDGET = MiB;
const TRUNCATED = /\[Laminar: output truncated, (\d+) bytes dropped beyond logBytesPerInvocation \((\d+) bytes\)\]\n/;

let h: Harness;
beforeAll(async () => {
  h = await startLaminar();
});
afterAll(async () => h.close());

const bytes = (s: string): number => Buffer.byteLength(s);

async function invoke(harness: Harness, name: string, event: Record<string, unknown>) {
  const out = await harness.client.send(new InvokeCommand({ FunctionName: name, Payload: JSON.stringify(event), LogType: 'Tail' }));
  const tail = Buffer.from(out.LogResult ?? '', 'base64').toString('utf8');
  const requestId = /REPORT RequestId: (\S+)/.exec(tail)?.[1];
  if (!requestId) throw new Error(`no REPORT line in the tail: ${tail}`);
  return { out, body: decode(out.Payload) as Record<string, unknown>, tail, requestId };
}

/** Everything `laminar logs` prints for the function. */
async function printed(harness: Harness, name: string): Promise<string> {
  let all = '';
  await showLogs(LogStore.folderFor(harness.dataDir), name, { write: (s) => (all += s) });
  return all;
}

/** The invocation's stored log, START to REPORT, once the store has written it (it writes asynchronously). */
async function stored(harness: Harness, name: string, requestId: string): Promise<string> {
  const until = Date.now() + 10_000;
  for (;;) {
    const all = await printed(harness, name).catch(() => '');
    const start = all.indexOf(`START RequestId: ${requestId}`);
    const report = all.indexOf(`REPORT RequestId: ${requestId}`);
    if (start !== -1 && report !== -1 && all.indexOf('\n', report) !== -1) return all.slice(start, all.indexOf('\n', report) + 1);
    if (Date.now() > until) throw new Error(`the log of ${requestId} was not stored`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The function's own output in a stored invocation log: between the START line and the END line. */
function appOutput(log: string, requestId: string): string {
  const afterStart = log.indexOf('\n') + 1;
  const end = log.indexOf(`END RequestId: ${requestId}\n`);
  expect(end).toBeGreaterThan(0);
  return log.slice(afterStart, end);
}

/** Peak resident memory of this process (the server runs in it) since the last reset, in bytes. */
function peakRss(): number {
  const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  return Number(kb) * 1024;
}

/** Starts measuring the peak from now (Linux: writing 5 to clear_refs resets VmHWM to the current RSS). */
function resetPeakRss(): void {
  writeFileSync('/proc/self/clear_refs', '5');
}

const KINDS = [
  {
    kind: 'thread',
    deploy: () => deployFixture(h.client, 'chatty', { Timeout: 120, MemorySize: 256, Tags: { 'laminar:isolation': 'thread' } }),
    begins: /INFO\tbegin big\n/,
    ends: 'end big',
  },
  {
    kind: 'Node.js process',
    deploy: () => deployFixture(h.client, 'chatty', { Timeout: 120, MemorySize: 256, Tags: { 'laminar:isolation': 'process' } }),
    begins: /INFO\tbegin big\n/,
    ends: 'end big',
  },
  {
    kind: 'custom runtime',
    deploy: () => deployFixture(h.client, 'chatty-sh', { Timeout: 120, Runtime: 'provided.al2023' as Runtime, Handler: 'function.handler' }),
    begins: /^begin \S+\n/,
    ends: 'end ',
  },
] as const;

describe.each(KINDS)('$kind', ({ deploy, begins, ends }) => {
  it('a function writing 100 MiB in one invocation costs the server neither memory nor disk', { timeout: 120_000 }, async () => {
    const name = await deploy();
    // A warm environment first: starting one costs memory of its own, which is not what is measured.
    await invoke(h, name, { tag: 'warm' });
    const before = process.memoryUsage().rss;
    resetPeakRss();
    const big = await invoke(h, name, { tag: 'big', mb: 100 });
    const growth = peakRss() - before;
    expect(big.out.FunctionError).toBeUndefined();
    expect(growth, `peak RSS grew by ${(growth / MiB).toFixed(1)} MiB`).toBeLessThan(40 * MiB);

    const log = await stored(h, name, big.requestId);
    const app = appOutput(log, big.requestId);
    const marker = TRUNCATED.exec(app);
    expect(marker, 'the drop marker').not.toBeNull();
    expect(Number(marker?.[2])).toBe(BUDGET);
    // 100 MiB and two short lines were written; the budget was kept, the rest counted.
    expect(Number(marker?.[1])).toBeGreaterThan(100 * MiB - BUDGET);
    expect(Number(marker?.[1])).toBeLessThan(100 * MiB + 4096);
    expect(app.endsWith(marker?.[0] ?? '')).toBe(true);
    expect(app.match(/\[Laminar: output truncated/g)).toHaveLength(1);
    expect(bytes(app)).toBeLessThanOrEqual(BUDGET + 1 + bytes(marker?.[0] ?? ''));
    expect(app).toMatch(begins);
    expect(app).not.toContain(ends + (ends === 'end ' ? big.requestId : ''));
    expect(log).toMatch(new RegExp(`^START RequestId: ${big.requestId} Version: \\$LATEST\n`));
    expect(log).toContain(`\nEND RequestId: ${big.requestId}\n`);
    expect(log).toMatch(new RegExp(`\nREPORT RequestId: ${big.requestId}\tDuration: [\\d.]+ ms\tBilled Duration: \\d+ ms\tMemory Size: \\d+ MB\tMax Memory Used: \\d+ MB\t\n$`));
    // printFunctionLogs echoes exactly what is stored.
    const echoed = h.echoed.join('');
    const echoStart = echoed.indexOf(`START RequestId: ${big.requestId}`);
    expect(echoed.slice(echoStart, echoed.indexOf('\n', echoed.indexOf(`REPORT RequestId: ${big.requestId}`)) + 1)).toBe(log);
    // Tail logs end with the marker, END and REPORT.
    expect(big.tail).toContain(marker?.[0]);
    expect(big.tail).toContain(`END RequestId: ${big.requestId}\n`);

    const after = await invoke(h, name, { tag: 'after' });
    const next = appOutput(await stored(h, name, after.requestId), after.requestId);
    expect(next).not.toContain('[Laminar:');
    expect(bytes(next)).toBeLessThan(1024);
    expect(next).toMatch(/begin/);
    expect(next).toMatch(/end/);
  });
});

describe.each(KINDS.slice(0, 2))('a long line, $kind', ({ deploy }) => {
  it('is cut at 256 KiB with a marker that counts the bytes dropped', async () => {
    const name = await deploy();
    const long = await invoke(h, name, { tag: 'long', longLine: MiB });
    const app = appOutput(await stored(h, name, long.requestId), long.requestId);
    expect(app).toContain(`\n${'y'.repeat(256 * 1024)}${lineTruncatedMarker(768 * 1024)}\n`);
    expect(app).toContain('… [Laminar: line truncated, 786432 bytes dropped]\n');
    expect(app).not.toContain('y'.repeat(256 * 1024 + 1));
    // The rest of the invocation is kept: the budget was not spent by the cut line.
    expect(app).toMatch(/INFO\tend long\n$/);
  });
});

describe.each(KINDS.slice(0, 2))('a timed-out invocation, $kind', ({ deploy }) => {
  it('keeps its budget and says how much it dropped before the deadline', async () => {
    const name = await deploy();
    await h.client.send(new UpdateFunctionConfigurationCommand({ FunctionName: name, Timeout: 2 }));
    await waitUntilFunctionUpdatedV2({ client: h.client, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { FunctionName: name });
    const hung = await invoke(h, name, { tag: 'hung', mb: 10, hang: true });
    expect(hung.out.FunctionError).toBe('Unhandled');
    const log = await stored(h, name, hung.requestId);
    const app = appOutput(log, hung.requestId);
    const marker = TRUNCATED.exec(app);
    expect(marker, 'the drop marker').not.toBeNull();
    expect(Number(marker?.[1])).toBeGreaterThan(10 * MiB - BUDGET);
    expect(Number(marker?.[1])).toBeLessThan(10 * MiB + 4096);
    expect(app).toMatch(/Task timed out after 2\.00 seconds\n$/);
    expect(log).toMatch(/\tStatus: timeout\t/);
  });
});

describe('retention', () => {
  it("keeps a function's stored log within logRetentionBytes, the newest invocations readable", { timeout: 120_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'laminar-retention-'));
    const retention = 256 * 1024;
    const small = await startLaminar({ logBytesPerInvocation: 16 * 1024, logRetentionBytes: retention }, {}, dataDir);
    try {
      const name = await deployFixture(small.client, 'chatty', { Timeout: 60 });
      const ids: string[] = [];
      const folder = join(LogStore.folderFor(dataDir), name);
      const onDisk = (): number => readdirSync(folder).reduce((n, f) => n + statSync(join(folder, f)).size, 0);
      // 40 invocations keep about 16 KiB each: 640 KiB in all, over twice the retention.
      for (let i = 0; i < 40; i++) {
        ids.push((await invoke(small, name, { tag: `n${i}`, mb: 1 })).requestId);
        if (i % 10 === 9) {
          await stored(small, name, ids[i] as string);
          expect(onDisk()).toBeLessThanOrEqual(retention);
        }
      }
      await small.close();

      const files = readdirSync(folder);
      expect(onDisk()).toBeLessThanOrEqual(retention);
      expect(files.some((f) => f.endsWith('.1.log'))).toBe(true);
      const all = await printed(small, name);
      expect(all).not.toContain(`START RequestId: ${ids[0]}`);
      for (const id of ids.slice(-5)) {
        expect(all).toContain(`START RequestId: ${id}`);
        expect(all).toContain(`REPORT RequestId: ${id}`);
      }
    } finally {
      await small.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
