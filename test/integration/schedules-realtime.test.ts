/**
 * A scheduled rule on the wall clock: the server runs on its real clock (no ManualClock), a
 * `rate(1 minute)` rule targets the `recorder` fixture, and the test waits for the events
 * themselves. It takes a little over two minutes, by design: it is the one test that shows the
 * runner's timer against real time.
 */
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deployFixture, startLaminar, type Harness } from '../helpers/laminar.js';
import { startRecorder, type Recorder } from '../helpers/recorder.js';

let h: Harness;
let rec: Recorder;
let events: EventBridgeClient;

beforeAll(async () => {
  rec = await startRecorder();
  h = await startLaminar();
  events = new EventBridgeClient({ endpoint: h.url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
});
afterAll(async () => {
  events?.destroy();
  await h?.close();
  await rec?.close();
});

it('a rate(1 minute) rule fires once a minute', async () => {
  await deployFixture(h.client, 'recorder', { FunctionName: 'minutely', Environment: { Variables: { RECORDER_URL: rec.url + 'minutely' } } });
  const createdAt = Date.now();
  await events.send(new PutRuleCommand({ Name: 'minutely', ScheduleExpression: 'rate(1 minute)' }));
  await events.send(new PutTargetsCommand({ Rule: 'minutely', Targets: [{ Id: 'recorder', Arn: 'arn:aws:lambda:us-east-1:000000000000:function:minutely' }] }));

  const [first, second] = (await rec.count(2)) as [NonNullable<Recorder['received'][number]>, NonNullable<Recorder['received'][number]>];
  const times = [first, second].map((r) => Date.parse((r.event as { time: string }).time));
  // The scheduled instants: one and two minutes after the rule was made (to the second).
  expect(times[0]! - Math.floor(createdAt / 1000) * 1000).toBeGreaterThanOrEqual(59_000);
  expect(times[0]! - createdAt).toBeLessThanOrEqual(61_000);
  expect(times[1]! - times[0]!).toBe(60_000);
  // And they arrived that far apart, give or take a loaded machine.
  expect(first.receivedAt - createdAt).toBeGreaterThanOrEqual(59_000);
  expect(second.receivedAt - first.receivedAt).toBeGreaterThan(55_000);
  expect(second.receivedAt - first.receivedAt).toBeLessThan(65_000);
  // Once each minute: nothing else arrived in between.
  expect(rec.received).toHaveLength(2);
}, 200_000);
