/**
 * async: a burst of Event invocations (202 Accepted) to a fresh function, then the time until
 * all of them have run (laminar_invocations_total reaches the burst size). Event age comes from
 * laminar_async_event_age_seconds when the server exports it.
 */
import { performance } from 'node:perf_hooks';
import { LaminarServer, withLaminar } from '../harness/laminar.js';
import { runLoad, type LoadRun } from '../harness/load.js';
import { floorRun } from '../harness/measure.js';
import { hasMetric, histogramQuantile, parseProm, promValue, type PromSample, type SeriesPoint } from '../harness/prom.js';
import type { ScenarioResult } from '../harness/result.js';
import { median, stat } from '../harness/stats.js';
import type { Scenario, ScenarioContext } from './scenario.js';

export const BURST = 100;
const CONNECTIONS = 10;
const DRAIN_TIMEOUT_MS = 60_000;
const AGE_METRIC = 'laminar_async_event_age_seconds';

interface Drain {
  acceptSeconds: number;
  drainSeconds: number;
  accepted: number;
  ran: number;
  /** Throttled and (with no durable queue yet) not retried. */
  dropped: number;
  curve: SeriesPoint[];
  age?: { p50?: number; p99?: number; mean?: number };
}

async function burstAndDrain(server: LaminarServer, fn: string): Promise<Drain> {
  const count = (s: readonly PromSample[]) => ({
    ran: promValue(s, 'laminar_invocations_total', { function: fn }) ?? 0,
    throttled: promValue(s, 'laminar_throttles_total', { function: fn }) ?? 0,
  });
  const t0 = performance.now();
  const burst = await runLoad({
    url: server.url,
    path: LaminarServer.invokePath(fn),
    body: '{}',
    headers: { 'x-amz-invocation-type': 'Event' },
    connections: CONNECTIONS,
    amount: BURST,
  });
  const acceptSeconds = (performance.now() - t0) / 1000;
  const curve: SeriesPoint[] = [];
  let last: PromSample[] = [];
  let state = { ran: 0, throttled: 0 };
  for (;;) {
    last = parseProm(await server.scrape());
    state = count(last);
    const t = (performance.now() - t0) / 1000;
    curve.push({ t, value: state.ran });
    if (state.ran + state.throttled >= burst.ok) break;
    if (t * 1000 > DRAIN_TIMEOUT_MS) throw new Error(`only ${state.ran} of ${burst.ok} events ran within ${DRAIN_TIMEOUT_MS / 1000} s`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const drain: Drain = {
    acceptSeconds,
    drainSeconds: (performance.now() - t0) / 1000,
    accepted: burst.ok,
    ran: state.ran,
    dropped: state.throttled,
    curve,
  };
  const sum = promValue(last, `${AGE_METRIC}_sum`, { function: fn });
  const n = promValue(last, `${AGE_METRIC}_count`, { function: fn });
  if (n) {
    drain.age = {
      ...(sum !== undefined ? { mean: sum / n } : {}),
      p50: histogramQuantile(last, AGE_METRIC, 0.5, { function: fn }),
      p99: histogramQuantile(last, AGE_METRIC, 0.99, { function: fn }),
    };
  }
  return drain;
}

export const asyncScenario: Scenario = {
  name: 'async',
  title: 'Async (Event) burst',
  description: `a burst of ${BURST} Event invokes to a fresh function: time to drain, event age`,
  async run(ctx: ScenarioContext, result: ScenarioResult) {
    await withLaminar({}, async (server) => {
      const names = Array.from({ length: ctx.settings.reps }, (_, i) => `async-${i}`);
      for (const n of names) await server.deploy(n, 'noop');
      const drains: Drain[] = [];
      const floor: LoadRun[] = [];
      if (ctx.settings.warmupSeconds > 0) await floorRun(ctx.floors, 'piscina', CONNECTIONS, ctx.settings.warmupSeconds);
      for (const [i, name] of names.entries()) {
        ctx.settings.log(`  async burst ${i + 1}/${names.length} (after a piscina floor run)`);
        floor.push(await floorRun(ctx.floors, 'piscina', CONNECTIONS, ctx.settings.durationSeconds));
        drains.push(await burstAndDrain(server, name));
      }
      const ageExported = hasMetric(await server.scrape(), AGE_METRIC);

      const drainRps = drains.map((d) => d.ran / d.drainSeconds);
      result.values.accept = { label: `time to accept ${BURST} events (all 202)`, unit: 's', stat: stat(drains.map((d) => d.acceptSeconds)) };
      result.values.drain = { label: `time until all ${BURST} have run`, unit: 's', stat: stat(drains.map((d) => d.drainSeconds)) };
      result.values.drainRps = { label: 'drain rate', unit: 'events/s', stat: stat(drainRps) };
      result.values.dropped = { label: 'events throttled and not retried', unit: '', stat: stat(drains.map((d) => d.dropped)) };
      const perRep = stat(drainRps.map((r, i) => r / (floor[i]?.rps ?? Number.NaN)));
      result.ratios.drain_rps_vs_piscina = perRep.median;
      result.ratioSpread.drain_rps_vs_piscina = perRep;
      result.values.floor = { label: `Fastify + piscina floor @${CONNECTIONS}, run before each burst`, unit: 'req/s', stat: stat(floor.map((r) => r.rps)) };
      if (drains.some((d) => d.dropped > 0)) result.notes.push('some events were throttled and never ran: no durable async queue with retries yet.');
      if (ageExported && drains.every((d) => d.age)) {
        result.values.ageP50 = { label: 'event age p50 (laminar_async_event_age_seconds)', unit: 's', stat: stat(drains.map((d) => d.age?.p50 ?? Number.NaN)) };
        result.values.ageP99 = { label: 'event age p99', unit: 's', stat: stat(drains.map((d) => d.age?.p99 ?? Number.NaN)) };
      } else {
        result.notes.push(`${AGE_METRIC} is not exported by this server: only drain time is reported.`);
      }
      drains.forEach((d, i) => (result.series[`burst ${i + 1}: events run`] = d.curve));
      result.charts.push({
        title: `Events run since the burst started (${BURST} sent)`,
        kind: 'line',
        yLabel: 'events',
        keys: drains.map((_, i) => ({ key: `burst ${i + 1}: events run`, label: `burst ${i + 1}` })),
      });
    });
  },
};
