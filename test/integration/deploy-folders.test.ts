import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployFolders } from '../../src/app.js';
import { EXAMPLES, startLaminar, type Harness } from '../helpers/laminar.js';

describe('serve --functions DIR', () => {
  let h: Harness;
  let dir: string;
  beforeAll(async () => {
    h = await startLaminar();
    dir = mkdtempSync(join(tmpdir(), 'laminar-folders-'));
    cpSync(EXAMPLES, dir, { recursive: true });
  });
  afterAll(async () => {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates each folder once, leaves unchanged ones alone, and updates only what changed', async () => {
    expect((await deployFolders(h.laminar, dir)).sort()).toEqual(['esm-greeter', 'hello', 'python-runtime', 'shell-runtime', 'with-dependency']);
    const before = Object.fromEntries(['hello', 'with-dependency'].map((n) => [n, h.laminar.registry.getFunctionConfiguration(n)]));
    expect(before['with-dependency']).toMatchObject({ Handler: 'app.handler', MemorySize: 256, Timeout: 5 });

    await deployFolders(h.laminar, dir);
    expect(h.laminar.registry.getFunctionConfiguration('hello').RevisionId).toBe(before.hello?.RevisionId);
    expect(h.laminar.registry.getFunctionConfiguration('with-dependency').RevisionId).toBe(before['with-dependency']?.RevisionId);

    writeFileSync(join(dir, 'hello', 'index.js'), "exports.handler = async () => 'changed';\n");
    writeFileSync(join(dir, 'with-dependency', 'laminar.json'), JSON.stringify({ Handler: 'app.handler', MemorySize: 512, Timeout: 5 }));
    await deployFolders(h.laminar, dir);
    const hello = h.laminar.registry.getFunctionConfiguration('hello');
    expect(hello.CodeSha256).not.toBe(before.hello?.CodeSha256);
    const dep = h.laminar.registry.getFunctionConfiguration('with-dependency');
    expect(dep.CodeSha256).toBe(before['with-dependency']?.CodeSha256);
    expect(dep.MemorySize).toBe(512);
  });
});
