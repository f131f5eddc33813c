import { describe, expect, it } from 'vitest';
import { billedDurationMs, reportLine, tailBase64 } from '../../../src/logs/report-line.js';

describe('REPORT line', () => {
  it('has the fields, order and tabs of Lambda', () => {
    expect(
      reportLine({ requestId: 'r', durationMs: 79.667, billedDurationMs: 80, memorySizeMb: 128, maxMemoryUsedMb: 73, initDurationMs: 166.62 }),
    ).toBe('REPORT RequestId: r\tDuration: 79.67 ms\tBilled Duration: 80 ms\tMemory Size: 128 MB\tMax Memory Used: 73 MB\tInit Duration: 166.62 ms\t\n');
    expect(reportLine({ requestId: 'r', durationMs: 1000, billedDurationMs: 1000, memorySizeMb: 128, maxMemoryUsedMb: 5, status: 'timeout' })).toContain(
      'Status: timeout\t',
    );
  });

  it('bills whole milliseconds, rounded up', () => {
    expect(billedDurationMs(0.2)).toBe(1);
    expect(billedDurationMs(79.01)).toBe(80);
    expect(billedDurationMs(80)).toBe(80);
  });

  it('tails the last 4 KB on a character boundary', () => {
    const log = 'é'.repeat(3000) + 'END';
    const tail = Buffer.from(tailBase64(log), 'base64').toString('utf8');
    expect(Buffer.byteLength(tail)).toBeLessThanOrEqual(4096);
    expect(tail.endsWith('END')).toBe(true);
    expect(tail).not.toContain('\uFFFD');
  });
});
