/**
 * The real Scheduler, environment owner, reaper, ledger, provisioned concurrency and registry,
 * wired as app.ts wires them, over a fake environment factory and a manual clock.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Counter } from 'prom-client';
import yazl from 'yazl';
import { ManualClock } from '../../../src/core/clock.js';
import { LogStore } from '../../../src/logs/log-store.js';
import { Metrics } from '../../../src/metrics/metrics.js';
import { Registry } from '../../../src/registry/registry.js';
import type { CreateFunctionInput, ResolvedTarget } from '../../../src/registry/types.js';
import { Ledger } from '../../../src/scheduler/admission/ledger.js';
import { EmbeddedLedgerPort } from '../../../src/scheduler/admission/embedded-port.js';
import { Environments } from '../../../src/scheduler/environments.js';
import { ProvisionedConcurrency } from '../../../src/scheduler/provisioned.js';
import { Reaper } from '../../../src/scheduler/reaper.js';
import { Reservations } from '../../../src/scheduler/reservations.js';
import { Scheduler, type InvocationResult } from '../../../src/scheduler/scheduler.js';
import { FakeEnvironments } from './fake-environment.js';

export const T0 = Date.UTC(2026, 0, 1);
const PARTITION = { region: 'us-east-1', accountId: '123456789012' };

export interface HarnessOptions {
  hostMemoryMb?: number;
  regionalLimit?: number;
  scalingRateEnvironments?: number;
  scalingRateWindowMs?: number;
  idleTimeoutSeconds?: number;
  /** This node's share of a provisioned config (a cluster's spread); all of it when absent. */
  share?: (functionName: string, qualifier: string, requested: number) => number;
  /** The allocation the API reports, given this node's; this node's when absent. */
  allocated?: (functionName: string, qualifier: string, local: number) => number;
}

async function handlerZip(): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  zip.addBuffer(Buffer.from('exports.handler = async () => 1;'), 'index.js');
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

export async function harness(o: HarnessOptions = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'laminar-scheduler-'));
  const clock = new ManualClock(T0);
  const metrics = new Metrics();
  const logs = new LogStore(join(dir, 'logs'));
  const registry = Registry.open({ dataDir: join(dir, 'data'), clock, partition: PARTITION });
  const ledger = new Ledger({
    regionalLimit: o.regionalLimit ?? 1000,
    unreservedMinimum: 0,
    scalingRateEnvironments: o.scalingRateEnvironments ?? 1000,
    scalingRateWindowMs: o.scalingRateWindowMs ?? 10_000,
  });
  const fake = new FakeEnvironments();
  const environments = new Environments({ clock, factory: fake.factory, metrics, logs, partition: PARTITION, tmpRoot: join(dir, 'tmp') });
  const reaper = new Reaper(environments, { clock, hostMemoryMb: o.hostMemoryMb ?? 8192, environmentIdleTimeoutSeconds: o.idleTimeoutSeconds ?? 300 });
  const provisioned = new ProvisionedConcurrency({
    environments,
    reaper,
    registry,
    ledger,
    metrics,
    partition: PARTITION,
    initConcurrency: 4,
    ...(o.share ? { share: o.share } : {}),
    ...(o.allocated ? { allocated: o.allocated } : {}),
  });
  const scheduler = new Scheduler({ clock, metrics, ledger: new EmbeddedLedgerPort(ledger), view: ledger, environments, reaper, provisioned });
  const reservations = new Reservations(new EmbeddedLedgerPort(ledger), registry);
  const zip = await handlerZip();

  const h = {
    dir,
    clock,
    metrics,
    ledger,
    registry,
    fake,
    environments,
    provisioned,
    reservations,
    scheduler,
    async deploy(name: string, extra: Partial<CreateFunctionInput> = {}): Promise<void> {
      await registry.createFunction({ FunctionName: name, Runtime: 'nodejs20.x', Handler: 'index.handler', Code: { ZipFile: zip }, ...extra });
    },
    target(name: string, qualifier?: string): ResolvedTarget {
      return registry.resolve(name, qualifier);
    },
    invoke(name: string, qualifier?: string): Promise<InvocationResult> {
      return scheduler.invoke(registry.resolve(name, qualifier));
    },
    /** The value of a counter's series with exactly these labels (0 when absent). */
    async count(counter: Counter, labels: Record<string, string>): Promise<number> {
      const values = (await counter.get()).values;
      const match = values.find((v) => Object.keys(labels).length === Object.keys(v.labels).length && Object.entries(labels).every(([k, x]) => v.labels[k] === x));
      return match?.value ?? 0;
    },
    /** The id of the environment that served a result (the fake's payload names it). */
    servedBy(result: InvocationResult): string {
      return (JSON.parse(result.payload.toString()) as { env: string }).env;
    },
    async cleanup(): Promise<void> {
      fake.holding = false;
      for (const held of fake.held.splice(0)) held.finish();
      await scheduler.close(0);
      await logs.close();
      registry.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return h;
}

export type Harness = Awaited<ReturnType<typeof harness>>;

/** Waits, turn by turn of the event loop, until `cond` holds (what it waits for is already under way). */
export async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (cond()) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The error a promise rejects with (failing when it resolves). */
export async function rejection(p: Promise<unknown>): Promise<Error & { code?: string; reason?: string; retryAfterSeconds?: number }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { code?: string; reason?: string; retryAfterSeconds?: number };
  }
  throw new Error('expected a rejection');
}
