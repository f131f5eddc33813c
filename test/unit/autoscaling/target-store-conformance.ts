/**
 * The one conformance suite of the TargetStore port: the memory store and the SQLite store run it
 * unchanged, so the service and the loop see the same behaviour whichever holds their state.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TargetStore } from '../../../src/autoscaling/target-store.js';
import type { ScalableTargetRecord, ScalingActivityRecord, ScalingPolicyRecord, ScheduledActionRecord } from '../../../src/autoscaling/types.js';

export interface TargetStoreHarness {
  /**
   * The store under test. Its writes may return a promise (a cluster replica's are logged
   * through Redis first): the suite awaits every write before it reads.
   */
  store: TargetStore;
  /**
   * Closes the store and opens a new one on the same storage (a restart). Absent for a store that
   * keeps nothing across restarts; the restart test is not defined for it.
   */
  reopen?: () => TargetStore | Promise<TargetStore>;
  /** Closes whatever is open and removes the storage. */
  cleanup(): void | Promise<void>;
}

export interface HarnessOptions {
  activityRetention?: number;
}

const T0 = Date.UTC(2026, 0, 1);

export function target(name: string, over: Partial<ScalableTargetRecord> = {}): ScalableTargetRecord {
  return {
    functionName: name,
    qualifier: 'live',
    resourceId: `function:${name}:live`,
    minCapacity: 1,
    maxCapacity: 10,
    roleArn: 'arn:aws:iam::123456789012:role/aws-service-role/lambda.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_LambdaConcurrency',
    arn: `arn:aws:application-autoscaling:us-east-1:123456789012:scalable-target/${name}`,
    createdAt: T0,
    suspended: { DynamicScalingInSuspended: false },
    tags: { team: 'orders' },
    ...over,
  };
}

export function policy(resourceId: string, name: string, over: Partial<ScalingPolicyRecord> = {}): ScalingPolicyRecord {
  return {
    resourceId,
    name,
    type: 'TargetTrackingScaling',
    arn: `arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:p:resource/lambda/${resourceId}:policyName/${name}`,
    targetValue: 0.7,
    metric: { kind: 'customized', MetricName: 'ProvisionedConcurrencyUtilization', Namespace: 'AWS/Lambda', Dimensions: [{ Name: 'FunctionName', Value: 'x' }], Statistic: 'Maximum' },
    scaleOutCooldownSeconds: 30,
    scaleInCooldownSeconds: undefined,
    disableScaleIn: false,
    knative: undefined,
    alarms: {
      high: { AlarmName: `${name}-high`, AlarmARN: `arn:aws:cloudwatch:us-east-1:123456789012:alarm:${name}-high` },
      low: { AlarmName: `${name}-low`, AlarmARN: `arn:aws:cloudwatch:us-east-1:123456789012:alarm:${name}-low` },
    },
    createdAt: T0,
    ...over,
  };
}

export function action(resourceId: string, name: string, over: Partial<ScheduledActionRecord> = {}): ScheduledActionRecord {
  return {
    resourceId,
    name,
    arn: `arn:aws:autoscaling:us-east-1:123456789012:scheduledAction:a:resource/lambda/${resourceId}:scheduledActionName/${name}`,
    schedule: 'cron(0 8 ? * MON-FRI *)',
    timezone: 'Europe/Paris',
    startTime: undefined,
    endTime: T0 + 86_400_000,
    minCapacity: 5,
    maxCapacity: undefined,
    createdAt: T0,
    ...over,
  };
}

export function activity(resourceId: string, id: string, over: Partial<ScalingActivityRecord> = {}): ScalingActivityRecord {
  return {
    id,
    resourceId,
    description: 'Setting desired concurrency to 3.',
    cause: 'monitor alarm high in state ALARM triggered policy p',
    startTime: T0,
    endTime: T0 + 1,
    status: 'Successful',
    statusMessage: 'Successfully set desired concurrency to 3. Change successfully fulfilled by lambda.',
    notScaledReasons: undefined,
    ...over,
  };
}

const names = <T extends { name: string }>(xs: T[]) => xs.map((x) => x.name);
const ids = (xs: ScalingActivityRecord[]) => xs.map((x) => x.id);

export interface ConformanceOptions {
  /** The store keeps its records across a restart (its harness has `reopen`). */
  durable: boolean;
}

export function targetStoreConformance(label: string, make: (o?: HarnessOptions) => TargetStoreHarness | Promise<TargetStoreHarness>, opts: ConformanceOptions): void {
  async function withStore(fn: (s: TargetStore, h: TargetStoreHarness) => void | Promise<void>, o?: HarnessOptions): Promise<void> {
    const h = await make(o);
    try {
      await fn(h.store, h);
    } finally {
      await h.cleanup();
    }
  }

  describe(`TargetStore conformance: ${label}`, () => {
    it('starts empty', () =>
      withStore(async (s) => {
        expect(s.getTarget('function:a:live')).toBeUndefined();
        expect(s.listTargets()).toEqual([]);
        expect(s.countTargets()).toBe(0);
        expect(s.listPolicies()).toEqual([]);
        expect(s.listScheduledActions()).toEqual([]);
        expect(s.listActivities()).toEqual([]);
        expect(s.getPolicy('function:a:live', 'p')).toBeUndefined();
        expect(s.getScheduledAction('function:a:live', 'x')).toBeUndefined();
      }));

    it('puts, gets and replaces targets; the list keeps registration order through updates', () =>
      withStore(async (s) => {
        await s.putTarget(target('a'));
        await s.putTarget(target('b', { qualifier: '3', resourceId: 'function:b:3' }));
        await s.putTarget(target('a', { minCapacity: 4, maxCapacity: 40, suspended: { ScheduledScalingSuspended: true }, tags: {} }));
        expect(s.countTargets()).toBe(2);
        expect(s.getTarget('function:a:live')).toEqual(target('a', { minCapacity: 4, maxCapacity: 40, suspended: { ScheduledScalingSuspended: true }, tags: {} }));
        expect(s.listTargets().map((t) => t.resourceId)).toEqual(['function:a:live', 'function:b:3']);
        expect(s.getTarget('function:b:live')).toBeUndefined();
      }));

    it('copies every record in: changing what was put changes nothing stored', () =>
      withStore(async (s) => {
        const t = target('a');
        const p = policy(t.resourceId, 'p');
        const a = action(t.resourceId, 'x');
        const act = activity(t.resourceId, '1', { notScaledReasons: [{ Code: 'AlreadyAtMaxCapacity', MaxCapacity: 10 }] });
        await s.putTarget(t);
        await s.putPolicy(p);
        await s.putScheduledAction(a);
        await s.addActivity(act);
        t.minCapacity = 99;
        t.tags.team = 'changed';
        t.suspended.DynamicScalingOutSuspended = true;
        p.targetValue = 0.1;
        p.alarms!.high.AlarmName = 'changed';
        a.minCapacity = 99;
        act.notScaledReasons![0]!.MaxCapacity = 99;
        expect(s.getTarget(t.resourceId)).toEqual(target('a'));
        expect(s.getPolicy(t.resourceId, 'p')).toEqual(policy(t.resourceId, 'p'));
        expect(s.getScheduledAction(t.resourceId, 'x')).toEqual(action(t.resourceId, 'x'));
        expect(s.listActivities()).toEqual([activity(t.resourceId, '1', { notScaledReasons: [{ Code: 'AlreadyAtMaxCapacity', MaxCapacity: 10 }] })]);
      }));

    it('copies every record out: changing what was read changes nothing stored', () =>
      withStore(async (s) => {
        const t = target('a');
        await s.putTarget(t);
        await s.putPolicy(policy(t.resourceId, 'p'));
        await s.putScheduledAction(action(t.resourceId, 'x'));
        await s.addActivity(activity(t.resourceId, '1'));
        const gotT = s.getTarget(t.resourceId)!;
        gotT.tags.team = 'changed';
        gotT.suspended.ScheduledScalingSuspended = true;
        s.listTargets()[0]!.maxCapacity = 0;
        const gotP = s.getPolicy(t.resourceId, 'p')!;
        gotP.alarms!.low.AlarmARN = 'changed';
        if (gotP.metric?.kind === 'customized') gotP.metric.Dimensions.push({ Name: 'extra', Value: 'x' });
        s.listPolicies()[0]!.targetValue = 0.2;
        s.getScheduledAction(t.resourceId, 'x')!.schedule = 'rate(1 minute)';
        s.listScheduledActions(t.resourceId)[0]!.maxCapacity = 3;
        s.listActivities()[0]!.status = 'Failed';
        expect(s.getTarget(t.resourceId)).toEqual(target('a'));
        expect(s.listPolicies()).toEqual([policy(t.resourceId, 'p')]);
        expect(s.listScheduledActions()).toEqual([action(t.resourceId, 'x')]);
        expect(s.listActivities(t.resourceId)).toEqual([activity(t.resourceId, '1')]);
      }));

    it('keeps policies per target in creation order; a replaced policy keeps its place, a re-created one goes last', () =>
      withStore(async (s) => {
        const a = 'function:a:live';
        const b = 'function:b:live';
        await s.putPolicy(policy(a, 'p1'));
        await s.putPolicy(policy(b, 'p1', { targetValue: 0.5 }));
        await s.putPolicy(policy(a, 'p2', { type: 'LaminarKnativeScaling', alarms: undefined, knative: { StableWindowSeconds: 60, PanicWindowPercentage: 10, PanicThresholdPercentage: 200, MaxScaleUpRate: 1000, MaxScaleDownRate: 2 } }));
        await s.putPolicy(policy(a, 'p3'));
        await s.putPolicy(policy(a, 'p1', { targetValue: 0.9 }));
        expect(names(s.listPolicies(a))).toEqual(['p1', 'p2', 'p3']);
        expect(s.getPolicy(a, 'p1')?.targetValue).toBe(0.9);
        expect(s.getPolicy(b, 'p1')?.targetValue).toBe(0.5);
        expect(s.getPolicy(a, 'p2')?.knative?.MaxScaleDownRate).toBe(2);
        expect(s.listPolicies().map((p) => `${p.resourceId}/${p.name}`)).toEqual([`${a}/p1`, `${b}/p1`, `${a}/p2`, `${a}/p3`]);
        await s.deletePolicy(a, 'p1');
        expect(s.getPolicy(a, 'p1')).toBeUndefined();
        expect(s.getPolicy(b, 'p1')).toBeDefined();
        await s.putPolicy(policy(a, 'p1'));
        expect(names(s.listPolicies(a))).toEqual(['p2', 'p3', 'p1']);
        await s.deletePolicy(a, 'nope');
        expect(s.listPolicies()).toHaveLength(4);
      }));

    it('keeps scheduled actions per target in creation order, with when their next run is armed', () =>
      withStore(async (s) => {
        const a = 'function:a:live';
        await s.putScheduledAction(action(a, 'morning'));
        await s.putScheduledAction(action(a, 'evening', { schedule: 'at(2026-01-01T18:00:00)', timezone: undefined, minCapacity: undefined, maxCapacity: 3 }));
        await s.putScheduledAction(action('function:b:live', 'morning', { minCapacity: 1 }));
        await s.putScheduledAction({ ...action(a, 'morning'), nextRunAt: T0 + 8 * 3_600_000 });
        expect(names(s.listScheduledActions(a))).toEqual(['morning', 'evening']);
        expect(s.getScheduledAction(a, 'morning')?.nextRunAt).toBe(T0 + 8 * 3_600_000);
        expect(s.getScheduledAction(a, 'evening')).toEqual(action(a, 'evening', { schedule: 'at(2026-01-01T18:00:00)', timezone: undefined, minCapacity: undefined, maxCapacity: 3 }));
        expect(s.getScheduledAction('function:b:live', 'morning')?.minCapacity).toBe(1);
        await s.putScheduledAction({ ...action(a, 'morning'), nextRunAt: undefined });
        expect(s.getScheduledAction(a, 'morning')?.nextRunAt).toBeUndefined();
        await s.deleteScheduledAction(a, 'morning');
        expect(names(s.listScheduledActions())).toEqual(['evening', 'morning']);
        expect(s.listScheduledActions()[1]?.resourceId).toBe('function:b:live');
      }));

    it('deleteTarget removes the target with its policies and scheduled actions, keeps its activities and touches no other target', () =>
      withStore(async (s) => {
        for (const n of ['a', 'b']) {
          const t = target(n);
          await s.putTarget(t);
          await s.putPolicy(policy(t.resourceId, 'p'));
          await s.putPolicy(policy(t.resourceId, 'q'));
          await s.putScheduledAction(action(t.resourceId, 'x'));
          await s.addActivity(activity(t.resourceId, `${n}-1`));
        }
        await s.deleteTarget('function:a:live');
        expect(s.getTarget('function:a:live')).toBeUndefined();
        expect(s.countTargets()).toBe(1);
        expect(s.listPolicies('function:a:live')).toEqual([]);
        expect(s.getPolicy('function:a:live', 'p')).toBeUndefined();
        expect(s.listScheduledActions('function:a:live')).toEqual([]);
        expect(s.getScheduledAction('function:a:live', 'x')).toBeUndefined();
        expect(ids(s.listActivities('function:a:live'))).toEqual(['a-1']);
        expect(names(s.listPolicies('function:b:live'))).toEqual(['p', 'q']);
        expect(names(s.listScheduledActions())).toEqual(['x']);
        expect(s.listTargets().map((t) => t.resourceId)).toEqual(['function:b:live']);
        await s.deleteTarget('function:nope:live');
        expect(s.countTargets()).toBe(1);
      }));

    it('lists activities newest first, of one target or all', () =>
      withStore(async (s) => {
        await s.addActivity(activity('function:a:live', 'a-1'));
        await s.addActivity(activity('function:b:live', 'b-1', { status: 'Failed', statusMessage: undefined, endTime: undefined }));
        await s.addActivity(activity('function:a:live', 'a-2'));
        expect(ids(s.listActivities())).toEqual(['a-2', 'b-1', 'a-1']);
        expect(ids(s.listActivities('function:a:live'))).toEqual(['a-2', 'a-1']);
        expect(s.listActivities('function:b:live')).toEqual([activity('function:b:live', 'b-1', { status: 'Failed', statusMessage: undefined, endTime: undefined })]);
        expect(s.listActivities('function:c:live')).toEqual([]);
      }));

    it('keeps the newest activities of each target up to the retention; a busy target never pushes out another’s', () =>
      withStore(
        async (s) => {
          for (let i = 1; i <= 6; i++) {
            await s.addActivity(activity('function:busy:live', `busy-${i}`));
            if (i <= 2) await s.addActivity(activity('function:quiet:live', `quiet-${i}`));
          }
          expect(ids(s.listActivities('function:busy:live'))).toEqual(['busy-6', 'busy-5', 'busy-4']);
          expect(ids(s.listActivities('function:quiet:live'))).toEqual(['quiet-2', 'quiet-1']);
          expect(ids(s.listActivities())).toEqual(['busy-6', 'busy-5', 'busy-4', 'quiet-2', 'quiet-1']);
        },
        { activityRetention: 3 },
      ));

    it('lists policies in the order of a model of puts and deletes (property)', async () => {
      const op = fc.oneof(
        fc.record({ kind: fc.constant('put' as const), target: fc.constantFrom('a', 'b'), name: fc.constantFrom('p', 'q', 'r'), value: fc.integer({ min: 1, max: 99 }) }),
        fc.record({ kind: fc.constant('delete' as const), target: fc.constantFrom('a', 'b'), name: fc.constantFrom('p', 'q', 'r') }),
        fc.record({ kind: fc.constant('deleteTarget' as const), target: fc.constantFrom('a', 'b') }),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(op, { maxLength: 25 }), (ops) =>
          withStore(async (s) => {
            // The model: an array in creation order, replaced in place.
            const model: { resourceId: string; name: string; value: number }[] = [];
            for (const o of ops) {
              const resourceId = `function:${o.target}:live`;
              if (o.kind === 'put') {
                await s.putPolicy(policy(resourceId, o.name, { targetValue: o.value }));
                const at = model.findIndex((m) => m.resourceId === resourceId && m.name === o.name);
                if (at >= 0) model[at] = { resourceId, name: o.name, value: o.value };
                else model.push({ resourceId, name: o.name, value: o.value });
              } else if (o.kind === 'delete') {
                await s.deletePolicy(resourceId, o.name);
                const at = model.findIndex((m) => m.resourceId === resourceId && m.name === o.name);
                if (at >= 0) model.splice(at, 1);
              } else {
                await s.deleteTarget(resourceId);
                for (let i = model.length - 1; i >= 0; i--) if (model[i]!.resourceId === resourceId) model.splice(i, 1);
              }
            }
            expect(s.listPolicies().map((p) => ({ resourceId: p.resourceId, name: p.name, value: p.targetValue }))).toEqual(model);
            expect(s.listPolicies('function:a:live').map((p) => p.name)).toEqual(model.filter((m) => m.resourceId === 'function:a:live').map((m) => m.name));
          }),
        ),
        { numRuns: 40 },
      );
    });

    // Only a store that keeps its state across restarts promises this; the memory store is not one.
    if (opts.durable) {
      it('restart: every record is still there, in the same order, and retention goes on counting', () =>
        withStore(
          async (first, h) => {
            const t = target('a');
            await first.putTarget(target('b'));
            await first.putTarget(t);
            await first.putPolicy(policy(t.resourceId, 'q'));
            await first.putPolicy(policy(t.resourceId, 'p'));
            await first.putScheduledAction({ ...action(t.resourceId, 'x'), nextRunAt: T0 + 1000 });
            for (let i = 1; i <= 3; i++) await first.addActivity(activity(t.resourceId, `a-${i}`));
            if (!h.reopen) throw new Error('a durable store’s harness must be able to reopen it');
            const s = await h.reopen();
            expect(s.listTargets()).toEqual([target('b'), t]);
            expect(s.countTargets()).toBe(2);
            expect(s.listPolicies()).toEqual([policy(t.resourceId, 'q'), policy(t.resourceId, 'p')]);
            expect(s.getScheduledAction(t.resourceId, 'x')).toEqual({ ...action(t.resourceId, 'x'), nextRunAt: T0 + 1000 });
            expect(ids(s.listActivities())).toEqual(['a-3', 'a-2', 'a-1']);
            await s.addActivity(activity(t.resourceId, 'a-4'));
            expect(ids(s.listActivities())).toEqual(['a-4', 'a-3', 'a-2']);
            await s.deleteTarget(t.resourceId);
            expect(s.listPolicies()).toEqual([]);
            expect(s.listScheduledActions()).toEqual([]);
          },
          { activityRetention: 3 },
        ));
    }
  });
}
