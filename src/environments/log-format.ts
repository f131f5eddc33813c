/**
 * The log line every Laminar runtime writes for a function's output, in the Node.js runtime's
 * text format (RIC `LogPatch.js`): `${ISO}\t${requestId}\t${LEVEL}\t${message}\n`, the request id
 * printed as `undefined` during Init. Kept here, apart from any one kind of environment, so the
 * thread runtime and the process runtime write the same lines.
 */
import { format } from 'node:util';

export type LogLevel = 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'FATAL';

export function formatLogLine(at: Date, requestId: string | undefined, level: LogLevel, args: unknown[]): string {
  return `${at.toISOString()}\t${requestId}\t${level}\t${format(...args)}\n`;
}
