/**
 * The dashboards against a cluster: a real Prometheus scrapes two `laminar serve --redis-url`
 * processes (the compiled dist/main.js) that share one real redis-server. Every panel outside the
 * Nodes row answers for the whole cluster: no `node` label is left in its result, the cluster's
 * figures equal the sums of the Nodes row's per-node figures, and what every node reads from the
 * shared ledger (concurrency, a reservation, the claimed account concurrency) is counted once.
 * The Nodes row names each node by its id with that node's own figures.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LambdaClient, PutFunctionConcurrencyCommand, ResourceConflictException, waitUntilFunctionActiveV2, type CreateFunctionCommandInput } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DASHBOARDS, expressions, type Dashboard, type Panel } from '../../src/metrics/dashboards.js';
import { deployFixture } from '../helpers/laminar.js';
import { panelsByRow, sample, scrape } from '../helpers/metrics.js';
import { startProbe, type Probe } from '../helpers/probe.js';
import { startPrometheus, type PrometheusHandle } from '../helpers/prometheus.js';
import { startRedis, type RedisHandle } from '../helpers/redis.js';
import { startServeProcess, type ServeProcess } from '../helpers/serve-process.js';

interface Node {
  process: ServeProcess;
  url: string;
  id: string;
  client: LambdaClient;
}

interface Series {
  metric: Record<string, string>;
  value: [number, string];
}

let dir: string;
let redis: RedisHandle;
let prom: PrometheusHandle;
let probe: Probe;
const nodes: Node[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'laminar-dashboards-cluster-'));
  redis = await startRedis();
  probe = await startProbe();
  const args = ['--redis-url', redis.url, '--environment-cpu', 'unlimited'];
  const started = await Promise.all(['a', 'b'].map((n) => startServeProcess(join(dir, n), args)));
  for (const p of started) {
    const health = (await (await fetch(`${p.url}/health`)).json()) as { cluster: { node: string } };
    const client = new LambdaClient({ endpoint: p.url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
    nodes.push({ process: p, url: p.url, id: health.cluster.node, client });
  }
  prom = await startPrometheus(nodes.map((n) => new URL(n.url).host));
}, 90_000);

afterAll(async () => {
  probe?.release();
  await prom?.stop();
  for (const n of nodes) {
    n.client.destroy();
    if (n.process.child.exitCode === null) {
      n.process.child.kill('SIGTERM');
      await n.process.exited;
    }
  }
  await probe?.close();
  await redis?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const [A, B] = [0, 1];
const node = (i: number) => nodes[i] as Node;

/** Makes the function known to every node: created where it is missing, whether or not nodes share their registry. */
async function onEveryNode(fixture: string, input: Partial<CreateFunctionCommandInput> & { FunctionName: string }): Promise<string> {
  for (const n of nodes) {
    try {
      await deployFixture(n.client, fixture, input);
    } catch (err) {
      if (!(err instanceof ResourceConflictException)) throw err;
      await waitUntilFunctionActiveV2({ client: n.client, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { FunctionName: input.FunctionName });
    }
  }
  return input.FunctionName;
}

const invoke = (i: number, fn: string, body = '{}') =>
  fetch(`${node(i).url}/2015-03-31/functions/${fn}/invocations`, { method: 'POST', body }).then(async (r) => ({ status: r.status, body: await r.text() }));

async function vector(expr: string, time?: number): Promise<Series[]> {
  const out = await prom.query(expr, time);
  if (out.status !== 'success') throw new Error(`${expr}: ${out.error}`);
  return (out.data?.result ?? []) as Series[];
}

const total = (series: Series[]) => series.reduce((s, x) => s + Number(x.value[1]), 0);

/** Polls Prometheus until every expression sums to its number at one instant; returns that instant. */
async function seen(what: string, want: Record<string, number>): Promise<number> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const at = Date.now() / 1000;
    const got: Record<string, number> = {};
    for (const expr of Object.keys(want)) got[expr] = total(await vector(expr, at));
    if (Object.entries(want).every(([expr, n]) => got[expr] === n)) return at;
    if (Date.now() > deadline) throw new Error(`Prometheus never saw ${what}: ${JSON.stringify(got)}, wanted ${JSON.stringify(want)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function panel(d: Dashboard, title: string): Panel {
  const p = d.panels.find((x) => x.type !== 'row' && x.title === title);
  if (!p) throw new Error(`${d.uid} has no panel ${title}`);
  return p;
}

/** A panel's query as Prometheus runs it for the dashboard's defaults: all functions (or `fn`), all nodes. */
function concrete(expr: string, fn?: string): string {
  return expr
    .replaceAll('$__rate_interval', '1m')
    .replaceAll('function=~"$function"', 'function=~".*"')
    .replaceAll('$function', fn ?? '')
    .replaceAll('node=~"$node"', 'node=~".*"');
}

describe('the dashboards over a Prometheus scraping two cluster nodes', () => {
  let at = 0;
  const fn = { echo: '', zero: '', sleep: '' };
  let held: Promise<{ status: number; body: string }>[] = [];

  it('two nodes serve, each with its own id', () => {
    expect(nodes).toHaveLength(2);
    expect(node(A).id).toMatch(/:\d+$/);
    expect(node(A).id).not.toBe(node(B).id);
  });

  it('drives invocations, throttles and held invocations on both nodes, uneven between them', async () => {
    const suffix = Math.random().toString(36).slice(2, 8);
    fn.echo = await onEveryNode('echo', { FunctionName: `echo-${suffix}` });
    fn.zero = await onEveryNode('echo', { FunctionName: `zero-${suffix}` });
    fn.sleep = await onEveryNode('sleep', { FunctionName: `sleep-${suffix}`, Timeout: 300 });
    for (const n of nodes) {
      await n.client.send(new PutFunctionConcurrencyCommand({ FunctionName: fn.zero, ReservedConcurrentExecutions: 0 }));
      await n.client.send(new PutFunctionConcurrencyCommand({ FunctionName: fn.sleep, ReservedConcurrentExecutions: 5 }));
    }

    // rate() sees only increments after a series' first sample: one of each on each node first,
    // then the rest once Prometheus has the series.
    for (const i of [A, B]) {
      expect((await invoke(i, fn.echo)).status).toBe(200);
      expect((await invoke(i, fn.zero)).status).toBe(429);
    }
    await seen('both nodes’ series', { [`count(laminar_invocations_total{function="${fn.echo}"})`]: 2, [`count(laminar_throttles_total{function="${fn.zero}"})`]: 2 });
    for (let k = 0; k < 11; k++) expect((await invoke(A, fn.echo)).status).toBe(200);
    for (let k = 0; k < 5; k++) expect((await invoke(B, fn.echo)).status).toBe(200);
    for (let k = 0; k < 4; k++) expect((await invoke(A, fn.zero)).status).toBe(429);
    for (let k = 0; k < 2; k++) expect((await invoke(B, fn.zero)).status).toBe(429);
    await seen('every invocation and throttle', { [`sum(laminar_invocations_total{function="${fn.echo}"})`]: 18, [`sum(laminar_throttles_total{function="${fn.zero}"})`]: 8 });

    // Two invocations held inside the handler on A, one on B, until Prometheus has scraped them.
    held = [A, A, B].map((i) => invoke(i, fn.sleep, JSON.stringify({ probe: probe.url, hold: true, ms: 0 })));
    for (let k = 0; probe.current < 3; k++) {
      if (k > 600) throw new Error(`only ${probe.current} of 3 held invocations entered their handler`);
      await new Promise((r) => setTimeout(r, 50));
    }
    // Each node reports its own busy environments.
    at = await seen('the held invocations', {
      [`laminar_environments{function="${fn.sleep}", state="busy", node="${node(A).id}"}`]: 2,
      [`laminar_environments{function="${fn.sleep}", state="busy", node="${node(B).id}"}`]: 1,
    });
  }, 120_000);

  it('every query of both dashboards runs; outside the Nodes row no node label is left, in it every series names a node', async () => {
    const ids = new Set(nodes.map((n) => n.id));
    const problems: string[] = [];
    for (const [file, build] of Object.entries(DASHBOARDS)) {
      const d = build();
      for (const [row, panels] of panelsByRow(d)) {
        for (const p of panels) {
          for (const t of p.targets ?? []) {
            const expr = concrete(t.expr, fn.echo);
            const out = await prom.query(expr, at);
            if (out.status !== 'success') {
              problems.push(`${file} ${p.title}: ${out.error}`);
              continue;
            }
            for (const s of (out.data?.result ?? []) as Series[]) {
              if (row !== 'Nodes' && 'node' in s.metric) problems.push(`${file} ${p.title}: a per-node series ${JSON.stringify(s.metric)} from ${expr}`);
              if (row === 'Nodes' && !ids.has(s.metric.node ?? '')) problems.push(`${file} ${p.title}: a series without a node's id ${JSON.stringify(s.metric)}`);
            }
          }
        }
      }
      for (const a of d.annotations.list) if (typeof a.expr === 'string' && (await prom.query(concrete(a.expr), at)).status !== 'success') problems.push(`${file} annotation ${a.expr}`);
    }
    expect(problems).toEqual([]);
  });

  it('the overview’s cluster figures are the sums of the Nodes row’s per-node figures', async () => {
    const d = DASHBOARDS['laminar-overview.json']?.() as Dashboard;
    const first = (title: string, ref = 'A') => concrete((panel(d, title).targets ?? []).find((t) => t.refId === ref)?.expr ?? '');
    const pairs: [string, string, string][] = [
      ['invocations', first('Invocations'), first('Invocations by node')],
      ['throttles', first('Throttles by reason'), first('Throttles by node')],
      ['environments', first('Environments by state'), first('Environments by node')],
    ];
    for (const [what, cluster, perNode] of pairs) {
      const whole = await vector(cluster, at);
      const parts = await vector(perNode, at);
      expect(total(whole), `${what}: ${cluster}`).toBeGreaterThan(0);
      expect(total(whole), `${what}: ${cluster} against ${perNode}`).toBeCloseTo(total(parts), 9);
      // Both nodes took part, each under its own id.
      expect(new Set(parts.map((s) => s.metric.node)), what).toEqual(new Set(nodes.map((n) => n.id)));
    }
  });

  it('the Nodes row shows each node’s own share under its id', async () => {
    const d = DASHBOARDS['laminar-overview.json']?.() as Dashboard;
    const byNode = async (title: string, extra = '') => {
      const out = new Map<string, number>();
      for (const s of await vector(concrete((panel(d, title).targets ?? [])[0]?.expr ?? '').replace('node=~".*"', `node=~".*"${extra}`), at)) {
        out.set(s.metric.node ?? '', (out.get(s.metric.node ?? '') ?? 0) + Number(s.value[1]));
      }
      return out;
    };
    const busy = await byNode('Busy environments by node', `, function="${fn.sleep}"`);
    expect(busy.get(node(A).id)).toBe(2);
    expect(busy.get(node(B).id)).toBe(1);
    // A ran 11 invocations after its series began, B 5.
    const rate = await byNode('Invocations by node', `, function="${fn.echo}"`);
    expect(rate.get(node(A).id)).toBeGreaterThan(rate.get(node(B).id) ?? Infinity);
    const throttles = await byNode('Throttles by node', `, function="${fn.zero}"`);
    expect(throttles.get(node(A).id)).toBeGreaterThan(throttles.get(node(B).id) ?? Infinity);
    // Environments are each node's own; nothing has changed since the held invocations were scraped.
    const environments = await byNode('Environments by node');
    for (const n of nodes) expect(environments.get(n.id), n.id).toBe(sample(await scrape(n.url), 'laminar_environments'));
  });

  it('every node reports the shared ledger’s concurrency, and the overview counts it once: in flight, the reservation, the claimed account concurrency', async () => {
    const d = DASHBOARDS['laminar-overview.json']?.() as Dashboard;
    // Both nodes read all three held invocations from the ledger in Redis, each holding its share.
    const atLedger = await seen('the ledger’s concurrency on both nodes', {
      [`laminar_concurrent_executions{function="${fn.sleep}", node="${node(A).id}"}`]: 3,
      [`laminar_concurrent_executions{function="${fn.sleep}", node="${node(B).id}"}`]: 3,
      [`laminar_environments{function="${fn.sleep}", state="busy"}`]: 3,
    });
    const target = (title: string, legend: (l: string) => boolean) => concrete((panel(d, title).targets ?? []).find((t) => legend(t.legendFormat))?.expr ?? '');
    const perFunction = await vector(target('Concurrency vs reservation', (l) => l.endsWith('in flight')), atLedger);
    expect(Number(perFunction.find((s) => s.metric.function === fn.sleep)?.value[1])).toBe(3);
    // The cluster's concurrent executions are the sum of the nodes' busy environments.
    expect(total(perFunction)).toBe(total(await vector(concrete((panel(d, 'Busy environments by node').targets ?? [])[0]?.expr ?? ''), atLedger)));
    const reserved = await vector(target('Concurrency vs reservation', (l) => l.endsWith('reserved')), atLedger);
    expect(Number(reserved.find((s) => s.metric.function === fn.sleep)?.value[1])).toBe(5);
    expect(Number(reserved.find((s) => s.metric.function === fn.zero)?.value[1])).toBe(0);
    expect(total(await vector(target('Account concurrency', (l) => l === 'in flight'), atLedger))).toBe(3);
    // Claimed: unreserved in flight (none: only the reserved function is busy) plus the reservations (5 + 0), once.
    expect(total(await vector(target('Account concurrency', (l) => l === 'claimed'), atLedger))).toBe(5);
    }, 45_000);

  it('the held invocations finish once released', async () => {
    probe.release();
    for (const r of await Promise.all(held)) expect(r.status).toBe(200);
  });
});
