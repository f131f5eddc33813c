/**
 * The EventBridge API for scheduled rules, through the real `@aws-sdk/client-eventbridge`
 * against a real server: rules and targets, and every refusal in AWS's words (LocalStack's
 * recorded AWS answers, tests/aws/services/events/*.snapshot.json). The server runs on a
 * ManualClock that never moves, so nothing fires here (firing is schedules-firing.test.ts).
 */
import { DescribeScalableTargetsCommand, ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import {
  DeleteRuleCommand,
  DescribeRuleCommand,
  DisableRuleCommand,
  EnableRuleCommand,
  EventBridgeClient,
  ListRulesCommand,
  ListTargetsByRuleCommand,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { startLaminar, type Harness } from '../helpers/laminar.js';

const ACCOUNT = '000000000000';
const ruleArn = (name: string) => `arn:aws:events:us-east-1:${ACCOUNT}:rule/${name}`;
const fnArn = (name: string, qualifier?: string) => `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${name}${qualifier ? `:${qualifier}` : ''}`;

let h: Harness;
let events: EventBridgeClient;

beforeAll(async () => {
  h = await startLaminar({}, { clock: new ManualClock() });
  events = new EventBridgeClient({ endpoint: h.url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
});
afterAll(async () => {
  events?.destroy();
  await h?.close();
});

/** Sends raw awsJson1_1, for what the SDK would refuse to send. */
async function raw(target: string, body: string): Promise<{ status: number; type: string | null; json: { __type?: string; message?: string } }> {
  const res = await fetch(h.url, { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target }, body });
  return { status: res.status, type: res.headers.get('x-amzn-errortype'), json: (await res.json()) as { __type?: string; message?: string } };
}

describe('rules', () => {
  it('PutRule with a rate() returns the rule ARN; DescribeRule and ListRules answer it as AWS does', async () => {
    const out = await events.send(new PutRuleCommand({ Name: 'every-five', ScheduleExpression: 'rate(5 minutes)', Description: 'five' }));
    expect(out.RuleArn).toBe(ruleArn('every-five'));
    const d = await events.send(new DescribeRuleCommand({ Name: 'every-five' }));
    expect(d).toMatchObject({
      Name: 'every-five',
      Arn: ruleArn('every-five'),
      ScheduleExpression: 'rate(5 minutes)',
      State: 'ENABLED',
      Description: 'five',
      EventBusName: 'default',
      CreatedBy: ACCOUNT,
    });
    const list = await events.send(new ListRulesCommand({ NamePrefix: 'every-five' }));
    expect(list.Rules).toEqual([{ Name: 'every-five', Arn: ruleArn('every-five'), ScheduleExpression: 'rate(5 minutes)', State: 'ENABLED', Description: 'five', EventBusName: 'default' }]);
  });

  it('PutRule on an existing rule replaces it: omitted members are cleared, State defaults to ENABLED', async () => {
    await events.send(new PutRuleCommand({ Name: 'replaced', ScheduleExpression: 'rate(1 hour)', State: 'DISABLED', Description: 'old' }));
    await events.send(new PutRuleCommand({ Name: 'replaced', ScheduleExpression: 'rate(2 hours)' }));
    const d = await events.send(new DescribeRuleCommand({ Name: 'replaced' }));
    expect(d.ScheduleExpression).toBe('rate(2 hours)');
    expect(d.State).toBe('ENABLED');
    expect(d.Description).toBeUndefined();
  });

  it.each([
    'cron(0 10 * * ? *)',
    'cron(15 12 * * ? *)',
    'cron(0 18 ? * MON-FRI *)',
    'cron(0 8 1 * ? *)',
    'cron(0/15 * * * ? *)',
    'cron(0/10 * ? * MON-FRI *)',
    'cron(0/5 8-17 ? * MON-FRI *)',
    'cron(0 2 ? * SAT *)',
    'cron(5,35 14 * * ? *)',
    'cron(15 10 ? * 6L 2002-2005)',
    'cron(0 2 ? * SAT#3 *)',
    'cron(* * ? * SAT#3 *)',
    'cron(0/5 5 ? JAN 1-5 2022)',
    'cron(0 12 L * ? *)',
    'rate(1 minute)',
    'rate(1 day)',
    'rate(3 days)',
  ])('accepts %s, as AWS does', async (expression) => {
    const name = `ok-${Math.random().toString(36).slice(2, 8)}`;
    await events.send(new PutRuleCommand({ Name: name, ScheduleExpression: expression }));
    expect((await events.send(new DescribeRuleCommand({ Name: name }))).ScheduleExpression).toBe(expression);
  });

  it.each([
    'rate(10 seconds)',
    'rate(10 years)',
    'rate(1 minutes)',
    'rate(1 hours)',
    'rate(1 days)',
    'rate(10 minute)',
    'rate(10 hour)',
    'rate(10 day)',
    'rate()',
    'rate(10)',
    'rate(10 minutess)',
    'rate(foo minutes)',
    'rate(0 minutes)',
    'rate(-10 minutes)',
    'rate(10 MINUTES)',
    'rate( 10 minutes )',
    ' rate(10 minutes)',
    'cron(INVALID)',
    'cron(0 dummy ? * MON-FRI *)',
    'cron(7 20 * * NOT *)',
    'cron(71 8 1 * ? *)',
    'cron(0 1 * * * *)',
    'at(2026-01-01T00:00:00)',
  ])('refuses %s with AWS\'s ValidationException, and stores nothing', async (expression) => {
    const name = `bad-${Math.random().toString(36).slice(2, 8)}`;
    await expect(events.send(new PutRuleCommand({ Name: name, ScheduleExpression: expression }))).rejects.toMatchObject({
      name: 'ValidationException',
      message: 'Parameter ScheduleExpression is not valid.',
      $metadata: { httpStatusCode: 400 },
    });
    await expect(events.send(new DescribeRuleCommand({ Name: name }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('refuses a rule with neither a schedule nor a pattern, a bad name and a bad State, in AWS\'s words', async () => {
    await expect(events.send(new PutRuleCommand({ Name: 'nothing' }))).rejects.toMatchObject({
      name: 'ValidationException',
      message: 'Parameter(s) EventPattern or ScheduleExpression must be specified.',
    });
    await expect(events.send(new PutRuleCommand({ Name: 'not a name!', ScheduleExpression: 'rate(1 hour)' }))).rejects.toMatchObject({
      name: 'ValidationException',
      message:
        "1 validation error detected: Value 'not a name!' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+",
    });
    const r = await raw('AWSEvents.PutRule', JSON.stringify({ Name: 'stateful', ScheduleExpression: 'rate(1 hour)', State: 'PAUSED' }));
    expect(r.status).toBe(400);
    expect(r.type).toBe('ValidationException');
    expect(r.json.message).toBe(
      "1 validation error detected: Value 'PAUSED' at 'state' failed to satisfy constraint: Member must satisfy enum value set: [DISABLED, ENABLED, ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS]",
    );
  });

  it('answers an unknown rule and an unknown event bus with ResourceNotFoundException, in AWS\'s words', async () => {
    await expect(events.send(new DescribeRuleCommand({ Name: 'this-rule-does-not-exist' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      message: 'Rule this-rule-does-not-exist does not exist on EventBus default.',
      $metadata: { httpStatusCode: 400 },
    });
    await expect(events.send(new EnableRuleCommand({ Name: 'this-rule-does-not-exist' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(events.send(new PutRuleCommand({ Name: 'on-bus', ScheduleExpression: 'rate(1 hour)', EventBusName: 'orders' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      message: 'Event bus orders does not exist.',
    });
    // The default bus may be named by its ARN.
    await events.send(new PutRuleCommand({ Name: 'on-default', ScheduleExpression: 'rate(1 hour)', EventBusName: `arn:aws:events:us-east-1:${ACCOUNT}:event-bus/default` }));
  });

  it('keeps an EventPattern rule (which never fires) and refuses a pattern that is not a JSON object', async () => {
    const pattern = JSON.stringify({ source: ['my.app'] });
    await events.send(new PutRuleCommand({ Name: 'patterned', EventPattern: pattern }));
    expect((await events.send(new DescribeRuleCommand({ Name: 'patterned' }))).EventPattern).toBe(pattern);
    await expect(events.send(new PutRuleCommand({ Name: 'patterned-bad', EventPattern: '["a"]' }))).rejects.toMatchObject({
      name: 'InvalidEventPatternException',
      message: 'Event pattern is not valid. Reason: Filter is not an object',
    });
  });

  it('DisableRule and EnableRule change State', async () => {
    await events.send(new PutRuleCommand({ Name: 'toggled', ScheduleExpression: 'rate(1 hour)' }));
    await events.send(new DisableRuleCommand({ Name: 'toggled' }));
    expect((await events.send(new DescribeRuleCommand({ Name: 'toggled' }))).State).toBe('DISABLED');
    await events.send(new EnableRuleCommand({ Name: 'toggled' }));
    expect((await events.send(new DescribeRuleCommand({ Name: 'toggled' }))).State).toBe('ENABLED');
  });

  it('ListRules filters by NamePrefix and pages with Limit and NextToken, in name order', async () => {
    for (const n of [3, 1, 5, 0, 4, 2]) await events.send(new PutRuleCommand({ Name: `paged-${n}`, ScheduleExpression: 'rate(1 hour)' }));
    const first = await events.send(new ListRulesCommand({ NamePrefix: 'paged-', Limit: 4 }));
    expect(first.Rules?.map((r) => r.Name)).toEqual(['paged-0', 'paged-1', 'paged-2', 'paged-3']);
    expect(first.NextToken).toBeDefined();
    const second = await events.send(new ListRulesCommand({ NamePrefix: 'paged-', Limit: 4, NextToken: first.NextToken }));
    expect(second.Rules?.map((r) => r.Name)).toEqual(['paged-4', 'paged-5']);
    expect(second.NextToken).toBeUndefined();
    await expect(events.send(new ListRulesCommand({ Limit: 101 }))).rejects.toMatchObject({
      name: 'ValidationException',
      message: "1 validation error detected: Value '101' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 100",
    });
  });
});

describe('targets', () => {
  it('PutTargets takes Lambda function ARNs with or without a qualifier and a constant Input; ListTargetsByRule lists them', async () => {
    await events.send(new PutRuleCommand({ Name: 'targeted', ScheduleExpression: 'rate(1 hour)' }));
    const out = await events.send(
      new PutTargetsCommand({
        Rule: 'targeted',
        Targets: [
          { Id: 'plain', Arn: fnArn('reports') },
          { Id: 'aliased', Arn: fnArn('reports', 'live'), Input: '{"kind":"nightly"}' },
        ],
      }),
    );
    expect(out).toMatchObject({ FailedEntryCount: 0, FailedEntries: [] });
    const list = await events.send(new ListTargetsByRuleCommand({ Rule: 'targeted' }));
    expect(list.Targets).toEqual([
      { Id: 'plain', Arn: fnArn('reports') },
      { Id: 'aliased', Arn: fnArn('reports', 'live'), Input: '{"kind":"nightly"}' },
    ]);
    // The same Id again replaces its target.
    await events.send(new PutTargetsCommand({ Rule: 'targeted', Targets: [{ Id: 'plain', Arn: fnArn('other') }] }));
    expect((await events.send(new ListTargetsByRuleCommand({ Rule: 'targeted' }))).Targets?.map((t) => t.Arn)).toEqual([fnArn('other'), fnArn('reports', 'live')]);
    const page = await events.send(new ListTargetsByRuleCommand({ Rule: 'targeted', Limit: 1 }));
    expect(page.Targets?.map((t) => t.Id)).toEqual(['plain']);
    expect((await events.send(new ListTargetsByRuleCommand({ Rule: 'targeted', NextToken: page.NextToken }))).Targets?.map((t) => t.Id)).toEqual(['aliased']);
  });

  it('reports targets Laminar cannot deliver to as FailedEntries and puts the others', async () => {
    await events.send(new PutRuleCommand({ Name: 'partial', ScheduleExpression: 'rate(1 hour)' }));
    const out = await events.send(
      new PutTargetsCommand({
        Rule: 'partial',
        Targets: [
          { Id: 'queue', Arn: `arn:aws:sqs:us-east-1:${ACCOUNT}:orders` },
          { Id: 'fn', Arn: fnArn('reports') },
          { Id: 'elsewhere', Arn: `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:reports` },
          { Id: 'path', Arn: fnArn('reports'), InputPath: '$.detail' },
        ],
      }),
    );
    expect(out.FailedEntryCount).toBe(3);
    expect(out.FailedEntries?.map((e) => [e.TargetId, e.ErrorCode])).toEqual([
      ['queue', 'ValidationException'],
      ['elsewhere', 'ValidationException'],
      ['path', 'ValidationException'],
    ]);
    expect(out.FailedEntries?.[0]?.ErrorMessage).toContain('Lambda functions only');
    expect(out.FailedEntries?.[1]?.ErrorMessage).toContain('region eu-west-1');
    expect(out.FailedEntries?.[2]?.ErrorMessage).toContain('InputPath');
    expect((await events.send(new ListTargetsByRuleCommand({ Rule: 'partial' }))).Targets?.map((t) => t.Id)).toEqual(['fn']);
  });

  it('refuses a bad Id, a malformed ARN and an Input that is not JSON as a whole, in AWS\'s words, and changes nothing', async () => {
    await events.send(new PutRuleCommand({ Name: 'strict', ScheduleExpression: 'rate(1 hour)' }));
    const put = (targets: { Id: string; Arn: string; Input?: string }[]) => events.send(new PutTargetsCommand({ Rule: 'strict', Targets: [{ Id: 'good', Arn: fnArn('reports') }, ...targets] }));
    await expect(put([{ Id: '!@#$@!#$', Arn: fnArn('reports') }])).rejects.toMatchObject({
      name: 'ValidationException',
      message:
        "1 validation error detected: Value '!@#$@!#$' at 'targets.2.member.id' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+",
    });
    const long = 'x'.repeat(65);
    await expect(put([{ Id: long, Arn: fnArn('reports') }])).rejects.toMatchObject({
      message: `1 validation error detected: Value '${long}' at 'targets.2.member.id' failed to satisfy constraint: Member must have length less than or equal to 64`,
    });
    await expect(put([{ Id: 'arn', Arn: 'not-an-arn' }])).rejects.toMatchObject({
      name: 'ValidationException',
      message: 'Parameter not-an-arn is not valid. Reason: Provided Arn is not in correct format.',
    });
    await expect(put([{ Id: 'input', Arn: fnArn('reports'), Input: '{nope' }])).rejects.toMatchObject({
      name: 'ValidationException',
      message: 'Input for target input is not a valid JSON text.',
    });
    expect((await events.send(new ListTargetsByRuleCommand({ Rule: 'strict' }))).Targets).toEqual([]);
    await expect(events.send(new PutTargetsCommand({ Rule: 'no-such-rule', Targets: [{ Id: 'a', Arn: fnArn('reports') }] }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      message: 'Rule no-such-rule does not exist on EventBus default.',
    });
  });

  it('allows at most 5 targets per rule: more is a LimitExceededException and changes nothing', async () => {
    await events.send(new PutRuleCommand({ Name: 'crowded', ScheduleExpression: 'rate(1 hour)' }));
    await events.send(new PutTargetsCommand({ Rule: 'crowded', Targets: [0, 1, 2, 3].map((i) => ({ Id: `t${i}`, Arn: fnArn('reports') })) }));
    await expect(events.send(new PutTargetsCommand({ Rule: 'crowded', Targets: [4, 5].map((i) => ({ Id: `t${i}`, Arn: fnArn('reports') })) }))).rejects.toMatchObject({
      name: 'LimitExceededException',
      message: 'The requested resource exceeds the maximum number allowed.',
    });
    expect((await events.send(new ListTargetsByRuleCommand({ Rule: 'crowded' }))).Targets).toHaveLength(4);
    // Replacing existing Ids does not count twice.
    await events.send(new PutTargetsCommand({ Rule: 'crowded', Targets: [0, 1, 4].map((i) => ({ Id: `t${i}`, Arn: fnArn('other') })) }));
    expect((await events.send(new ListTargetsByRuleCommand({ Rule: 'crowded' }))).Targets).toHaveLength(5);
  });

  it('DeleteRule is refused while the rule has targets; RemoveTargets reports unknown Ids; then the rule goes', async () => {
    await events.send(new PutRuleCommand({ Name: 'doomed', ScheduleExpression: 'rate(1 hour)' }));
    await events.send(new PutTargetsCommand({ Rule: 'doomed', Targets: [{ Id: 'a', Arn: fnArn('reports') }] }));
    await expect(events.send(new DeleteRuleCommand({ Name: 'doomed' }))).rejects.toMatchObject({
      name: 'ValidationException',
      message: "Rule can't be deleted since it has targets.",
      $metadata: { httpStatusCode: 400 },
    });
    const removed = await events.send(new RemoveTargetsCommand({ Rule: 'doomed', Ids: ['a', 'ghost'] }));
    expect(removed.FailedEntryCount).toBe(1);
    expect(removed.FailedEntries).toEqual([{ TargetId: 'ghost', ErrorCode: 'ResourceNotFoundException', ErrorMessage: "Rule 'doomed' does not have a target with the Id 'ghost'." }]);
    await events.send(new DeleteRuleCommand({ Name: 'doomed' }));
    await expect(events.send(new DescribeRuleCommand({ Name: 'doomed' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    // Deleting a rule that is not there succeeds, as in EventBridge.
    await events.send(new DeleteRuleCommand({ Name: 'doomed' }));
  });
});

describe('the protocol, beside Application Auto Scaling on POST /', () => {
  it('answers an unknown operation, a body that is not JSON and a wrong member type in EventBridge\'s shapes', async () => {
    const unknown = await raw('AWSEvents.PutEvents', '{}');
    expect(unknown.status).toBe(400);
    expect(unknown.type).toBe('UnknownOperationException');
    expect(unknown.json).toMatchObject({ __type: 'UnknownOperationException' });
    const notJson = await raw('AWSEvents.ListRules', '{nope');
    expect(notJson).toMatchObject({ status: 400, type: 'SerializationException' });
    const wrongType = await raw('AWSEvents.ListRules', JSON.stringify({ Limit: 'ten' }));
    expect(wrongType).toMatchObject({ status: 400, type: 'SerializationException' });
    expect(wrongType.json.message).toContain("'Limit' must be an integer");
  });

  it('serves Application Auto Scaling on the same path, and names both services for any other X-Amz-Target', async () => {
    const scaling = new ApplicationAutoScalingClient({ endpoint: h.url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    try {
      const out = await scaling.send(new DescribeScalableTargetsCommand({ ServiceNamespace: 'lambda' }));
      expect(out.ScalableTargets).toEqual([]);
    } finally {
      scaling.destroy();
    }
    const other = await raw('DynamoDB_20120810.ListTables', '{}');
    expect(other.status).toBe(400);
    expect(other.type).toBe('UnknownOperationException');
    expect(other.json.message).toContain('AWSEvents.*');
    const res = await fetch(h.url, { method: 'POST', body: '{}' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/^Missing X-Amz-Target header/);
  });
});
