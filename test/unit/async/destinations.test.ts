/** Delivery plans: which target gets the record, which the event, and which are kept in the store. */
import { describe, expect, it } from 'vitest';
import { failurePlan, successPlan } from '../../../src/async/destinations.js';

const P = { region: 'us-east-1', accountId: '000000000000' };
const FN = 'arn:aws:lambda:us-east-1:000000000000:function:dest';
const QUEUE = 'arn:aws:sqs:us-east-1:000000000000:q';
const TOPIC = 'arn:aws:sns:us-east-1:000000000000:t';
const BUS = 'arn:aws:events:us-east-1:000000000000:event-bus/default';
const BUCKET = 'arn:aws:s3:::failures';

describe('successPlan', () => {
  it('nothing without OnSuccess, whatever the failure side has', () => {
    expect(successPlan({ onFailure: FN, deadLetter: QUEUE }, P)).toBeUndefined();
  });

  it('a function destination is invoked, with its qualifier', () => {
    expect(successPlan({ onSuccess: `${FN}:live` }, P)).toEqual({
      condition: 'Success',
      invoke: { arn: `${FN}:live`, target: { functionName: 'dest', qualifier: 'live' } },
      store: [],
    });
  });

  it('a queue, topic or bus destination is stored, typed for metrics', () => {
    for (const [arn, type] of [
      [QUEUE, 'sqs'],
      [TOPIC, 'sns'],
      [BUS, 'events'],
    ] as const) {
      expect(successPlan({ onSuccess: arn }, P)).toEqual({ condition: 'Success', store: [{ arn, role: 'destination', type }] });
    }
  });

  it('a function of another account or region names no target here', () => {
    const other = 'arn:aws:lambda:eu-west-1:000000000000:function:dest';
    expect(successPlan({ onSuccess: other }, P)).toEqual({ condition: 'Success', invoke: { arn: other }, store: [] });
  });
});

describe('failurePlan', () => {
  it('nothing without OnFailure or a dead-letter queue: the event is simply dropped', () => {
    expect(failurePlan({ onSuccess: FN }, 'RetriesExhausted', P)).toBeUndefined();
  });

  it('a deleted function delivers nowhere', () => {
    expect(failurePlan({ onFailure: FN, deadLetter: QUEUE }, 'FunctionNotFound', P)).toBeUndefined();
  });

  it('the condition follows the drop reason; reservation 0 reads as RetriesExhausted', () => {
    expect(failurePlan({ onFailure: FN }, 'RetriesExhausted', P)?.condition).toBe('RetriesExhausted');
    expect(failurePlan({ onFailure: FN }, 'EventAgeExceeded', P)?.condition).toBe('EventAgeExceeded');
    expect(failurePlan({ onFailure: FN }, 'ReservedConcurrencyZero', P)?.condition).toBe('RetriesExhausted');
  });

  it('OnFailure and a dead-letter queue both get theirs: the function the record, the store the event', () => {
    expect(failurePlan({ onFailure: FN, deadLetter: QUEUE }, 'RetriesExhausted', P)).toEqual({
      condition: 'RetriesExhausted',
      invoke: { arn: FN, target: { functionName: 'dest' } },
      store: [{ arn: QUEUE, role: 'dead-letter', type: 'sqs' }],
    });
  });

  it('a bucket and a dead-letter topic are both stored, destination first', () => {
    expect(failurePlan({ onFailure: BUCKET, deadLetter: TOPIC }, 'EventAgeExceeded', P)).toEqual({
      condition: 'EventAgeExceeded',
      store: [
        { arn: BUCKET, role: 'destination', type: 's3' },
        { arn: TOPIC, role: 'dead-letter', type: 'sns' },
      ],
    });
  });
});
