import { setTimeout as sleep } from 'node:timers/promises';

// One shape for the mixed scenario's many functions: each deployment sets its own duration
// (SLEEP_MS) and a bit of module state so environments differ in heap use (BALLAST_KB).
const SLEEP_MS = Number(process.env.SLEEP_MS ?? 0);
const ballast = Buffer.alloc(Number(process.env.BALLAST_KB ?? 0) * 1024, 1);

export const handler = async () => {
  if (SLEEP_MS > 0) await sleep(SLEEP_MS);
  return { slept: SLEEP_MS, ballast: ballast.length };
};
