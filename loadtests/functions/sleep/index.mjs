import { setTimeout as sleep } from 'node:timers/promises';

// Holds its environment for SLEEP_MS (or event.ms): a fixed, known duration of one invocation.
const DEFAULT_MS = Number(process.env.SLEEP_MS ?? 50);

export const handler = async (event) => {
  const ms = typeof event?.ms === 'number' ? event.ms : DEFAULT_MS;
  if (ms > 0) await sleep(ms);
  return { slept: ms };
};
