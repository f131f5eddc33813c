/**
 * profile: the server under `node --cpu-prof` while the warm scenario's load runs at 100
 * connections (and, second, while the throttle scenario's 429 flood runs), then the top self-time
 * functions of Laminar's own code, mapped to src/ lines, and where the rest of the time goes.
 */
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LaminarServer, withLaminar } from '../harness/laminar.js';
import { runLoad } from '../harness/load.js';
import { REPO_DIR } from '../harness/paths.js';
import type { ScenarioResult } from '../harness/result.js';
import { stat } from '../harness/stats.js';
import { hrtimeUs, sourceMapLocator, summarizeProfile, type CpuProfile, type ProfileSummary, type ProfileWindow } from '../profile/cpuprofile.js';
import type { Scenario, ScenarioContext } from './scenario.js';
import { RESERVED, SLEEP_MS } from './throttle.js';
import { prewarm } from './warm.js';

const CONNECTIONS = 100;

/** The main thread's profile: the biggest file (worker threads run without --cpu-prof). */
function newestProfile(dir: string): CpuProfile {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  const biggest = files.sort((a, b) => statSync(join(dir, b)).size - statSync(join(dir, a)).size)[0];
  if (!biggest) throw new Error(`no .cpuprofile written in ${dir}`);
  return JSON.parse(readFileSync(join(dir, biggest), 'utf8')) as CpuProfile;
}

async function profiled(
  ctx: ScenarioContext,
  title: string,
  setup: (server: LaminarServer) => Promise<string>,
): Promise<{ summary: ProfileSummary; rps: number }> {
  const dir = join(ctx.workDir, `profile-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  const seconds = Math.max(4, ctx.settings.durationSeconds * 2);
  let window: ProfileWindow = { startUs: 0, endUs: Number.POSITIVE_INFINITY };
  const rps = await withLaminar({ cpuProfDir: dir }, async (server) => {
    const path = await setup(server);
    ctx.settings.log(`  profiling: ${title}, ${seconds} s`);
    const startUs = hrtimeUs();
    const run = await runLoad({ url: server.url, path, body: '{}', connections: CONNECTIONS, durationSeconds: seconds });
    window = { startUs, endUs: hrtimeUs() };
    return run.responseRps;
  });
  // The profile is written when the server exits (withLaminar stops it); only the load's window is summarised.
  const summary = summarizeProfile(newestProfile(dir), { title, repoDir: REPO_DIR, locate: sourceMapLocator(REPO_DIR), window });
  return { summary, rps };
}

export const profile: Scenario = {
  name: 'profile',
  title: 'CPU profile of the invoke path',
  description: `node --cpu-prof on the server during warm @${CONNECTIONS} and throttle @${CONNECTIONS}: top self-time functions`,
  async run(ctx: ScenarioContext, result: ScenarioResult) {
    const warm = await profiled(ctx, `warm invokes @${CONNECTIONS}`, async (server) => {
      await server.deploy('profile-noop', 'noop');
      const path = LaminarServer.invokePath('profile-noop');
      await prewarm(server, path, CONNECTIONS);
      return path;
    });
    const throttled = await profiled(ctx, `throttled invokes @${CONNECTIONS}`, async (server) => {
      await server.deploy('profile-throttled', 'sleep', { env: { SLEEP_MS: String(SLEEP_MS) } });
      await server.reserveConcurrency('profile-throttled', RESERVED);
      return LaminarServer.invokePath('profile-throttled');
    });
    result.profiles = [warm.summary, throttled.summary];
    result.values.warmRps = { label: `responses/s while profiling warm (profiler on)`, unit: 'req/s', stat: stat([warm.rps]) };
    result.values.throttleRps = { label: `responses/s while profiling throttle (profiler on)`, unit: 'req/s', stat: stat([throttled.rps]) };
    for (const s of result.profiles) {
      const laminarShare = s.byCategory.find((c) => c.category === 'laminar')?.selfPct ?? 0;
      result.values[`share-${s.title}`] = { label: `${s.title}: self time in Laminar's code`, unit: '%', stat: stat([laminarShare * 100]) };
    }
  },
};
