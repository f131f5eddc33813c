import { describe, expect, it } from 'vitest';
import { functionArn, mergeQualifier, parseFunctionName } from '../../../src/core/arn.js';
import { InvalidParameterValueException, ResourceNotFoundException, ValidationException } from '../../../src/core/errors.js';

const p = { region: 'us-east-1', accountId: '000000000000' };

describe('parseFunctionName', () => {
  const ok: [string, string, string | undefined][] = [
    ['hello', 'hello', undefined],
    ['hello:live', 'hello', 'live'],
    ['hello:$LATEST', 'hello', '$LATEST'],
    ['hello:7', 'hello', '7'],
    ['000000000000:function:hello', 'hello', undefined],
    ['arn:aws:lambda:us-east-1:000000000000:function:hello', 'hello', undefined],
    ['arn:aws:lambda:us-east-1:000000000000:function:hello:prod', 'hello', 'prod'],
  ];
  for (const [raw, name, qualifier] of ok) {
    it(`parses ${raw}`, () => {
      expect(parseFunctionName(raw, p)).toEqual(qualifier === undefined ? { functionName: name } : { functionName: name, qualifier });
    });
  }

  it('refuses malformed names with the AWS pattern in the message', () => {
    expect(() => parseFunctionName('bad name', p)).toThrow(ValidationException);
    expect(() => parseFunctionName('x'.repeat(65), p)).toThrow(/functionName/);
  });

  it('refuses ARNs of another region or account', () => {
    expect(() => parseFunctionName('arn:aws:lambda:eu-west-1:000000000000:function:hello', p)).toThrow(
      new ResourceNotFoundException("Functions from 'eu-west-1' are not reachable in this region ('us-east-1')"),
    );
    expect(() => parseFunctionName('arn:aws:lambda:us-east-1:123456789012:function:hello', p)).toThrow(InvalidParameterValueException);
  });
});

describe('mergeQualifier', () => {
  it('takes the query qualifier, and refuses a conflicting one', () => {
    expect(mergeQualifier({ functionName: 'f' }, 'live')).toEqual({ functionName: 'f', qualifier: 'live' });
    expect(mergeQualifier({ functionName: 'f', qualifier: 'live' }, 'live')).toEqual({ functionName: 'f', qualifier: 'live' });
    expect(() => mergeQualifier({ functionName: 'f', qualifier: 'live' }, '3')).toThrow(InvalidParameterValueException);
    expect(() => mergeQualifier({ functionName: 'f' }, 'bad qualifier')).toThrow(ValidationException);
  });

  it('builds ARNs with and without a qualifier', () => {
    expect(functionArn(p, 'f')).toBe('arn:aws:lambda:us-east-1:000000000000:function:f');
    expect(functionArn(p, 'f', '2')).toBe('arn:aws:lambda:us-east-1:000000000000:function:f:2');
  });
});
