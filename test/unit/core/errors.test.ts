import { describe, expect, it } from 'vitest';
import { ERROR_CLASSES, TooManyRequestsException, validationMessage } from '../../../src/core/errors.js';

describe('error hierarchy', () => {
  it('every class carries its AWS shape name, an HTTP status and a Type', () => {
    const codes = new Set<string>();
    for (const Cls of ERROR_CLASSES) {
      const err = Cls === TooManyRequestsException ? new TooManyRequestsException('Rate Exceeded.', 'X') : new (Cls as new (m: string) => InstanceType<typeof Cls>)('m');
      expect(err.code).toBe(Cls.name);
      expect(err.statusCode).toBeGreaterThanOrEqual(400);
      expect(['User', 'Service']).toContain(err.type);
      codes.add(err.code);
    }
    expect(codes.size).toBe(ERROR_CLASSES.length);
  });

  it('a throttle carries Reason in its body and a Retry-After', () => {
    const err = new TooManyRequestsException('Rate Exceeded.', 'ReservedFunctionConcurrentInvocationLimitExceeded', 2);
    expect(err.toBody()).toEqual({ Type: 'User', message: 'Rate Exceeded.', Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' });
    expect(err.retryAfterSeconds).toBe(2);
  });

  it('formats validation errors the way AWS does', () => {
    expect(validationMessage([{ field: 'memorySize', value: 10241, constraint: 'Member must have value less than or equal to 10240' }])).toBe(
      "1 validation error detected: Value '10241' at 'memorySize' failed to satisfy constraint: Member must have value less than or equal to 10240",
    );
    expect(
      validationMessage([
        { field: 'a', value: 'x', constraint: 'c1' },
        { field: 'b', value: 'y', constraint: 'c2' },
      ]),
    ).toMatch(/^2 validation errors detected: .*; Value 'y' at 'b'/);
    expect(validationMessage([{ field: 'tagKeys', value: null, constraint: 'Member must not be null' }])).toBe(
      "1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null",
    );
  });
});
