import { describe, expect, it } from 'vitest';
import { PEAK_READ_AFTER_MS, PEAK_READ_EVERY_MS, peakReadDue } from '../../../src/environments/peak-reads.js';

describe('peakReadDue: when Max Memory Used is read again', () => {
  const readAt = 10_000;

  it('reads first, whatever the invocation', () => {
    expect(peakReadDue(Number.NEGATIVE_INFINITY, 0, false, 0)).toBe(true);
    expect(peakReadDue(Number.NEGATIVE_INFINITY, 0, false)).toBe(true);
  });

  it('skips a quick successful invocation within a second of the last read', () => {
    expect(peakReadDue(readAt, readAt + 5, false, 0.2)).toBe(false);
    expect(peakReadDue(readAt, readAt + PEAK_READ_EVERY_MS - 1, false, PEAK_READ_AFTER_MS - 0.01)).toBe(false);
  });

  it('reads once a second has passed since the last read, however quick the invocations', () => {
    expect(peakReadDue(readAt, readAt + PEAK_READ_EVERY_MS, false, 0.2)).toBe(true);
    expect(peakReadDue(readAt, readAt + PEAK_READ_EVERY_MS, false)).toBe(true);
  });

  it('reads after an invocation that failed or ran long enough to touch memory', () => {
    expect(peakReadDue(readAt, readAt + 5, true, 0.2)).toBe(true);
    expect(peakReadDue(readAt, readAt + 5, false, PEAK_READ_AFTER_MS)).toBe(true);
  });

  it("ignores the invocation's length for a reader that passes none", () => {
    expect(peakReadDue(readAt, readAt + 5, false)).toBe(false);
    expect(peakReadDue(readAt, readAt + 5, true)).toBe(true);
  });
});
