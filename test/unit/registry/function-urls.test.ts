import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { caught, fnInput, setup, type Env } from './helpers.js';

let env: Env;
beforeEach(async () => {
  env = await setup();
  await env.registry.createFunction(await fnInput('f'));
  await env.registry.publishVersion('f', {});
  await env.registry.createAlias('f', { Name: 'live', FunctionVersion: '1' });
});
afterEach(() => env.cleanup());

describe('function URL configs in the registry', () => {
  it('stamps CreationTime once and LastModifiedTime on every update, from the clock', async () => {
    const created = await env.registry.createFunctionUrlConfig('f', undefined, { AuthType: 'NONE' });
    expect(created.config).toEqual({ AuthType: 'NONE', CreationTime: '2026-01-02T03:04:05.678Z', LastModifiedTime: '2026-01-02T03:04:05.678Z' });
    expect(created.urlId).toMatch(/^[a-z0-9]{32}$/);
    await env.advance(60_000);
    const updated = await env.registry.updateFunctionUrlConfig('f', undefined, { Cors: { AllowOrigins: ['*'] } });
    expect(updated).toMatchObject({
      urlId: created.urlId,
      config: { AuthType: 'NONE', Cors: { AllowOrigins: ['*'] }, CreationTime: '2026-01-02T03:04:05.678Z', LastModifiedTime: '2026-01-02T03:05:05.678Z' },
    });
  });

  it('keeps the URL id across a reopen, and finds the config by it', async () => {
    const own = await env.registry.createFunctionUrlConfig('f', undefined, { AuthType: 'NONE' });
    const live = await env.registry.createFunctionUrlConfig('f', 'live', { AuthType: 'AWS_IAM', InvokeMode: 'BUFFERED' });
    expect(live.urlId).not.toBe(own.urlId);
    const reopened = await env.reopen();
    expect(reopened.getFunctionUrlConfig('f', undefined).urlId).toBe(own.urlId);
    expect(reopened.functionUrlById(live.urlId)).toEqual(live);
    expect(reopened.functionUrlById('nope')).toBeUndefined();
  });

  it('drops an alias’s config with the alias and every config with the function', async () => {
    const own = await env.registry.createFunctionUrlConfig('f', undefined, { AuthType: 'NONE' });
    const live = await env.registry.createFunctionUrlConfig('f', 'live', { AuthType: 'NONE' });
    await env.registry.deleteAlias('f', 'live');
    expect(env.registry.functionUrlById(live.urlId)).toBeUndefined();
    expect(env.registry.functionUrlById(own.urlId)).toBeDefined();
    await env.registry.deleteFunction('f');
    expect(env.registry.functionUrlById(own.urlId)).toBeUndefined();
  });

  it('checks a qualifier given to it directly, as the API does', async () => {
    for (const q of ['1', '$LATEST', '']) {
      const err = await caught(() => env.registry.getFunctionUrlConfig('f', q));
      expect(err, q).toMatchObject({ code: 'ValidationException' });
    }
  });
});
