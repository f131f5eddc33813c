/** Lambda's checks of a DestinationConfig, with AWS's messages. */
import { describe, expect, it } from 'vitest';
import { checkDestinationConfig, destinationFunction, destinationType } from '../../../src/registry/destinations.js';

const P = { region: 'us-east-1', accountId: '000000000000' };
const fn = (name: string) => `arn:aws:lambda:us-east-1:000000000000:function:${name}`;
const exists = (name: string) => ['self', 'other'].includes(name);
const check = (config: Parameters<typeof checkDestinationConfig>[0]) => () => checkDestinationConfig(config, 'self', P, exists);

describe('destinationType', () => {
  it('reads the service of an ARN, and nothing of other text', () => {
    expect(destinationType(fn('x'))).toBe('lambda');
    expect(destinationType('arn:aws:sqs:us-east-1:000000000000:q')).toBe('sqs');
    expect(destinationType('arn:aws:sns:us-east-1:000000000000:t')).toBe('sns');
    expect(destinationType('arn:aws:events:us-east-1:000000000000:event-bus/b')).toBe('events');
    expect(destinationType('arn:aws:s3:::bucket')).toBe('s3');
    expect(destinationType('arn:aws:iam:us-east-1:000000000000:function:x')).toBeUndefined();
    expect(destinationType('kafka://broker')).toBeUndefined();
  });
});

describe('destinationFunction', () => {
  it('names a function (and qualifier) of this region and account only', () => {
    expect(destinationFunction(fn('x'), P)).toEqual({ functionName: 'x' });
    expect(destinationFunction(`${fn('x')}:$LATEST`, P)).toEqual({ functionName: 'x', qualifier: '$LATEST' });
    expect(destinationFunction('arn:aws:lambda:us-east-1:111111111111:function:x', P)).toBeUndefined();
    expect(destinationFunction('arn:aws:lambda:us-east-1:000000000000:layer:x', P)).toBeUndefined();
  });
});

describe('checkDestinationConfig', () => {
  it('accepts another function, queues, topics, buses, a bucket on failure, and empty sides', () => {
    expect(check({ OnSuccess: { Destination: fn('other') }, OnFailure: { Destination: 'arn:aws:s3:::b' } })).not.toThrow();
    expect(check({ OnSuccess: { Destination: 'arn:aws:sqs:us-east-1:000000000000:q' }, OnFailure: { Destination: 'arn:aws:sns:us-east-1:000000000000:t' } })).not.toThrow();
    expect(check({ OnSuccess: { Destination: 'arn:aws:events:us-east-1:000000000000:event-bus/default' } })).not.toThrow();
    expect(check({ OnSuccess: {}, OnFailure: { Destination: '' } })).not.toThrow();
    expect(check(undefined)).not.toThrow();
  });

  it('a function that does not exist: the destination ARN is invalid', () => {
    expect(check({ OnSuccess: { Destination: fn('missing') } })).toThrow(`The destination ARN ${fn('missing')} is invalid.`);
  });

  it('the function itself, qualified or not', () => {
    expect(check({ OnFailure: { Destination: fn('self') } })).toThrow("You can't specify the function as a destination for itself.");
    expect(check({ OnSuccess: { Destination: `${fn('self')}:1` } })).toThrow("You can't specify the function as a destination for itself.");
  });

  it('another service: the whole config is invalid, both sides named', () => {
    const iam = 'arn:aws:iam:us-east-1:000000000000:function:self';
    expect(check({ OnSuccess: { Destination: iam } })).toThrow(
      `The provided destination config DestinationConfig(onSuccess=OnSuccess(destination=${iam}), onFailure=null) is invalid.`,
    );
    expect(check({ OnSuccess: { Destination: 'arn:aws:s3:::b' }, OnFailure: { Destination: fn('other') } })).toThrow(
      `The provided destination config DestinationConfig(onSuccess=OnSuccess(destination=arn:aws:s3:::b), onFailure=OnFailure(destination=${fn('other')})) is invalid.`,
    );
  });
});
