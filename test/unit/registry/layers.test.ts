/**
 * Layer storage in the registry: version numbering across reopen, and garbage collection of
 * layer archives, which function snapshots keep alive after their layer version is deleted.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { digest } from '../../../src/registry/code-store.js';
import { caught, fnInput, handlerZip, makeZip, setup, type Env } from './helpers.js';

let env: Env;
beforeEach(async () => {
  env = await setup();
});
afterEach(() => env.cleanup());

const layerZip = (tag: string) => makeZip([{ name: 'nodejs/node_modules/lib/index.js', content: `module.exports = ${JSON.stringify(tag)};` }]);
/** The extracted folder and the zip of an archive. */
const stored = (zip: Buffer) => {
  const { hash } = digest(zip);
  return [path.join(env.dataDir, 'code', hash), path.join(env.dataDir, 'code', `${hash}.zip`)];
};
const present = (zip: Buffer) => stored(zip).every((f) => existsSync(f));
const absent = (zip: Buffer) => stored(zip).every((f) => !existsSync(f));

describe('layer versions in the store', () => {
  it('numbers versions per layer from 1 and never reuses a number, also after a reopen', async () => {
    const zip = await layerZip('a');
    expect((await env.registry.publishLayerVersion('a', { Content: { ZipFile: zip } })).Version).toBe(1);
    expect((await env.registry.publishLayerVersion('a', { Content: { ZipFile: zip } })).Version).toBe(2);
    expect((await env.registry.publishLayerVersion('b', { Content: { ZipFile: zip } })).Version).toBe(1);
    await env.registry.deleteLayerVersion('a', 2);
    await env.registry.deleteLayerVersion('a', 1);
    await env.reopen();
    expect((await env.registry.publishLayerVersion('a', { Content: { ZipFile: zip } })).Version).toBe(3);
    expect(env.registry.listLayerVersions('a', {}).items.map((v) => v.Version)).toEqual([3]);
  });

  it('keeps what was published, with the time of the injected clock', async () => {
    const zip = await layerZip('kept');
    await env.registry.publishLayerVersion('kept', {
      Content: { ZipFile: zip },
      Description: 'd',
      CompatibleRuntimes: ['nodejs20.x'],
      CompatibleArchitectures: ['arm64'],
      LicenseInfo: 'MIT',
    });
    await env.reopen();
    const got = env.registry.getLayerVersion('kept', 1);
    expect(got).toMatchObject({
      LayerArn: 'arn:aws:lambda:us-east-1:123456789012:layer:kept',
      LayerVersionArn: 'arn:aws:lambda:us-east-1:123456789012:layer:kept:1',
      Description: 'd',
      CreatedDate: '2026-01-02T03:04:05.678+0000',
      CompatibleRuntimes: ['nodejs20.x'],
      CompatibleArchitectures: ['arm64'],
      LicenseInfo: 'MIT',
      Content: { CodeSha256: digest(zip).sha256, CodeSize: zip.length },
    });
  });

  it('counts layers against the code storage quota', async () => {
    const zip = await layerZip('quota');
    await env.registry.publishLayerVersion('quota', { Content: { ZipFile: zip } });
    expect(env.registry.usage().totalCodeSize).toBe(zip.length);
    await env.reopen({ limits: { totalCodeSize: zip.length + 10 } });
    const err = await caught(() => env.registry.publishLayerVersion('quota', { Content: { ZipFile: zip } }));
    expect(err.code).toBe('CodeStorageExceededException');
  });
});

describe('garbage collection of layer archives', () => {
  it('removes an archive with the last layer version that uses it', async () => {
    const zip = await layerZip('gc');
    await env.registry.publishLayerVersion('gc', { Content: { ZipFile: zip } });
    await env.registry.publishLayerVersion('gc', { Content: { ZipFile: zip } });
    expect(present(zip)).toBe(true);
    await env.registry.deleteLayerVersion('gc', 1);
    expect(present(zip)).toBe(true);
    await env.registry.deleteLayerVersion('gc', 2);
    expect(absent(zip)).toBe(true);
  });

  it('keeps a deleted layer version for the function versions that use it, across a reopen, until the last goes', async () => {
    const zip = await layerZip('used');
    const { LayerVersionArn } = await env.registry.publishLayerVersion('used', { Content: { ZipFile: zip } });
    await env.registry.createFunction(await fnInput('f', { Layers: [LayerVersionArn] }));
    await env.registry.publishVersion('f', {});
    await env.registry.updateFunctionConfiguration('f', { Layers: [] });
    await env.registry.deleteLayerVersion('used', 1);
    expect(present(zip)).toBe(true);

    // The start-up sweep removes unreferenced archives only.
    await env.reopen();
    expect(present(zip)).toBe(true);
    expect(env.registry.resolve('f', '1').layerDirs).toEqual([stored(zip)[0]]);
    expect(env.registry.resolve('f', undefined).layerDirs).toEqual([]);
    expect(env.registry.getFunctionConfiguration('f', '1').Layers).toEqual([{ Arn: LayerVersionArn, CodeSize: zip.length }]);

    await env.registry.deleteFunction('f', '1');
    expect(absent(zip)).toBe(true);
  });

  it("keeps the layers of $LATEST's previous snapshot while an update is in progress", async () => {
    await env.reopen({ activationDelayMs: 1000 });
    const zip = await layerZip('previous');
    const { LayerVersionArn } = await env.registry.publishLayerVersion('previous', { Content: { ZipFile: zip } });
    await env.registry.createFunction(await fnInput('g', { Layers: [LayerVersionArn] }));
    await env.advance(1000);
    await env.registry.deleteLayerVersion('previous', 1);
    await env.registry.updateFunctionConfiguration('g', { Layers: [] });
    // Invocations still run the snapshot from before the update, layers included.
    expect(env.registry.resolve('g', undefined).layerDirs).toEqual([stored(zip)[0]]);
    expect(present(zip)).toBe(true);
    await env.advance(1000);
    expect(env.registry.resolve('g', undefined).layerDirs).toEqual([]);
    expect(absent(zip)).toBe(true);
  });

  it('shares an archive between function code and a layer: it stays while either uses it', async () => {
    const zip = await handlerZip('exports.handler = async () => "shared";');
    await env.registry.publishLayerVersion('same-bytes', { Content: { ZipFile: zip } });
    await env.registry.createFunction(await fnInput('h', { Code: { ZipFile: zip } }));
    await env.registry.deleteLayerVersion('same-bytes', 1);
    expect(present(zip)).toBe(true);
    await env.registry.deleteFunction('h');
    expect(absent(zip)).toBe(true);
  });

  it('removes the archive of a publish that failed', async () => {
    const zip = await layerZip('too-big');
    await env.reopen({ limits: { codeSizeUnzipped: 10 } });
    const err = await caught(() => env.registry.publishLayerVersion('too-big', { Content: { ZipFile: zip } }));
    expect(err.code).toBe('InvalidParameterValueException');
    expect(absent(zip)).toBe(true);
    expect(env.registry.listLayerVersions('too-big', {}).items).toEqual([]);
  });
});

describe('code and layers together, unzipped', () => {
  const LIMIT = 1000;
  const sized = (name: string, bytes: number) => makeZip([{ name, content: Buffer.alloc(bytes, 'x') }]);
  const create = async (name: string, codeBytes: number, Layers: string[]) =>
    await env.registry.createFunction({ ...(await fnInput(name)), Code: { ZipFile: await sized('index.js', codeBytes) }, Layers });

  it('counts the code and every layer against the limit of one archive, also for layers measured after a reopen', async () => {
    env.cleanup();
    env = await setup({ limits: { codeSizeUnzipped: LIMIT } });
    const a = (await env.registry.publishLayerVersion('a', { Content: { ZipFile: await sized('nodejs/a.bin', 450) } })).LayerVersionArn;
    const b = (await env.registry.publishLayerVersion('b', { Content: { ZipFile: await sized('nodejs/b.bin', 450) } })).LayerVersionArn;
    await env.reopen();
    expect((await create('fits', 100, [a, b])).Layers).toHaveLength(2);
    const refused = await caught(() => create('over', 101, [a, b]));
    expect(refused.message).toBe(
      `Function code combined with layers exceeds the maximum allowed size of ${LIMIT} bytes. The actual size is 1001 bytes.`,
    );
    expect(refused.name).toBe('InvalidParameterValueException');
    // Without layers only the archive's own limit applies.
    expect((await create('alone', 900, [])).FunctionName).toBe('alone');
  });
});
