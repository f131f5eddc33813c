/**
 * The one way a steady load is measured: an unmeasured warm-up, then `reps` runs of the same
 * duration, reduced to medians, with each floor run right before each Laminar run. A floor and
 * the figure divided by it then share the machine's state of the moment: on a shared, noisy
 * machine the per-repetition ratio is far steadier than either number alone.
 */
import { meterCpu } from './cpu.js';
import { loadFigure, type LoadFigure } from './figures.js';
import { FLOOR_PATH, type FloorKind, type FloorServers } from './floors.js';
import { runLoad, type LoadRun, type LoadSpec } from './load.js';
import type { Settings } from './settings.js';
import { repeat, stat, type Stat } from './stats.js';

const SETTLE_MS = 200;

/** Points where a scenario reads server-side counters, so they cover exactly the measured runs. */
export interface MeasureHooks {
  afterWarmup?: () => Promise<void> | void;
  beforeRun?: (rep: number) => Promise<void> | void;
  afterRun?: (rep: number, run: LoadRun) => Promise<void> | void;
}

export type SteadySpec = Omit<LoadSpec, 'durationSeconds' | 'amount'> & {
  /** The server's process id: its CPU per request on each side is recorded with every run. */
  serverPid?: number;
};

export interface Measured {
  figure: LoadFigure;
  runs: LoadRun[];
}

export interface PairedMeasured extends Measured {
  floors: Partial<Record<FloorKind, Measured>>;
}

export async function measurePaired(
  spec: SteadySpec,
  kinds: readonly FloorKind[],
  floors: FloorServers,
  settings: Settings,
  hooks: MeasureHooks = {},
): Promise<PairedMeasured> {
  const measured = await measureInterleaved({ only: spec }, kinds, floors, settings, {
    afterWarmup: () => hooks.afterWarmup?.(),
    beforeRun: (rep) => hooks.beforeRun?.(rep),
    afterRun: (rep, _key, run) => hooks.afterRun?.(rep, run),
  });
  return measured.only;
}

/** Hooks of measureInterleaved: the same points, for each target by its key. */
export interface InterleavedHooks {
  afterWarmup?: () => Promise<void> | void;
  beforeRun?: (rep: number, key: string) => Promise<void> | void;
  afterRun?: (rep: number, key: string, run: LoadRun) => Promise<void> | void;
}

/**
 * measurePaired for several targets at once: each repetition runs every floor, then every target
 * in turn, so that any two targets can also be compared run by run (pairedRatio), e.g. two kinds
 * of environment on two servers. Every target is paired with the same floor runs. The targets'
 * order reverses every other repetition, so that none of them always runs first after the floor
 * or always right after another (a machine whose load drifts would favour one side).
 */
export async function measureInterleaved<K extends string>(
  specs: Readonly<Record<K, SteadySpec>>,
  kinds: readonly FloorKind[],
  floors: FloorServers,
  settings: Settings,
  hooks: InterleavedHooks = {},
): Promise<Record<K, PairedMeasured>> {
  const targets = Object.entries(specs) as [K, SteadySpec][];
  const connections = targets[0]?.[1].connections ?? 1;
  const floorSpecs = new Map<FloorKind, SteadySpec>();
  for (const kind of kinds) {
    const url = await floors.url(kind);
    await floors.prewarm(kind, connections);
    const serverPid = await floors.pid(kind);
    floorSpecs.set(kind, { url, path: FLOOR_PATH, body: '{}', connections, ...(serverPid !== undefined ? { serverPid } : {}) });
  }
  const timed = async ({ serverPid, ...s }: SteadySpec, seconds: number) => {
    // autocannon drops its sockets at the end of a run while the server still finishes what they
    // carried; a pause keeps that tail out of the next run (it would offer extra concurrency).
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const meter = serverPid === undefined ? undefined : meterCpu(serverPid);
    const run = await runLoad({ ...s, durationSeconds: seconds });
    const cpu = meter?.stop(run.ok + run.throttled + run.other);
    return cpu === undefined ? run : { ...run, cpu };
  };
  if (settings.warmupSeconds > 0) {
    for (const s of floorSpecs.values()) await timed(s, settings.warmupSeconds);
    for (const [, s] of targets) await timed(s, settings.warmupSeconds);
  }
  await hooks.afterWarmup?.();
  const floorRuns = new Map<FloorKind, LoadRun[]>(kinds.map((k) => [k, []]));
  const runs = new Map<K, LoadRun[]>(targets.map(([k]) => [k, []]));
  await repeat(settings.reps, async (rep) => {
    for (const [kind, s] of floorSpecs) floorRuns.get(kind)?.push(await timed(s, settings.durationSeconds));
    for (const [key, s] of rep % 2 === 0 ? targets : [...targets].reverse()) {
      await hooks.beforeRun?.(rep, key);
      const run = await timed(s, settings.durationSeconds);
      await hooks.afterRun?.(rep, key, run);
      runs.get(key)?.push(run);
    }
  });
  const floorsMeasured: PairedMeasured['floors'] = {};
  for (const [kind, fr] of floorRuns) floorsMeasured[kind] = { figure: loadFigure(fr), runs: fr };
  const out = {} as Record<K, PairedMeasured>;
  for (const [key, r] of runs) out[key] = { figure: loadFigure(r), runs: r, floors: floorsMeasured };
  return out;
}

/** Per-repetition ratio a[i] / b[i] (pairs with a zero or missing side are dropped). */
export function pairedRatio(a: readonly LoadRun[], b: readonly LoadRun[], pick: (r: LoadRun) => number, pickB: (r: LoadRun) => number = pick): Stat | undefined {
  const values: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = pick(a[i] as LoadRun);
    const y = pickB(b[i] as LoadRun);
    if (Number.isFinite(x) && Number.isFinite(y) && y !== 0) values.push(x / y);
  }
  return values.length > 0 ? stat(values) : undefined;
}

/** One timed run of a floor, for scenarios whose own measurement is not a steady load (e.g. a burst). */
export async function floorRun(floors: FloorServers, kind: FloorKind, connections: number, seconds: number): Promise<LoadRun> {
  return runLoad({ url: await floors.url(kind), path: FLOOR_PATH, body: '{}', connections, durationSeconds: seconds });
}
