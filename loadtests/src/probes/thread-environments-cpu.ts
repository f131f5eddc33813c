/**
 * CPU per invoke of thread environments as a loaded server runs them, without HTTP: N
 * environments of the no-op, N callers at once, each taking the most recently used idle
 * environment (Laminar's placement), for a few seconds after a second of warm-up. At 100
 * environments each runs some 100 invocations a second, too few for V8 to optimise the
 * runtime's code in its isolate, which is what a server under load sees and a single hot
 * environment (probes/thread-invoke-cpu) does not. Next to it, the floor of the kind: one
 * piscina pool per environment running a trivial task. CPU comes from
 * /proc/self/task/<tid>/schedstat: the main thread, and every other thread (the environments,
 * V8's helpers, the libuv pool). Targets take turns, repetition by repetition:
 *
 *     node loadtests/dist/probes/thread-environments-cpu.js [--environments 100] [--seconds 4] [--reps 3] [--dist <laminar dist/>]...
 *
 * Each `--dist` (default: this repo's dist/) is a Laminar build, e.g. one saved before a change.
 * Each target runs in a child process of its own, so one's threads never share a count with another's.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Piscina } from 'piscina';
import { REPO_DIR } from '../harness/paths.js';
import { median } from '../harness/stats.js';
import { ENVIRONMENT_POOL_OPTIONS } from '../floors/per-request.js';
import { startNoopEnvironment, taskNs, tids, type ProbeBackend } from './noop-environment.js';

interface Figures {
  invokesPerSecond: number;
  mainUs: number;
  otherUs: number;
}

async function piscinaBackend(): Promise<ProbeBackend> {
  const pool = new Piscina<string, string>({ filename: fileURLToPath(new URL('../floors/trivial-task.js', import.meta.url)), ...ENVIRONMENT_POOL_OPTIONS });
  await pool.run('{}');
  return {
    call: async () => {
      await pool.run('{}');
    },
    stop: () => pool.destroy(),
  };
}

const cpuByThread = (): Map<string, number> => new Map(tids().map((tid) => [tid, taskNs(tid)]));

/** One target in this process: starts the environments, runs the callers, prints its figures as JSON. */
async function measureHere(target: string, environments: number, seconds: number): Promise<void> {
  const make = (i: number): Promise<ProbeBackend> => (target === 'piscina' ? piscinaBackend() : startNoopEnvironment(target, { memoryMb: 128, id: `probe-${i}` }));
  const backends: ProbeBackend[] = [];
  // A few at a time: a hundred threads starting at once would only queue on two cores.
  for (let i = 0; i < environments; i += 10) backends.push(...(await Promise.all(Array.from({ length: Math.min(10, environments - i) }, (_, k) => make(i + k)))));
  const idle = [...backends];
  let until = 0;
  let count = 0;
  const caller = async (): Promise<void> => {
    while (performance.now() < until) {
      const backend = idle.pop() as ProbeBackend;
      await backend.call();
      idle.push(backend);
      count++;
    }
  };
  const run = async (ms: number): Promise<void> => {
    until = performance.now() + ms;
    await Promise.all(Array.from({ length: environments }, caller));
  };
  await run(1000);
  count = 0;
  const before = cpuByThread();
  const started = performance.now();
  await run(seconds * 1000);
  const elapsed = (performance.now() - started) / 1000;
  const after = cpuByThread();
  let mainNs = 0;
  let otherNs = 0;
  for (const [tid, ns] of after) {
    const used = ns - (before.get(tid) ?? 0);
    if (tid === String(process.pid)) mainNs += used;
    else otherNs += used;
  }
  for (const b of backends) await b.stop();
  const figures: Figures = { invokesPerSecond: count / elapsed, mainUs: mainNs / 1000 / count, otherUs: otherNs / 1000 / count };
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      environments: { type: 'string', default: '100' },
      seconds: { type: 'string', default: '4' },
      reps: { type: 'string', default: '3' },
      dist: { type: 'string', multiple: true },
      child: { type: 'string' },
    },
  });
  const environments = Number(values.environments);
  const seconds = Number(values.seconds);
  if (values.child !== undefined) return measureHere(values.child, environments, seconds);

  const dists = values.dist ?? [join(REPO_DIR, 'dist')];
  const targets = [...dists, 'piscina'];
  const runs = new Map<string, Figures[]>(targets.map((t) => [t, []]));
  const self = fileURLToPath(import.meta.url);
  for (let rep = 0; rep < Number(values.reps); rep++) {
    for (const target of targets) {
      const out = execFileSync(process.execPath, [self, '--child', target, '--environments', String(environments), '--seconds', String(seconds)], { encoding: 'utf8' });
      runs.get(target)?.push(JSON.parse(out.trim().split('\n').pop() ?? '{}') as Figures);
    }
  }
  process.stdout.write(`${environments} environments, ${environments} callers, ${seconds} s × ${values.reps}; medians, µs per invoke\n`);
  for (const [target, figures] of runs) {
    const name = target === 'piscina' ? 'a piscina pool per environment, trivial task' : `Laminar ${target}`;
    const m = (pick: (f: Figures) => number) => median(figures.map(pick));
    const spread = (pick: (f: Figures) => number) => figures.map((f) => pick(f).toFixed(1)).join(', ');
    process.stdout.write(
      `${name}\n  invokes/s ${m((f) => f.invokesPerSecond).toFixed(0)}   main thread ${m((f) => f.mainUs).toFixed(1)} (${spread((f) => f.mainUs)})   other threads ${m((f) => f.otherUs).toFixed(1)} (${spread((f) => f.otherUs)})\n`,
    );
  }
}

await main();
