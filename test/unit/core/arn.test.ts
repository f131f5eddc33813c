import { describe, expect, it } from 'vitest';
import { functionArn, mergeQualifier, parseFunctionName } from '../../../src/core/arn.js';
import { AccessDeniedException, InvalidParameterValueException, ResourceNotFoundException, ValidationException } from '../../../src/core/errors.js';

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
    expect(() => parseFunctionName('my-function!', p)).toThrow(
      "1 validation error detected: Value 'my-function!' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: " +
        '(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST(\\.PUBLISHED)?|[a-zA-Z0-9-_]+))?',
    );
    expect(() => parseFunctionName('x'.repeat(171), p)).toThrow(/Member must have length less than or equal to 170/);
  });

  it('leaves a name that fits the pattern but cannot exist (65 characters) to the lookup', () => {
    expect(parseFunctionName('x'.repeat(65), p)).toEqual({ functionName: 'x'.repeat(65) });
    expect(parseFunctionName('hello:$LATEST.PUBLISHED', p)).toEqual({ functionName: 'hello', qualifier: '$LATEST.PUBLISHED' });
  });

  it('checks the Qualifier parameter with AWS pattern and length', () => {
    expect(() => mergeQualifier({ functionName: 'f' }, 'invalid!')).toThrow(
      "1 validation error detected: Value 'invalid!' at 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: \\$(LATEST(\\.PUBLISHED)?)|[a-zA-Z0-9-_$]+",
    );
    expect(() => mergeQualifier({ functionName: 'f' }, 'a'.repeat(129))).toThrow(/Member must have length less than or equal to 128/);
    expect(mergeQualifier({ functionName: 'f' }, '$latest')).toEqual({ functionName: 'f', qualifier: '$latest' });
  });

  it('refuses ARNs of another region (not found there) or account (access denied), as AWS does', () => {
    expect(() => parseFunctionName('arn:aws:lambda:eu-west-1:000000000000:function:hello', p)).toThrow(
      new ResourceNotFoundException("Functions from 'eu-west-1' are not reachable in this region ('us-east-1')"),
    );
    expect(() => parseFunctionName('arn:aws:lambda:us-east-1:123456789012:function:hello', p)).toThrow(AccessDeniedException);
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
