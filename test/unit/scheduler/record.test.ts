/** The record step: one invocation record → its log text and its metric updates, for every way an invocation ends. */
import { describe, expect, it } from 'vitest';
import { Metrics } from '../../../src/metrics/metrics.js';
import { invocationLog, provisionedInitLog, recordMetrics, type InvocationRecord } from '../../../src/scheduler/record.js';

const ENDED = Date.UTC(2026, 0, 1, 12, 0, 0);
const base: InvocationRecord = {
  requestId: 'r-1',
  functionName: 'f',
  qualifier: 'live',
  version: '3',
  memoryMb: 512,
  timeoutSeconds: 3,
  outcome: { status: 'success', durationMs: 12.34, maxMemoryUsedMb: 70, logs: 'app line\n' },
  endedAt: ENDED,
};
const cold = { init: { durationMs: 101.5, logs: 'init line\n' }, coldStartReason: 'no-environment' };

describe('invocationLog', () => {
  const cases: { name: string; record: InvocationRecord; expected: string }[] = [
    {
      name: 'a warm success: START, the function lines, END, REPORT',
      record: base,
      expected:
        'START RequestId: r-1 Version: 3\napp line\nEND RequestId: r-1\n' +
        'REPORT RequestId: r-1\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 512 MB\tMax Memory Used: 70 MB\t\n',
    },
    {
      name: 'a cold success: the Init lines first, Init duration and the cold-start reason in REPORT',
      record: { ...base, ...cold },
      expected:
        'init line\nSTART RequestId: r-1 Version: 3\napp line\nEND RequestId: r-1\n' +
        'REPORT RequestId: r-1\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 512 MB\tMax Memory Used: 70 MB\tInit Duration: 101.50 ms\tLaminar Cold Start: no-environment\t\n',
    },
    {
      name: 'a function error: REPORT carries no status (the function answered)',
      record: { ...base, outcome: { ...base.outcome, status: 'error', errorType: 'Error' } },
      expected:
        'START RequestId: r-1 Version: 3\napp line\nEND RequestId: r-1\n' +
        'REPORT RequestId: r-1\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 512 MB\tMax Memory Used: 70 MB\t\n',
    },
    {
      name: 'a timeout: the timeout line before END, Status: timeout',
      record: { ...base, outcome: { status: 'timeout', errorType: 'Sandbox.Timedout', durationMs: 3000, maxMemoryUsedMb: 70, logs: '' } },
      expected:
        'START RequestId: r-1 Version: 3\n2026-01-01T12:00:00.000Z r-1 Task timed out after 3.00 seconds\nEND RequestId: r-1\n' +
        'REPORT RequestId: r-1\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\tMemory Size: 512 MB\tMax Memory Used: 70 MB\tStatus: timeout\t\n',
    },
    {
      name: 'a crash: Status: error with the error type',
      record: { ...base, outcome: { status: 'crash', errorType: 'Runtime.ExitError', durationMs: 5, maxMemoryUsedMb: 70, logs: '' } },
      expected:
        'START RequestId: r-1 Version: 3\nEND RequestId: r-1\n' +
        'REPORT RequestId: r-1\tDuration: 5.00 ms\tBilled Duration: 5 ms\tMemory Size: 512 MB\tMax Memory Used: 70 MB\tStatus: error\tError Type: Runtime.ExitError\t\n',
    },
    {
      name: 'a failed Init: INIT_REPORT with the error, then an invocation of 0 ms billed for the Init',
      record: {
        ...base,
        init: { durationMs: 40.2, logs: 'init line\n', errorType: 'Runtime.ImportModuleError' },
        coldStartReason: 'no-environment',
        outcome: { status: 'error', errorType: 'Runtime.ImportModuleError', durationMs: 0, maxMemoryUsedMb: 0, logs: '' },
      },
      expected:
        'init line\nINIT_REPORT Init Duration: 40.20 ms\tPhase: init\tStatus: error\tError Type: Runtime.ImportModuleError\n' +
        'START RequestId: r-1 Version: 3\nEND RequestId: r-1\n' +
        'REPORT RequestId: r-1\tDuration: 0.00 ms\tBilled Duration: 41 ms\tMemory Size: 512 MB\tMax Memory Used: 0 MB\tInit Duration: 40.20 ms\t' +
        'Status: error\tError Type: Runtime.ImportModuleError\tLaminar Cold Start: no-environment\t\n',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(invocationLog(c.record)).toBe(c.expected);
    });
  }

  it('a provisioned Init is logged with its initialization type', () => {
    expect(provisionedInitLog('nodejs20.x', 'hello\n', 12)).toBe(
      'INIT_START Runtime Version: nodejs20.x\tInitialization Type: provisioned-concurrency\nhello\nINIT_REPORT Init Duration: 12.00 ms\tPhase: init\n',
    );
  });
});

/** Every series `recordMetrics` touches, by name and labels. */
async function values(metrics: Metrics): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const m of [metrics.invocations, metrics.errors, metrics.coldStarts, metrics.billedDuration, metrics.billedGigabyteSeconds]) {
    for (const v of (await m.get()).values) out[`${(await m.get()).name}${JSON.stringify(v.labels)}`] = v.value;
  }
  for (const m of [metrics.duration, metrics.initDuration]) {
    const got = await m.get();
    const count = got.values.find((v) => v.metricName?.endsWith('_count'));
    const sum = got.values.find((v) => v.metricName?.endsWith('_sum'));
    if (count && count.value > 0) out[`${got.name}_count`] = count.value;
    if (sum && sum.value > 0) out[`${got.name}_sum`] = sum.value;
  }
  return out;
}

describe('recordMetrics', () => {
  const fq = '{"function":"f","qualifier":"live"}';
  it('a warm success: an invocation, its duration and its billing; no error, no cold start', async () => {
    const metrics = new Metrics();
    recordMetrics(metrics, base);
    expect(await values(metrics)).toEqual({
      [`laminar_invocations_total${fq}`]: 1,
      'laminar_billed_duration_seconds_total{"function":"f"}': 0.013,
      'laminar_billed_gigabyte_seconds_total{"function":"f"}': 0.5 * 0.013,
      laminar_duration_seconds_count: 1,
      laminar_duration_seconds_sum: 0.01234,
    });
  });

  it('a cold timeout: the cold start and its Init, and an error of the timeout type', async () => {
    const metrics = new Metrics();
    recordMetrics(metrics, { ...base, ...cold, outcome: { status: 'timeout', errorType: 'Sandbox.Timedout', durationMs: 3000, maxMemoryUsedMb: 1, logs: '' } });
    expect(await values(metrics)).toEqual({
      [`laminar_invocations_total${fq}`]: 1,
      [`laminar_errors_total{"function":"f","qualifier":"live","type":"Sandbox.Timedout"}`]: 1,
      [`laminar_cold_starts_total${fq}`]: 1,
      'laminar_billed_duration_seconds_total{"function":"f"}': 3,
      'laminar_billed_gigabyte_seconds_total{"function":"f"}': 1.5,
      laminar_duration_seconds_count: 1,
      laminar_duration_seconds_sum: 3,
      laminar_init_duration_seconds_count: 1,
      laminar_init_duration_seconds_sum: 0.1015,
    });
  });

  it('a failed Init: the cold start, its Init and an error of its type; no duration, nothing billed', async () => {
    const metrics = new Metrics();
    recordMetrics(metrics, {
      ...base,
      init: { durationMs: 40, logs: '', errorType: 'Runtime.ImportModuleError' },
      coldStartReason: 'no-environment',
      outcome: { status: 'error', errorType: 'Runtime.ImportModuleError', durationMs: 0, maxMemoryUsedMb: 0, logs: '' },
    });
    expect(await values(metrics)).toEqual({
      [`laminar_invocations_total${fq}`]: 1,
      [`laminar_errors_total{"function":"f","qualifier":"live","type":"Runtime.ImportModuleError"}`]: 1,
      [`laminar_cold_starts_total${fq}`]: 1,
      laminar_init_duration_seconds_count: 1,
      laminar_init_duration_seconds_sum: 0.04,
    });
  });

  it('a function error without a type counts as Unhandled', async () => {
    const metrics = new Metrics();
    recordMetrics(metrics, { ...base, outcome: { ...base.outcome, status: 'error' } });
    expect((await values(metrics))[`laminar_errors_total{"function":"f","qualifier":"live","type":"Unhandled"}`]).toBe(1);
  });
});
