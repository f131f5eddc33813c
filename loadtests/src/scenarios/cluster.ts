/**
 * cluster: the cost of coordination. A pre-warmed no-op function at the same total connections
 * on one embedded node, one node on Redis (admission is a Redis script per invoke) and three
 * nodes on one Redis (the load split evenly over them, as a load balancer would). Each figure is
 * a ratio to the embedded node, measured run by run in turn.
 */
import { LaminarServer } from '../harness/laminar.js';
import { runLoad, type LoadRun } from '../harness/load.js';
import { startRedisServer } from '../harness/redis.js';
import type { ScenarioResult } from '../harness/result.js';
import { stat } from '../harness/stats.js';
import type { Scenario, ScenarioContext } from './scenario.js';
import { prewarm } from './warm.js';

const CONNECTIONS = 60;
const FUNCTION = 'cluster-noop';

type Setup = 'embedded' | 'redis1' | 'redis3';

/** Runs the nodes' loads at once, one client each, and merges them: rates add, p99 is the worst node's. */
async function measure(servers: readonly LaminarServer[], connections: number, seconds: number): Promise<{ rps: number; p99: number }> {
  const path = LaminarServer.invokePath(FUNCTION);
  const per = Math.max(1, Math.round(connections / servers.length));
  const runs: LoadRun[] = await Promise.all(servers.map((s) => runLoad({ url: s.url, path, body: '{}', connections: per, durationSeconds: seconds })));
  return { rps: runs.reduce((sum, r) => sum + r.rps, 0), p99: Math.max(...runs.map((r) => r.latency.p99)) };
}

export const cluster: Scenario = {
  name: 'cluster',
  title: 'Cluster on Redis',
  description: `no-op at ${CONNECTIONS} connections: one embedded node, one node on Redis, three nodes on one Redis (throughput and p99 vs embedded)`,
  async run(ctx: ScenarioContext, result: ScenarioResult) {
    const connections = ctx.settings.connections ?? CONNECTIONS;
    const redis = await startRedisServer();
    const started: LaminarServer[] = [];
    try {
      const start = async (flags: Record<string, string | number>) => {
        const s = await LaminarServer.start({ flags });
        started.push(s);
        return s;
      };
      const setups: Record<Setup, LaminarServer[]> = {
        embedded: [await start({})],
        redis1: [await start({ 'redis-url': redis.url, 'node-id': 'solo' })],
        // A cluster of its own: another key prefix is not configurable, so another Redis database.
        redis3: [],
      };
      for (const n of [1, 2, 3]) setups.redis3.push(await start({ 'redis-url': `${redis.url}/1`, 'node-id': `node-${n}` }));
      // Once per cluster: the registry is shared, and the other nodes serve the function as soon
      // as they applied the write.
      for (const servers of Object.values(setups)) {
        await servers[0]?.deploy(FUNCTION, 'noop');
        for (const s of servers.slice(1)) await s.untilActive(FUNCTION);
      }
      const path = LaminarServer.invokePath(FUNCTION);
      for (const s of started) await prewarm(s, path, connections);

      const figures: Record<Setup, { rps: number[]; p99: number[] }> = { embedded: { rps: [], p99: [] }, redis1: { rps: [], p99: [] }, redis3: { rps: [], p99: [] } };
      for (const setup of Object.keys(setups) as Setup[]) await measure(setups[setup], connections, ctx.settings.warmupSeconds);
      for (let rep = 0; rep < ctx.settings.reps; rep++) {
        for (const setup of Object.keys(setups) as Setup[]) {
          ctx.settings.log(`  cluster: ${setup} run ${rep + 1}/${ctx.settings.reps}`);
          const m = await measure(setups[setup], connections, ctx.settings.durationSeconds);
          figures[setup].rps.push(m.rps);
          figures[setup].p99.push(m.p99);
        }
      }
      const labels: Record<Setup, string> = { embedded: 'one embedded node', redis1: 'one node on Redis', redis3: 'three nodes on Redis' };
      for (const setup of Object.keys(figures) as Setup[]) {
        result.values[`${setup} rps`] = { label: `${labels[setup]} @${connections} req/s`, unit: 'req/s', stat: stat(figures[setup].rps) };
        result.values[`${setup} p99`] = { label: `${labels[setup]} @${connections} p99`, unit: 'ms', stat: stat(figures[setup].p99) };
      }
      for (const setup of ['redis1', 'redis3'] as const) {
        const rps = stat(figures[setup].rps.map((v, i) => v / (figures.embedded.rps[i] as number)));
        const p99 = stat(figures[setup].p99.map((v, i) => v / (figures.embedded.p99[i] as number)));
        result.ratios[`${setup}_rps_vs_embedded`] = rps.median;
        result.ratioSpread[`${setup}_rps_vs_embedded`] = rps;
        result.ratios[`${setup}_p99_vs_embedded`] = p99.median;
        result.ratioSpread[`${setup}_p99_vs_embedded`] = p99;
      }
    } finally {
      for (const s of started) await s.stop().catch(() => undefined);
      await redis.stop();
    }
  },
};
