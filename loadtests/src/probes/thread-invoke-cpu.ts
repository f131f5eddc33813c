/**
 * CPU per warm invoke of a thread environment, without HTTP or load: one environment, invoked
 * one call at a time, its thread's CPU read from /proc/self/task/<tid>/schedstat before and after
 * (the environment thread is the one thread that appears when it starts; the libuv pool is made
 * to exist first). Next to it, the same no-op dispatched by a one-thread piscina pool (as Laminar
 * configures it, without the runtime) and by a bare `Worker`. Each target runs in a process of
 * its own, and the targets take turns, repetition by repetition:
 *
 *     node loadtests/dist/probes/thread-invoke-cpu.js [--reps 5] [--invokes 10000] [--dist <laminar dist/>]...
 *
 * Prints µs per invoke: the environment thread, the main thread, the process's other threads
 * (GC and compiler helpers, the libuv pool), as medians over the repetitions. Each `--dist`
 * (default: this repo's dist/) is a Laminar build measured in the same run, e.g. one saved
 * before a change next to the change: on a shared machine only figures of one run compare.
 */
import { execFileSync } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { FUNCTIONS_DIR, REPO_DIR } from '../harness/paths.js';
import { ENVIRONMENT_POOL_OPTIONS } from '../floors/per-request.js';
import { startNoopEnvironment, taskNs, tids } from './noop-environment.js';

const WARMUP = 3000;
const HANDLER_URL = pathToFileURL(join(FUNCTIONS_DIR, 'noop', 'index.mjs')).href;
type Target = 'laminar' | 'piscina' | 'worker';

interface PerInvoke {
  environmentUs: number;
  mainUs: number;
  otherUs: number;
}

/** A started target: one call runs one no-op invocation to completion. */
async function start(target: Target, dist: string): Promise<{ call: () => Promise<void>; stop: () => Promise<void> }> {
  if (target === 'laminar') {
    // As the kinds scenario deploys it: two vCPUs' worth.
    return startNoopEnvironment(dist, { memoryMb: 3538 });
  }
  if (target === 'piscina') {
    const pool = new Piscina<string, string>({
      filename: fileURLToPath(new URL('./thread-invoke-task.js', import.meta.url)),
      workerData: { handlerUrl: HANDLER_URL },
      ...ENVIRONMENT_POOL_OPTIONS,
    });
    await pool.run('{}');
    return { call: async () => void (await pool.run('{}')), stop: () => pool.destroy() };
  }
  const worker = new Worker(new URL('./thread-invoke-worker.js', import.meta.url), { workerData: { handlerUrl: HANDLER_URL } });
  await new Promise((resolve) => worker.once('message', resolve));
  let answer: (() => void) | undefined;
  worker.on('message', () => answer?.());
  return {
    call: () =>
      new Promise<void>((resolve) => {
        answer = resolve;
        worker.postMessage('{}');
      }),
    stop: async () => void (await worker.terminate()),
  };
}

/** One measurement, in this process. */
async function measure(target: Target, dist: string, invokes: number): Promise<PerInvoke> {
  await stat('/'); // the libuv pool exists before the snapshot
  const before = new Set(tids());
  const t = await start(target, dist);
  const own = tids().filter((tid) => !before.has(tid));
  const main = String(process.pid);
  const sum = (list: string[]): number => list.reduce((n, tid) => n + taskNs(tid), 0);
  const others = (): string[] => tids().filter((tid) => tid !== main && !own.includes(tid));
  for (let i = 0; i < WARMUP; i++) await t.call();
  const a = { env: sum(own), main: taskNs(main), other: sum(others()) };
  for (let i = 0; i < invokes; i++) await t.call();
  const b = { env: sum(own), main: taskNs(main), other: sum(others()) };
  await t.stop();
  const us = (ns: number): number => ns / 1000 / invokes;
  return { environmentUs: us(b.env - a.env), mainUs: us(b.main - a.main), otherUs: us(b.other - a.other) };
}

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? (s[(s.length - 1) / 2] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
}

const { values } = parseArgs({
  options: {
    reps: { type: 'string', default: '5' },
    invokes: { type: 'string', default: '10000' },
    dist: { type: 'string', multiple: true, default: [join(REPO_DIR, 'dist')] },
    target: { type: 'string' },
  },
});
const invokes = Number(values.invokes);
if (values.target !== undefined) {
  // A child: one measurement, as JSON on stdout.
  process.stdout.write(JSON.stringify(await measure(values.target as Target, values.dist[0] as string, invokes)));
} else {
  const runs: { label: string; target: Target; dist: string }[] = [
    ...values.dist.map((dist) => ({ label: `laminar ${dist}`, target: 'laminar' as const, dist })),
    { label: 'piscina, one thread, no runtime', target: 'piscina', dist: '' },
    { label: 'bare Worker', target: 'worker', dist: '' },
  ];
  const results = new Map<string, PerInvoke[]>(runs.map((r) => [r.label, []]));
  const self = fileURLToPath(import.meta.url);
  for (let rep = 0; rep < Number(values.reps); rep++) {
    for (const run of runs) {
      const args = [self, '--target', run.target, '--invokes', String(invokes), ...(run.dist ? ['--dist', run.dist] : [])];
      results.get(run.label)?.push(JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8' })) as PerInvoke);
    }
  }
  console.log(`CPU µs per warm no-op invoke, one call at a time, ${invokes} invokes, median of ${values.reps}`);
  for (const [label, rs] of results) {
    const m = (k: keyof PerInvoke): string => median(rs.map((r) => r[k])).toFixed(1).padStart(6);
    console.log(`environment thread ${m('environmentUs')}   main ${m('mainUs')}   other threads ${m('otherUs')}   ${label}`);
  }
}
