/**
 * One load run with autocannon's programmatic API. autocannon's own latency histogram keeps whole
 * milliseconds (a 0.3 ms invoke reads as 0) and mixes non-2xx into it, so every response time is
 * also recorded here, from the 'response' event (a float in ms), into HDR histograms in
 * microseconds, split by outcome: 2xx, 429 (throttles, which have their own cost), and the rest.
 */
import { createHistogram, performance, type RecordableHistogram } from 'node:perf_hooks';
import autocannon, { type AutocannonRequest } from 'autocannon';
import type { CpuPerRequest } from './cpu.js';

export interface LoadSpec {
  /** Base URL of the server. */
  url: string;
  path: string;
  method?: 'GET' | 'POST';
  body?: string;
  headers?: Record<string, string>;
  connections: number;
  /** Run for this long... */
  durationSeconds?: number;
  /** ...or until this many responses (a burst). */
  amount?: number;
  timeoutSeconds?: number;
  /** Picks each request's path (spreads load over many functions); rebuilds every request. */
  pickPath?: () => string;
  /** Called with each response's headers. Costs a header parse per response: only when needed. */
  onHeaders?: (status: number, headers: Record<string, string | string[]>) => void;
  /** Width of a timeline bucket. */
  bucketMs?: number;
}

/** Latency summary in milliseconds (microsecond resolution). */
export interface Percentiles {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface TimelinePoint {
  /** Seconds since the start of the run (bucket start). */
  t: number;
  /** Responses per second in this bucket, by outcome. */
  ok: number;
  throttled: number;
  other: number;
}

export interface LoadRun {
  connections: number;
  /** Measured wall time of the run. */
  seconds: number;
  /**
   * When the last response arrived, since the start. With `amount`, autocannon only notices it is
   * done on its once-a-second tick, so `seconds` rounds up to whole seconds; this does not.
   */
  lastResponseSeconds: number;
  ok: number;
  throttled: number;
  other: number;
  /** Socket errors and timeouts (no response at all). */
  errors: number;
  timeouts: number;
  /** 2xx per second: the served rate. */
  rps: number;
  /** 429 per second. */
  throttleRps: number;
  /** Every response per second. */
  responseRps: number;
  latency: Percentiles;
  throttleLatency: Percentiles;
  otherStatuses: Record<string, number>;
  timeline: TimelinePoint[];
  /** CPU per response on each side, when the run was metered (measureInterleaved with a server pid). */
  cpu?: CpuPerRequest;
}

function summarize(h: RecordableHistogram): Percentiles {
  if (h.count === 0) return { count: 0, mean: Number.NaN, p50: Number.NaN, p90: Number.NaN, p99: Number.NaN, max: Number.NaN };
  const ms = (us: number) => us / 1000;
  return { count: h.count, mean: ms(h.mean), p50: ms(h.percentile(50)), p90: ms(h.percentile(90)), p99: ms(h.percentile(99)), max: ms(h.max) };
}

export async function runLoad(spec: LoadSpec): Promise<LoadRun> {
  const okHist = createHistogram();
  const throttleHist = createHistogram();
  const otherHist = createHistogram();
  const bucketMs = spec.bucketMs ?? 250;
  const buckets: { ok: number; throttled: number; other: number }[] = [];
  const otherStatuses: Record<string, number> = {};

  const request: AutocannonRequest = { method: spec.method ?? 'POST', path: spec.path };
  if (spec.pickPath) {
    const pick = spec.pickPath;
    request.setupRequest = (req) => ({ ...req, path: pick() });
  }
  if (spec.onHeaders) {
    const onHeaders = spec.onHeaders;
    request.onResponse = (status, _body, _ctx, headers) => onHeaders(status, headers);
  }

  const started = performance.now();
  let firstResponse: number | undefined;
  let lastResponse = started;
  const instance = autocannon({
    url: spec.url,
    connections: spec.connections,
    pipelining: 1,
    ...(spec.amount !== undefined ? { amount: spec.amount } : { duration: spec.durationSeconds ?? 3 }),
    timeout: spec.timeoutSeconds ?? 30,
    method: spec.method ?? 'POST',
    ...(spec.body !== undefined ? { body: spec.body } : {}),
    headers: { 'content-type': 'application/json', ...spec.headers },
    requests: [request],
  });
  instance.on('response', (_client: unknown, status: number, _bytes: number, responseTimeMs: number) => {
    const us = Math.max(1, Math.round(responseTimeMs * 1000));
    lastResponse = performance.now();
    firstResponse ??= lastResponse;
    const i = Math.floor((lastResponse - firstResponse) / bucketMs);
    const bucket = (buckets[i] ??= { ok: 0, throttled: 0, other: 0 });
    if (status >= 200 && status < 300) {
      okHist.record(us);
      bucket.ok++;
    } else if (status === 429) {
      throttleHist.record(us);
      bucket.throttled++;
    } else {
      otherHist.record(us);
      bucket.other++;
      otherStatuses[status] = (otherStatuses[status] ?? 0) + 1;
    }
  });
  const result = await instance;
  const seconds = (performance.now() - started) / 1000;

  const perSecond = 1000 / bucketMs;
  const timeline: TimelinePoint[] = [];
  // Buckets start at the first response; the last one is usually cut short by the end of the run
  // and its rate would read low, so only whole buckets are kept.
  const span = lastResponse - (firstResponse ?? lastResponse);
  const whole = Math.max(1, Math.min(buckets.length, Math.floor(span / bucketMs)));
  for (let i = 0; i < whole; i++) {
    const b = buckets[i] ?? { ok: 0, throttled: 0, other: 0 };
    timeline.push({ t: (i * bucketMs) / 1000, ok: b.ok * perSecond, throttled: b.throttled * perSecond, other: b.other * perSecond });
  }
  return {
    connections: spec.connections,
    seconds,
    lastResponseSeconds: (lastResponse - started) / 1000,
    ok: okHist.count,
    throttled: throttleHist.count,
    other: otherHist.count,
    errors: result.errors,
    timeouts: result.timeouts,
    rps: okHist.count / seconds,
    throttleRps: throttleHist.count / seconds,
    responseRps: (okHist.count + throttleHist.count + otherHist.count) / seconds,
    latency: summarize(okHist),
    throttleLatency: summarize(throttleHist),
    otherStatuses,
    timeline,
  };
}
