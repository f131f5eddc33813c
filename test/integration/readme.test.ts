/**
 * A newcomer's first hour: every command of the README, in order, in one shell session, against
 * a real server started the way `npm start` starts it. Commands that cannot run here are left
 * out by a rule below that says why; a test names them, and the run prints each with its reason.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readmeCommands, type ReadmeCommand } from '../helpers/readme.js';
import { freePort } from '../helpers/prometheus.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(REPO, 'dist', 'main.js');
/** Where the README's server listens; the test's listens on a free port instead. */
const README_URL = 'http://127.0.0.1:9000';

function majorVersion(binary: string, pattern: RegExp): number {
  try {
    const out = execFileSync(binary, ['--version'], { stdio: 'pipe' }).toString();
    return Number(pattern.exec(out)?.[1] ?? 1);
  } catch {
    return 0;
  }
}
const awsMajor = majorVersion('aws', /aws-cli\/(\d+)/);
const hasPrometheus = majorVersion('prometheus', /version (\d+)/) > 0;
// CI installs both (.ci/run), so there a missing binary is a failure, not a skip.
const inCi = Boolean(process.env.CI);

/** The section whose commands test/integration/cluster-balancer.test.ts runs instead. */
const CLUSTER_SECTION = 'Running a cluster';

/** Commands that are not run, first match wins. `when` narrows a rule to some machines, `section` to one README section. */
const SKIPS: { match: RegExp; when?: boolean; section?: string; reason: string }[] = [
  {
    match: /[^]*/,
    section: CLUSTER_SECTION,
    reason: 'a cluster needs Redis, three nodes and nginx on fixed ports: test/integration/cluster-balancer.test.ts runs these commands on free ports',
  },
  { match: /^npm (install|ci)\b/, reason: 'installs dependencies; the checkout under test has them' },
  { match: /^npm start\b/, reason: 'the test starts the same server (node dist/main.js serve --functions examples) on a free port' },
  { match: /^npm test\b/, reason: 'runs the whole suite, this test included' },
  { match: /^npm run build\b/, reason: 'the test runs the build that `npm test` made' },
  { match: /^npm run (loadtest|perf:check|perf:baseline)\b/, reason: 'a load run takes minutes and is a CI job of its own' },
  { match: /^bash \.ci\/run\b/, reason: "CI's entry point: installs apt packages, then runs the whole suite" },
  { match: /^aws /, when: awsMajor === 0 && !inCi, reason: 'no `aws` on this machine (CI installs it, so there it runs)' },
  { match: /^aws [^]*--cli-binary-format/, when: awsMajor === 1, reason: 'the AWS CLI v2 form; the installed CLI is v1, whose form runs instead' },
  {
    match: /^aws lambda invoke (?![^]*--cli-binary-format)/,
    when: awsMajor >= 2,
    reason: 'the AWS CLI v1 form; the installed CLI is v2, whose form runs instead',
  },
  { match: /^prometheus /, when: !hasPrometheus && !inCi, reason: 'no `prometheus` on this machine (CI installs it, so there it runs)' },
];

/** Commands that run until stopped: started, stopped once their output shows they work. */
const LONG_RUNNING: { match: RegExp; until: RegExp; note: string; extraArgs?: (port: number) => string }[] = [
  { match: /^npx laminar logs .*--follow/, until: /REPORT RequestId/, note: 'stopped once it has printed the logs so far' },
  {
    match: /^prometheus /,
    until: /Server is ready to receive web requests/,
    note: 'stopped once ready; listens on a free port instead of :9090',
    extraArgs: (port) => ` --web.listen-address=127.0.0.1:${port}`,
  },
];

/** Key outputs, beyond exiting 0. */
const EXPECT: { match: RegExp; stdout?: RegExp | RegExp[]; stderr?: RegExp; file?: [string, RegExp] }[] = [
  { match: /^curl .*\/functions\/hello\/invocations -d '\{"name":"Ada"\}'/, stdout: /"message":"Hello, Ada!"/ },
  { match: /^curl .*X-Amz-Log-Type: Tail/s, stdout: [/^x-amz-log-result: /im, /^x-laminar-cold-start: /im] },
  { match: /^curl .*\/metrics/, stdout: /^laminar_invocations_total\{/m },
  { match: /^npx laminar deploy /, stdout: /"State": "Active"/ },
  { match: /^npx laminar invoke \S+ .*--log/, stdout: /"message":"Hello, /, stderr: /REPORT RequestId: / },
  { match: /^npx laminar publish /, stdout: /"Version": "\d+"/ },
  { match: /^npx laminar alias .*--weights \d+=/, stdout: /"AdditionalVersionWeights"/ },
  { match: /^npx laminar alias /, stdout: /"Name": "live"/ },
  { match: /^npx laminar invoke .*--qualifier live/, stdout: /"message":"Hello, / },
  { match: /^npx laminar invoke .*--async/, stdout: /StatusCode: 202/ },
  { match: /CreateFunctionCommand/, stdout: /"message":"Hello, Ada!".* \$LATEST/ },
  { match: /^aws lambda invoke /, stdout: /"StatusCode": 200/, file: ['out.json', /"message":"Hello, Ada!"/] },
  { match: /^aws lambda list-functions/, stdout: /"FunctionName": "hello2"/ },
  { match: /^npx laminar url hello --create/, stdout: /^http:\/\/127\.0\.0\.1:\d+\/lambda-url\/[a-z0-9]{32}\/$/m },
  { match: /^curl -s "\$\(npx laminar url hello\)\?name=Ada"/, stdout: /^\{"message":"Hello, Ada!"/ },
  { match: /^curl -s -i "\$\(npx laminar url hello\)/, stdout: [/^HTTP\/1\.1 200/m, /^content-type: application\/json/im] },
  { match: /^aws events put-rule /, stdout: /"RuleArn": "arn:aws:events:us-east-1:000000000000:rule\/hello-every-5-minutes"/ },
  { match: /^aws events put-targets /, stdout: /"FailedEntryCount": 0/ },
  { match: /^aws events list-targets-by-rule /, stdout: [/"Id": "hello"/, /"Input": "\{\\"name\\":\\"Ada\\"\}"/] },
  { match: /^aws lambda create-function-url-config/, stdout: /"FunctionUrl": "http:\/\/127\.0\.0\.1:\d+\/lambda-url\/[a-z0-9]{32}\/"/ },
];

interface Planned {
  command: ReadmeCommand;
  title: string;
  skip?: string;
  longRunning?: (typeof LONG_RUNNING)[number];
}

const commands = readmeCommands(readFileSync(join(REPO, 'README.md'), 'utf8'));
const plan: Planned[] = commands.map((command) => {
  const first = command.lang === 'js' ? `js block: ${command.text.split('\n').find((l) => l.includes('@aws-sdk/')) ?? ''}` : command.text.split('\n')[0] ?? '';
  const title = `README:${command.line} ${first.length > 110 ? first.slice(0, 110) + '…' : first}`;
  const skip = SKIPS.find((s) => (s.when ?? true) && (s.section ?? command.section) === command.section && s.match.test(command.text))?.reason;
  const longRunning = LONG_RUNNING.find((l) => l.match.test(command.text));
  return { command, title, ...(skip ? { skip } : {}), ...(longRunning ? { longRunning } : {}) };
});

interface Outcome {
  /** Exit status, or `stopped` for a long-running command stopped after its output matched. */
  rc: string;
  stdout: string;
  stderr: string;
}

let dir = '';
let server: ChildProcess | undefined;
let script: ChildProcess | undefined;
const outcomes = new Map<number, Outcome>();

/** The newcomer's environment: none of this machine's AWS or Laminar settings. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(AWS_|LAMINAR_)/.test(k)) env[k] = v;
  return { ...env, AWS_CONFIG_FILE: join(dir, 'no-aws-config'), AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-aws-credentials'), ...extra };
}

async function startServer(): Promise<string> {
  const child = spawn(process.execPath, [MAIN, 'serve', '--port', '0', '--functions', 'examples'], {
    cwd: dir,
    env: cleanEnv({}),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server = child;
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      output = (output + d.toString()).slice(-8000);
      const m = /serving the Lambda API on (http:\/\/\S+)/.exec(output);
      if (m?.[1]) resolve(m[1]);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`laminar serve exited (${String(code)}) before serving:\n${output}`)));
  });
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** One bash script: the README's commands in order, each one's output and status kept in files. */
function buildScript(url: string, prometheusPort: number): string {
  const lines = ['set -o pipefail', `OUT=${quote(join(dir, '.readme-out'))}`, 'mkdir -p "$OUT"'];
  plan.forEach((p, i) => {
    if (p.skip) return;
    let cmd: string;
    if (p.command.lang === 'js') {
      const file = `readme-block-${p.command.line}.mjs`;
      writeFileSync(join(dir, file), p.command.text.replaceAll(README_URL, url));
      cmd = `node ${file}`;
    } else {
      // `npx laminar` starts a command or a command substitution (`"$(npx laminar url hello)"`).
      cmd = p.command.text.replaceAll(README_URL, url).replace(/(^|\$\()npx laminar\b/g, `$1node ${quote(MAIN)}`);
    }
    const redirect = `>"$OUT/${i}.out" 2>"$OUT/${i}.err" </dev/null`;
    const lr = p.longRunning;
    if (!lr) {
      lines.push(`{\n${cmd}\n} ${redirect}`, `echo $? >"$OUT/${i}.rc"`);
      return;
    }
    if (lr.extraArgs) cmd = cmd.replace(/\s*(#.*)?$/, lr.extraArgs(prometheusPort));
    // `exec` makes the command itself the background job, so `wait` waits for it to finish
    // shutting down; job control gives it its own process group, so stopping it stops all of it.
    lines.push(
      'set -m',
      `{\nexec ${cmd}\n} ${redirect} &`,
      'pid=$!',
      'set +m',
      'deadline=$((SECONDS + 60))',
      `until grep -qE ${quote(lr.until.source)} "$OUT/${i}.out" "$OUT/${i}.err"; do`,
      '  kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ] || break',
      '  sleep 0.1',
      'done',
      'if kill -0 "$pid" 2>/dev/null; then',
      '  kill -TERM -- "-$pid"; wait "$pid"',
      `  if grep -qE ${quote(lr.until.source)} "$OUT/${i}.out" "$OUT/${i}.err"; then echo stopped; else echo "no output matching ${lr.until.source} in 60 s"; fi >"$OUT/${i}.rc"`,
      'else',
      `  wait "$pid"; echo $? >"$OUT/${i}.rc"`,
      'fi',
    );
  });
  return lines.join('\n') + '\n';
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'laminar-readme-'));
  // A copy of what the README's commands read, so that the files they write (event.json,
  // function.zip, out.json, .laminar/) land outside the checkout.
  cpSync(join(REPO, 'examples'), join(dir, 'examples'), { recursive: true });
  cpSync(join(REPO, 'dashboards'), join(dir, 'dashboards'), { recursive: true });
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'), 'dir');

  for (const p of plan) if (p.skip) console.info(`skipped ${p.title}\n  because ${p.skip}`);
  for (const p of plan) if (p.longRunning && !p.skip) console.info(`long-running ${p.title}\n  ${p.longRunning.note}`);

  const url = await startServer();
  console.info(
    `README commands run in ${dir} against ${url}: "${README_URL}" is replaced by it, "npx laminar" by ` +
      `"node dist/main.js" (with LAMINAR_ENDPOINT=${url}); js blocks run as .mjs files there; comment lines ` +
      '(such as the Grafana copying steps) are instructions, not commands',
  );
  const scriptFile = join(dir, '.readme.sh');
  writeFileSync(scriptFile, buildScript(url, await freePort()));
  const child = spawn('bash', [scriptFile], {
    cwd: dir,
    // The CLI's default endpoint is the README's port; LAMINAR_ENDPOINT points it at this server.
    // AWS CLI v2 pages its output on a terminal; a test has none to page on.
    env: cleanEnv({ LAMINAR_ENDPOINT: url, AWS_PAGER: '' }),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  script = child;
  let stderr = '';
  child.stdout.resume();
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  script = undefined;
  if (code !== 0 && stderr) console.info(`script stderr:\n${stderr}`);
  plan.forEach((p, i) => {
    if (p.skip) return;
    const file = (ext: string) => join(dir, '.readme-out', `${i}.${ext}`);
    const read = (ext: string) => (existsSync(file(ext)) ? readFileSync(file(ext), 'utf8') : '');
    outcomes.set(i, { rc: read('rc').trim() || 'never ran', stdout: read('out'), stderr: read('err') });
  });
}, 240_000);

afterAll(async () => {
  if (script?.pid && script.exitCode === null) process.kill(-script.pid, 'SIGTERM');
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server?.once('exit', r));
    server.kill('SIGTERM');
    await exited;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('every README command runs as written', () => {
  it('finds the sections a newcomer follows', () => {
    const sections = new Set(plan.map((p) => p.command.section));
    for (const s of ['Quick start', 'With the `laminar` CLI', 'With the AWS SDK for JavaScript v3', 'With the AWS CLI', 'Function URLs', 'Schedules', 'Autoscaling', 'Dashboards']) {
      expect(sections, `README section "${s}" has commands`).toContain(s);
    }
  });

  it('shows `aws lambda invoke` in the form of each AWS CLI major version', () => {
    // The rules above run only the installed CLI's form, so both must be there for the other one.
    const invokes = plan.filter((p) => /^aws lambda invoke /.test(p.command.text)).map((p) => p.command.text);
    expect(invokes.some((t) => t.includes('--cli-binary-format raw-in-base64-out')), 'a v2 form').toBe(true);
    expect(invokes.some((t) => !t.includes('--cli-binary-format')), 'a v1 form').toBe(true);
  });

  it('leaves out only what a rule excuses: installs, whole-suite and load runs, the other AWS CLI form, the cluster (run elsewhere)', () => {
    const cluster = plan.filter((p) => p.command.section === CLUSTER_SECTION);
    expect(cluster.length, `README section "${CLUSTER_SECTION}" has commands`).toBeGreaterThan(0);
    for (const p of cluster) expect(p.skip, p.title).toMatch(/cluster-balancer\.test\.ts runs these commands/);
    const excluded = plan.filter((p) => p.skip !== undefined && p.command.section !== CLUSTER_SECTION);
    const allowed = /^(npm (install|ci|start|test|run (build|loadtest|perf:check|perf:baseline))\b|bash \.ci\/run\b|aws |prometheus )/;
    for (const p of excluded) expect(p.command.text, `${p.title}: ${p.skip}`).toMatch(allowed);
    // Where the tools are installed (always in CI), every aws and prometheus command but one CLI form runs.
    if (inCi) expect(excluded.filter((p) => /^(aws|prometheus) /.test(p.command.text))).toHaveLength(1);
    expect(plan.length - excluded.length).toBeGreaterThan(20);
  });

  plan.forEach((p, i) => {
    if (p.skip) return;
    it(p.title, () => {
      const o = outcomes.get(i);
      const shown = () => `${p.command.text}\nstatus: ${o?.rc}\nstdout:\n${o?.stdout.slice(-2000)}\nstderr:\n${o?.stderr.slice(-2000)}`;
      expect(o?.rc, shown()).toBe(p.longRunning ? 'stopped' : '0');
      for (const e of EXPECT.filter((x) => x.match.test(p.command.text))) {
        for (const re of [e.stdout ?? []].flat()) expect(o?.stdout, shown()).toMatch(re);
        if (e.stderr) expect(o?.stderr, shown()).toMatch(e.stderr);
        if (e.file) expect(readFileSync(join(dir, e.file[0]), 'utf8')).toMatch(e.file[1]);
      }
    });
  });
});
