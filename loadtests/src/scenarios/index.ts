import { asyncScenario } from './async.js';
import { autoscale } from './autoscale.js';
import { cluster } from './cluster.js';
import { cold } from './cold.js';
import { cpu } from './cpu.js';
import { kinds } from './kinds.js';
import { mixed } from './mixed.js';
import { profile } from './profile.js';
import { provisioned } from './provisioned.js';
import type { Scenario } from './scenario.js';
import { throttle } from './throttle.js';
import { warm } from './warm.js';

/** Every scenario, in the order `npm run loadtest` runs them. */
export const SCENARIOS: readonly Scenario[] = [warm, cold, kinds, throttle, provisioned, mixed, autoscale, asyncScenario, cluster, cpu, profile];
