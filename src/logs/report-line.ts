/** Lambda's platform log lines (text format), so users can grep them as they would in CloudWatch. */

export function startLine(requestId: string, version: string): string {
  return `START RequestId: ${requestId} Version: ${version}\n`;
}

export function endLine(requestId: string): string {
  return `END RequestId: ${requestId}\n`;
}

export interface ReportFields {
  requestId: string;
  durationMs: number;
  billedDurationMs: number;
  memorySizeMb: number;
  maxMemoryUsedMb: number;
  /** Present on the first invocation of an on-demand environment only. */
  initDurationMs?: number;
  /** `timeout` or `error` when the environment failed, as Lambda appends. */
  status?: 'timeout' | 'error';
  errorType?: string;
  /** Laminar's addition: why the invocation started cold (e.g. `no-idle-environment`). */
  coldStartReason?: string;
}

/** Billed duration: rounded up to the millisecond (AWS since 2020-12-01), at least 1 ms. */
export function billedDurationMs(durationMs: number): number {
  return Math.max(1, Math.ceil(durationMs));
}

export function reportLine(f: ReportFields): string {
  let line =
    `REPORT RequestId: ${f.requestId}\tDuration: ${f.durationMs.toFixed(2)} ms\tBilled Duration: ${f.billedDurationMs} ms\t` +
    `Memory Size: ${f.memorySizeMb} MB\tMax Memory Used: ${f.maxMemoryUsedMb} MB\t`;
  if (f.initDurationMs !== undefined) line += `Init Duration: ${f.initDurationMs.toFixed(2)} ms\t`;
  if (f.status) line += `Status: ${f.status}\t`;
  if (f.errorType && f.status) line += `Error Type: ${f.errorType}\t`;
  if (f.coldStartReason) line += `Laminar Cold Start: ${f.coldStartReason}\t`;
  return line + '\n';
}

/** The timeout line Lambda writes before END. */
export function timeoutLine(at: Date, requestId: string, timeoutSeconds: number): string {
  return `${at.toISOString()} ${requestId} Task timed out after ${timeoutSeconds.toFixed(2)} seconds\n`;
}

/** The last 4 KB of a log, cut on a UTF-8 boundary, base64 encoded (X-Amz-Log-Result). */
export function tailBase64(log: string, maxBytes = 4096): string {
  const buf = Buffer.from(log, 'utf8');
  if (buf.length <= maxBytes) return buf.toString('base64');
  let start = buf.length - maxBytes;
  // Skip UTF-8 continuation bytes so the tail starts on a whole character.
  while (start < buf.length && ((buf[start] as number) & 0xc0) === 0x80) start++;
  return buf.subarray(start).toString('base64');
}
