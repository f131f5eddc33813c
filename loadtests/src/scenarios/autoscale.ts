/**
 * autoscale: target tracking of provisioned concurrency (Application Auto Scaling at the same
 * endpoint) with a 1-second evaluation period, under a rising load. Records requested and
 * allocated capacity against utilization over time, and how close the final capacity comes to
 * what target tracking should settle on: ceil(peak concurrency / target).
 */
import { performance } from 'node:perf_hooks';
import { LaminarServer, withLaminar } from '../harness/laminar.js';
import { startSampler, type SeriesPoint } from '../harness/prom.js';
import { getProvisioned, provisionAndWait, provisionedProbes } from '../harness/provisioned.js';
import { runRamp, type RampStep } from '../harness/ramp.js';
import { isUnknownOperation, ScenarioSkipped, type ScenarioResult } from '../harness/result.js';
import { stat } from '../harness/stats.js';
import type { Scenario, ScenarioContext } from './scenario.js';

const FUNCTION = 'autoscaled';
const ALIAS = 'live';
const SLEEP_MS = 50;
const TARGET = 0.7;
const MAX_CAPACITY = 16;
const PEAK_CONNECTIONS = 8;
const AAS_PACKAGE = '@aws-sdk/client-application-auto-scaling';

/** The few Application Auto Scaling calls used, typed here so the load tests compile without the package. */
interface AasClient {
  send(command: unknown): Promise<unknown>;
  destroy(): void;
}
interface AasModule {
  ApplicationAutoScalingClient: new (config: object) => AasClient;
  RegisterScalableTargetCommand: new (input: object) => unknown;
  PutScalingPolicyCommand: new (input: object) => unknown;
}

async function loadAas(): Promise<AasModule> {
  try {
    // A variable specifier: TypeScript must not require the package to compile the load tests.
    const name: string = AAS_PACKAGE;
    return (await import(name)) as AasModule;
  } catch {
    throw new ScenarioSkipped(`skipped: ${AAS_PACKAGE} is not installed`);
  }
}

export const autoscale: Scenario = {
  name: 'autoscale',
  title: 'Autoscaling of provisioned concurrency',
  description: `target tracking ${TARGET} on a 1 s evaluation period, ramp 1→${PEAK_CONNECTIONS} connections: capacity over time`,
  async run(ctx: ScenarioContext, result: ScenarioResult) {
    const aas = await loadAas();
    const stepSeconds = Math.max(3, ctx.settings.durationSeconds + 1);
    const steps: RampStep[] = [1, 2, 4, PEAK_CONNECTIONS, PEAK_CONNECTIONS].map((connections) => ({ connections, seconds: stepSeconds }));
    await withLaminar({ flags: { 'autoscaling-evaluation-period-seconds': 1 } }, async (server) => {
      await server.deploy(FUNCTION, 'sleep', { env: { SLEEP_MS: String(SLEEP_MS) } });
      await server.publishAlias(FUNCTION, ALIAS);
      await provisionAndWait(server, FUNCTION, ALIAS, 1);
      const client = new aas.ApplicationAutoScalingClient({
        endpoint: server.url,
        region: 'us-east-1',
        credentials: { accessKeyId: 'loadtest', secretAccessKey: 'loadtest' },
        maxAttempts: 1,
      });
      const resource = { ServiceNamespace: 'lambda', ResourceId: `function:${FUNCTION}:${ALIAS}`, ScalableDimension: 'lambda:function:ProvisionedConcurrency' };
      try {
        await client.send(new aas.RegisterScalableTargetCommand({ ...resource, MinCapacity: 1, MaxCapacity: MAX_CAPACITY }));
        await client.send(
          new aas.PutScalingPolicyCommand({
            ...resource,
            PolicyName: 'loadtest-utilization',
            PolicyType: 'TargetTrackingScaling',
            TargetTrackingScalingPolicyConfiguration: {
              TargetValue: TARGET,
              PredefinedMetricSpecification: { PredefinedMetricType: 'LambdaProvisionedConcurrencyUtilization' },
            },
          }),
        );
      } catch (err) {
        if (isUnknownOperation(err)) throw new ScenarioSkipped('skipped: Application Auto Scaling not available (UnknownOperationException)');
        throw err;
      } finally {
        client.destroy();
      }

      // Capacity as the Lambda API reports it, polled beside the /metrics sampler.
      const t0 = performance.now();
      const requested: SeriesPoint[] = [];
      const allocated: SeriesPoint[] = [];
      let polling = true;
      const poller = (async () => {
        while (polling) {
          const pc = await getProvisioned(server, FUNCTION, ALIAS).catch(() => undefined);
          const t = (performance.now() - t0) / 1000;
          if (pc) {
            requested.push({ t, value: pc.requested });
            allocated.push({ t, value: pc.allocated });
          }
          await new Promise((r) => setTimeout(r, 250));
        }
      })();
      const sampler = startSampler(() => server.scrape(), provisionedProbes(FUNCTION, ALIAS));
      const load: SeriesPoint[] = [];
      ctx.settings.log(`  autoscale ramp: ${steps.map((s) => s.connections).join(' → ')} connections, ${stepSeconds} s each`);
      await runRamp({ url: server.url, path: LaminarServer.invokePath(FUNCTION, ALIAS), body: '{}' }, steps, (step) => {
        load.push({ t: (performance.now() - t0) / 1000, value: step.connections });
      });
      polling = false;
      await poller;
      const metrics = await sampler.stop();

      const expected = Math.min(MAX_CAPACITY, Math.ceil(PEAK_CONNECTIONS / TARGET));
      const final = requested.at(-1)?.value ?? 0;
      const peakStart = load.find((p) => p.value === PEAK_CONNECTIONS)?.t ?? 0;
      const reached = requested.find((p) => p.t >= peakStart && p.value >= 0.9 * expected);
      result.values.final = { label: 'requested capacity at the end', unit: '', stat: stat([final]) };
      result.values.expected = { label: `expected: ceil(${PEAK_CONNECTIONS} / ${TARGET}) capped at ${MAX_CAPACITY}`, unit: '', stat: stat([expected]) };
      result.values.toScale = {
        label: 'seconds from peak load to 90% of expected capacity',
        unit: 's',
        stat: stat([reached ? reached.t - peakStart : Number.NaN]),
      };
      result.ratios.capacity_vs_expected = final / expected;
      result.notes.push('autoscale runs once (not repeated): it is one long ramp.');

      result.series.requested = requested;
      result.series.allocated = allocated;
      result.series['offered connections'] = load.flatMap((p, i) => [p, { t: (load[i + 1]?.t ?? p.t + stepSeconds) - 0.001, value: p.value }]);
      result.series['in use (metrics)'] = metrics.executions ?? [];
      result.series['utilization × 10'] = (metrics.utilization ?? []).map((p) => ({ t: p.t, value: p.value * 10 }));
      result.charts.push({
        title: 'Provisioned capacity vs utilization over time',
        kind: 'line',
        yLabel: 'environments',
        keys: [
          { key: 'requested', label: 'requested capacity' },
          { key: 'allocated', label: 'allocated' },
          { key: 'in use (metrics)', label: 'in use' },
          { key: 'offered connections', label: 'offered connections' },
          { key: 'utilization × 10', label: 'utilization × 10' },
        ],
      });
    });
  },
};
