import type { Scenario } from './scenario.js';
import { warm } from './warm.js';

/** Every scenario, in the order `npm run loadtest` runs them. */
export const SCENARIOS: readonly Scenario[] = [warm];
