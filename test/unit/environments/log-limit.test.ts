import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LogLimiter, LOG_LINE_BYTES, lineTruncatedMarker, outputTruncatedLine, utf8Head } from '../../../src/environments/log-limit.js';

const bytes = (s: string): number => Buffer.byteLength(s);

/** Feeds `writes` to a limiter and returns what it kept and how it closed the phase. */
function run(writes: string[], phaseBytes: number, lineLimit = LOG_LINE_BYTES): { kept: string; closing: string; limiter: LogLimiter } {
  const limiter = new LogLimiter(phaseBytes, lineLimit);
  let kept = '';
  for (const w of writes) kept += limiter.write(w);
  return { kept, closing: limiter.end(), limiter };
}

describe('LogLimiter', () => {
  it.each([
    { case: 'short lines pass unchanged', writes: ['a\n', 'bc\n'], phase: 100, line: 10, kept: 'a\nbc\n', closing: '' },
    { case: 'an open last line is ended', writes: ['a\n', 'bc'], phase: 100, line: 10, kept: 'a\nbc', closing: '\n' },
    { case: 'a long line is cut with its count', writes: ['0123456789abcdef\n'], phase: 100, line: 10, kept: `0123456789${lineTruncatedMarker(6)}\n`, closing: '' },
    { case: 'a line cut across writes counts every piece', writes: ['01234', '56789ab', 'cdef', '\nok\n'], phase: 100, line: 10, kept: `0123456789${lineTruncatedMarker(6)}\nok\n`, closing: '' },
    { case: 'an open cut line gets its marker at the end', writes: ['0123456789abc'], phase: 100, line: 10, kept: '0123456789', closing: `${lineTruncatedMarker(3)}\n` },
    { case: 'the budget keeps the first bytes and counts the rest', writes: ['aaaa\n', 'bbbb\n', 'cccc\n'], phase: 10, line: 100, kept: 'aaaa\nbbbb\n', closing: outputTruncatedLine(5, 10) },
    { case: 'a line cut by the budget is ended before the marker', writes: ['aaaa\nbbbb\n'], phase: 7, line: 100, kept: 'aaaa\nbb', closing: `\n${outputTruncatedLine(3, 7)}` },
    {
      case: 'the cut bytes of a line whose marker does not fit are counted by the phase',
      writes: ['0123456789abcdef\n'],
      phase: 20,
      line: 10,
      kept: '0123456789',
      closing: `\n${outputTruncatedLine(7, 20)}`,
    },
  ])('$case', ({ writes, phase, line, kept, closing }) => {
    const r = run(writes, phase, line);
    expect(r.kept).toBe(kept);
    expect(r.closing).toBe(closing);
  });

  it('cuts a 1 MiB line at 256 KiB and says how many bytes it dropped', () => {
    const r = run(['start\n', 'y'.repeat(1024 * 1024) + '\n', 'after\n'], 4 * 1024 * 1024);
    expect(r.kept).toBe(`start\n${'y'.repeat(256 * 1024)}${lineTruncatedMarker(768 * 1024)}\nafter\n`);
    expect(r.kept).toContain('… [Laminar: line truncated, 786432 bytes dropped]');
  });

  it('starts every phase afresh', () => {
    const limiter = new LogLimiter(8, 100);
    expect(limiter.write('123456789\n')).toBe('12345678');
    expect(limiter.end()).toBe(`\n${outputTruncatedLine(2, 8)}`);
    expect(limiter.write('ok\n')).toBe('ok\n');
    expect(limiter.end()).toBe('');
    limiter.write('discarded, more than eight');
    limiter.reset();
    expect(limiter.write('fresh\n')).toBe('fresh\n');
  });

  it('never splits a character, counting UTF-8 bytes', () => {
    // 'é' is 2 bytes, '😀' is 4 (a surrogate pair in UTF-16).
    expect(utf8Head('éééé', 5)).toEqual({ text: 'éé', bytes: 4 });
    expect(utf8Head('a😀b', 4)).toEqual({ text: 'a', bytes: 1 });
    expect(utf8Head('a😀b', 5)).toEqual({ text: 'a😀', bytes: 5 });
    expect(utf8Head('😀😀', 2)).toEqual({ text: '', bytes: 0 });
    const r = run(['é'.repeat(10) + '\n'], 1000, 7);
    expect(r.kept).toBe(`ééé${lineTruncatedMarker(14)}\n`);
  });

  it('keeps within the budget, and accounts for every byte written (property)', () => {
    const piece = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('\n', 'é', '😀', 'x'.repeat(70)));
    fc.assert(
      fc.property(fc.array(fc.array(piece, { maxLength: 6 }).map((p) => p.join('')), { maxLength: 30 }), fc.integer({ min: 1, max: 400 }), fc.integer({ min: 1, max: 50 }), (writes, phase, line) => {
        const { kept, closing } = run(writes, phase, line);
        expect(bytes(kept)).toBeLessThanOrEqual(phase);
        expect(kept).not.toContain('\uFFFD');
        const all = kept + closing;
        const final = /\[Laminar: output truncated, (\d+) bytes dropped beyond logBytesPerInvocation \(\d+ bytes\)\]\n$/.exec(all);
        let body = final ? all.slice(0, final.index) : all;
        const droppedByPhase = final ? Number(final[1]) : 0;
        let droppedByLines = 0;
        body = body.replace(/… \[Laminar: line truncated, (\d+) bytes dropped\]/g, (_m, n: string) => {
          droppedByLines += Number(n);
          return '';
        });
        for (const l of body.split('\n')) expect(bytes(l)).toBeLessThanOrEqual(line);
        // When `end()` closes an open line, the newline it adds was not written by the function.
        const closesLine = (final ? closing.slice(0, closing.length - final[0].length) : closing) !== '';
        expect(bytes(body) - (closesLine ? 1 : 0) + droppedByLines + droppedByPhase).toBe(bytes(writes.join('')));
      }),
      { numRuns: 500 },
    );
  });
});
