import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { caught, fnInput, makeZip, patchName, setup, type Env } from './helpers.js';

let env: Env;
beforeEach(async () => {
  env = await setup();
});
afterEach(() => env.cleanup());

const codeRoot = (): string => path.join(env.dataDir, 'code');

/**
 * Everything under dataDir except the database files and the code root's CommonJS boundary
 * (written at open): a refused upload must add nothing.
 */
function written(): string[] {
  const top = readdirSync(env.dataDir).filter((f) => !f.startsWith('registry.db'));
  const code = readdirSync(codeRoot()).filter((f) => f !== 'package.json');
  return [...top, ...code.map((f) => `code/${f}`)].sort();
}

async function refused(zip: Buffer, text: string): Promise<void> {
  const err = await caught(async () => env.registry.createFunction(await fnInput('f', { Code: { ZipFile: zip } })));
  expect(err.code).toBe('InvalidParameterValueException');
  expect(err.message).toContain(text);
  expect(written()).toEqual(['code']);
  expect(existsSync(path.join(env.dataDir, 'evil.txt'))).toBe(false);
  expect((await caught(() => env.registry.getFunction('f'))).code).toBe('ResourceNotFoundException');
}

describe('zip-slip protection', () => {
  it('refuses ../ entries', async () => {
    const zip = patchName(await makeZip([{ name: 'index.js', content: 'ok' }, { name: 'aa/evil.txt', content: 'pwn' }]), 'aa/evil.txt', '../evil.txt');
    await refused(zip, '"../evil.txt"');
  });

  it('refuses absolute paths', async () => {
    const zip = patchName(await makeZip([{ name: 'xabs.txt', content: 'pwn' }]), 'xabs.txt', '/abs.txt');
    await refused(zip, '"/abs.txt"');
  });

  it('refuses backslash tricks', async () => {
    const zip = patchName(await makeZip([{ name: 'aa_evil.txt', content: 'pwn' }]), 'aa_evil.txt', '..\\evil.txt');
    await refused(zip, '"..\\evil.txt"');
  });

  it('refuses a symlink that points outside the code folder', async () => {
    const zip = await makeZip([
      { name: 'index.js', content: 'ok' },
      { name: 'passwd', content: '../../etc/passwd', mode: 0o120777 },
    ]);
    await refused(zip, '"passwd" is a symbolic link to "../../etc/passwd"');
  });

  it('refuses a symlink that escapes through another symlink', async () => {
    const zip = await makeZip([
      { name: 'up', content: '.', mode: 0o120777 },
      { name: 'sneaky', content: 'up/up/../..', mode: 0o120777 },
    ]);
    await refused(zip, '"sneaky"');
  });

  it('refuses entries written through a symlink', async () => {
    const zip = await makeZip([
      { name: 'sub/keep.txt', content: 'x' },
      { name: 'dir', content: 'sub', mode: 0o120777 },
      { name: 'dir/evil.txt', content: 'pwn' },
    ]);
    await refused(zip, '"dir/evil.txt" lies under a symbolic link');
  });

  it('extracts a safe archive with folders, modes and inner symlinks', async () => {
    const zip = await makeZip([
      { name: 'index.js', content: 'exports.handler = async () => 1;' },
      { name: 'lib/', dir: true },
      { name: 'lib/deep/util.js', content: 'module.exports = 2;' },
      { name: 'bin/run', content: '#!/bin/sh\necho hi\n', mode: 0o100755 },
      { name: 'lib/link.js', content: 'deep/util.js', mode: 0o120777 },
    ]);
    await env.registry.createFunction(await fnInput('f', { Code: { ZipFile: zip } }));
    const dir = env.registry.resolve('f', undefined).codeDir;
    expect(path.dirname(dir)).toBe(codeRoot());
    expect(readFileSync(path.join(dir, 'lib/deep/util.js'), 'utf8')).toBe('module.exports = 2;');
    expect(statSync(path.join(dir, 'bin/run')).mode & 0o777).toBe(0o755);
    expect(statSync(path.join(dir, 'index.js')).mode & 0o111).toBe(0);
    expect(lstatSync(path.join(dir, 'lib/link.js')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(path.join(dir, 'lib/link.js'))).toBe('deep/util.js');
    expect(readFileSync(path.join(dir, 'lib/link.js'), 'utf8')).toBe('module.exports = 2;');
    // The zip is kept next to its extraction, and nothing temporary is left behind.
    expect(readdirSync(codeRoot()).sort()).toEqual([path.basename(dir), `${path.basename(dir)}.zip`, 'package.json'].sort());
  });
});

describe('size and integrity', () => {
  it('refuses archives whose unzipped size is over the limit, writing nothing', async () => {
    env.cleanup();
    env = await setup({ limits: { codeSizeUnzipped: 100 } });
    const zip = await makeZip([
      { name: 'a.js', content: 'x'.repeat(60) },
      { name: 'b.js', content: 'y'.repeat(60) },
    ]);
    const err = await caught(async () => env.registry.createFunction(await fnInput('f', { Code: { ZipFile: zip } })));
    expect(err.code).toBe('InvalidParameterValueException');
    expect(err.message).toBe('Unzipped size must be smaller than 100 bytes');
    expect(written()).toEqual(['code']);
  });

  it.each([
    ['not a zip', async () => Buffer.from('definitely not a zip file')],
    ['an empty buffer', async () => Buffer.alloc(0)],
    ['a truncated zip', async () => (await makeZip([{ name: 'index.js', content: 'x'.repeat(1000) }])).subarray(0, 80)],
    [
      'a zip with a damaged body',
      async () => {
        const zip = await makeZip([{ name: 'index.js', content: 'a fairly compressible body '.repeat(50) }]);
        zip.fill(0xff, 40, 70);
        return zip;
      },
    ],
  ])('refuses %s', async (_label, build) => {
    const err = await caught(async () => env.registry.createFunction(await fnInput('f', { Code: { ZipFile: await build() } })));
    expect(err.code).toBe('InvalidParameterValueException');
    expect(err.message).toBe('Could not unzip uploaded file. Please check your file, then try to upload again.');
    expect(written()).toEqual(['code']);
  });

  it('leaves the previous code in place when an update is refused', async () => {
    await env.registry.createFunction(await fnInput('f'));
    const before = env.registry.getFunctionConfiguration('f');
    const bad = patchName(await makeZip([{ name: 'aa/evil.txt', content: 'x' }]), 'aa/evil.txt', '../evil.txt');
    const err = await caught(() => env.registry.updateFunctionCode('f', { ZipFile: bad }));
    expect(err.code).toBe('InvalidParameterValueException');
    expect(env.registry.getFunctionConfiguration('f')).toEqual(before);
    expect(readdirSync(codeRoot())).toHaveLength(3);
  });
});
