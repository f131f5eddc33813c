/** The Runtime API's pure rules: routing, error-type scrubbing, header values, /proc encodings. */
import { describe, expect, it } from 'vitest';
import { procEndpoint, processTree } from '../../../src/environments/process/peer-authorizer.js';
import {
  headerSafe,
  normalizeErrorType,
  responseTooLargeError,
  route,
} from '../../../src/environments/process/runtime-api-protocol.js';

describe('route', () => {
  it.each([
    ['GET', '/2018-06-01/runtime/invocation/next', { kind: 'next' }],
    ['GET', '/2018-06-01/runtime/invocation/next?x=1', { kind: 'next' }],
    ['POST', '/2018-06-01/runtime/invocation/abc-123/response', { kind: 'response', requestId: 'abc-123' }],
    ['POST', '/2018-06-01/runtime/invocation/abc-123/error', { kind: 'error', requestId: 'abc-123' }],
    ['POST', '/2018-06-01/runtime/invocation//response', { kind: 'response', requestId: '' }],
    ['POST', '/2018-06-01/runtime/init/error', { kind: 'initError' }],
    ['GET', '/2018-06-01/ping', { kind: 'ping' }],
    ['POST', '/2018-06-01/runtime/invocation/next', { kind: 'methodNotAllowed', allow: 'GET' }],
    ['GET', '/2018-06-01/runtime/init/error', { kind: 'methodNotAllowed', allow: 'POST' }],
    ['POST', '/2018-06-01/runtime/invocation/a/b/response', { kind: 'notFound' }],
    ['GET', '/2018-06-01', { kind: 'notFound' }],
    ['GET', '/runtime/invocation/next', { kind: 'notFound' }],
    ['GET', '/2020-01-01/extension/event/next', { kind: 'notFound' }],
  ])('%s %s', (method, url, expected) => {
    expect(route(method, url)).toEqual(expected);
  });
});

describe('normalizeErrorType (the RIE GetValidRuntimeOrFunctionErrorType)', () => {
  it.each([
    ['Runtime.ImportModuleError', 'Runtime.ImportModuleError'],
    ['Function.ResponseSizeTooLarge', 'Function.ResponseSizeTooLarge'],
    // Go's MatchString searches: a match anywhere keeps the whole value.
    ['MyRuntime.Thing', 'MyRuntime.Thing'],
    ['Function.lowercase', 'Function.Unknown'],
    ['Function.', 'Function.Unknown'],
    ['Runtime.', 'Runtime.Unknown'],
    ['Runtime.X', 'Runtime.Unknown'],
    ['Unhandled', 'Runtime.Unknown'],
    ['TypeError', 'Runtime.Unknown'],
    ['', 'Runtime.Unknown'],
    [undefined, 'Runtime.Unknown'],
  ])('%s → %s', (value, expected) => {
    expect(normalizeErrorType(value)).toBe(expected);
  });
});

describe('headerSafe', () => {
  it('keeps ASCII and Latin-1 text as it is', () => {
    expect(headerSafe('{"a":"b"}')).toBe('{"a":"b"}');
    expect(headerSafe('caf\u00e9')).toBe('caf\u00e9');
  });

  it('sends text beyond Latin-1 as its UTF-8 bytes', () => {
    const value = '{"name":"東京 🚀"}';
    const safe = headerSafe(value);
    expect(Buffer.from(safe, 'latin1').toString('utf8')).toBe(value);
  });

  it('turns control characters into spaces, so a value cannot split headers', () => {
    expect(headerSafe('{\r\n  "a": 1\n}\u0000')).toBe('{    "a": 1 } ');
    expect(headerSafe('a\tb')).toBe('a\tb');
  });
});

describe('responseTooLargeError', () => {
  it('is the RIE error payload, errorType first', () => {
    const e = responseTooLargeError(7_000_000, 6_291_556);
    expect(e.errorType).toBe('Function.ResponseSizeTooLarge');
    expect(e.body.toString()).toBe(
      '{"errorType":"Function.ResponseSizeTooLarge","errorMessage":"Response payload size (7000000 bytes) exceeded maximum allowed payload size (6291556 bytes)."}',
    );
  });
});

describe('procEndpoint (/proc/net/tcp address encoding)', () => {
  it.each([
    ['127.0.0.1', 8080, false, '0100007F:1F90'],
    ['10.1.2.3', 1, false, '0302010A:0001'],
    ['::ffff:127.0.0.1', 443, false, '0100007F:01BB'],
    ['127.0.0.1', 80, true, '0000000000000000FFFF00000100007F:0050'],
    ['::1', 8080, true, '00000000000000000000000001000000:1F90'],
    ['fe80::1:2', 65535, true, '000080FE000000000000000002000100:FFFF'],
    ['::1', 8080, false, undefined],
    ['not-an-ip', 1, false, undefined],
  ])('%s:%d (tcp6: %s) → %s', (address, port, v6, expected) => {
    expect(procEndpoint(address, port, v6)).toBe(expected);
  });
});

describe('processTree', () => {
  it('allows the root and its descendants, nothing else', async () => {
    const tree = processTree(process.ppid);
    expect(tree.isAllowedPid(process.pid)).toBe(true);
    expect(tree.isAllowedPid(process.ppid)).toBe(true);
    expect(processTree(process.pid).isAllowedPid(process.ppid)).toBe(false);
    expect(tree.isAllowedPid(1)).toBe(process.ppid === 1);
    expect(tree.isAllowedPid(2 ** 22 + 12345)).toBe(false); // no such process
    const pids = await tree.candidatePids();
    expect(pids[0]).toBe(process.ppid);
    expect(pids).toContain(process.pid);
  });
});
