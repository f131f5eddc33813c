/**
 * Decides at start how process environments run on this machine and says why: sandboxed by
 * bubblewrap when it is installed and works here, limited by cgroups when they are writable, and
 * otherwise the best that is left (unsandboxed, an RSS watchdog), never refusing to start.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, realpathSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join, relative, resolve } from 'node:path';
import { DirectHost, type ProcessHost } from '../process/host.js';
import { bwrapArgs, NODE_INSIDE, RUNTIME_ROOT, SANDBOX_UID, type SandboxView } from './bwrap-args.js';
import { OptDirs } from './opt-dir.js';
import { SandboxHost, type SandboxCgroups } from './sandbox-host.js';
import { userNamespaceFilter } from './seccomp.js';
import { buildSystemView, nodeRuntimeMounts } from './system-view.js';

export interface OpenHostOptions {
  /** `auto` sandboxes when bubblewrap works here; `off` runs processes directly. */
  mode: 'auto' | 'off';
  /** Folder for the sandbox's own files (merged /opt folders, /etc stand-ins). */
  workDir: string;
  /** The compiled bootstrap of Laminar's Node.js runtime (inside Laminar's `environments` folder). */
  nodeBootstrap: string;
  /** Cgroups, or why there are none; settles once, shortly after start. */
  cgroups: Promise<SandboxCgroups | { unavailable: string }>;
  /** CPU after Init: in proportion to memory as in Lambda, or unlimited. */
  environmentCpu: 'proportional' | 'unlimited';
  pidsMax: number;
}

export interface IsolationReport {
  enabled: boolean;
  /** The host uid sandboxed functions run as, when no other process of the host uses it (a root server drops to it). */
  sandboxUid?: number;
  description: string;
  limits: string;
  /** Every reason process environments are less than fully sandboxed and limited. */
  warnings: string[];
}

export interface OpenedHost {
  host: ProcessHost;
  /** What runs process environments; complete once `ready` has settled. */
  sandbox: IsolationReport;
  /** Settles when the limits (cgroups) are known. */
  ready: Promise<void>;
}

/** Synchronous, so that a server is fully wired when createLaminar returns; it runs once at start (a few ms). */
export function openProcessHost(o: OpenHostOptions): OpenedHost {
  const report: IsolationReport = { enabled: false, description: '', limits: 'pending', warnings: [] };
  const cgroups = o.cgroups.then((c) => {
    if ('unavailable' in c) {
      report.limits = 'RSS watchdog';
      report.warnings.push(`cgroups unavailable (${c.unavailable}): MemorySize is held by an RSS watchdog; no CPU or pids limit`);
      return undefined;
    }
    report.limits = c.describe();
    return c;
  });
  const direct = (why: string): OpenedHost => {
    report.warnings.unshift(`process environments are NOT sandboxed: ${why}`);
    const host = new DirectHost({ memoryWatchdog: true });
    Object.assign(report, { enabled: false, description: host.description });
    // Unsandboxed processes are held by the watchdog alone; the cgroups are not used.
    const ready = cgroups.then(() => {
      report.limits = 'RSS watchdog';
    });
    return { host, sandbox: report, ready };
  };
  if (o.mode === 'off') return direct('config sandbox is off');
  if (process.platform !== 'linux') return direct(`bubblewrap needs Linux, this is ${process.platform}`);
  const bwrap = findExecutable('bwrap');
  if (bwrap === undefined) return direct('bubblewrap (bwrap) is not installed; install the Debian package bubblewrap');
  let identity: SandboxView['identity'] = { kind: 'userns' };
  if (process.getuid?.() === 0) {
    const setpriv = findExecutable('setpriv');
    if (setpriv === undefined) return direct('running as root without setpriv (util-linux) to drop to the sandbox user');
    identity = { kind: 'setpriv', setpriv };
  }
  const system = buildSystemView(join(o.workDir, 'support'));
  const seccompFile = join(o.workDir, 'support', 'seccomp.bpf');
  writeFileSync(seccompFile, userNamespaceFilter(), { mode: 0o600 });
  const environmentsDir = resolve(dirname(o.nodeBootstrap), '../..');
  // One real sandbox, to find out now (not at the first cold start) whether this machine allows
  // it, first with the seccomp filter, then without (a kernel without seccomp filters).
  const probeView: SandboxView = { ...system, codeDir: system.system[0]?.host ?? '/usr', runtime: [], tmpBytes: 1024 * 1024, identity, hostname: 'localhost' };
  const tryProbe = (withSeccomp: boolean): string | undefined => {
    const fd = withSeccomp ? openSync(seccompFile, 'r') : undefined;
    try {
      const view = fd === undefined ? probeView : { ...probeView, seccompFd: 3 };
      execFileSync(bwrap, bwrapArgs(view, '/bin/sh', ['-c', 'exit 0']), { timeout: 10_000, env: {}, stdio: ['ignore', 'ignore', 'pipe', fd ?? 'ignore'], encoding: 'utf8' });
      return undefined;
    } catch (err) {
      const stderr = (err as { stderr?: unknown }).stderr;
      return typeof stderr === 'string' && stderr.trim() !== '' ? stderr.trim() : String(err);
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  };
  let seccomp = true;
  const failure = tryProbe(true);
  if (failure !== undefined) {
    const plain = tryProbe(false);
    if (plain !== undefined) return direct(`bubblewrap cannot create a sandbox here: ${plain}`);
    seccomp = false;
    report.warnings.push(`sandboxes run without the seccomp filter that refuses user namespaces: ${failure}`);
  }
  const host = new SandboxHost({
    bwrap,
    identity,
    system,
    optDirs: new OptDirs(join(o.workDir, 'opt')),
    nodeRuntimeMounts: nodeRuntimeMounts(join(o.workDir, 'support'), environmentsDir, realpathSync(process.execPath), RUNTIME_ROOT, NODE_INSIDE),
    nodeBootstrapInside: join('environments', relative(environmentsDir, o.nodeBootstrap)),
    cgroups,
    cpu: o.environmentCpu,
    pidsMax: o.pidsMax,
    version: bwrapVersion(bwrap),
    ...(seccomp ? { seccompFile } : {}),
  });
  Object.assign(report, { enabled: true, description: host.description, ...(identity.kind === 'setpriv' ? { sandboxUid: SANDBOX_UID } : {}) });
  const ready = cgroups.then(() => {
    report.description = host.description;
  });
  return { host, sandbox: report, ready };
}

function findExecutable(name: string): string | undefined {
  const dirs = (process.env.PATH ?? '').split(delimiter).concat(['/usr/bin', '/bin', '/usr/sbin', '/sbin']);
  for (const dir of dirs) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function bwrapVersion(bwrap: string): string {
  try {
    return execFileSync(bwrap, ['--version'], { timeout: 5000, encoding: 'utf8' }).trim() || 'bubblewrap';
  } catch {
    return 'bubblewrap';
  }
}
