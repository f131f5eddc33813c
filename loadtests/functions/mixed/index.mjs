import { setTimeout as sleep } from 'node:timers/promises';

// One shape for the mixed scenario's many functions: each deployment sets its own duration
// (SLEEP_MS); memory sizes differ by configuration (MemorySize), which is what the host budget charges.
const SLEEP_MS = Number(process.env.SLEEP_MS ?? 0);

export const handler = async () => {
  if (SLEEP_MS > 0) await sleep(SLEEP_MS);
  return { slept: SLEEP_MS };
};
