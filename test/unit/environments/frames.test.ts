import { describe, expect, it } from 'vitest';
import { encodeFrame, FrameReader } from '../../../src/environments/process/node/frames.js';

function collect(): { frames: [unknown, string][]; reader: FrameReader<unknown> } {
  const frames: [unknown, string][] = [];
  return { frames, reader: new FrameReader((header, body) => frames.push([header, body.toString('utf8')])) };
}

describe('frames between a Node.js process environment and its runtime', () => {
  const messages: [object, string][] = [
    [{ kind: 'invoke', requestId: 'a' }, '{"x":1}'],
    [{ kind: 'invoke', ok: true, note: 'héllo ✓' }, ''],
    [{ kind: 'init', ok: false }, 'ü'.repeat(70_000)],
  ];
  const stream = Buffer.concat(messages.map(([h, b]) => encodeFrame(h, b)));

  it('carries headers and bodies byte for byte, text and Buffer bodies alike', () => {
    const { frames, reader } = collect();
    reader.push(Buffer.concat([encodeFrame({ n: 1 }, Buffer.from([0xff, 0x00, 0x7f])), encodeFrame({ n: 2 }, 'text')]));
    expect(frames.map(([h]) => h)).toEqual([{ n: 1 }, { n: 2 }]);
    expect(frames[1]?.[1]).toBe('text');
  });

  it.each([1, 3, 7, 8, 9, 1000, 65_536])('reassembles a stream cut every %i bytes', (size) => {
    const { frames, reader } = collect();
    for (let at = 0; at < stream.length; at += size) reader.push(stream.subarray(at, at + size));
    expect(frames).toEqual(messages);
  });

  it('delivers whole frames of one chunk at once and keeps a trailing partial frame', () => {
    const { frames, reader } = collect();
    reader.push(stream.subarray(0, stream.length - 5));
    expect(frames).toHaveLength(2);
    reader.push(stream.subarray(stream.length - 5));
    expect(frames).toEqual(messages);
  });
});
