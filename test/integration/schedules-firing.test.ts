/**
 * Scheduled rules firing, end to end: rules and targets put through `@aws-sdk/client-eventbridge`,
 * a real server whose timers run on a ManualClock, and a target function (the `recorder`
 * fixture) that posts every event it receives to the test. Each step moves the clock, then waits
 * for the rule's targets to be handed over and for the asynchronous invocations to finish.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeleteRuleCommand,
  DescribeRuleCommand,
  DisableRuleCommand,
  EnableRuleCommand,
  EventBridgeClient,
  ListTargetsByRuleCommand,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployFolders } from '../../src/cli/deploy-folders.js';
import { ManualClock } from '../../src/core/clock.js';
import { FIXTURES, deployFixture, startLaminar, type Harness } from '../helpers/laminar.js';
import { sample, scrape } from '../helpers/metrics.js';
import { startRecorder, type Recorded, type Recorder } from '../helpers/recorder.js';

const ACCOUNT = '000000000000';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const fnArn = (name: string, qualifier?: string) => `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${name}${qualifier ? `:${qualifier}` : ''}`;
const ruleArn = (name: string) => `arn:aws:events:us-east-1:${ACCOUNT}:rule/${name}`;
/** EventBridge's `time`: seconds precision, `Z`. */
const at = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

interface Server {
  h: Harness;
  clock: ManualClock;
  events: EventBridgeClient;
}

/** A server on a ManualClock (autoscaling ticks hourly, so months of test time pass quickly). */
async function startServer(dataDir?: string, startMs?: number): Promise<Server> {
  const clock = new ManualClock(startMs);
  const h = await startLaminar({ autoscalingEvaluationPeriodSeconds: 3600 }, { clock }, dataDir);
  const events = new EventBridgeClient({ endpoint: h.url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
  return { h, clock, events };
}

async function stopServer(s: Server | undefined): Promise<void> {
  s?.events.destroy();
  await s?.h.close();
}

/** Moves the clock, then waits for what fired to be queued and for the invocations to finish. */
async function advance(s: Server, ms: number): Promise<void> {
  s.clock.advance(ms);
  await s.h.laminar.schedules.settled();
  await s.h.laminar.dispatcher.settled();
}

/**
 * Moves the clock to `untilMs` one wake-up of the rule runner at a time, settling at each, so
 * every event is invoked at the time it fired (an event left waiting for weeks of test time
 * would be past its maximum age).
 */
async function advanceTo(s: Server, untilMs: number): Promise<void> {
  for (;;) {
    const next = s.h.laminar.schedules.runner.nextWakeAt;
    if (next === undefined || next > untilMs) break;
    await advance(s, next - s.clock.now());
  }
  await advance(s, untilMs - s.clock.now());
}

/** A recorder function: every event it receives reaches the test's recorder, under its name. */
function deployRecorder(s: Server, rec: Recorder, name = `recorder-${Math.random().toString(36).slice(2, 8)}`): Promise<string> {
  return deployFixture(s.h.client, 'recorder', { FunctionName: name, Environment: { Variables: { RECORDER_URL: rec.url + name } } });
}

const of = (rec: Recorder, fn: string): Recorded[] => rec.received.filter((r) => r.path === fn);

/** Removes a rule and its targets, so that it does not fire during later tests. */
async function dropRule(s: Server, name: string): Promise<void> {
  const targets = (await s.events.send(new ListTargetsByRuleCommand({ Rule: name }))).Targets ?? [];
  if (targets.length > 0) await s.events.send(new RemoveTargetsCommand({ Rule: name, Ids: targets.map((t) => t.Id as string) }));
  await s.events.send(new DeleteRuleCommand({ Name: name }));
}

let rec: Recorder;
beforeAll(async () => {
  rec = await startRecorder();
});
afterAll(async () => {
  await rec?.close();
});

describe('a rate(5 minutes) rule', () => {
  let s: Server;
  beforeAll(async () => {
    s = await startServer();
  });
  afterAll(() => stopServer(s));

  it('fires every 5 minutes from its creation, with the scheduled event', async () => {
    const fn = await deployRecorder(s, rec);
    const t0 = s.clock.now();
    await s.events.send(new PutRuleCommand({ Name: 'every-5', ScheduleExpression: 'rate(5 minutes)' }));
    await s.events.send(new PutTargetsCommand({ Rule: 'every-5', Targets: [{ Id: 'recorder', Arn: fnArn(fn) }] }));

    await advance(s, 5 * MINUTE - 1);
    expect(of(rec, fn)).toHaveLength(0);
    await advance(s, 1);
    expect(of(rec, fn)).toHaveLength(1);
    const first = of(rec, fn)[0]!;
    expect(first.event).toEqual({
      version: '0',
      id: expect.stringMatching(UUID),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: ACCOUNT,
      time: at(t0 + 5 * MINUTE),
      region: 'us-east-1',
      resources: [ruleArn('every-5')],
      detail: {},
    });

    // A quarter of an hour at once: one run per instant, each at its own time, each its own event
    // (the invocations run concurrently, so they arrive in any order).
    await advance(s, 15 * MINUTE);
    const events = of(rec, fn).map((r) => r.event as { time: string; id: string });
    expect(events.map((e) => e.time).sort()).toEqual([5, 10, 15, 20].map((m) => at(t0 + m * MINUTE)));
    expect(new Set(events.map((e) => e.id)).size).toBe(4);

    const m = await scrape(s.h.url);
    expect(sample(m, 'laminar_schedule_triggered_rules_total', { rule: 'every-5' })).toBe(4);
    expect(sample(m, 'laminar_schedule_invocations_total', { rule: 'every-5' })).toBe(4);
    expect(sample(m, 'laminar_async_events_received_total', { function: fn })).toBe(4);
    await dropRule(s, 'every-5');
  });

  it("sends a target's Input instead of the event, and the event to the targets without one", async () => {
    const plain = await deployRecorder(s, rec);
    const constant = await deployRecorder(s, rec);
    const t0 = s.clock.now();
    await s.events.send(new PutRuleCommand({ Name: 'with-input', ScheduleExpression: 'rate(5 minutes)' }));
    await s.events.send(
      new PutTargetsCommand({
        Rule: 'with-input',
        Targets: [
          { Id: 'plain', Arn: fnArn(plain) },
          { Id: 'constant', Arn: fnArn(constant, '$LATEST'), Input: '{"job":"nightly","n":[1,2]}' },
        ],
      }),
    );
    await advance(s, 5 * MINUTE);
    expect(of(rec, constant).map((r) => r.event)).toEqual([{ job: 'nightly', n: [1, 2] }]);
    expect(of(rec, plain).map((r) => (r.event as { time: string }).time)).toEqual([at(t0 + 5 * MINUTE)]);
    await dropRule(s, 'with-input');
  });

  it('does not fire while disabled; enabled again, it counts from that moment', async () => {
    const fn = await deployRecorder(s, rec);
    await s.events.send(new PutRuleCommand({ Name: 'paused', ScheduleExpression: 'rate(5 minutes)', State: 'DISABLED' }));
    await s.events.send(new PutTargetsCommand({ Rule: 'paused', Targets: [{ Id: 'recorder', Arn: fnArn(fn) }] }));
    await advance(s, 30 * MINUTE);
    expect(of(rec, fn)).toHaveLength(0);

    await advance(s, 2 * MINUTE);
    const enabledAt = s.clock.now();
    await s.events.send(new EnableRuleCommand({ Name: 'paused' }));
    await advance(s, 5 * MINUTE);
    expect(of(rec, fn).map((r) => (r.event as { time: string }).time)).toEqual([at(enabledAt + 5 * MINUTE)]);

    await s.events.send(new DisableRuleCommand({ Name: 'paused' }));
    await advance(s, HOUR);
    expect(of(rec, fn)).toHaveLength(1);
    expect(sample(await scrape(s.h.url), 'laminar_schedule_triggered_rules_total', { rule: 'paused' })).toBe(1);
    await dropRule(s, 'paused');
  });

  it('keeps its cadence through a PutRule with the same expression; a new expression starts it again', async () => {
    const fn = await deployRecorder(s, rec);
    const t0 = s.clock.now();
    await s.events.send(new PutRuleCommand({ Name: 'cadence', ScheduleExpression: 'rate(5 minutes)' }));
    await s.events.send(new PutTargetsCommand({ Rule: 'cadence', Targets: [{ Id: 'recorder', Arn: fnArn(fn) }] }));
    await advance(s, 3 * MINUTE);
    await s.events.send(new PutRuleCommand({ Name: 'cadence', ScheduleExpression: 'rate(5 minutes)', Description: 'same schedule' }));
    await advance(s, 2 * MINUTE);
    const changedAt = s.clock.now() + MINUTE;
    await advance(s, MINUTE);
    await s.events.send(new PutRuleCommand({ Name: 'cadence', ScheduleExpression: 'rate(10 minutes)' }));
    await advance(s, 10 * MINUTE);
    expect(of(rec, fn).map((r) => (r.event as { time: string }).time)).toEqual([at(t0 + 5 * MINUTE), at(changedAt + 10 * MINUTE)]);
    await dropRule(s, 'cadence');
  });

  it('counts a target whose function does not exist as a failed invocation, and still runs the others', async () => {
    const fn = await deployRecorder(s, rec);
    await s.events.send(new PutRuleCommand({ Name: 'half-gone', ScheduleExpression: 'rate(5 minutes)' }));
    await s.events.send(
      new PutTargetsCommand({ Rule: 'half-gone', Targets: [{ Id: 'ghost', Arn: fnArn('no-such-function') }, { Id: 'recorder', Arn: fnArn(fn) }] }),
    );
    await advance(s, 5 * MINUTE);
    expect(of(rec, fn)).toHaveLength(1);
    const m = await scrape(s.h.url);
    expect(sample(m, 'laminar_schedule_failed_invocations_total', { rule: 'half-gone', reason: 'FunctionNotFound' })).toBe(1);
    expect(sample(m, 'laminar_schedule_invocations_total', { rule: 'half-gone' })).toBe(1);
    await dropRule(s, 'half-gone');
  });
});

describe('cron() rules', () => {
  let s: Server;
  beforeAll(async () => {
    // Thursday 1 January 2026, 00:00 UTC.
    s = await startServer(undefined, Date.UTC(2026, 0, 1));
  });
  afterAll(() => stopServer(s));

  it("fire at their instants in UTC: L (last day of the month) and ? with 6L (the last Friday)", async () => {
    const fn = await deployRecorder(s, rec);
    await s.events.send(new PutRuleCommand({ Name: 'month-end', ScheduleExpression: 'cron(0 12 L * ? *)' }));
    await s.events.send(new PutRuleCommand({ Name: 'last-friday', ScheduleExpression: 'cron(30 9 ? * 6L *)' }));
    for (const rule of ['month-end', 'last-friday']) await s.events.send(new PutTargetsCommand({ Rule: rule, Targets: [{ Id: 'recorder', Arn: fnArn(fn) }] }));

    await advanceTo(s, Date.UTC(2026, 0, 30, 9, 30) - 1);
    expect(of(rec, fn)).toHaveLength(0);
    await advanceTo(s, Date.UTC(2026, 2, 1));
    const fired = of(rec, fn).map((r) => r.event as { time: string; resources: string[] });
    expect(fired.map((e) => [e.time, e.resources[0]])).toEqual([
      ['2026-01-30T09:30:00Z', ruleArn('last-friday')],
      ['2026-01-31T12:00:00Z', ruleArn('month-end')],
      ['2026-02-27T09:30:00Z', ruleArn('last-friday')],
      ['2026-02-28T12:00:00Z', ruleArn('month-end')],
    ]);
    await dropRule(s, 'month-end');
    await dropRule(s, 'last-friday');
  });
});

describe('across a restart', () => {
  let dataDir: string;
  let s: Server | undefined;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'laminar-schedules-'));
  });
  afterAll(async () => {
    await stopServer(s);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('rules and targets survive; runs missed while down are not replayed; an instant never fires twice', async () => {
    const T0 = Date.UTC(2026, 0, 1);
    s = await startServer(dataDir, T0);
    const fn = await deployRecorder(s, rec, 'restart-recorder');
    await s.events.send(new PutRuleCommand({ Name: 'survivor', ScheduleExpression: 'rate(5 minutes)', Description: 'kept' }));
    await s.events.send(new PutTargetsCommand({ Rule: 'survivor', Targets: [{ Id: 'recorder', Arn: fnArn(fn), Input: '{"from":"survivor"}' }] }));
    await s.events.send(new PutRuleCommand({ Name: 'sleeper', ScheduleExpression: 'rate(1 minute)', State: 'DISABLED' }));
    await advance(s, 5 * MINUTE);
    expect(of(rec, fn)).toHaveLength(1);
    await stopServer(s);

    // Down from 00:05 to 00:17: the runs at 00:10 and 00:15 are missed, and stay missed.
    s = await startServer(dataDir, T0 + 17 * MINUTE);
    expect(await s.events.send(new DescribeRuleCommand({ Name: 'survivor' }))).toMatchObject({ ScheduleExpression: 'rate(5 minutes)', Description: 'kept', State: 'ENABLED' });
    expect((await s.events.send(new DescribeRuleCommand({ Name: 'sleeper' }))).State).toBe('DISABLED');
    expect((await s.events.send(new ListTargetsByRuleCommand({ Rule: 'survivor' }))).Targets).toEqual([{ Id: 'recorder', Arn: fnArn(fn), Input: '{"from":"survivor"}' }]);
    await advance(s, 0);
    expect(of(rec, fn)).toHaveLength(1);
    // The cadence counts from the rule's creation, as before the restart.
    await advance(s, 3 * MINUTE - 1);
    expect(of(rec, fn)).toHaveLength(1);
    await advance(s, 1);
    expect(of(rec, fn)).toHaveLength(2);
    expect(sample(await scrape(s.h.url), 'laminar_schedule_triggered_rules_total', { rule: 'survivor' })).toBe(1);
    await stopServer(s);

    // Back at the very instant that already fired (00:20): it does not fire again; 00:25 does.
    s = await startServer(dataDir, T0 + 20 * MINUTE);
    await advance(s, 0);
    expect(of(rec, fn)).toHaveLength(2);
    await advance(s, 5 * MINUTE);
    expect(of(rec, fn)).toHaveLength(3);
    expect(sample(await scrape(s.h.url), 'laminar_schedule_triggered_rules_total', { rule: 'survivor' })).toBe(1);
  });

  it('refuses to start on an empty schedules.db, naming it, rather than lose every rule', async () => {
    await stopServer(s);
    s = undefined;
    truncateSync(join(dataDir, 'schedules.db'), 0);
    await expect(startServer(dataDir)).rejects.toThrow(`Schedules database ${join(dataDir, 'schedules.db')} is empty (0 bytes). Laminar does not start on it`);
  });
});

describe("a folder's laminar.json LaminarSchedule (serve --functions)", () => {
  let s: Server;
  let dir: string;
  beforeAll(async () => {
    s = await startServer();
    dir = mkdtempSync(join(tmpdir(), 'laminar-schedule-folders-'));
  });
  afterAll(async () => {
    await stopServer(s);
    rmSync(dir, { recursive: true, force: true });
  });

  const settings = (extra: Record<string, unknown>) =>
    writeFileSync(join(dir, 'ticker', 'laminar.json'), JSON.stringify({ Environment: { Variables: { RECORDER_URL: rec.url + 'ticker' } }, ...extra }));

  it('makes a rule named after the function with the function as target, keeps it while unchanged, and removes it when dropped', async () => {
    mkdirSync(join(dir, 'ticker'));
    cpSync(join(FIXTURES, 'recorder', 'index.js'), join(dir, 'ticker', 'index.js'));
    settings({ LaminarSchedule: 'rate(5 minutes)' });
    const t0 = s.clock.now();
    expect(await deployFolders(s.h.laminar, dir)).toEqual(['ticker']);
    expect(await s.events.send(new DescribeRuleCommand({ Name: 'ticker' }))).toMatchObject({ ScheduleExpression: 'rate(5 minutes)', State: 'ENABLED' });
    expect((await s.events.send(new ListTargetsByRuleCommand({ Rule: 'ticker' }))).Targets).toEqual([{ Id: 'ticker', Arn: fnArn('ticker') }]);

    // A restart's deploy of the same folder leaves the rule, its cadence and its state alone.
    await advance(s, 3 * MINUTE);
    await deployFolders(s.h.laminar, dir);
    await advance(s, 2 * MINUTE);
    expect(of(rec, 'ticker').map((r) => (r.event as { time: string }).time)).toEqual([at(t0 + 5 * MINUTE)]);
    await s.events.send(new DisableRuleCommand({ Name: 'ticker' }));
    await deployFolders(s.h.laminar, dir);
    expect((await s.events.send(new DescribeRuleCommand({ Name: 'ticker' }))).State).toBe('DISABLED');

    settings({ LaminarSchedule: 'rate(1 hour)' });
    await deployFolders(s.h.laminar, dir);
    expect(await s.events.send(new DescribeRuleCommand({ Name: 'ticker' }))).toMatchObject({ ScheduleExpression: 'rate(1 hour)', State: 'DISABLED' });

    settings({});
    await deployFolders(s.h.laminar, dir);
    await expect(s.events.send(new DescribeRuleCommand({ Name: 'ticker' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('refuses a LaminarSchedule that is not a schedule, naming the file, before deploying anything', async () => {
    mkdirSync(join(dir, 'ticker'), { recursive: true });
    cpSync(join(FIXTURES, 'recorder', 'index.js'), join(dir, 'ticker', 'index.js'));
    settings({ LaminarSchedule: 'rate(5 minute)' });
    await expect(deployFolders(s.h.laminar, dir)).rejects.toThrow(
      `${join(dir, 'ticker', 'laminar.json')}: LaminarSchedule 'rate(5 minute)' is not a schedule (use the plural unit, as in rate(5 minutes))`,
    );
    await expect(s.events.send(new DescribeRuleCommand({ Name: 'ticker' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('leaves alone a rule of the same name made through the API, and says so', async () => {
    await s.events.send(new PutRuleCommand({ Name: 'ticker', ScheduleExpression: 'rate(2 hours)' }));
    settings({ LaminarSchedule: 'rate(5 minutes)' });
    await expect(deployFolders(s.h.laminar, dir)).rejects.toThrow('A rule named ticker exists and was not made by laminar.json');
    expect((await s.events.send(new DescribeRuleCommand({ Name: 'ticker' }))).ScheduleExpression).toBe('rate(2 hours)');
    settings({});
    await deployFolders(s.h.laminar, dir);
    expect((await s.events.send(new DescribeRuleCommand({ Name: 'ticker' }))).ScheduleExpression).toBe('rate(2 hours)');
  });
});
