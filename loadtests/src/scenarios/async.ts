/**
 * async: a burst of Event invocations (202 Accepted) to a fresh function, then the time until
 * all of them have run (laminar_invocations_total reaches the burst size). Event age comes from
 * laminar_async_event_age_seconds when the server exports it.
 *
 * Two rates, each against a floor run just before the burst: the accept rate (202s per second,
 * each one committed to the event queue on disk first) against the bare Fastify echo answering
 * the same POST, and the drain rate (events run per second) against Fastify + piscina running a
 * trivial task per request.
 */
import { performance } from 'node:perf_hooks';
import { LaminarServer, withLaminar } from '../harness/laminar.js';
import { runLoad, type LoadRun } from '../harness/load.js';
import { floorRun } from '../harness/measure.js';
import { hasMetric, histogramQuantile, parseProm, promValue, type PromSample, type SeriesPoint } from '../harness/prom.js';
import type { ScenarioResult } from '../harness/result.js';
import { median, stat } from '../harness/stats.js';
import type { Scenario, ScenarioContext } from './scenario.js';

export const BURST = 1000;
const CONNECTIONS = 10;
const DRAIN_TIMEOUT_MS = 60_000;
const AGE_METRIC = 'laminar_async_event_age_seconds';

interface Drain {
  acceptSeconds: number;
  drainSeconds: number;
  accepted: number;
  ran: number;
  /** Throttled attempts (the async queue retries them, so the drain waits for every event to run). */
  throttled: number;
  curve: SeriesPoint[];
  age?: { p50?: number; p99?: number; mean?: number };
}

async function burstAndDrain(server: LaminarServer, fn: string): Promise<Drain> {
  const count = (s: readonly PromSample[]) => ({
    ran: promValue(s, 'laminar_invocations_total', { function: fn }) ?? 0,
    throttled: promValue(s, 'laminar_throttles_total', { function: fn }) ?? 0,
  });
  const t0 = performance.now();
  // The drain is watched while the burst is still being sent: waiting for autocannon to return
  // first would add its once-a-second completion tick to every drain time.
  let accepted: number | undefined;
  const burst = runLoad({
    url: server.url,
    path: LaminarServer.invokePath(fn),
    body: '{}',
    headers: { 'x-amz-invocation-type': 'Event' },
    connections: CONNECTIONS,
    amount: BURST,
  }).then((run) => {
    accepted = run.ok;
    return run;
  });
  const curve: SeriesPoint[] = [];
  let last: PromSample[] = [];
  let state = { ran: 0, throttled: 0 };
  for (;;) {
    last = parseProm(await server.scrape());
    state = count(last);
    const t = (performance.now() - t0) / 1000;
    curve.push({ t, value: state.ran });
    if (state.ran >= (accepted ?? BURST)) break;
    if (t * 1000 > DRAIN_TIMEOUT_MS) throw new Error(`only ${state.ran} of ${accepted ?? BURST} events ran within ${DRAIN_TIMEOUT_MS / 1000} s`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const drainSeconds = (performance.now() - t0) / 1000;
  const run = await burst;
  const drain: Drain = {
    acceptSeconds: run.lastResponseSeconds,
    drainSeconds,
    accepted: run.ok,
    ran: state.ran,
    throttled: state.throttled,
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
  description: `a burst of ${BURST} Event invokes to a fresh function: accept rate against the echo, drain rate against piscina, event age`,
  async run(ctx: ScenarioContext, result: ScenarioResult) {
    await withLaminar({}, async (server) => {
      const names = Array.from({ length: ctx.settings.reps }, (_, i) => `async-${i}`);
      for (const n of names) await server.deploy(n, 'noop');
      const drains: Drain[] = [];
      const floor: LoadRun[] = [];
      const echo: LoadRun[] = [];
      if (ctx.settings.warmupSeconds > 0) await floorRun(ctx.floors, 'piscina', CONNECTIONS, ctx.settings.warmupSeconds);
      for (const [i, name] of names.entries()) {
        ctx.settings.log(`  async burst ${i + 1}/${names.length} (after an echo and a piscina floor run)`);
        echo.push(await floorRun(ctx.floors, 'echo', CONNECTIONS, ctx.settings.durationSeconds));
        floor.push(await floorRun(ctx.floors, 'piscina', CONNECTIONS, ctx.settings.durationSeconds));
        drains.push(await burstAndDrain(server, name));
      }
      const ageExported = hasMetric(await server.scrape(), AGE_METRIC);

      const drainRps = drains.map((d) => d.ran / d.drainSeconds);
      const acceptRps = drains.map((d) => d.accepted / d.acceptSeconds);
      result.values.acceptRps = { label: 'accept rate (202s, each committed first)', unit: 'events/s', stat: stat(acceptRps) };
      result.values.echo = { label: `Fastify echo floor @${CONNECTIONS}, run before each burst`, unit: 'req/s', stat: stat(echo.map((r) => r.rps)) };
      const acceptPerRep = stat(acceptRps.map((r, i) => r / (echo[i]?.rps ?? Number.NaN)));
      result.ratios.accept_rps_vs_echo = acceptPerRep.median;
      result.ratioSpread.accept_rps_vs_echo = acceptPerRep;
      result.values.accept = { label: `time to accept ${BURST} events (all 202)`, unit: 's', stat: stat(drains.map((d) => d.acceptSeconds)) };
      result.values.drain = { label: `time until all ${BURST} have run`, unit: 's', stat: stat(drains.map((d) => d.drainSeconds)) };
      result.values.drainRps = { label: 'drain rate', unit: 'events/s', stat: stat(drainRps) };
      result.values.throttled = { label: 'throttled attempts during the drain (retried)', unit: '', stat: stat(drains.map((d) => d.throttled)) };
      const perRep = stat(drainRps.map((r, i) => r / (floor[i]?.rps ?? Number.NaN)));
      result.ratios.drain_rps_vs_piscina = perRep.median;
      result.ratioSpread.drain_rps_vs_piscina = perRep;
      result.values.floor = { label: `Fastify + piscina floor @${CONNECTIONS}, run before each burst`, unit: 'req/s', stat: stat(floor.map((r) => r.rps)) };
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
