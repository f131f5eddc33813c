import { afterEach, describe, expect, it } from 'vitest';
import { AutoScaling } from '../../../src/autoscaling/index.js';
import type { Direction } from '../../../src/autoscaling/types.js';
import { ManualClock } from '../../../src/core/clock.js';
import { FakePort } from './fake-port.js';

const P = 60_000;
const ids = { ServiceNamespace: 'lambda', ScalableDimension: 'lambda:function:ProvisionedConcurrency' } as const;
const RES = 'function:api:live';
const tracking = { TargetValue: 0.7, PredefinedMetricSpecification: { PredefinedMetricType: 'LambdaProvisionedConcurrencyUtilization' } };

function setup(o: { current?: number; min?: number; max?: number } = {}) {
  const clock = new ManualClock();
  const port = new FakePort('api');
  if (o.current !== undefined) port.put('api', 'live', o.current);
  port.calls.length = 0;
  const as = new AutoScaling({ clock, port, periodMs: P, partition: { region: 'us-east-1', accountId: '000000000000' } });
  const actions: [Direction, string][] = [];
  as.bindMetrics({ onAction: (d, t) => actions.push([d, `${t.functionName}:${t.qualifier}`]) });
  as.registerScalableTarget({ ...ids, ResourceId: RES, MinCapacity: o.min ?? 1, MaxCapacity: o.max ?? 100 });
  as.start();
  started.push(as);
  const activities = () => as.describeScalingActivities({ ServiceNamespace: 'lambda', IncludeNotScaledActivities: true }).ScalingActivities;
  return { clock, port, as, actions, activities };
}

const started: AutoScaling[] = [];
afterEach(() => {
  for (const as of started.splice(0)) as.stop();
});

describe('scaling loop (ManualClock, fake port)', () => {
  it('scales out through port.put after three periods above target and records the activity', () => {
    const { clock, port, as, actions, activities } = setup({ current: 10 });
    const { Alarms } = as.putScalingPolicy({ ...ids, ResourceId: RES, PolicyName: 'pc', PolicyType: 'TargetTrackingScaling', TargetTrackingScalingPolicyConfiguration: tracking });
    port.setUtilization('api', 'live', 0.9);
    clock.advance(2 * P);
    expect(port.calls).toEqual([]);
    clock.advance(P);
    expect(port.calls).toEqual(['put api:live 13']); // ceil(10 × 0.9 / 0.7)
    expect(actions).toEqual([['out', 'api:live']]);
    expect(activities()[0]).toMatchObject({
      ResourceId: RES,
      Description: 'Setting desired concurrency to 13.',
      Cause: `monitor alarm ${Alarms[0]!.AlarmName} in state ALARM triggered policy pc`,
      StatusCode: 'Successful',
      StatusMessage: 'Successfully set desired concurrency to 13. Change successfully fulfilled by lambda.',
      StartTime: (clock.now()) / 1000,
    });
    expect(as.desiredCapacity()).toEqual([{ function: 'api', qualifier: 'live', value: 13 }]);
  });

  it('steps down after 15 periods below 90 % of target, one step per period while the alarm holds', () => {
    const { clock, port, as, actions } = setup({ current: 10 });
    as.putScalingPolicy({ ...ids, ResourceId: RES, PolicyName: 'pc', PolicyType: 'TargetTrackingScaling', TargetTrackingScalingPolicyConfiguration: tracking });
    port.setLoad('api', 'live', 3); // 3 busy of 10: 0.3 < 0.63
    clock.advance(14 * P);
    expect(port.calls).toEqual([]);
    clock.advance(P);
    expect(port.calls).toEqual(['put api:live 8']); // at most a quarter: 10 − 2
    clock.advance(3 * P);
    // 3 of 8 = 0.375 → 6; 3 of 6 = 0.5 → 5 (keeps 0.6 ≤ 0.7); 3 of 5 = 0.6 → stays.
    expect(port.calls).toEqual(['put api:live 8', 'put api:live 6', 'put api:live 5']);
    expect(actions.map(([d]) => d)).toEqual(['in', 'in', 'in']);
  });

  it('never scales in without data, and a period without invocations breaks the run', () => {
    const { clock, port, as } = setup({ current: 10 });
    as.putScalingPolicy({ ...ids, ResourceId: RES, PolicyName: 'pc', PolicyType: 'TargetTrackingScaling', TargetTrackingScalingPolicyConfiguration: tracking });
    port.setLoad('api', 'live', 0, false); // idle: no invocations at all
    clock.advance(30 * P);
    expect(port.calls).toEqual([]);

    port.setLoad('api', 'live', 1);
    clock.advance(14 * P);
    port.setLoad('api', 'live', 0, false);
    clock.advance(P);
    port.setLoad('api', 'live', 1);
    clock.advance(14 * P);
    expect(port.calls).toEqual([]);
    clock.advance(P);
    expect(port.calls).toEqual(['put api:live 8']);
  });

  it('records a failed activity when the port refuses, and a not-scaled one at max capacity', () => {
    const { clock, port, as, activities } = setup({ current: 10, max: 10 });
    as.putScalingPolicy({ ...ids, ResourceId: RES, PolicyName: 'pc', PolicyType: 'TargetTrackingScaling', TargetTrackingScalingPolicyConfiguration: tracking });
    port.setUtilization('api', 'live', 1);
    clock.advance(5 * P);
    const notScaled = activities().filter((a) => a.NotScaledReasons);
    expect(notScaled).toHaveLength(1); // once per episode, not once per period
    expect(notScaled[0]!.NotScaledReasons).toEqual([{ Code: 'AlreadyAtMaxCapacity', MaxCapacity: 10, CurrentCapacity: 10 }]);
    expect(as.describeScalingActivities({ ServiceNamespace: 'lambda' }).ScalingActivities.some((a) => a.NotScaledReasons)).toBe(false);

    as.registerScalableTarget({ ...ids, ResourceId: RES, MaxCapacity: 50 });
    port.failWith = new Error('account concurrency would drop below the unreserved minimum');
    clock.advance(P);
    expect(activities()[0]).toMatchObject({
      StatusCode: 'Failed',
      StatusMessage: 'Failed to set desired concurrency to 15. Reason: account concurrency would drop below the unreserved minimum',
    });
  });

  it('runs the Knative-style profile within seconds', () => {
    const { clock, port, as } = setup({ current: 10 });
    const { Alarms } = as.putScalingPolicy({
      ...ids,
      ResourceId: RES,
      PolicyName: 'fast',
      PolicyType: 'LaminarKnativeScaling',
      TargetTrackingScalingPolicyConfiguration: { TargetValue: 0.7 },
    });
    expect(Alarms).toEqual([]);
    port.setLoad('api', 'live', 7);
    clock.advance(P);
    expect(port.calls).toEqual([]);
    port.setLoad('api', 'live', 10); // all busy: panic on the next tick
    clock.advance(6_000);
    expect(port.calls).toEqual(['put api:live 15']);
    const [activity] = as.describeScalingActivities({ ServiceNamespace: 'lambda' }).ScalingActivities;
    expect(activity!.Cause).toMatch(/^Laminar Knative-style policy fast: .* in panic mode$/);
  });

  it('applies scheduled actions at their time and clamps capacity into the new bounds', () => {
    const { clock, port, as, activities } = setup({ current: 2 });
    as.putScheduledAction({ ...ids, ResourceId: RES, ScheduledActionName: 'noon', Schedule: 'cron(0 12 ? * MON-FRI *)', ScalableTargetAction: { MinCapacity: 5 } });
    as.putScheduledAction({ ...ids, ResourceId: RES, ScheduledActionName: 'evening', Schedule: 'at(2026-01-01T18:00:00)', ScalableTargetAction: { MinCapacity: 1, MaxCapacity: 3 } });
    clock.advance(12 * 3_600_000 - 1);
    expect(port.calls).toEqual([]);
    clock.advance(1);
    expect(port.calls).toEqual(['put api:live 5']);
    expect(as.describeScalableTargets({ ServiceNamespace: 'lambda' }).ScalableTargets[0]).toMatchObject({ MinCapacity: 5, MaxCapacity: 100 });
    expect(activities().slice(0, 2)).toMatchObject([
      { Description: 'Setting desired concurrency to 5.', Cause: 'minimum capacity was set to 5' },
      { Description: 'Setting min capacity to 5 and max capacity to 100', Cause: 'scheduled action name noon was triggered', StatusCode: 'Successful' },
    ]);
    clock.advance(6 * 3_600_000);
    expect(port.calls).toEqual(['put api:live 5', 'put api:live 3']);
    expect(as.describeScalableTargets({ ServiceNamespace: 'lambda' }).ScalableTargets[0]).toMatchObject({ MinCapacity: 1, MaxCapacity: 3 });
  });

  it('skips suspended scaling', () => {
    const { clock, port, as } = setup({ current: 10 });
    as.registerScalableTarget({ ...ids, ResourceId: RES, SuspendedState: { DynamicScalingOutSuspended: true, ScheduledScalingSuspended: true } });
    as.putScalingPolicy({ ...ids, ResourceId: RES, PolicyName: 'pc', PolicyType: 'TargetTrackingScaling', TargetTrackingScalingPolicyConfiguration: tracking });
    as.putScheduledAction({ ...ids, ResourceId: RES, ScheduledActionName: 's', Schedule: 'rate(1 minute)', ScalableTargetAction: { MinCapacity: 20 } });
    port.setUtilization('api', 'live', 1);
    clock.advance(10 * P);
    expect(port.calls).toEqual([]);
  });

  it('stop() cancels every timer, start() resumes', () => {
    const { clock, port, as } = setup({ current: 10 });
    as.putScheduledAction({ ...ids, ResourceId: RES, ScheduledActionName: 's', Schedule: 'rate(5 minutes)', ScalableTargetAction: { MinCapacity: 12 } });
    expect(clock.pending()).toBe(2); // the sample tick and the schedule
    as.stop();
    expect(clock.pending()).toBe(0);
    clock.advance(10 * P);
    expect(port.calls).toEqual([]);
    as.start();
    clock.advance(5 * P);
    expect(port.calls).toEqual(['put api:live 12']);
  });

  it('deregistering cancels the target’s scheduled actions', () => {
    const { clock, port, as } = setup({ current: 10 });
    as.putScheduledAction({ ...ids, ResourceId: RES, ScheduledActionName: 's', Schedule: 'rate(5 minutes)', ScalableTargetAction: { MinCapacity: 12 } });
    as.deregisterScalableTarget({ ...ids, ResourceId: RES });
    expect(clock.pending()).toBe(1); // only the sample tick
    clock.advance(10 * P);
    expect(port.calls).toEqual([]);
    expect(as.describeScheduledActions({ ServiceNamespace: 'lambda' }).ScheduledActions).toEqual([]);
  });
});
