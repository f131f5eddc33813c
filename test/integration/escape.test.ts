/**
 * Functions written as attackers, run with Laminar's default configuration (sandboxed processes,
 * no isolation flag, no tag), each told in its event what it needs to aim at: the server's pid,
 * the data dir, another function's host folders and host pid. Every attempt must fail or stay
 * inside the attacker's own environment; the server keeps serving, and the victim (a function
 * that keeps a secret in its /tmp) keeps answering as itself, from the same environment.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateFunctionUrlConfigCommand,
  DeleteFunctionCommand,
  DeleteFunctionUrlConfigCommand,
  GetFunctionCommand,
  InvokeCommand,
  ListFunctionsCommand,
  type Runtime,
} from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultNodeProcessBootstrapPath } from '../../src/environments/process/node/node-process-environment.js';
import { REGISTRY_DB } from '../../src/registry/data-dir.js';
import { decode, deployFixture, FIXTURES, startLaminar, zipFixture, type Harness } from '../helpers/laminar.js';
import { descendants, gone, hostPidOf, processesWith, running, uidOf, until } from '../helpers/host-processes.js';

/** Put into the server's own environment before it starts: no function may ever see it. */
const HOST_SECRET = `host-secret-${randomUUID()}`;
const HOST_SECRET_NAME = 'LAMINAR_TEST_HOST_SECRET';
/** What the victim keeps in its /tmp. */
const VICTIM_SECRET = `victim-secret-${randomUUID()}`;
const SANDBOX_UID = 993;
const SANDBOX_GID = 990;

type Body = Record<string, unknown>;
type ErrorBody = { errorType: string; errorMessage: string };

interface Victim {
  name: string;
  /** Id the victim drew at Init: the same id later means the same environment still serves it. */
  environment: string;
  /** bubblewrap's pid on the host: the process the server started for the victim's environment. */
  sandboxPid: number;
  /** The victim's Node.js runtime, as the host numbers it. */
  runtimePid: number;
  codeDir: string;
  tmpDir: string;
}

let h: Harness;
let victim: Victim;

beforeAll(async () => {
  process.env[HOST_SECRET_NAME] = HOST_SECRET;
  // The default configuration, CPU limit included.
  h = await startLaminar({ environmentCpu: 'proportional' });
  // Unsandboxed, these attackers would run as the server's own user (root on CI), and
  // `kill -9 -1` would end every process of the machine: nothing runs without the sandbox.
  if (!h.laminar.isolation.enabled) {
    throw new Error(
      `Laminar did not sandbox process environments on this machine, so the escape tests refuse to run their attackers: ` +
        `${h.laminar.isolation.warnings.join('; ')}. Install bubblewrap (apt-get install -y bubblewrap); CI does.`,
    );
  }
  victim = await startVictim();
  // The default really is a sandboxed process: the victim's runtime runs as the sandbox user.
  const uid = uidOf(victim.runtimePid);
  if (uid !== SANDBOX_UID) throw new Error(`functions run as uid ${uid}, not as the sandbox user ${SANDBOX_UID}: the escape tests refuse to run their attackers`);
}, 120_000);

afterAll(async () => {
  delete process.env[HOST_SECRET_NAME];
  await h?.close();
});

async function invoke(name: string, event: unknown = {}): Promise<{ error?: string; body: Body; log: string }> {
  if (!h.laminar.isolation.enabled) throw new Error('not sandboxed: no attacker runs');
  const out = await h.client.send(new InvokeCommand({ FunctionName: name, Payload: JSON.stringify(event), LogType: 'Tail' }));
  return {
    ...(out.FunctionError !== undefined ? { error: out.FunctionError } : {}),
    body: decode(out.Payload) as Body,
    log: Buffer.from(out.LogResult ?? '', 'base64').toString('utf8'),
  };
}

/** Deploys a victim, warms it with a secret in its /tmp, and finds its processes on the host. */
async function startVictim(): Promise<Victim> {
  const name = await deployFixture(h.client, 'escape-victim');
  const { body } = await invoke(name, { secret: VICTIM_SECRET });
  expect(body).toMatchObject({ me: 'escape-victim', secret: VICTIM_SECRET });
  const member = h.laminar.scheduler.allMembers().find((m) => m.env.spec.functionName === name);
  const sandboxPid = (member?.env as { pid?: number } | undefined)?.pid;
  if (member === undefined || sandboxPid === undefined) throw new Error(`no running environment of ${name}`);
  const runtimePid = await until(() => hostPidOf(sandboxPid, Number(body.pid)), `the host pid of ${name}'s runtime`);
  return { name, environment: String(body.environment), sandboxPid, runtimePid, codeDir: member.env.spec.codeDir, tmpDir: member.env.spec.tmpDir };
}

/** What every attacker is told about its targets. */
function targets(): Body {
  return {
    serverPid: process.pid,
    serverParentPid: process.ppid,
    dataDir: h.dataDir,
    registryDb: join(h.dataDir, REGISTRY_DB),
    victimSandboxPid: victim.sandboxPid,
    victimRuntimePid: victim.runtimePid,
    victimCodeDir: victim.codeDir,
    victimTmpDir: victim.tmpDir,
  };
}

/** The server answers its API, and the victim answers as itself from the environment it had. */
async function expectServerAndVictimUnharmed(): Promise<void> {
  const health = await fetch(`${h.url}/health`);
  expect(health.status).toBe(200);
  await h.client.send(new ListFunctionsCommand({}));
  expect(running(victim.runtimePid)).toBe(true);
  const { error, body } = await invoke(victim.name);
  expect(error).toBeUndefined();
  expect(body).toEqual({ me: 'escape-victim', environment: victim.environment, pid: expect.any(Number), secret: VICTIM_SECRET });
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

const sha256 = (bytes: Buffer, encoding: 'hex' | 'base64' = 'base64') => createHash('sha256').update(bytes).digest(encoding);

/** Every file below `dir`, relative path → content. */
function filesOf(dir: string, prefix = ''): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const entry of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const rel = join(prefix, entry.name);
    if (entry.isDirectory()) for (const [k, v] of filesOf(dir, rel)) out.set(k, v);
    else out.set(rel, readFileSync(join(dir, rel)));
  }
  return out;
}

/** A number no other process's arguments hold, for `sleep` to carry (GNU sleep takes fractions). */
const marker = (seconds: number) => `${seconds}.${randomBytes(6).readUIntBE(0, 6)}`;

describe('the sandbox is on by default', () => {
  it('GET /health reports sandbox.enabled: true on this machine (bubblewrap is installed)', async () => {
    const health = (await (await fetch(`${h.url}/health`)).json()) as { sandbox?: { enabled?: boolean; warnings?: string[] } };
    expect(health.sandbox?.enabled, `sandbox not enabled: ${JSON.stringify(health.sandbox)}`).toBe(true);
    const runtime = await invoke(victim.name);
    expect(runtime.error).toBeUndefined();
    expect(uidOf(victim.runtimePid)).toBe(SANDBOX_UID);
  });
});

describe('signals', () => {
  it('SIGKILL to the server, its parent, pid 1, its own parent and another environment (process.kill and process._kill) all fail with ESRCH or EPERM; everyone keeps running', async () => {
    const name = await deployFixture(h.client, 'escape-kill');
    const { error, body } = await invoke(name, targets());
    expect(error).toBeUndefined();
    const observed = body.observed as Record<string, { pid: number; kill?: string; rawKill?: string; skipped?: boolean }>;
    // Host pids do not exist in the attacker's PID namespace at all; its pid 1 and its parent are
    // bubblewrap, which runs as another user.
    expect(observed).toEqual({
      server: { pid: process.pid, kill: 'ESRCH', rawKill: 'ESRCH' },
      serverParent: { pid: process.ppid, kill: 'ESRCH', rawKill: 'ESRCH' },
      pid1: { pid: 1, kill: 'EPERM', rawKill: 'EPERM' },
      ownParent: { pid: body.ppid, kill: 'EPERM', rawKill: 'EPERM' },
      victimSandbox: { pid: victim.sandboxPid, kill: 'ESRCH', rawKill: 'ESRCH' },
      victimRuntime: { pid: victim.runtimePid, kill: 'ESRCH', rawKill: 'ESRCH' },
    });
    expect(running(process.ppid)).toBe(true);
    await expectServerAndVictimUnharmed();
  });

  it('`kill -9 -1` from a shell ends only the attacker\'s own sandbox: its invocation fails with Runtime.ExitError, the server and the victim keep running', async () => {
    const name = await deployFixture(h.client, 'escape-kill');
    const { error, body } = await invoke(name, { killEverything: true });
    expect(error).toBe('Unhandled');
    expect(body).toMatchObject({ errorType: 'Runtime.ExitError', errorMessage: expect.stringContaining('signal: killed') });
    await expectServerAndVictimUnharmed();
    // The attacker's next invocation gets a fresh environment.
    const again = await invoke(name, { ...targets() });
    expect(again.error).toBeUndefined();
    expect(again.log).toContain('Init Duration');
  });
});

describe('reading what is not the function\'s', () => {
  it('registry.db and the data dir are not there by their host paths (ENOENT)', async () => {
    const name = await deployFixture(h.client, 'escape-snoop');
    const { error, body } = await invoke(name, targets());
    expect(error).toBeUndefined();
    expect(body.registryDb).toEqual({ ok: false, code: 'ENOENT' });
    expect(body.dataDir).toEqual({ ok: false, code: 'ENOENT' });
  });

  it('/proc shows only the attacker\'s own sandbox, no process environment holds a host variable, and process.env is its own variables plus Lambda\'s', async () => {
    const name = await deployFixture(h.client, 'escape-snoop', { Environment: { Variables: { ATTACKER_OWN: 'mine' } } });
    const { error, body } = await invoke(name, targets());
    expect(error).toBeUndefined();
    expect({ uid: body.uid, gid: body.gid }).toEqual({ uid: SANDBOX_UID, gid: SANDBOX_GID });
    const processes = body.processes as { pid: number; cmdline: { ok: boolean; value?: string }; environ: { ok: boolean; value?: string[]; code?: string } }[];
    // bubblewrap as the namespace's init, the runtime, perhaps a helper: never the host's processes.
    expect(processes.length).toBeLessThan(6);
    expect(processes.map((p) => p.pid)).toContain(1);
    for (const p of processes) expect(p.cmdline.value ?? '').not.toMatch(/vitest/);
    // The runtime's own environment is readable, bubblewrap's (root) is not.
    const own = processes.find((p) => p.pid === body.pid);
    expect(own?.environ.ok).toBe(true);
    expect(processes.find((p) => p.pid === 1)?.environ).toEqual({ ok: false, code: 'EACCES' });
    const text = JSON.stringify(body);
    expect(text).not.toContain(HOST_SECRET);
    expect(text).not.toContain(HOST_SECRET_NAME);

    // The whole of process.env: the function's variables, Lambda's presets and reserved
    // variables, TMPDIR (/tmp, as os.tmpdir() expects), and PWD (the sandbox starts the runtime in
    // /var/task, as Lambda's shell bootstrap leaves PWD there). Lambda sets _X_AMZN_TRACE_ID per
    // invocation when the request is traced.
    const expected = [
      'ATTACKER_OWN',
      // presets a function may override
      'LANG',
      'PATH',
      'LD_LIBRARY_PATH',
      'NODE_PATH',
      'AWS_XRAY_CONTEXT_MISSING',
      'TZ',
      // reserved
      '_HANDLER',
      'AWS_REGION',
      'AWS_DEFAULT_REGION',
      'AWS_EXECUTION_ENV',
      'AWS_LAMBDA_FUNCTION_NAME',
      'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
      'AWS_LAMBDA_FUNCTION_VERSION',
      'AWS_LAMBDA_INITIALIZATION_TYPE',
      'AWS_LAMBDA_LOG_GROUP_NAME',
      'AWS_LAMBDA_LOG_STREAM_NAME',
      'AWS_LAMBDA_RUNTIME_API',
      'LAMBDA_TASK_ROOT',
      'LAMBDA_RUNTIME_DIR',
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
      'AWS_SESSION_TOKEN',
      // Laminar's
      'TMPDIR',
      'PWD',
    ].sort();
    const env = body.env as Record<string, string>;
    expect(Object.keys(env).filter((k) => k !== '_X_AMZN_TRACE_ID').sort()).toEqual(expected);
    expect(env).toMatchObject({ ATTACKER_OWN: 'mine', PWD: '/var/task', LAMBDA_TASK_ROOT: '/var/task', TMPDIR: '/tmp' });
    expect(own?.environ.value?.map((v) => v.slice(0, v.indexOf('='))).sort()).toEqual(expected);
  });

  it("another function's /tmp is out of reach: not by its host folder, not through /proc/<pid>/root, not in the attacker's own /tmp", async () => {
    const name = await deployFixture(h.client, 'escape-snoop');
    const { error, body } = await invoke(name, targets());
    expect(error).toBeUndefined();
    expect(body.victimTmpSecret).toEqual({ ok: false, code: 'ENOENT' });
    expect(body.victimTmpDir).toEqual({ ok: false, code: 'ENOENT' });
    expect(body.victimRootTmpSecret).toEqual({ ok: false, code: 'ENOENT' });
    expect(body.ownTmpSecret).toEqual({ ok: false, code: 'ENOENT' });
    expect(body.ownTmp).toEqual({ ok: true, value: [] });
    expect(JSON.stringify(body)).not.toContain(VICTIM_SECRET);
    await expectServerAndVictimUnharmed();
  });
});

describe('writing code', () => {
  it("another function's code (by host path), the attacker's own /var/task, the runtime and the system are read-only or absent; the victim still runs its own code, byte for byte", async () => {
    const bootstrap = defaultNodeProcessBootstrapPath();
    const bootstrapBefore = sha256(readFileSync(bootstrap));
    const nodeBefore = statSync(process.execPath);
    const name = await deployFixture(h.client, 'escape-overwrite');
    const { error, body } = await invoke(name, targets());
    expect(error).toBeUndefined();
    for (const [attempt, answer] of Object.entries(body)) {
      expect([attempt, answer]).toEqual([attempt, expect.stringMatching(/^(EROFS|EACCES|ENOENT|EPERM)$/)]);
    }

    await expectServerAndVictimUnharmed();
    const zip = await zipFixture('escape-victim');
    const config = await h.client.send(new GetFunctionCommand({ FunctionName: victim.name }));
    expect(config.Configuration?.CodeSha256).toBe(sha256(zip));
    const hash = sha256(zip, 'hex');
    const archive = h.laminar.registry.codeArchive(hash);
    expect(archive).toBeDefined();
    expect(sha256(readFileSync(archive as string))).toBe(config.Configuration?.CodeSha256);
    expect(filesOf(victim.codeDir)).toEqual(filesOf(join(FIXTURES, 'escape-victim')));
    const attacker = h.laminar.registry.resolve(name, undefined).codeDir;
    expect(filesOf(attacker)).toEqual(filesOf(join(FIXTURES, 'escape-overwrite')));
    expect(sha256(readFileSync(bootstrap))).toBe(bootstrapBefore);
    const nodeAfter = statSync(process.execPath);
    expect({ size: nodeAfter.size, mtimeMs: nodeAfter.mtimeMs }).toEqual({ size: nodeBefore.size, mtimeMs: nodeBefore.mtimeMs });
  });
});

describe('memory', () => {
  it('allocating 1 GB off-heap in a 128 MB function answers Runtime.OutOfMemory, the environment is replaced, and the server does not grow', async () => {
    const name = await deployFixture(h.client, 'escape-memory', { MemorySize: 128, Timeout: 60 });
    const warm = await invoke(name, { targetMb: 0 });
    expect(warm.body).toEqual({ heldMb: 0 });
    const serverRssBefore = process.memoryUsage().rss;
    const { error, body } = await invoke(name, { targetMb: 1024 });
    expect(error).toBe('Unhandled');
    expect((body as ErrorBody).errorType).toBe('Runtime.OutOfMemory');
    expect(process.memoryUsage().rss - serverRssBefore).toBeLessThan(150 * 1024 * 1024);
    const next = await invoke(name, { targetMb: 0 });
    expect(next.error).toBeUndefined();
    expect(next.body).toEqual({ heldMb: 0 });
    expect(next.log).toContain('Init Duration');
    await expectServerAndVictimUnharmed();
  }, 120_000);
});

describe('processes', () => {
  it('a fork bomb stays inside its sandbox: starting a process fails (EAGAIN) below the pids limit, and no process of it is left on the host', async () => {
    const pidsMax = h.laminar.config.environmentPidsMax;
    const sleep = marker(600);
    // Memory enough that the pids limit, not MemorySize, is what stops the bomb; a timeout long
    // enough for a loaded machine to start pidsMax processes one spawn at a time.
    const name = await deployFixture(h.client, 'escape-fork-bomb', { MemorySize: 1024, Timeout: 90 });
    let peak = 0;
    let sampling = true;
    // The host counts the bomb's processes while it runs.
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, processesWith(sleep).length);
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    let outcome: Awaited<ReturnType<typeof invoke>>;
    try {
      outcome = await invoke(name, { marker: sleep, max: 5000 });
    } finally {
      sampling = false;
      await sampler;
    }
    const story = `the host saw at most ${peak} of the bomb's processes at once; the invocation answered ${JSON.stringify(outcome.body)}`;
    // Soft, so that what is left on the host is checked whatever stopped the bomb.
    expect.soft(outcome.body, story).toEqual({ spawned: expect.any(Number), failure: 'EAGAIN' });
    expect.soft(peak, story).toBeLessThan(pidsMax);
    expect.soft(outcome.body.spawned as number, story).toBeLessThan(pidsMax);
    await h.client.send(new DeleteFunctionCommand({ FunctionName: name }));
    await until(() => processesWith(sleep).length === 0, "the fork bomb's processes to be gone from the host", 30_000, 200);
    await expectServerAndVictimUnharmed();
  }, 180_000);

  it('a detached child and a double-forked orphan outlive the invocation inside the sandbox, and nothing of the function is left on the host after DeleteFunction', async () => {
    const detached = marker(3600);
    const orphan = marker(3600);
    const name = await deployFixture(h.client, 'escape-detach');
    const { error } = await invoke(name, { detachedMarker: detached, orphanMarker: orphan });
    expect(error).toBeUndefined();
    const left = await until(() => {
      const found = [...processesWith(detached), ...processesWith(orphan)];
      return found.length === 2 && found;
    }, 'the detached child and the orphan to show up on the host');
    // They run as the sandbox user, not as the server's.
    for (const p of left) expect(uidOf(p.pid)).toBe(SANDBOX_UID);
    await h.client.send(new DeleteFunctionCommand({ FunctionName: name }));
    await until(() => left.every(gone), 'the left-behind processes to be gone after DeleteFunction');
    expect([...processesWith(detached), ...processesWith(orphan)]).toEqual([]);
    await expectServerAndVictimUnharmed();
  });
});

describe("another environment's Runtime API", () => {
  it("a function cannot fetch, answer or fail another environment's invocations through its Runtime API (403), and that runtime keeps serving its own", async () => {
    const other = await deployFixture(h.client, 'custom-sh', { Runtime: 'provided.al2023' as Runtime, Handler: 'function.handler', MemorySize: 1769 });
    expect((await invoke(other, { before: true })).body).toMatchObject({ event: { before: true } });
    const member = h.laminar.scheduler.allMembers().find((m) => m.env.spec.functionName === other);
    const sandboxPid = (member?.env as { pid?: number } | undefined)?.pid as number;
    const runtimeApi = await until(() => {
      for (const pid of descendants(sandboxPid)) {
        const address = /(?:^|\0)AWS_LAMBDA_RUNTIME_API=([^\0]+)/.exec(readText(`/proc/${pid}/environ`))?.[1];
        if (address !== undefined) return address;
      }
      return undefined;
    }, `the Runtime API address of ${other}`);
    const name = await deployFixture(h.client, 'escape-runtime-api', { MemorySize: 1769, Timeout: 30 });
    const { error, body } = await invoke(name, { ...targets(), victimRuntimeApi: runtimeApi });
    expect(error).toBeUndefined();
    const denied = { status: 403, body: expect.stringContaining('AccessDenied') };
    expect(body).toEqual({ next: denied, respond: denied, initError: denied });
    const after = await invoke(other, { after: true });
    expect(after.error).toBeUndefined();
    expect(after.body).toMatchObject({ event: { after: true } });
    expect(after.log).not.toContain('Init Duration');
  });
});

describe('a custom runtime (provided.al2023, shell bootstrap)', () => {
  // A shell runtime starts a process per step; at 128 MB its CPU share (7% of a vCPU) would make
  // the attack slower than its timeout, so it gets the memory (and CPU) of a busy function.
  const deployShell = () => deployFixture(h.client, 'escape-sh', { Runtime: 'provided.al2023' as Runtime, Handler: 'function.handler', MemorySize: 1769, Timeout: 30 });

  it('cannot read registry.db or list the data dir, sees no host variable, and cannot SIGKILL the server or another environment', async () => {
    const name = await deployShell();
    const { error, body } = await invoke(name, { ...targets(), hostVariable: HOST_SECRET_NAME });
    expect(error).toBeUndefined();
    expect(body).toMatchObject({
      readDb: { status: 1, said: expect.stringContaining('No such file or directory') },
      listDataDir: { status: 2, said: expect.stringContaining('No such file or directory') },
      killServer: expect.stringContaining('No such process'),
      seeServerStatus: 1,
      killVictim: expect.stringContaining('No such process'),
      hostVariables: 0,
      uid: SANDBOX_UID,
    });
    expect(body.ownVariables).toBeGreaterThan(0);
    await expectServerAndVictimUnharmed();
  });

  it('`kill -9 -1` ends nothing outside its own sandbox (the shell itself is spared, as kill(-1) spares its caller); the server and the victim keep running', async () => {
    const name = await deployShell();
    const { error, body } = await invoke(name, { killEverything: true, ...targets(), hostVariable: HOST_SECRET_NAME });
    expect(error).toBeUndefined();
    expect(body).toMatchObject({ killServer: expect.stringContaining('No such process'), hostVariables: 0, uid: SANDBOX_UID });
    await expectServerAndVictimUnharmed();
  });
});

describe('beyond the file system', () => {
  it("Laminar's own API on loopback: a function may invoke another (by Invoke or its function URL), but not read, download, replace, list or delete it, nor give it a URL (AccessDeniedException)", async () => {
    const name = await deployFixture(h.client, 'escape-api', { MemorySize: 512, Timeout: 30 });
    const victimUrl = (await h.client.send(new CreateFunctionUrlConfigCommand({ FunctionName: victim.name, AuthType: 'NONE' }))).FunctionUrl;
    const { error, body } = await invoke(name, { url: h.url, victim: victim.name, victimUrl });
    expect(error).toBeUndefined();
    for (const key of ['get', 'download', 'update', 'del', 'list', 'createUrl']) {
      expect(body[key], key).toMatchObject({ status: 403, type: 'AccessDeniedException' });
    }
    expect(body.invoke).toMatchObject({ status: 200 });
    expect(JSON.parse((body.invoke as { body: string }).body)).toMatchObject({ me: 'escape-victim' });
    // A function URL is an invocation too.
    expect(body.viaUrl).toMatchObject({ status: 200 });
    expect(JSON.parse((body.viaUrl as { body: string }).body)).toMatchObject({ me: 'escape-victim' });
    await h.client.send(new DeleteFunctionUrlConfigCommand({ FunctionName: victim.name }));
    // The same requests from outside a sandbox are served.
    expect((await fetch(`${h.url}/2015-03-31/functions/${victim.name}`)).status).toBe(200);
    await expectServerAndVictimUnharmed();
  });

  it('no user namespace (unshare -U fails with EPERM), while threads and child processes work as usual', async () => {
    const name = await deployFixture(h.client, 'escape-userns', { MemorySize: 1024, Timeout: 30 });
    const { error, body } = await invoke(name);
    expect(error).toBeUndefined();
    expect(body.unshareUser).toMatchObject({ status: 1, out: expect.stringContaining('Operation not permitted') });
    expect(body.unshareMount).toMatchObject({ status: 1 });
    expect(body.python).toEqual({ status: 0, out: 'threads ok' });
    expect(body.thread).toBe(42);
  });
});
