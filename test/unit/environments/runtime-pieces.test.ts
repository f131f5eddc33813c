import { Writable } from 'node:stream';
import { describe, it, expect } from 'vitest';
import { buildFunctionEnv, FAKE_CREDENTIALS } from '../../../src/environments/environment-variables.js';
import { heapLimits } from '../../../src/environments/node/heap-limits.js';
import { formatLogLine } from '../../../src/environments/log-format.js';
import { crashOutcome, exitFailure, timeoutOutcome, unavailableOutcome } from '../../../src/environments/outcomes.js';
import { LogCapture, MAX_HELD_UNITS } from '../../../src/environments/node/log-capture.js';
import { outputTruncatedLine } from '../../../src/environments/log-limit.js';
import { classifyWorkerFailure } from '../../../src/environments/thread/worker-failure.js';
import {
  formatErrorForLog,
  ImportModuleError,
  toErrorPayload,
  UnhandledPromiseRejection,
  UserCodeSyntaxError,
} from '../../../src/environments/node/runtime-errors.js';
import { fixtureSpec } from './helpers.js';

describe('toErrorPayload', () => {
  it('keeps name, message and the stack split into lines for Errors', () => {
    class ValidationError extends Error {
      override name = 'ValidationError';
    }
    const payload = toErrorPayload(new ValidationError('bad input'));
    expect(payload.errorType).toBe('ValidationError');
    expect(payload.errorMessage).toBe('bad input');
    expect(payload.trace?.[0]).toBe('ValidationError: bad input');
    expect(payload.trace?.length).toBeGreaterThan(1);
  });

  it.each([
    ['plain', { errorType: 'string', errorMessage: 'plain', trace: [] }],
    [42, { errorType: 'number', errorMessage: '42', trace: [] }],
    [{ a: 1 }, { errorType: 'object', errorMessage: '[object Object]', trace: [] }],
    [undefined, { errorType: 'undefined', errorMessage: 'undefined', trace: [] }],
  ])('non-Error %j → typeof and String()', (value, expected) => {
    expect(toErrorPayload(value)).toEqual(expected);
  });

  it('wraps runtime errors the way the RIC does', () => {
    const importError = new ImportModuleError(new Error("Cannot find module 'x'"));
    expect(toErrorPayload(importError)).toMatchObject({
      errorType: 'Runtime.ImportModuleError',
      errorMessage: "Error: Cannot find module 'x'",
    });
    expect(importError.stack?.startsWith("Runtime.ImportModuleError: Error: Cannot find module 'x'")).toBe(true);
    expect(toErrorPayload(new UnhandledPromiseRejection(new Error('boom')))).toMatchObject({
      errorType: 'Runtime.UnhandledPromiseRejection',
      errorMessage: 'Error: boom',
    });
    const syntax = new SyntaxError("Unexpected token '}'");
    expect(toErrorPayload(new UserCodeSyntaxError(syntax))).toMatchObject({
      errorType: 'Runtime.UserCodeSyntaxError',
      errorMessage: "SyntaxError: Unexpected token '}'",
      trace: syntax.stack?.split('\n'),
    });
  });
});

describe('formatErrorForLog', () => {
  it('includes errorType, errorMessage, code, own fields and the stack', () => {
    const err = Object.assign(new Error('nope'), { code: 'E_NOPE', field: 'name' });
    const json = JSON.parse(formatErrorForLog(err)) as Record<string, unknown>;
    expect(json).toMatchObject({ errorType: 'Error', errorMessage: 'nope', code: 'E_NOPE', field: 'name' });
    expect(Array.isArray(json.stack)).toBe(true);
  });

  it('turns a non-Error into an Error first', () => {
    expect(JSON.parse(formatErrorForLog('handled'))).toMatchObject({ errorType: 'Error', errorMessage: 'handled' });
  });
});

describe('log capture', () => {
  it('formats a line like the Node runtime', () => {
    const at = new Date('2026-01-02T03:04:05.678Z');
    expect(formatLogLine(at, 'req-1', 'INFO', ['hello %s', 'bob', { n: 1 }])).toBe(
      '2026-01-02T03:04:05.678Z\treq-1\tINFO\thello bob { n: 1 }\n',
    );
    expect(formatLogLine(at, undefined, 'WARN', ['init'])).toBe('2026-01-02T03:04:05.678Z\tundefined\tWARN\tinit\n');
  });

  it('captures console levels and raw writes, streams them, and never writes through', () => {
    const leaked: string[] = [];
    const sink = (): Writable => new Writable({ write: (chunk: Buffer, _enc, cb) => (leaked.push(chunk.toString()), cb()) });
    const fakeConsole = {} as Console;
    const streamed: string[] = [];
    const capture = new LogCapture((text) => streamed.push(text));
    const stdout = sink();
    capture.install({ console: fakeConsole, stdout, stderr: sink() });
    capture.beginInvocation('r-1');
    fakeConsole.log('a');
    fakeConsole.info('b');
    fakeConsole.warn('c');
    fakeConsole.error('d');
    fakeConsole.debug('e');
    fakeConsole.trace('f');
    stdout.write('raw');
    capture.logError('Invoke Error', new Error('x'));
    capture.endPhase();
    const text = streamed.join('');
    const levels = text.split('\n').filter((l) => l.includes('\tr-1\t')).map((l) => l.split('\t')[2]);
    expect(levels).toEqual(['INFO', 'INFO', 'WARN', 'ERROR', 'DEBUG', 'TRACE', 'ERROR']);
    // A raw write without a newline must not glue the next formatted line onto it.
    expect(text).toContain('\tTRACE\tf\nraw\n');
    expect(text).toMatch(/\tERROR\tInvoke Error \t\{"errorType":"Error","errorMessage":"x","stack":\[/);
    // Without a budget the reader closes the phase: nothing is added to the stream.
    expect(text.endsWith('\n')).toBe(true);
    expect(leaked).toEqual([]);
  });

  it('holds what is written after a phase ends until the next invocation begins, then sends it first', () => {
    const fakeConsole = {} as Console;
    const streamed: string[] = [];
    const capture = new LogCapture((text) => streamed.push(text));
    const stdout = new Writable({ write: (_c, _e, cb) => cb() });
    capture.install({ console: fakeConsole, stdout, stderr: stdout });
    capture.beginInvocation('r-1');
    fakeConsole.log('during');
    stdout.write('open');
    capture.endPhase();
    const sent = streamed.length;
    fakeConsole.log('after the reply');
    stdout.write('raw after\n');
    expect(streamed).toHaveLength(sent);
    capture.beginInvocation('r-2');
    fakeConsole.log('next');
    const next = streamed.slice(sent).join('');
    // The open line was closed by the reader with the phase: the held line does not start with a newline.
    expect(next).toMatch(/^\S+Z\tr-1\tINFO\tafter the reply\nraw after\n\S+Z\tr-2\tINFO\tnext\n$/);
  });

  it('without a budget, holds at most MAX_HELD_UNITS between phases, then writes through', () => {
    const streamed: string[] = [];
    const capture = new LogCapture((text) => streamed.push(text));
    const stdout = new Writable({ write: (_c, _e, cb) => cb() });
    capture.install({ console: {} as Console, stdout, stderr: stdout });
    capture.endPhase();
    const line = 'z'.repeat(1023) + '\n';
    for (let i = 0; i < 1024; i++) stdout.write(line);
    expect(streamed).toEqual([]);
    stdout.write(line);
    expect(streamed.join('')).toBe(line.repeat(1025));
    stdout.write('through\n');
    expect(streamed.at(-1)).toBe('through\n');
    expect(MAX_HELD_UNITS).toBe(1024 * 1024);
  });

  it('with a budget, streams only what the budget allows, closes the phase on the stream, and reports what it drops', () => {
    const fakeConsole = {} as Console;
    const streamed: string[] = [];
    const dropped: number[] = [];
    const capture = new LogCapture((text) => streamed.push(text), { phaseBytes: 100, onDropped: (n) => dropped.push(n) });
    const stdout = new Writable({ write: (_c, _e, cb) => cb() });
    capture.install({ console: fakeConsole, stdout, stderr: stdout });
    for (let i = 0; i < 10; i++) stdout.write(`${String(i).repeat(39)}\n`);
    expect(streamed.join('')).toBe(`${'0'.repeat(39)}\n${'1'.repeat(39)}\n${'2'.repeat(20)}`);
    expect(dropped.at(-1)).toBe(300);
    capture.endPhase();
    // The phase's end goes out on the stream: the cut line ended, and the drop marker.
    expect(streamed.join('')).toBe(`${'0'.repeat(39)}\n${'1'.repeat(39)}\n${'2'.repeat(20)}\n${outputTruncatedLine(300, 100)}`);
    expect(dropped.at(-1)).toBe(0);
    // Output after the phase counts against the next phase's budget, and waits for it.
    const sent = streamed.length;
    stdout.write(`${'a'.repeat(150)}\n`);
    expect(streamed).toHaveLength(sent);
    expect(dropped.at(-1)).toBe(51);
    capture.beginInvocation('r-2');
    fakeConsole.log('next');
    capture.endPhase();
    // 51 bytes held and dropped, then the 39 of `<24-char time>\tr-2\tINFO\tnext\n`.
    expect(streamed.slice(sent).join('')).toBe(`${'a'.repeat(100)}\n${outputTruncatedLine(51 + 39, 100)}`);
    // A phase that drops nothing leaves the count alone: it is 0 since the last phase ended.
    const reports = dropped.length;
    capture.beginInvocation('r-3');
    fakeConsole.log('small');
    capture.endPhase();
    expect(dropped).toHaveLength(reports);
    expect(dropped.at(-1)).toBe(0);
  });
});

describe('buildFunctionEnv', () => {
  const paths = { runtimeDir: '/opt/laminar/runtime', execPath: '/usr/local/node/bin/node' };

  it('holds the function variables plus Lambda presets, and nothing from the host', () => {
    process.env.LAMINAR_SECRET = 'host-only';
    const spec = fixtureSpec('echo', { variables: { GREETING: 'hi' }, memoryMb: 256, version: '7' });
    const env = buildFunctionEnv(spec, paths);
    expect(env).toMatchObject({
      GREETING: 'hi',
      _HANDLER: 'index.handler',
      AWS_REGION: 'eu-west-1',
      AWS_DEFAULT_REGION: 'eu-west-1',
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs20.x',
      AWS_LAMBDA_FUNCTION_NAME: 'echo',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
      AWS_LAMBDA_FUNCTION_VERSION: '7',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/echo',
      LAMBDA_TASK_ROOT: spec.codeDir,
      LAMBDA_RUNTIME_DIR: paths.runtimeDir,
      TZ: ':UTC',
      LANG: 'en_US.UTF-8',
      TMPDIR: spec.tmpDir,
      ...FAKE_CREDENTIALS,
    });
    expect(env.PATH?.split(':')[0]).toBe('/usr/local/node/bin');
    expect(env.NODE_PATH).toContain(`${spec.codeDir}/node_modules`);
    expect(env).not.toHaveProperty('LAMINAR_SECRET');
    expect(env).not.toHaveProperty('HOME');
    delete process.env.LAMINAR_SECRET;
  });

  it("puts the layers where Lambda's /opt paths stand, later layers first, and names them in merge order", () => {
    const spec = fixtureSpec('echo', { runtime: 'nodejs22.x', layerDirs: ['/l/one', '/l/two'] });
    const env = buildFunctionEnv(spec, paths);
    expect(env.PATH?.split(':').slice(-2)).toEqual(['/l/two/bin', '/l/one/bin']);
    expect(env.LD_LIBRARY_PATH?.split(':').slice(-2)).toEqual(['/l/two/lib', '/l/one/lib']);
    expect(env.NODE_PATH?.split(':').slice(0, 5)).toEqual([
      `${spec.codeDir}/node_modules`,
      '/l/two/nodejs/node22/node_modules',
      '/l/one/nodejs/node22/node_modules',
      '/l/two/nodejs/node_modules',
      '/l/one/nodejs/node_modules',
    ]);
    expect(env.LAMINAR_OPT_DIRS).toBe('/l/one:/l/two');
    // No layers: nothing of the host's /opt either.
    const bare = buildFunctionEnv(fixtureSpec('echo'), paths);
    expect(`${bare.PATH}:${bare.LD_LIBRARY_PATH}`).not.toContain('/opt/');
    expect(bare.LAMINAR_OPT_DIRS).toBe('');
  });

  it('lets functions override presets but not reserved variables', () => {
    const spec = fixtureSpec('echo', { variables: { LANG: 'C', AWS_REGION: 'mars-1', TMPDIR: '/elsewhere', _HANDLER: 'x.y' } });
    const env = buildFunctionEnv(spec, paths);
    expect(env.LANG).toBe('C');
    expect(env.AWS_REGION).toBe('eu-west-1');
    expect(env.TMPDIR).toBe(spec.tmpDir);
    expect(env._HANDLER).toBe('index.handler');
  });

  it.each([
    [128, 8, 120],
    [1024, 64, 960],
    [10240, 64, 10176],
  ])('heap limits for %i MB', (memoryMb, young, old) => {
    expect(heapLimits(memoryMb)).toEqual({ maxYoungGenerationSizeMb: young, maxOldGenerationSizeMb: old });
  });
});

describe('platform outcomes', () => {
  const m = { durationMs: 1000.4, maxMemoryUsedMb: 20, logs: 'x\n' };

  it('timeout', () => {
    const outcome = timeoutOutcome('req-1', 1, m);
    expect(outcome).toMatchObject({ status: 'timeout', errorType: 'Sandbox.Timedout', environmentDead: true, logs: 'x\n' });
    expect(JSON.parse(outcome.payload.toString())).toEqual({
      errorType: 'Sandbox.Timedout',
      errorMessage: 'RequestId: req-1 Error: Task timed out after 1.00 seconds',
    });
  });

  it.each([
    [Object.assign(new Error('Worker terminated due to reaching memory limit: JS heap out of memory'), { code: 'ERR_WORKER_OUT_OF_MEMORY' }),
      'Runtime.OutOfMemory', 'RequestId: r Error: Runtime exited with error: signal: killed'],
    [new Error('worker exited with code: 3'), 'Runtime.ExitError', 'RequestId: r Error: Runtime exited with error: exit status 3'],
    [new Error('worker exited with code: 0'), 'Runtime.ExitError', 'RequestId: r Error: Runtime exited without providing a reason'],
    [new Error('Terminating worker thread'), 'Runtime.Unknown', 'RequestId: r Error: Unknown application error occurred (Terminating worker thread)'],
  ])('crash from %s', (error, errorType, errorMessage) => {
    const outcome = crashOutcome('r', classifyWorkerFailure(error), m);
    expect(outcome).toMatchObject({ status: 'crash', errorType, environmentDead: true });
    expect(JSON.parse(outcome.payload.toString())).toEqual({ errorType, errorMessage });
  });

  it('a process that exits reads as Lambda reports it', () => {
    expect(exitFailure(2)).toEqual({ errorType: 'Runtime.ExitError', detail: 'Runtime exited with error: exit status 2' });
    expect(exitFailure(0)).toEqual({ errorType: 'Runtime.ExitError', detail: 'Runtime exited without providing a reason' });
    expect(exitFailure(null, 'SIGKILL')).toEqual({ errorType: 'Runtime.ExitError', detail: 'Runtime exited with error: signal: killed' });
  });

  it('a busy or initialising environment refuses without dying; others are dead', () => {
    expect(unavailableOutcome('r', 'busy').environmentDead).toBe(false);
    expect(unavailableOutcome('r', 'initializing').environmentDead).toBe(false);
    expect(unavailableOutcome('r', 'dead').environmentDead).toBe(true);
  });
});
