import { spawnSync } from 'node:child_process';
import { ApplicationAutoScalingClient, PutScalingPolicyCommand, RegisterScalableTargetCommand } from '@aws-sdk/client-application-auto-scaling';
import {
  CreateAliasCommand,
  CreateFunctionUrlConfigCommand,
  InvokeCommand,
  PublishVersionCommand,
  PutFunctionConcurrencyCommand,
  PutFunctionEventInvokeConfigCommand,
  PutProvisionedConcurrencyConfigCommand,
} from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DASHBOARDS, expressions } from '../../src/metrics/dashboards.js';
import { deployFixture, startLaminar, type Harness } from '../helpers/laminar.js';
import { sample, scrape } from '../helpers/metrics.js';
import { prometheusBinary, startPrometheus, type PrometheusHandle } from '../helpers/prometheus.js';

const binary = prometheusBinary();
// .ci/run installs Debian's prometheus, so in CI this always runs and a missing binary fails it.
const run = binary !== undefined || process.env.CI === 'true';
if (!run) console.warn('prometheus loop test skipped: no prometheus binary on PATH (apt-get install prometheus)');

describe.runIf(run)('a real Prometheus scraping Laminar', () => {
  let h: Harness;
  let prom: PrometheusHandle;
  let provisionedFn = '';

  beforeAll(async () => {
    expect(binary, 'prometheus must be installed in CI').toBeDefined();
    h = await startLaminar({ environmentIdleTimeoutSeconds: 2, autoscalingEvaluationPeriodSeconds: 1 });
    prom = await startPrometheus(new URL(h.url).host);
  }, 60_000);
  afterAll(async () => {
    await prom?.stop();
    await h?.close();
  });

  /** Drives load that exercises every panel: cold starts, errors, throttles, provisioned spillover, async and its destinations, function URLs, evictions. */
  async function drive(): Promise<void> {
    const invoke = (fn: string, body = '{}', qualifier?: string) =>
      fetch(`${h.url}/2015-03-31/functions/${fn}/invocations${qualifier ? `?Qualifier=${qualifier}` : ''}`, { method: 'POST', body }).then((r) => r.arrayBuffer());
    const echo = await deployFixture(h.client, 'echo');
    const throws = await deployFixture(h.client, 'throws');
    const limited = await deployFixture(h.client, 'sleep');
    await h.client.send(new PutFunctionConcurrencyCommand({ FunctionName: limited, ReservedConcurrentExecutions: 1 }));
    const zero = await deployFixture(h.client, 'echo');
    await h.client.send(new PutFunctionConcurrencyCommand({ FunctionName: zero, ReservedConcurrentExecutions: 0 }));
    // Failed events go to a function destination (the record) and a dead-letter queue (kept in the store).
    const dead = await deployFixture(h.client, 'throws', { DeadLetterConfig: { TargetArn: 'arn:aws:sqs:us-east-1:000000000000:dlq' } });
    await h.client.send(
      new PutFunctionEventInvokeConfigCommand({
        FunctionName: dead,
        MaximumRetryAttempts: 0,
        DestinationConfig: { OnFailure: { Destination: `arn:aws:lambda:us-east-1:000000000000:function:${echo}` } },
      }),
    );
    // Function URLs: answered 200 (echo), 502 (throws) and 429 (reserved concurrency 0).
    const urlOf = async (fn: string) => (await h.client.send(new CreateFunctionUrlConfigCommand({ FunctionName: fn, AuthType: 'NONE' }))).FunctionUrl as string;
    const urls = [await urlOf(echo), await urlOf(throws), await urlOf(zero)];
    provisionedFn = await deployFixture(h.client, 'sleep', { Timeout: 10 });
    await h.client.send(new PutFunctionConcurrencyCommand({ FunctionName: provisionedFn, ReservedConcurrentExecutions: 2 }));
    await h.client.send(new PublishVersionCommand({ FunctionName: provisionedFn }));
    await h.client.send(new CreateAliasCommand({ FunctionName: provisionedFn, Name: 'live', FunctionVersion: '1' }));
    await h.client.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: provisionedFn, Qualifier: 'live', ProvisionedConcurrentExecutions: 1 }));
    const scaling = new ApplicationAutoScalingClient({ endpoint: h.url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const target = { ServiceNamespace: 'lambda', ScalableDimension: 'lambda:function:ProvisionedConcurrency', ResourceId: `function:${provisionedFn}:live` } as const;
    await scaling.send(new RegisterScalableTargetCommand({ ...target, MinCapacity: 1, MaxCapacity: 2 }));
    await scaling.send(
      new PutScalingPolicyCommand({
        ...target,
        PolicyName: 'utilization',
        PolicyType: 'TargetTrackingScaling',
        TargetTrackingScalingPolicyConfiguration: { TargetValue: 0.2, PredefinedMetricSpecification: { PredefinedMetricType: 'LambdaProvisionedConcurrencyUtilization' } },
      }),
    );
    scaling.destroy();
    // Prometheus must have scraped the new target's action counters at 0 before load can trigger
    // an action: increase() cannot see an increment made before a series' first sample.
    for (let i = 0; i < 100; i++) {
      if (((await prom.query(`laminar_autoscaling_actions_total{function="${provisionedFn}"}`)).data?.result.length ?? 0) > 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }

    // At least 12 s of load, and until autoscaling has acted (3 one-second periods above target).
    const started = Date.now();
    const scaled = async () => sample(await scrape(h.url), 'laminar_autoscaling_actions_total', { direction: 'out' }) > 0;
    while (Date.now() - started < 12_000 || (!(await scaled()) && Date.now() - started < 45_000)) {
      await Promise.all([
        invoke(echo),
        invoke(throws),
        invoke(limited, '{"ms":200}'),
        invoke(limited, '{"ms":200}'),
        // One runs provisioned, one spills over, one is throttled by the reservation of 2.
        invoke(provisionedFn, '{"ms":300}', 'live'),
        invoke(provisionedFn, '{"ms":300}', 'live'),
        invoke(provisionedFn, '{"ms":300}', 'live'),
        h.client.send(new InvokeCommand({ FunctionName: echo, InvocationType: 'Event' })),
        h.client.send(new InvokeCommand({ FunctionName: zero, InvocationType: 'Event' })),
        h.client.send(new InvokeCommand({ FunctionName: dead, InvocationType: 'Event' })),
        ...urls.map((u) => fetch(`${u}?from=prometheus-test`).then((r) => r.arrayBuffer())),
      ]);
      await invoke(provisionedFn, '{"fail":true,"ms":1}', 'live');
      await new Promise((r) => setTimeout(r, 250));
    }
    await new Promise((r) => setTimeout(r, 3_000)); // idle environments expire: evictions; two more scrapes
  }

  it('every dashboard panel’s PromQL parses and returns data for the scenario', async () => {
    await drive();
    const failures: string[] = [];
    for (const [file, build] of Object.entries(DASHBOARDS)) {
      for (const raw of expressions(build())) {
        const expr = raw
          .replaceAll('$__rate_interval', '1m')
          .replaceAll('function=~"$function"', 'function=~".*"')
          .replaceAll('$function', provisionedFn)
          // One node: its series have no node label, which All (`.*`) matches.
          .replaceAll('node=~"$node"', 'node=~".*"');
        const out = await prom.query(expr);
        if (out.status !== 'success') failures.push(`${file}: ${expr}: ${out.error}`);
        else if ((out.data?.result.length ?? 0) === 0) failures.push(`${file}: no data: ${expr}`);
      }
    }
    expect(failures).toEqual([]);
  }, 90_000);

  it('promtool check metrics passes on the exposition', async () => {
    const text = await (await fetch(`${h.url}/metrics`)).text();
    const res = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(res.stderr + res.stdout).toBe('');
    expect(res.status).toBe(0);
  });

  it('serves OpenMetrics with request-id exemplars when asked', async () => {
    const res = await fetch(`${h.url}/metrics`, { headers: { accept: 'application/openmetrics-text; version=1.0.0' } });
    expect(res.headers.get('content-type')).toContain('application/openmetrics-text');
    const text = await res.text();
    expect(text).toMatch(/laminar_duration_seconds_bucket\{[^}]*\} \d+ # \{request_id="[0-9a-f-]{36}"\}/);
    expect(text.trimEnd().endsWith('# EOF')).toBe(true);
    // The Prometheus format still names counters with _total after an OpenMetrics render.
    const plain = await (await fetch(`${h.url}/metrics`)).text();
    expect(plain).toMatch(/^laminar_invocations_total\{/m);
  });
});
