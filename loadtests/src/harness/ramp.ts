/** A load ramp: steps of rising connection counts, each a short fixed-duration run. */
import { runLoad, type LoadRun, type LoadSpec } from './load.js';

export interface RampStep {
  connections: number;
  seconds: number;
}

export interface RampResult {
  steps: { step: RampStep; run: LoadRun; startedAt: number }[];
}

export async function runRamp(spec: Omit<LoadSpec, 'connections' | 'durationSeconds' | 'amount'>, steps: readonly RampStep[], onStep?: (step: RampStep, index: number) => void): Promise<RampResult> {
  const out: RampResult = { steps: [] };
  const t0 = Date.now();
  for (const [i, step] of steps.entries()) {
    onStep?.(step, i);
    const startedAt = (Date.now() - t0) / 1000;
    const run = await runLoad({ ...spec, connections: step.connections, durationSeconds: step.seconds });
    out.steps.push({ step, run, startedAt });
  }
  return out;
}
