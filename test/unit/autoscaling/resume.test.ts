/**
 * A restart, below the API: one AutoScaling over a SqliteTargetStore is stopped and its store
 * closed, then a new one opens the same file with a clock that has moved on, as a server started
 * again on the same data dir would.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AutoScaling } from '../../../src/autoscaling/index.js';
import { SqliteTargetStore } from '../../../src/autoscaling/sqlite-target-store.js';
import { ManualClock } from '../../../src/core/clock.js';
import { FakePort } from './fake-port.js';

const P = 60_000;
const H = 3_600_000;
const T0 = Date.UTC(2026, 0, 1); // Thursday 00:00 UTC
const ids = { ServiceNamespace: 'lambda', ScalableDimension: 'lambda:function:ProvisionedConcurrency' } as const;
const RES = 'function:api:live';
const partition = { region: 'us-east-1', accountId: '000000000000' };

const dirs: string[] = [];
const running: { as: AutoScaling; store: SqliteTargetStore }[] = [];
afterEach(() => {
  for (const r of running.splice(0)) {
    r.as.stop();
    r.store.close();
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A server's autoscaling on `dir`, its clock at `now`, provisioned concurrency at `current`. */
function boot(dir: string, now: number, current?: number) {
  const clock = new ManualClock(now);
  const port = new FakePort('api');
  if (current !== undefined) port.put('api', 'live', current);
  port.calls.length = 0;
  const store = SqliteTargetStore.inDataDir(dir);
  const as = new AutoScaling({ clock, port, periodMs: P, partition, store });
  as.start();
  const server = { as, store };
  running.push(server);
  const shutdown = () => {
    as.stop();
    store.close();
    running.splice(running.indexOf(server), 1);
  };
  const target = () => as.describeScalableTargets({ ServiceNamespace: 'lambda' }).ScalableTargets[0];
  const activities = () => as.describeScalingActivities({ ServiceNamespace: 'lambda', ResourceId: RES }).ScalingActivities;
  return { clock, port, as, shutdown, target, activities };
}

function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'laminar-resume-'));
  dirs.push(d);
  return d;
}

describe('autoscaling after a restart (SQLite store, ManualClock)', () => {
  it('re-arms scheduled actions from the store: they run at their time, not before', () => {
    const dir = dataDir();
    const first = boot(dir, T0, 2);
    first.as.registerScalableTarget({ ...ids, ResourceId: RES, MinCapacity: 1, MaxCapacity: 100 });
    first.as.putScheduledAction({ ...ids, ResourceId: RES, ScheduledActionName: 'noon', Schedule: 'at(2026-01-01T12:00:00)', ScalableTargetAction: { MinCapacity: 5 } });
    first.clock.advance(H);
    first.shutdown();

    const second = boot(dir, T0 + 3 * H, 2);
    second.clock.advance(9 * H - 1);
    expect(second.port.calls).toEqual([]);
    expect(second.target()).toMatchObject({ MinCapacity: 1, MaxCapacity: 100 });
    second.clock.advance(1);
    expect(second.port.calls).toEqual(['put api:live 5']);
    expect(second.target()).toMatchObject({ MinCapacity: 5, MaxCapacity: 100 });
    expect(second.activities()[1]).toMatchObject({ Cause: 'scheduled action name noon was triggered', StatusCode: 'Successful' });
  });

  it('runs what was due while the server was down once at start, in the order the runs fell', () => {
    const dir = dataDir();
    const first = boot(dir, T0, 2);
    first.as.registerScalableTarget({ ...ids, ResourceId: RES, MinCapacity: 1, MaxCapacity: 100 });
    first.as.putScheduledAction({ ...ids, ResourceId: RES, ScheduledActionName: 'up', Schedule: 'cron(0 8 * * ? *)', ScalableTargetAction: { MinCapacity: 10 } });
    first.as.putScheduledAction({ ...ids, ResourceId: RES, ScheduledActionName: 'down', Schedule: 'cron(0 18 * * ? *)', ScalableTargetAction: { MinCapacity: 1 } });
    first.as.putScheduledAction({ ...ids, ResourceId: RES, ScheduledActionName: 'once', Schedule: 'at(2026-01-01T01:00:00)', ScalableTargetAction: { MaxCapacity: 50 } });
    first.clock.advance(7 * H); // `once` runs at 01:00 while the server is up
    expect(first.target()).toMatchObject({ MinCapacity: 1, MaxCapacity: 50 });
    first.shutdown();

    // Down from Thursday 07:00 to Friday 09:00: up (Thu 08:00, Fri 08:00) and down (Thu 18:00)
    // were missed. The last of those runs was up's, so the bounds end as up left them.
    const second = boot(dir, T0 + 33 * H, 2);
    expect(second.port.calls).toEqual(['put api:live 10']);
    expect(second.target()).toMatchObject({ MinCapacity: 10, MaxCapacity: 50 });
    const causes = second.activities().map((a) => a.Cause);
    expect(causes.filter((c) => c.startsWith('scheduled action'))).toEqual([
      'scheduled action name up was triggered',
      'scheduled action name down was triggered',
      'scheduled action name once was triggered', // from before the restart
    ]);

    // Then on schedule again: Friday 18:00 down, Saturday 08:00 up; `once` never again.
    second.clock.advance(9 * H);
    expect(second.target()).toMatchObject({ MinCapacity: 1, MaxCapacity: 50 });
    second.clock.advance(14 * H);
    expect(second.target()).toMatchObject({ MinCapacity: 10, MaxCapacity: 50 });
    const runs = second.activities().filter((a) => a.Cause.startsWith('scheduled action'));
    expect(runs.filter((a) => a.Cause.includes('once'))).toHaveLength(1);
    expect(runs).toHaveLength(5);
  });

  it('a restart before a run is due runs nothing early, and one right after runs nothing twice', () => {
    const dir = dataDir();
    const first = boot(dir, T0, 2);
    first.as.registerScalableTarget({ ...ids, ResourceId: RES, MinCapacity: 1, MaxCapacity: 100 });
    first.as.putScheduledAction({ ...ids, ResourceId: RES, ScheduledActionName: 's', Schedule: 'rate(1 hour)', ScalableTargetAction: { MinCapacity: 3 } });
    first.clock.advance(H);
    expect(first.port.calls).toEqual(['put api:live 3']);
    first.shutdown();

    const second = boot(dir, T0 + H, 3);
    const scheduled = () => second.activities().filter((a) => a.Cause.startsWith('scheduled action'));
    expect(scheduled()).toHaveLength(1);
    second.clock.advance(H - 1);
    expect(scheduled()).toHaveLength(1);
    second.clock.advance(1);
    expect(scheduled()).toHaveLength(2);
  });

  it('target tracking acts again once fresh datapoints arrive', () => {
    const dir = dataDir();
    const first = boot(dir, T0, 10);
    first.as.registerScalableTarget({ ...ids, ResourceId: RES, MinCapacity: 1, MaxCapacity: 100 });
    first.as.putScalingPolicy({
      ...ids,
      ResourceId: RES,
      PolicyName: 'pc',
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: { TargetValue: 0.7, PredefinedMetricSpecification: { PredefinedMetricType: 'LambdaProvisionedConcurrencyUtilization' } },
    });
    first.shutdown();

    const second = boot(dir, T0 + H, 10);
    second.port.setUtilization('api', 'live', 0.9);
    second.clock.advance(2 * P);
    expect(second.port.calls).toEqual([]);
    second.clock.advance(P);
    expect(second.port.calls).toEqual(['put api:live 13']);
    expect(second.activities()[0]).toMatchObject({ Cause: expect.stringMatching(/triggered policy pc$/), StatusCode: 'Successful' });
  });
});
