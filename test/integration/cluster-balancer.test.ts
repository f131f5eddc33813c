/**
 * The README's "Running a cluster", as a reader runs it: its commands in order, in one
 * directory, with its ports (Redis 6379, nodes 9001-9003, the balancer 9000) moved to free ones
 * in the commands and in copies of the shipped dashboards/cluster/nginx.conf and dashboards/cluster/prometheus.yml. A
 * real redis-server, three `laminar serve` processes (the compiled dist/main.js), a real nginx
 * in front of them and a real Prometheus. Through the balancer the README's requests answer, and
 * invocations reach every node and keep being answered when a node dies; the Prometheus of the
 * shipped config scrapes all three nodes, each under its node id.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sample, scrape } from '../helpers/metrics.js';
import { freePort } from '../helpers/prometheus.js';
import { readmeCommands, type ReadmeCommand } from '../helpers/readme.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(REPO, 'dist', 'main.js');
const SECTION = 'Running a cluster';
const README = readFileSync(join(REPO, 'README.md'), 'utf8');
const commands = readmeCommands(README).filter((c) => c.section === SECTION);

/** nginx lives in /usr/sbin, which Debian leaves out of a user's PATH. */
const PATH = `${process.env.PATH ?? ''}:/usr/sbin:/sbin`;

/** Background commands (`… &`), and the line each prints once it serves. */
const READY: { match: RegExp; ready: RegExp }[] = [
  { match: /^redis-server /, ready: /Ready to accept connections/ },
  { match: /^node \S+ serve /, ready: /serving the Lambda API on / },
];

interface Ran {
  command: ReadmeCommand;
  /** As run: ports moved, `npx laminar` the compiled CLI. */
  text: string;
  stdout: string;
  stderr: string;
  status: number | null;
}

let dir = '';
const ports = new Map<number, number>();
const running: { text: string; child: ChildProcess; exited: Promise<unknown> }[] = [];
const ran: Ran[] = [];
let prometheusUrl = '';
let nginxStop = '';

/** The README's ports moved to the test's, wherever they appear (commands and config files). */
function movePorts(text: string): string {
  return text.replace(/\b(6379|9000|9001|9002|9003|9090)\b/g, (p) => String(ports.get(Number(p)) ?? p));
}

const nodePorts = () => [9001, 9002, 9003].map((p) => ports.get(p) as number);
const balancer = () => `http://127.0.0.1:${ports.get(9000)}`;

function shell(text: string, detached: boolean): ChildProcess {
  return spawn('bash', ['-c', detached ? `exec ${text}` : text], { cwd: dir, env: { ...process.env, PATH }, stdio: ['ignore', 'pipe', 'pipe'], detached });
}

/** Starts a command that runs until stopped; resolves once its output shows `ready`. */
async function background(text: string, ready: RegExp): Promise<void> {
  const child = shell(text, true);
  const exited = new Promise((r) => child.once('exit', r));
  running.push({ text, child, exited });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const look = (d: Buffer) => {
      out = (out + d.toString()).slice(-8000);
      if (ready.test(out)) resolve();
    };
    child.stdout?.on('data', look);
    child.stderr?.on('data', look);
    void exited.then(() => reject(new Error(`${text} exited before printing ${ready.source}:\n${out}`)));
  });
}

async function runToEnd(text: string): Promise<Omit<Ran, 'command' | 'text'>> {
  const child = shell(text, false);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const status = await new Promise<number | null>((r) => child.once('exit', r));
  return { stdout, stderr, status };
}

beforeAll(async () => {
  expect(commands.length, `README section "${SECTION}" has commands`).toBeGreaterThanOrEqual(8);
  for (const p of [6379, 9000, 9001, 9002, 9003, 9090]) ports.set(p, await freePort());
  dir = mkdtempSync(join(tmpdir(), 'laminar-cluster-readme-'));
  cpSync(join(REPO, 'examples'), join(dir, 'examples'), { recursive: true });
  cpSync(join(REPO, 'dashboards', 'cluster'), join(dir, 'dashboards', 'cluster'), { recursive: true });
  for (const f of ['nginx.conf', 'prometheus.yml']) writeFileSync(join(dir, 'dashboards', 'cluster', f), movePorts(readFileSync(join(REPO, 'dashboards', 'cluster', f), 'utf8')));

  for (const command of commands) {
    if (/^npm run build\b/.test(command.text)) continue; // `npm test` built dist/ before this test
    const text = movePorts(command.text)
      .replace(/^npx laminar\b/, `node ${MAIN}`)
      .replace(/\s+#[^\n]*$/, '');
    const bg = /\s&$/.test(text);
    if (bg) {
      const plain = text.replace(/\s&$/, '');
      const rule = READY.find((r) => r.match.test(plain));
      if (!rule) throw new Error(`no readiness rule for the background command ${plain}`);
      await background(plain, rule.ready);
      ran.push({ command, text: plain, stdout: '', stderr: '', status: 0 });
    } else if (/^prometheus /.test(text)) {
      // Runs until stopped: stopped at the end, once its scrapes have been checked.
      const port = await freePort();
      await background(`${text} --web.listen-address=127.0.0.1:${port}`, /Server is ready to receive web requests/);
      prometheusUrl = `http://127.0.0.1:${port}`;
      ran.push({ command, text, stdout: '', stderr: '', status: 0 });
    } else {
      if (/^nginx /.test(text)) nginxStop = `${text} -s stop`;
      ran.push({ command, text, ...(await runToEnd(text)) });
    }
  }
}, 180_000);

afterAll(async () => {
  if (nginxStop) await runToEnd(nginxStop);
  for (const r of running.reverse()) {
    if (r.child.exitCode === null && r.child.signalCode === null && r.child.pid) {
      process.kill(-r.child.pid, 'SIGTERM');
      await r.exited;
    }
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const result = (match: RegExp): Ran => {
  const r = ran.find((x) => match.test(x.text));
  if (!r) throw new Error(`no README command matching ${match.source}`);
  return r;
};

async function invoke(fn: string, body: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${balancer()}/2015-03-31/functions/${fn}/invocations`, { method: 'POST', body });
  return { status: res.status, body: await res.text() };
}

describe('the README’s cluster: Redis, three nodes, nginx and Prometheus', () => {
  it('runs every command of the section: Redis, three nodes and Prometheus start, the others exit 0', () => {
    expect(ran.map((r) => r.text.split(' ')[0])).toEqual(expect.arrayContaining(['redis-server', 'node', 'nginx', 'curl', 'prometheus']));
    expect(ran.filter((r) => / serve /.test(r.text))).toHaveLength(3);
    for (const r of ran) expect(r.status, `${r.text}\n${r.stdout}\n${r.stderr}`).toBe(0);
  });

  it('/health through the balancer lists the three nodes at the addresses Prometheus scrapes', () => {
    const health = JSON.parse(result(/^curl -s http:\/\/127\.0\.0\.1:\d+\/health$/).stdout) as { cluster: { mode: string; redis: string; nodes: { address: string }[] } };
    expect(health.cluster).toMatchObject({ mode: 'redis', redis: 'reachable' });
    expect(health.cluster.nodes.map((n) => n.address).sort()).toEqual(nodePorts().map((p) => `127.0.0.1:${p}`).sort());
  });

  it('the README’s invoke through the balancer answers', () => {
    expect(result(/^curl .*\/functions\/hello\/invocations/).stdout).toMatch(/"message":"Hello, Ada!"/);
  });

  it('the balancer spreads invocations over all three nodes', async () => {
    const before = await Promise.all(nodePorts().map(async (p) => sample(await scrape(`http://127.0.0.1:${p}`), 'laminar_invocations_total', { function: 'hello' })));
    for (let i = 0; i < 30; i++) {
      const r = await invoke('hello', `{"name":"n${i}"}`);
      expect(r.status, r.body).toBe(200);
      expect(r.body).toContain(`Hello, n${i}!`);
    }
    const after = await Promise.all(nodePorts().map(async (p) => sample(await scrape(`http://127.0.0.1:${p}`), 'laminar_invocations_total', { function: 'hello' })));
    const served = after.map((n, i) => n - (before[i] ?? 0));
    expect(served.reduce((a, b) => a + b, 0)).toBe(30);
    for (const n of served) expect(n).toBeGreaterThan(0);
  });

  it('Prometheus, from the shipped config, scrapes all three nodes, each series under its node id', async () => {
    const query = async (expr: string) =>
      ((await (await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(expr)}`)).json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } }).data.result;
    const deadline = Date.now() + 30_000;
    let up: { metric: Record<string, string>; value: [number, string] }[] = [];
    // The first scrape of each target comes within one scrape interval (5 s) of the start.
    while (Date.now() < deadline) {
      up = await query('up{job="laminar"} == 1');
      if (up.length === 3) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(up.map((s) => s.metric.instance).sort()).toEqual(nodePorts().map((p) => `127.0.0.1:${p}`).sort());
    const nodes = await query('laminar_account_concurrency_limit');
    // Default node ids, `<hostname>:<port>`: one per node, each naming its node's port.
    const ids = nodes.map((s) => s.metric.node ?? '');
    expect(new Set(ids).size).toBe(3);
    for (const p of nodePorts()) expect(ids.filter((id) => id.endsWith(`:${p}`)), String(p)).toHaveLength(1);
    }, 45_000);

  it('a node that dies is skipped: every invocation through the balancer is still answered', async () => {
    const node = running.find((r) => r.text.includes(`--port ${ports.get(9003)}`));
    expect(node?.child.pid).toBeDefined();
    process.kill(-(node?.child.pid as number), 'SIGKILL');
    await node?.exited;
    for (let i = 0; i < 12; i++) {
      const r = await invoke('hello', '{"name":"Lin"}');
      expect(r.status, r.body).toBe(200);
    }
  });
});

describe('dashboards/cluster/nginx.conf', () => {
  const conf = readFileSync(join(REPO, 'dashboards', 'cluster', 'nginx.conf'), 'utf8');

  it('is shown in the README as it is shipped: its upstream and server blocks, word for word', () => {
    const block = /^```nginx\n([^]*?)^```$/m.exec(README)?.[1] ?? '';
    expect(block).toMatch(/^upstream laminar \{$/m);
    expect(block).toMatch(/^server \{$/m);
    // The README shows the blocks out of the file's `http { }`, two spaces less indented.
    expect(conf).toContain(block.replace(/^(?=.)/gm, '  '));
  });

  it('waits longer than the longest function timeout (900 s), keeps connections to the nodes, and lists the README’s three ports', () => {
    const seconds = (name: string) => Number(new RegExp(`^\\s*${name} (\\d+)s;`, 'm').exec(conf)?.[1]);
    expect(seconds('proxy_read_timeout')).toBeGreaterThan(900);
    expect(seconds('proxy_send_timeout')).toBeGreaterThan(900);
    expect(conf).toMatch(/^\s*keepalive \d+;/m);
    expect(conf).toMatch(/^\s*proxy_set_header Connection "";/m);
    expect([...conf.matchAll(/^\s*server (127\.0\.0\.1:\d+);/gm)].map((m) => m[1])).toEqual(['127.0.0.1:9001', '127.0.0.1:9002', '127.0.0.1:9003']);
    expect(conf).not.toMatch(/non_idempotent/);
  });

  it('nginx -t accepts it', () => {
    const prefix = mkdtempSync(join(tmpdir(), 'laminar-nginx-t-'));
    try {
      const r = spawnSync('nginx', ['-t', '-p', prefix, '-e', 'stderr', '-c', join(REPO, 'dashboards', 'cluster', 'nginx.conf')], { encoding: 'utf8', env: { ...process.env, PATH } });
      expect(r.status, r.stderr).toBe(0);
    } finally {
      rmSync(prefix, { recursive: true, force: true });
    }
  });
});
