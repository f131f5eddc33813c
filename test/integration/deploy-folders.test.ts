import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployFolders } from '../../src/cli/deploy-folders.js';
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
    expect((await deployFolders(h.laminar, dir)).sort()).toEqual(['esm-greeter', 'hello', 'python-runtime', 'shell-runtime', 'with-dependency', 'with-layer']);
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

  it("publishes the layer folders a laminar.json names, once per content, and the function uses them", async () => {
    await deployFolders(h.laminar, dir);
    const layerArn = (v: number) => `arn:aws:lambda:us-east-1:000000000000:layer:string-tools:${v}`;
    const first = h.laminar.registry.getFunctionConfiguration('with-layer');
    expect(first.Layers?.map((l) => l.Arn)).toEqual([layerArn(1)]);
    // The folder of layers is not a function.
    expect(() => h.laminar.registry.getFunctionConfiguration('layers')).toThrow(/Function not found/);

    await deployFolders(h.laminar, dir);
    expect(h.laminar.registry.getFunctionConfiguration('with-layer').RevisionId).toBe(first.RevisionId);
    expect(h.laminar.registry.listLayerVersions('string-tools', {}).items).toHaveLength(1);

    writeFileSync(join(dir, 'layers', 'string-tools', 'nodejs', 'node_modules', 'string-tools', 'extra.js'), 'module.exports = 1;\n');
    await deployFolders(h.laminar, dir);
    expect(h.laminar.registry.getFunctionConfiguration('with-layer').Layers?.map((l) => l.Arn)).toEqual([layerArn(2)]);
  });

  it('refuses a layer folder outside the folder of functions, or one that does not exist', async () => {
    const other = mkdtempSync(join(tmpdir(), 'laminar-folders-'));
    try {
      mkdirSync(join(other, 'fn'));
      writeFileSync(join(other, 'fn', 'index.js'), 'exports.handler = async () => 1;\n');
      const settings = join(other, 'fn', 'laminar.json');
      writeFileSync(settings, JSON.stringify({ LaminarLayers: ['../../outside'] }));
      await expect(deployFolders(h.laminar, other)).rejects.toThrow(`${settings}: LaminarLayers entry "../../outside" must name a folder inside ${other}`);
      writeFileSync(settings, JSON.stringify({ LaminarLayers: ['../missing'] }));
      await expect(deployFolders(h.laminar, other)).rejects.toThrow(`${settings}: LaminarLayers entry "../missing" is not a folder: ${join(other, 'missing')}`);
      expect(() => h.laminar.registry.getFunctionConfiguration('fn')).toThrow(/Function not found/);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
});
