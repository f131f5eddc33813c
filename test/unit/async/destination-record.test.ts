/** The invocation record for each condition, as Lambda's destinations receive it. */
import { describe, expect, it } from 'vitest';
import { invocationRecord, jsonValue } from '../../../src/async/destination-record.js';

const T = Date.UTC(2026, 0, 1, 12, 0, 0, 5);
const ARN = 'arn:aws:lambda:us-east-1:000000000000:function:orders:$LATEST';
const base = { requestId: 'req-1', functionArn: ARN, payload: Buffer.from('{"order":7}'), now: T };
const error = Buffer.from('{"errorType":"Error","errorMessage":"boom","trace":["at x"]}');

describe('invocationRecord', () => {
  it('Success: the return value and the version that ran, no functionError', () => {
    const r = invocationRecord({
      ...base,
      condition: 'Success',
      invocations: 1,
      lastAttempt: { at: T, statusCode: 200, executedVersion: '3', responsePayload: Buffer.from('{"ok":true}') },
    });
    expect(r).toEqual({
      version: '1.0',
      timestamp: '2026-01-01T12:00:00.005Z',
      requestContext: { requestId: 'req-1', functionArn: ARN, condition: 'Success', approximateInvokeCount: 1 },
      requestPayload: { order: 7 },
      responseContext: { statusCode: 200, executedVersion: '3' },
      responsePayload: { ok: true },
    });
  });

  it('Success of a handler that returned nothing: responsePayload null', () => {
    const r = invocationRecord({ ...base, condition: 'Success', invocations: 1, lastAttempt: { at: T, statusCode: 200, executedVersion: '$LATEST', responsePayload: Buffer.alloc(0) } });
    expect(r.responsePayload).toBeNull();
  });

  it('RetriesExhausted: the count of attempts, functionError Unhandled and the error object', () => {
    const r = invocationRecord({
      ...base,
      condition: 'RetriesExhausted',
      invocations: 3,
      lastAttempt: { at: T, statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled', responsePayload: error },
    });
    expect(r.requestContext).toEqual({ requestId: 'req-1', functionArn: ARN, condition: 'RetriesExhausted', approximateInvokeCount: 3 });
    expect(r.responseContext).toEqual({ statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' });
    expect(r.responsePayload).toEqual({ errorType: 'Error', errorMessage: 'boom', trace: ['at x'] });
  });

  it('EventAgeExceeded after attempts: the last error the function returned', () => {
    const r = invocationRecord({
      ...base,
      condition: 'EventAgeExceeded',
      invocations: 2,
      lastAttempt: { at: T, statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled', responsePayload: error },
    });
    expect(r.requestContext.approximateInvokeCount).toBe(2);
    expect(r.responseContext?.functionError).toBe('Unhandled');
    expect(r.responsePayload).toMatchObject({ errorMessage: 'boom' });
  });

  it('EventAgeExceeded without reaching the function (only throttles): no response parts, a count of 0', () => {
    const r = invocationRecord({
      ...base,
      condition: 'EventAgeExceeded',
      invocations: 0,
      lastAttempt: { at: T, statusCode: 429, errorCode: 'TooManyRequestsException', errorMessage: 'Rate Exceeded.' },
    });
    expect(r.requestContext.approximateInvokeCount).toBe(0);
    expect(r).not.toHaveProperty('responseContext');
    expect(r).not.toHaveProperty('responsePayload');
    expect(r.requestPayload).toEqual({ order: 7 });
  });

  it('RetriesExhausted with no attempt at all (reservation 0): no response parts', () => {
    const r = invocationRecord({ ...base, condition: 'RetriesExhausted', invocations: 0 });
    expect(r).not.toHaveProperty('responseContext');
    expect(r.requestContext.approximateInvokeCount).toBe(0);
  });
});

describe('jsonValue', () => {
  it('parses JSON, keeps other text, reads no bytes as null', () => {
    expect(jsonValue(Buffer.from('[1,"a"]'))).toEqual([1, 'a']);
    expect(jsonValue(Buffer.from('"text"'))).toBe('text');
    expect(jsonValue(Buffer.from('not json'))).toBe('not json');
    expect(jsonValue(undefined)).toBeNull();
  });
});
