import { loadFigure, type LoadFigure } from './figures.js';
import { runLoad, type LoadRun, type LoadSpec } from './load.js';
import type { Settings } from './settings.js';
import { repeat } from './stats.js';

/** Points where a scenario reads server-side counters, so they cover exactly the measured runs. */
export interface MeasureHooks {
  afterWarmup?: () => Promise<void> | void;
  beforeRun?: (rep: number) => Promise<void> | void;
  afterRun?: (rep: number, run: LoadRun) => Promise<void> | void;
}

export interface Measured {
  figure: LoadFigure;
  runs: LoadRun[];
}

/**
 * The one way a steady load is measured, for floors and scenarios alike: an unmeasured warm-up at
 * the same connection count, then `reps` runs of the same duration, reduced to medians.
 */
export async function measureLoad(
  spec: Omit<LoadSpec, 'durationSeconds' | 'amount'>,
  settings: Settings,
  hooks: MeasureHooks = {},
): Promise<Measured> {
  if (settings.warmupSeconds > 0) await runLoad({ ...spec, durationSeconds: settings.warmupSeconds });
  await hooks.afterWarmup?.();
  const runs = await repeat(settings.reps, async (rep) => {
    await hooks.beforeRun?.(rep);
    const run = await runLoad({ ...spec, durationSeconds: settings.durationSeconds });
    await hooks.afterRun?.(rep, run);
    return run;
  });
  return { figure: loadFigure(runs), runs };
}
