/** A load ramp: steps of rising connection counts, each a short fixed-duration run. */
import { runLoad, type LoadRun, type LoadSpec } from './load.js';

export interface RampStep {
  connections: number;
  seconds: number;
}

export interface RampResult {
  steps: { step: RampStep; run: LoadRun; startedAt: number }[];
}

/**
 * autocannon drops its sockets at the end of a run while the server still finishes the requests
 * they carried; starting the next step at once would briefly offer more concurrency than either
 * step. A short gap lets those requests finish.
 */
const STEP_GAP_MS = 150;

export async function runRamp(spec: Omit<LoadSpec, 'connections' | 'durationSeconds' | 'amount'>, steps: readonly RampStep[], onStep?: (step: RampStep, index: number) => void): Promise<RampResult> {
  const out: RampResult = { steps: [] };
  const t0 = Date.now();
  for (const [i, step] of steps.entries()) {
    if (i > 0) await new Promise((r) => setTimeout(r, STEP_GAP_MS));
    onStep?.(step, i);
    const startedAt = (Date.now() - t0) / 1000;
    const run = await runLoad({ ...spec, connections: step.connections, durationSeconds: step.seconds });
    out.steps.push({ step, run, startedAt });
  }
  return out;
}
