/** Single invocations outside autocannon, for when each response's headers and timing matter. */
import { performance } from 'node:perf_hooks';

export interface SingleInvoke {
  status: number;
  /** Request sent → whole body read. */
  latencyMs: number;
  coldStart: boolean;
  /** From the REPORT line of the log tail (X-Amz-Log-Type: Tail), when present. */
  initDurationMs?: number;
  durationMs?: number;
  body: string;
}

/** The REPORT line's `Init Duration` and `Duration`, from a base64 X-Amz-Log-Result. */
export function parseLogTail(base64: string | null): { initDurationMs?: number; durationMs?: number } {
  if (!base64) return {};
  const log = Buffer.from(base64, 'base64').toString('utf8');
  const report = log.split('\n').find((l) => l.startsWith('REPORT ')) ?? '';
  const init = /Init Duration: ([\d.]+) ms/.exec(report);
  const duration = /\tDuration: ([\d.]+) ms/.exec(report);
  return {
    ...(init ? { initDurationMs: Number(init[1]) } : {}),
    ...(duration ? { durationMs: Number(duration[1]) } : {}),
  };
}

export async function invokeOnce(baseUrl: string, path: string, payload = '{}', headers: Record<string, string> = {}): Promise<SingleInvoke> {
  const t0 = performance.now();
  const res = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    body: payload,
    headers: { 'content-type': 'application/json', 'x-amz-log-type': 'Tail', ...headers },
  });
  const body = await res.text();
  const latencyMs = performance.now() - t0;
  return {
    status: res.status,
    latencyMs,
    coldStart: res.headers.get('x-laminar-cold-start') === 'true',
    ...parseLogTail(res.headers.get('x-amz-log-result')),
    body,
  };
}
