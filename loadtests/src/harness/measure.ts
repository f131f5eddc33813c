/**
 * The one way a steady load is measured: an unmeasured warm-up, then `reps` runs of the same
 * duration, reduced to medians, with each floor run right before each Laminar run. A floor and
 * the figure divided by it then share the machine's state of the moment: on a shared, noisy
 * machine the per-repetition ratio is far steadier than either number alone.
 */
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

export type SteadySpec = Omit<LoadSpec, 'durationSeconds' | 'amount'>;

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
  const floorSpecs = new Map<FloorKind, SteadySpec>();
  for (const kind of kinds) {
    floorSpecs.set(kind, { url: await floors.url(kind), path: FLOOR_PATH, body: '{}', connections: spec.connections });
  }
  const timed = async (s: SteadySpec, seconds: number) => {
    // autocannon drops its sockets at the end of a run while the server still finishes what they
    // carried; a pause keeps that tail out of the next run (it would offer extra concurrency).
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    return runLoad({ ...s, durationSeconds: seconds });
  };
  if (settings.warmupSeconds > 0) {
    for (const s of floorSpecs.values()) await timed(s, settings.warmupSeconds);
    await timed(spec, settings.warmupSeconds);
  }
  await hooks.afterWarmup?.();
  const floorRuns = new Map<FloorKind, LoadRun[]>(kinds.map((k) => [k, []]));
  const runs = await repeat(settings.reps, async (rep) => {
    for (const [kind, s] of floorSpecs) floorRuns.get(kind)?.push(await timed(s, settings.durationSeconds));
    await hooks.beforeRun?.(rep);
    const run = await timed(spec, settings.durationSeconds);
    await hooks.afterRun?.(rep, run);
    return run;
  });
  const out: PairedMeasured = { figure: loadFigure(runs), runs, floors: {} };
  for (const [kind, fr] of floorRuns) out.floors[kind] = { figure: loadFigure(fr), runs: fr };
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
