import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OptDirs } from '../../../src/environments/sandbox/opt-dir.js';

const root = mkdtempSync(join(tmpdir(), 'laminar-opt-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function layer(name: string, files: Record<string, string>): string {
  const dir = join(root, 'layers', name);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  mkdirSync(dir, { recursive: true });
  return dir;
}

describe('OptDirs', () => {
  const a = layer('a', { 'bin/tool': 'a tool', 'nodejs/node_modules/x/index.js': 'x from a', 'only-a': '1' });
  const b = layer('b', { 'bin/tool': 'b tool', 'nodejs/node_modules/y/index.js': 'y from b' });
  symlinkSync('tool', join(b, 'bin', 'tool-link'));
  const opt = new OptDirs(join(root, 'opt'));

  it('merges layers in order: a later layer replaces a file, folders are united', async () => {
    const merged = (await opt.forLayers([a, b])) as string;
    expect(readFileSync(join(merged, 'bin/tool'), 'utf8')).toBe('b tool');
    expect(readFileSync(join(merged, 'nodejs/node_modules/x/index.js'), 'utf8')).toBe('x from a');
    expect(readFileSync(join(merged, 'nodejs/node_modules/y/index.js'), 'utf8')).toBe('y from b');
    expect(readFileSync(join(merged, 'only-a'), 'utf8')).toBe('1');
    expect(readlinkSync(join(merged, 'bin/tool-link'))).toBe('tool');
    // Hard links: the layer's bytes are not copied.
    expect(statSync(join(merged, 'only-a')).ino).toBe(statSync(join(a, 'only-a')).ino);
  });

  it('the other order gives the other winner; one folder per list, shared by concurrent callers', async () => {
    const [x, y] = await Promise.all([opt.forLayers([b, a]), opt.forLayers([b, a])]);
    expect(x).toBe(y);
    expect(readFileSync(join(x as string, 'bin/tool'), 'utf8')).toBe('a tool');
    expect(x).not.toBe(await opt.forLayers([a, b]));
    // A new server (a new OptDirs) finds the folder already merged.
    expect(await new OptDirs(join(root, 'opt')).forLayers([b, a])).toBe(x);
  });

  it('no layers, no /opt', async () => {
    expect(await opt.forLayers([])).toBeUndefined();
  });
});
