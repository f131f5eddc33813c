import { join } from 'node:path';
import { describe, it, expect } from 'vitest';
import { loadHandler, parseHandler, resolveHandler } from '../../../src/environments/node/handler-loader.js';
import { FIXTURES } from './helpers.js';

describe('parseHandler', () => {
  it.each([
    ['index.handler', { moduleRoot: '', moduleName: 'index', handlerPath: ['handler'] }],
    ['src/api/index.handler', { moduleRoot: 'src/api', moduleName: 'index', handlerPath: ['handler'] }],
    ['file.a.b', { moduleRoot: '', moduleName: 'file', handlerPath: ['a', 'b'] }],
    ['src/lib/handler.a.b.handler', { moduleRoot: 'src/lib', moduleName: 'handler', handlerPath: ['a', 'b', 'handler'] }],
    ['dir/sub/app.main', { moduleRoot: 'dir/sub', moduleName: 'app', handlerPath: ['main'] }],
    ['my-module_1.run', { moduleRoot: '', moduleName: 'my-module_1', handlerPath: ['run'] }],
  ])('%s', (handler, expected) => {
    expect(parseHandler(handler)).toEqual(expected);
  });

  it.each(['../index.handler', 'src/../index.handler', 'index..handler', 'a/..b/index.handler'])(
    'rejects %s (contains ..) as Runtime.MalformedHandlerName',
    (handler) => {
      expect(() => parseHandler(handler)).toThrowError(expect.objectContaining({ name: 'Runtime.MalformedHandlerName' }));
      expect(() => parseHandler(handler)).toThrow(`Bad handler ${handler}:`);
    },
  );

  it.each(['index', 'index.', '.handler', 'src/index', 'index.a..b', ''])('rejects %j without module and export', (handler) => {
    expect(() => parseHandler(handler)).toThrowError(expect.objectContaining({ name: 'Runtime.MalformedHandlerName' }));
  });
});

describe('resolveHandler', () => {
  const fn = (): string => 'ok';
  const parsed = (h: string) => parseHandler(h);

  it('walks nested properties', () => {
    expect(resolveHandler({ a: { b: { handler: fn } } }, parsed('x.a.b.handler'), 'x.a.b.handler')).toBe(fn);
  });

  it('falls back to the default export (CommonJS seen through import())', () => {
    expect(resolveHandler({ default: { handler: fn } }, parsed('index.handler'), 'index.handler')).toBe(fn);
  });

  it.each([
    [{}, 'index.handler is undefined or not exported'],
    [{ handler: 0 }, 'index.handler is undefined or not exported'],
    [{ handler: 'text' }, 'index.handler is not a function'],
    [{ handler: { nested: true } }, 'index.handler is not a function'],
  ])('%j → Runtime.HandlerNotFound', (exportsObject, message) => {
    expect(() => resolveHandler(exportsObject, parsed('index.handler'), 'index.handler')).toThrowError(
      expect.objectContaining({ name: 'Runtime.HandlerNotFound', message }),
    );
  });
});

// In-process loading goes through vitest's module loader; the thread tests cover real Node
// loading (syntax errors in particular, which vite reports in its own words).
describe('loadHandler (in-process)', () => {
  const fakeContext = {};
  const noCallback = (): void => undefined;

  it.each([
    ['echo', 'index.handler'],
    ['esm', 'index.handler'],
    ['mjs', 'index.handler'],
    ['cjs-ext', 'index.handler'],
    ['nested', 'src/lib/handler.a.b.handler'],
    ['with-dep', 'index.handler'],
  ])('loads %s with %s', async (dir, handler) => {
    const fn = await loadHandler(join(FIXTURES, dir), handler);
    expect(typeof fn).toBe('function');
  });

  it('resolves a module-local node_modules dependency', async () => {
    const fn = await loadHandler(join(FIXTURES, 'with-dep'), 'index.handler');
    await expect(fn({ value: 42 }, fakeContext, noCallback)).resolves.toEqual({ padded: '00042' });
  });

  it('reports a missing handler module like the Node runtime', async () => {
    const err = await loadHandler(join(FIXTURES, 'echo'), 'missing.handler', '/runtime/bootstrap.js').catch((e: unknown) => e);
    expect(err).toMatchObject({
      name: 'Runtime.ImportModuleError',
      message: "Error: Cannot find module 'missing'\nRequire stack:\n- /runtime/bootstrap.js",
    });
  });

  it('reports a missing dependency with the requiring file in the stack', async () => {
    const err = await loadHandler(join(FIXTURES, 'import-error'), 'index.handler').catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'Runtime.ImportModuleError' });
    expect((err as Error).message).toMatch(/^Error: Cannot find module 'this-package-does-not-exist'\nRequire stack:\n- .*import-error\/index\.js/);
  });

  it.each([
    ['not-exported', 'index.handler is undefined or not exported'],
    ['not-function', 'index.handler is not a function'],
  ])('%s → Runtime.HandlerNotFound', async (dir, message) => {
    await expect(loadHandler(join(FIXTURES, dir), 'index.handler')).rejects.toMatchObject({ name: 'Runtime.HandlerNotFound', message });
  });
});
