/**
 * Event invoke configs at work, end to end: the AWS SDK against a real server on a ManualClock.
 * The config's retry settings change the schedule; destination functions receive the invocation
 * record for each condition (they report it to the test's probe); dead-letter queues and queue
 * destinations keep the event in the failed-event store, which the API lists and replays.
 */
import {
  CreateAliasCommand,
  DeleteFunctionCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  PublishVersionCommand,
  PutFunctionEventInvokeConfigCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionUpdatedV2,
  type PutFunctionEventInvokeConfigCommandInput,
} from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { deployFixture, startLaminar, zipFixture, type Harness } from '../helpers/laminar.js';
import { sample, scrape } from '../helpers/metrics.js';
import { startProbe, type Probe } from '../helpers/probe.js';

const ARN = 'arn:aws:lambda:us-east-1:000000000000:function';
const DLQ = 'arn:aws:sqs:us-east-1:000000000000:dead-letters';

let h: Harness;
let clock: ManualClock;
let probe: Probe;
/** A function that reports every event it gets to the probe: the destination under test. */
let recorder = '';

beforeAll(async () => {
  clock = new ManualClock();
  h = await startLaminar({}, { clock });
  probe = await startProbe();
  recorder = await deployFixture(h.client, 'recorder', { Environment: { Variables: { RECORDER_URL: `${probe.url}/record` } } });
});
afterAll(async () => {
  await h?.close();
  await probe?.close();
});
beforeEach(() => probe.reset());

const metric = async (name: string, labels: Record<string, string>) => sample(await scrape(h.url), name, labels);
const settle = () => h.laminar.dispatcher.settled();
const advance = async (ms: number) => {
  clock.advance(ms);
  await settle();
};
/** An Event invocation; resolves to the request id the record must carry. */
const event = async (fn: string, payload: unknown, qualifier?: string) => {
  const out = await h.client.send(
    new InvokeCommand({ FunctionName: fn, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(payload)), ...(qualifier ? { Qualifier: qualifier } : {}) }),
  );
  expect(out.StatusCode).toBe(202);
  return out.$metadata.requestId as string;
};
const configure = (input: PutFunctionEventInvokeConfigCommandInput) => h.client.send(new PutFunctionEventInvokeConfigCommand(input));

interface FailedEventsPage {
  FailedEvents: {
    Id: string;
    FunctionName: string;
    RequestId: string;
    Reason: string;
    Destinations: string[];
    Payload: unknown;
    Record: { requestContext: { condition: string; approximateInvokeCount: number }; responsePayload?: unknown };
  }[];
  NextMarker?: string;
}
const listFailed = async (fn: string, query = ''): Promise<FailedEventsPage> => {
  const res = await fetch(`${h.url}/laminar/events/failed?FunctionName=${fn}${query}`);
  expect(res.status).toBe(200);
  return (await res.json()) as FailedEventsPage;
};

describe('retry settings from the event invoke config', () => {
  it('MaximumRetryAttempts 0: one attempt, then RetriesExhausted', async () => {
    const fn = await deployFixture(h.client, 'throws');
    await configure({ FunctionName: fn, MaximumRetryAttempts: 0 });
    await event(fn, {});
    await settle();
    await advance(10 * 60_000);
    expect(await metric('laminar_invocations_total', { function: fn })).toBe(1);
    expect(await metric('laminar_async_events_dropped_total', { function: fn, reason: 'RetriesExhausted' })).toBe(1);
  });

  it('the config of the qualifier the event names: an alias’s config does not apply to unqualified invokes', async () => {
    const fn = await deployFixture(h.client, 'throws');
    await h.client.send(new PublishVersionCommand({ FunctionName: fn }));
    await h.client.send(new CreateAliasCommand({ FunctionName: fn, Name: 'live', FunctionVersion: '1' }));
    await configure({ FunctionName: fn, Qualifier: 'live', MaximumRetryAttempts: 0 });
    await event(fn, {}, 'live');
    await event(fn, {});
    await settle();
    await advance(60_000);
    await advance(120_000);
    expect(await metric('laminar_invocations_total', { function: fn, qualifier: 'live' })).toBe(1);
    expect(await metric('laminar_invocations_total', { function: fn, qualifier: '$LATEST' })).toBe(3);
    expect(await metric('laminar_async_events_dropped_total', { function: fn, reason: 'RetriesExhausted' })).toBe(2);
  });

  it('a config written between attempts applies from the next attempt on', async () => {
    const fn = await deployFixture(h.client, 'throws');
    await event(fn, {});
    await settle();
    // Lambda's defaults when the first attempt ran: a retry is due at 60 s.
    await configure({ FunctionName: fn, MaximumRetryAttempts: 0 });
    await advance(60_000);
    await advance(120_000);
    expect(await metric('laminar_invocations_total', { function: fn })).toBe(2);
    expect(await metric('laminar_async_events_dropped_total', { function: fn, reason: 'RetriesExhausted' })).toBe(1);
  });

  it('MaximumEventAgeInSeconds 60: the retry at 60 s runs, the one at 3 minutes would be too late', async () => {
    const fn = await deployFixture(h.client, 'throws');
    await configure({ FunctionName: fn, MaximumEventAgeInSeconds: 60 });
    await event(fn, {});
    await settle();
    await advance(60_000);
    expect(await metric('laminar_invocations_total', { function: fn })).toBe(2);
    expect(await metric('laminar_async_events_dropped_total', { function: fn, reason: 'EventAgeExceeded' })).toBe(1);
    await advance(120_000);
    expect(await metric('laminar_invocations_total', { function: fn })).toBe(2);
  });
});

describe('a Lambda function as destination receives the invocation record', () => {
  it('Success: the request, the return value and the version that ran', async () => {
    const fn = await deployFixture(h.client, 'sleep');
    await configure({ FunctionName: fn, DestinationConfig: { OnSuccess: { Destination: `${ARN}:${recorder}` } } });
    const requestId = await event(fn, { ms: 1, order: 7 });
    const finishedAt = clock.now();
    await settle();
    expect(probe.records).toEqual([
      {
        version: '1.0',
        timestamp: new Date(finishedAt).toISOString(),
        requestContext: { requestId, functionArn: `${ARN}:${fn}:$LATEST`, condition: 'Success', approximateInvokeCount: 1 },
        requestPayload: { ms: 1, order: 7 },
        responseContext: { statusCode: 200, executedVersion: '$LATEST' },
        responsePayload: { slept: 1 },
      },
    ]);
    expect(await metric('laminar_async_events_received_total', { function: recorder })).toBeGreaterThanOrEqual(1);
    expect(await metric('laminar_async_events_dropped_total', { function: fn })).toBe(0);
  });

  it('Success through an alias: the ARN names the alias, executedVersion the version', async () => {
    const fn = await deployFixture(h.client, 'sleep');
    await h.client.send(new PublishVersionCommand({ FunctionName: fn }));
    await h.client.send(new CreateAliasCommand({ FunctionName: fn, Name: 'live', FunctionVersion: '1' }));
    await configure({ FunctionName: fn, Qualifier: 'live', DestinationConfig: { OnSuccess: { Destination: `${ARN}:${recorder}` } } });
    await event(fn, { ms: 1 }, 'live');
    await settle();
    expect(probe.records).toMatchObject([{ requestContext: { functionArn: `${ARN}:${fn}:live` }, responseContext: { executedVersion: '1' } }]);
  });

  it('RetriesExhausted: every attempt counted, the last error as the response', async () => {
    const fn = await deployFixture(h.client, 'sleep');
    await configure({ FunctionName: fn, MaximumRetryAttempts: 1, DestinationConfig: { OnFailure: { Destination: `${ARN}:${recorder}` } } });
    const requestId = await event(fn, { ms: 1, fail: true });
    await settle();
    expect(probe.records).toEqual([]);
    await advance(60_000);
    expect(probe.records).toHaveLength(1);
    expect(probe.records[0]).toMatchObject({
      version: '1.0',
      timestamp: new Date(clock.now()).toISOString(),
      requestContext: { requestId, functionArn: `${ARN}:${fn}:$LATEST`, condition: 'RetriesExhausted', approximateInvokeCount: 2 },
      requestPayload: { ms: 1, fail: true },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload: { errorType: 'Error', errorMessage: 'asked to fail' },
    });
    expect(await metric('laminar_async_events_dropped_total', { function: fn, reason: 'RetriesExhausted' })).toBe(1);
  });

  it('EventAgeExceeded: the attempts made before the event grew too old, and the error they ended in', async () => {
    const fn = await deployFixture(h.client, 'sleep');
    await configure({ FunctionName: fn, MaximumEventAgeInSeconds: 60, DestinationConfig: { OnFailure: { Destination: `${ARN}:${recorder}` } } });
    const requestId = await event(fn, { ms: 1, fail: true });
    await settle();
    await advance(60_000);
    expect(probe.records).toHaveLength(1);
    expect(probe.records[0]).toMatchObject({
      requestContext: { requestId, condition: 'EventAgeExceeded', approximateInvokeCount: 2 },
      responseContext: { functionError: 'Unhandled' },
      responsePayload: { errorMessage: 'asked to fail' },
    });
    expect(await metric('laminar_async_events_dropped_total', { function: fn, reason: 'EventAgeExceeded' })).toBe(1);
  });

  it('a destination function deleted since: a delivery failure, by function and type', async () => {
    const gone = await deployFixture(h.client, 'echo');
    const fn = await deployFixture(h.client, 'sleep');
    await configure({ FunctionName: fn, DestinationConfig: { OnSuccess: { Destination: `${ARN}:${gone}` } } });
    await h.client.send(new DeleteFunctionCommand({ FunctionName: gone }));
    await event(fn, { ms: 1 });
    await settle();
    expect(await metric('laminar_async_destination_delivery_failures_total', { function: fn, type: 'lambda' })).toBe(1);
    expect(await metric('laminar_async_events_received_total', { function: gone })).toBe(0);
  });
});

describe('dead-letter queues and queue destinations: the failed-event store', () => {
  it('a dead-letter queue and an on-failure topic keep the event, listed with both, and replay runs it again', async () => {
    const topic = 'arn:aws:sns:us-east-1:000000000000:failures';
    const fn = await deployFixture(h.client, 'throws', { DeadLetterConfig: { TargetArn: DLQ } });
    await configure({ FunctionName: fn, MaximumRetryAttempts: 0, DestinationConfig: { OnFailure: { Destination: topic } } });
    const requestId = await event(fn, { order: 9 });
    await settle();

    const listed = await listFailed(fn);
    expect(listed.FailedEvents).toHaveLength(1);
    const stored = listed.FailedEvents[0]!;
    expect(stored).toMatchObject({ FunctionName: fn, RequestId: requestId, Reason: 'RetriesExhausted', Destinations: [topic, DLQ], Payload: { order: 9 } });
    expect(stored.Record).toMatchObject({
      requestContext: { condition: 'RetriesExhausted', approximateInvokeCount: 1 },
      responsePayload: { errorType: 'ValidationError', errorMessage: 'name is required' },
    });
    expect(await metric('laminar_async_events_stored_total', { function: fn, reason: 'RetriesExhausted' })).toBe(1);
    expect(await metric('laminar_async_events_dropped_total', { function: fn, reason: 'RetriesExhausted' })).toBe(1);
    expect(await metric('laminar_async_dead_letter_errors_total', { function: fn })).toBe(0);
    expect(await metric('laminar_async_queue_depth', { function: fn })).toBe(0);

    // Fixed code, then the replay: it runs again, with its request id, and succeeds.
    await h.client.send(new UpdateFunctionCodeCommand({ FunctionName: fn, ZipFile: await zipFixture('echo') }));
    await waitUntilFunctionUpdatedV2({ client: h.client, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { FunctionName: fn });
    const res = await fetch(`${h.url}/laminar/events/${stored.Id}/replay`, { method: 'POST' });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ Id: stored.Id, FunctionName: fn, RequestId: requestId });
    await settle();
    expect(await metric('laminar_invocations_total', { function: fn })).toBe(2);
    expect(await metric('laminar_errors_total', { function: fn })).toBe(1);
    expect((await listFailed(fn)).FailedEvents).toEqual([]);

    const again = await fetch(`${h.url}/laminar/events/${stored.Id}/replay`, { method: 'POST' });
    expect(again.status).toBe(404);
    expect(again.headers.get('x-amzn-errortype')).toBe('ResourceNotFoundException');
  });

  it('OnSuccess on a queue keeps the successful event as Success; listing pages by marker', async () => {
    const fn = await deployFixture(h.client, 'echo');
    await configure({ FunctionName: fn, DestinationConfig: { OnSuccess: { Destination: 'arn:aws:sqs:us-east-1:000000000000:done' } } });
    for (let i = 0; i < 3; i++) await event(fn, { i });
    await settle();
    const first = await listFailed(fn, '&MaxItems=2');
    expect(first.FailedEvents.map((f) => [f.Reason, f.Payload])).toEqual([
      ['Success', { i: 0 }],
      ['Success', { i: 1 }],
    ]);
    expect(first.FailedEvents[0]!.Record).toMatchObject({ requestContext: { condition: 'Success' }, responsePayload: { event: { i: 0 } } });
    const rest = await listFailed(fn, `&MaxItems=2&Marker=${first.NextMarker}`);
    expect(rest.FailedEvents.map((f) => f.Payload)).toEqual([{ i: 2 }]);
    expect(rest.NextMarker).toBeUndefined();
    expect(await metric('laminar_async_events_dropped_total', { function: fn })).toBe(0);
  });

  it('without a destination or dead-letter queue a failed event is dropped and nothing is kept', async () => {
    const fn = await deployFixture(h.client, 'throws');
    await configure({ FunctionName: fn, MaximumRetryAttempts: 0 });
    await event(fn, {});
    await settle();
    expect((await listFailed(fn)).FailedEvents).toEqual([]);
    expect(await metric('laminar_async_events_dropped_total', { function: fn, reason: 'RetriesExhausted' })).toBe(1);
  });

  it('DeadLetterConfig is kept with the function: shown, left alone by {}, removed by an empty TargetArn', async () => {
    const fn = await deployFixture(h.client, 'throws', { DeadLetterConfig: { TargetArn: DLQ } });
    expect((await h.client.send(new GetFunctionConfigurationCommand({ FunctionName: fn }))).DeadLetterConfig).toEqual({ TargetArn: DLQ });
    const kept = await h.client.send(new UpdateFunctionConfigurationCommand({ FunctionName: fn, DeadLetterConfig: {} }));
    expect(kept.DeadLetterConfig).toEqual({ TargetArn: DLQ });
    await waitUntilFunctionUpdatedV2({ client: h.client, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { FunctionName: fn });
    const removed = await h.client.send(new UpdateFunctionConfigurationCommand({ FunctionName: fn, DeadLetterConfig: { TargetArn: '' } }));
    expect(removed.DeadLetterConfig).toBeUndefined();
    await waitUntilFunctionUpdatedV2({ client: h.client, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { FunctionName: fn });
    // Without it, a failed event is dropped rather than kept.
    await configure({ FunctionName: fn, MaximumRetryAttempts: 0 });
    await event(fn, {});
    await settle();
    expect((await listFailed(fn)).FailedEvents).toEqual([]);
    expect(await metric('laminar_async_events_dropped_total', { function: fn, reason: 'RetriesExhausted' })).toBe(1);
  });

  it('the listing needs a FunctionName', async () => {
    const res = await fetch(`${h.url}/laminar/events/failed`);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ message: "1 validation error detected: Value null at 'functionName' failed to satisfy constraint: Member must not be null" });
  });
});
