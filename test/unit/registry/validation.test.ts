import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RESERVED_ENV_KEYS } from '../../../src/registry/validation.js';
import type { CreateFunctionInput } from '../../../src/registry/types.js';
import { caught, fnInput, makeZip, setup, type Env } from './helpers.js';

let env: Env;
beforeEach(async () => {
  env = await setup();
});
afterEach(() => env.cleanup());

async function createError(extra: Partial<CreateFunctionInput>, name = 'f') {
  return caught(async () => env.registry.createFunction(await fnInput(name, extra)));
}

describe('names given to the registry', () => {
  it('checks the function name', async () => {
    const long = await createError({}, 'a'.repeat(65));
    expect(long.message).toBe(
      `1 validation error detected: Value '${'a'.repeat(65)}' at 'functionName' failed to satisfy constraint: Member must have length less than or equal to 64`,
    );
    const bad = await createError({}, 'has space');
    expect(bad.code).toBe('ValidationException');
    expect(bad.message).toContain("Value 'has space' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern:");
    // A name that cannot exist is simply not found when looked up, as in AWS.
    expect((await caught(() => env.registry.getFunction('a'.repeat(65)))).code).toBe('ResourceNotFoundException');
    expect((await caught(() => env.registry.getFunction(''))).code).toBe('ValidationException');
  });
});

describe('semantic validation (InvalidParameterValueException)', () => {
  it('accepts only Node.js runtimes', async () => {
    const err = await createError({ Runtime: 'python3.12' });
    expect(err.code).toBe('InvalidParameterValueException');
    expect(err.message).toMatch(/^The runtime parameter of python3\.12 is not supported by Laminar/);
    expect(err.message).toContain('nodejs22.x');
    for (const runtime of ['nodejs18.x', 'nodejs22.x', 'nodejs24.x']) {
      await env.registry.createFunction(await fnInput(`f-${runtime.replace('.', '-')}`, { Runtime: runtime }));
    }
  });

  it('requires a handler for zip packages', async () => {
    const input = await fnInput('f');
    delete input.Handler;
    const err = await caught(() => env.registry.createFunction(input));
    expect(err.code).toBe('InvalidParameterValueException');
    expect(err.message).toBe('Handler is required for .zip deployment packages.');
  });

  it('refuses reserved environment keys, naming them', async () => {
    const err = await createError({ Environment: { Variables: { AWS_REGION: 'x', OK_KEY: 'y', TZ: 'z' } } });
    expect(err.code).toBe('InvalidParameterValueException');
    expect(err.message).toBe(
      'Lambda was unable to configure your environment variables because the environment variables you have provided ' +
        'contains reserved keys that are currently not supported for modification. Reserved keys used in this request: AWS_REGION, TZ',
    );
    expect(RESERVED_ENV_KEYS).toContain('AWS_LAMBDA_RUNTIME_API');
    expect(RESERVED_ENV_KEYS).toHaveLength(19);
  });

  it('refuses environment variables over 4 KB, quoting the measured string', async () => {
    const vars = { BIG: 'x'.repeat(4100) };
    const err = await createError({ Environment: { Variables: vars } });
    expect(err.code).toBe('InvalidParameterValueException');
    expect(err.message).toBe(
      'Lambda was unable to configure your environment variables because the environment variables you have provided ' +
        `exceeded the 4KB limit. String measured: ${JSON.stringify(vars)}`,
    );
    // Exactly 4096 bytes of JSON is still accepted.
    await env.registry.createFunction(await fnInput('ok', { Environment: { Variables: { BIG: 'x'.repeat(4096 - 10) } } }));
  });

  it('accepts only inline zips', async () => {
    for (const Code of [{ S3Bucket: 'b', S3Key: 'k' }, { ImageUri: 'repo/image:1' }, {}]) {
      const err = await createError({ Code });
      expect(err.code).toBe('InvalidParameterValueException');
      expect(err.message).toContain('Laminar accepts only Code.ZipFile');
    }
    await env.registry.createFunction(await fnInput('f'));
    const upd = await caught(() => env.registry.updateFunctionCode('f', { S3Bucket: 'b', S3Key: 'k' }));
    expect(upd.message).toContain('Laminar accepts only Code.ZipFile');
  });

  it('refuses zips over the zipped limit with RequestTooLargeException', async () => {
    env.cleanup();
    env = await setup({ limits: { codeSizeZipped: 100 } });
    const zip = await makeZip([{ name: 'index.js', content: Buffer.alloc(500, 1) }]);
    const err = await createError({ Code: { ZipFile: zip } });
    expect(err.code).toBe('RequestTooLargeException');
    expect(err.statusCode).toBe(413);
    expect(err.message).toBe('Zipped size must be smaller than 100 bytes');
  });

  it('refuses code beyond the account storage limit', async () => {
    env.cleanup();
    const zip = await makeZip([{ name: 'index.js', content: 'x' }]);
    env = await setup({ limits: { totalCodeSize: zip.length * 2 } });
    await env.registry.createFunction(await fnInput('a', { Code: { ZipFile: zip } }));
    await env.registry.createFunction(await fnInput('b', { Code: { ZipFile: zip } }));
    const err = await createError({ Code: { ZipFile: zip } }, 'c');
    expect(err.code).toBe('CodeStorageExceededException');
  });
});
