/**
 * The record step: one invocation record becomes its log text (Init lines on a cold start,
 * START, the function's lines, END, REPORT) and its metric updates. Every way an invocation
 * ends — success, function error, timeout, crash, failed Init — goes through here.
 */
import type { InvokeOutcome } from '../environments/environment.js';
import { billedDurationMs, endLine, reportLine, startLine, timeoutLine } from '../logs/report-line.js';
import type { Metrics } from '../metrics/metrics.js';

/** The Init of a cold start, as the invocation that waited for it reports it. */
export interface InitRecord {
  durationMs: number;
  /** Log lines the function wrote during Init. */
  logs: string;
  /** Set when Init failed: the error type (the invocation then never ran). */
  errorType?: string;
}

export interface InvocationRecord {
  requestId: string;
  functionName: string;
  /** The qualifier invoked (`$LATEST` when none). */
  qualifier: string;
  /** The version that ran. */
  version: string;
  memoryMb: number;
  timeoutSeconds: number;
  /** What the environment reported; after a failed Init, the error as an outcome of 0 ms. */
  outcome: Pick<InvokeOutcome, 'status' | 'errorType' | 'durationMs' | 'maxMemoryUsedMb' | 'logs'>;
  /** Present on a cold start. */
  init?: InitRecord;
  coldStartReason?: string;
  /** Clock time the invocation ended (the timestamp of a timeout line). */
  endedAt: number;
}

/** The invocation's whole log, as CloudWatch would show it. */
export function invocationLog(r: InvocationRecord): string {
  const { requestId, outcome, init } = r;
  let log = init?.logs ?? '';
  if (init?.errorType !== undefined) {
    // A failed Init is reported as Lambda does: INIT_REPORT with the error, then an invocation
    // of 0 ms billed for the Init.
    log += `INIT_REPORT Init Duration: ${init.durationMs.toFixed(2)} ms\tPhase: init\tStatus: error\tError Type: ${init.errorType}\n`;
    log += startLine(requestId, r.version) + endLine(requestId);
    return (
      log +
      reportLine({
        requestId,
        durationMs: 0,
        billedDurationMs: billedDurationMs(init.durationMs),
        memorySizeMb: r.memoryMb,
        maxMemoryUsedMb: 0,
        initDurationMs: init.durationMs,
        status: 'error',
        errorType: init.errorType,
        ...(r.coldStartReason ? { coldStartReason: r.coldStartReason } : {}),
      })
    );
  }
  log += startLine(requestId, r.version) + outcome.logs;
  if (outcome.status === 'timeout') log += timeoutLine(new Date(r.endedAt), requestId, r.timeoutSeconds);
  log += endLine(requestId);
  return (
    log +
    reportLine({
      requestId,
      durationMs: outcome.durationMs,
      billedDurationMs: billedDurationMs(outcome.durationMs),
      memorySizeMb: r.memoryMb,
      maxMemoryUsedMb: outcome.maxMemoryUsedMb,
      ...(init !== undefined ? { initDurationMs: init.durationMs } : {}),
      ...(outcome.status === 'timeout' ? { status: 'timeout' as const } : {}),
      ...(outcome.status === 'crash' ? { status: 'error' as const, errorType: outcome.errorType } : {}),
      ...(r.coldStartReason ? { coldStartReason: r.coldStartReason } : {}),
    })
  );
}

/**
 * Counts the invocation: cold start and Init duration when there was an Init; invocations;
 * handler duration and billing when the handler ran (a failed Init bills nothing here);
 * errors when it failed.
 */
export function recordMetrics(metrics: Metrics, r: InvocationRecord): void {
  const labels = { function: r.functionName, qualifier: r.qualifier };
  if (r.init) {
    metrics.coldStarts.inc(labels);
    metrics.initDuration.observe(labels, r.init.durationMs / 1000);
  }
  metrics.invocations.inc(labels);
  if (r.init?.errorType !== undefined) {
    metrics.errors.inc({ ...labels, type: r.init.errorType });
    return;
  }
  const billed = billedDurationMs(r.outcome.durationMs);
  metrics.observeDuration(labels, r.outcome.durationMs / 1000, r.requestId);
  metrics.billedDuration.inc({ function: r.functionName }, billed / 1000);
  metrics.billedGigabyteSeconds.inc({ function: r.functionName }, (r.memoryMb / 1024) * (billed / 1000));
  if (r.outcome.status !== 'success') metrics.errors.inc({ ...labels, type: r.outcome.errorType ?? 'Unhandled' });
}

/** The Init of a provisioned environment, written to its own log stream when it completes. */
export function provisionedInitLog(runtime: string, logs: string, initDurationMs: number): string {
  return `INIT_START Runtime Version: ${runtime}\tInitialization Type: provisioned-concurrency\n${logs}INIT_REPORT Init Duration: ${initDurationMs.toFixed(2)} ms\tPhase: init\n`;
}
