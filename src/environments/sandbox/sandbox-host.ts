/**
 * Runs each process environment in a sandbox of its own: bubblewrap builds a view that holds only
 * the function's code (/var/task), its layers (/opt), a private /tmp, the system's read-only
 * folders and its own /proc, as the sandbox user; a cgroup holds its process tree to MemorySize,
 * a CPU share in proportion to memory and a pids limit.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import type { EnvironmentSpec } from '../environment.js';
import type { Exit, FunctionPaths, HostedProcess, NodeRuntimePaths, ProcessHost, StartRequest } from '../process/host.js';
import { ExitWatch, RssWatchdog } from '../process/host.js';
import { killGroup } from '../process/proc.js';
import { bwrapArgs, NODE_INSIDE, OPT_ROOT, RUNTIME_ROOT, TASK_ROOT, type Mount, type SandboxView } from './bwrap-args.js';
import type { Cgroup, CgroupSupport } from './cgroup-types.js';
import { limitsFor } from './cgroup-limits.js';
import type { SystemView } from './system-view.js';
import type { OptDirs } from './opt-dir.js';

/** Lambda's default /tmp (EphemeralStorage) in MB. */
const DEFAULT_TMP_MB = 512;

/** What the sandbox needs of the cgroup driver (cgroups.ts). */
export type SandboxCgroups = Pick<CgroupSupport, 'describe' | 'create'>;

export interface SandboxHostOptions {
  bwrap: string;
  identity: SandboxView['identity'];
  system: SystemView;
  optDirs: OptDirs;
  /** Mounts that show Laminar's Node.js runtime at /var/runtime and node at /var/lang/bin/node. */
  nodeRuntimeMounts: readonly Mount[];
  /** Where the runtime's bootstrap appears, relative to /var/runtime. */
  nodeBootstrapInside: string;
  /** Settles once at start: the cgroups to use, or none (then an RSS watchdog holds MemorySize). */
  cgroups: Promise<SandboxCgroups | undefined>;
  /** After Init the CPU follows MemorySize (Lambda's proportion), or stays unlimited. */
  cpu: 'proportional' | 'unlimited';
  pidsMax: number;
  /** Version line of bubblewrap, for the description. */
  version: string;
  /** A file holding the seccomp program every sandbox runs under; none where the kernel has no seccomp filters. */
  seccompFile?: string;
}

/** A shell that moves itself into the cgroup, then becomes bubblewrap: nothing runs outside the group. */
const JOIN_CGROUP = 'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 125; shift; n=$((n-1)); done; exec "$@"';

export class SandboxHost implements ProcessHost {
  readonly sandboxed = true;

  private cgroups: SandboxCgroups | undefined;
  private limitsKnown = false;

  constructor(private readonly o: SandboxHostOptions) {
    void o.cgroups.then((c) => {
      this.cgroups = c;
      this.limitsKnown = true;
    });
  }

  get description(): string {
    if (!this.limitsKnown) return `sandboxed by ${this.o.version}`;
    const limits = this.cgroups ? `limits by ${this.cgroups.describe()}` : 'MemorySize held by an RSS watchdog (cgroups not writable)';
    return `sandboxed by ${this.o.version}, ${limits}`;
  }

  paths(spec: EnvironmentSpec): FunctionPaths {
    return { codeDir: TASK_ROOT, tmpDir: '/tmp', layerDirs: spec.layerDirs.length > 0 ? [OPT_ROOT] : [], layersAtOpt: true };
  }

  nodeRuntime(): NodeRuntimePaths {
    const bootstrap = join(RUNTIME_ROOT, this.o.nodeBootstrapInside);
    return { execPath: NODE_INSIDE, bootstrap, runtimeDir: RUNTIME_ROOT };
  }

  async start(request: StartRequest): Promise<HostedProcess> {
    const { spec } = request;
    const optDir = await this.o.optDirs.forLayers(spec.layerDirs);
    // A descriptor of its own per sandbox: bubblewrap reads the program from its current offset.
    const seccompFd = this.o.seccompFile === undefined ? undefined : openSync(this.o.seccompFile, 'r');
    const stdio = [...(Array.isArray(request.stdio) ? request.stdio : []), ...(seccompFd === undefined ? [] : [seccompFd])];
    const view: SandboxView = {
      ...this.o.system,
      ...(seccompFd === undefined ? {} : { seccompFd: stdio.length - 1 }),
      codeDir: spec.codeDir,
      ...(optDir !== undefined ? { optDir } : {}),
      runtime: request.nodeRuntime ? this.o.nodeRuntimeMounts : [],
      tmpBytes: (spec.ephemeralStorageMb ?? DEFAULT_TMP_MB) * 1024 * 1024,
      identity: this.o.identity,
      hostname: 'localhost',
    };
    const argv = bwrapArgs(view, request.command, request.args);
    // Init runs with the CPU it can get, as Lambda's Init does; the quota comes with initDone().
    let cgroup: Cgroup | undefined;
    let child;
    try {
      const cgroups = await this.o.cgroups;
      cgroup = await cgroups?.create(request.envId, limitsFor(spec.memoryMb, { pidsMax: this.o.pidsMax, cpu: false }));
      const options = { cwd: '/', env: request.env, detached: true, stdio };
      child =
        cgroup === undefined
          ? spawn(this.o.bwrap, argv, options)
          : spawn('/bin/sh', ['-c', JOIN_CGROUP, 'sh', String(cgroup.procsFiles.length), ...cgroup.procsFiles, this.o.bwrap, ...argv], options);
    } finally {
      if (seccompFd !== undefined) closeSync(seccompFd);
    }
    const oomBefore = cgroup?.oomKills() ?? 0;
    const watchdog = cgroup === undefined ? new RssWatchdog(child, spec.memoryMb) : undefined;
    let released: Promise<void> | undefined;
    // What the cgroup counted, kept from just before it is removed: a runtime's failure is
    // classified after its exit has already released the environment.
    let final: { oomKills: number; peakBytes: number } | undefined;
    const watch = new ExitWatch(child, signalledExit);
    return {
      child,
      get exit() {
        return watch.exit;
      },
      onExit: (waiter) => watch.onExit(waiter),
      peakMemoryMb: () => (cgroup === undefined ? undefined : Math.max(1, Math.ceil((final?.peakBytes ?? cgroup.peakBytes()) / (1024 * 1024)))),
      outOfMemory: () => (cgroup !== undefined ? (final?.oomKills ?? cgroup.oomKills()) > oomBefore : (watchdog?.exceeded ?? false)),
      initDone: async () => {
        if (cgroup === undefined || this.o.cpu === 'unlimited') return;
        // Init ran with the CPU it could get, as Lambda's does; from now on the share follows memory.
        // A group already removed (the environment died meanwhile) has nothing left to limit.
        await cgroup.setCpu(limitsFor(spec.memoryMb).cpu).catch(() => undefined);
      },
      release: () => {
        released ??= (async () => {
          watchdog?.stop();
          if (child.pid !== undefined) killGroup(child.pid);
          if (cgroup !== undefined) {
            await cgroup.killAll().catch(() => undefined);
            try {
              final = { oomKills: cgroup.oomKills(), peakBytes: cgroup.peakBytes() };
            } catch {
              // the group is already unreadable: keep what was last read
            }
            await cgroup.remove().catch(() => undefined);
          }
        })();
        return released;
      },
    };
  }
}

/** bubblewrap exits with 128+n when the runtime was killed by signal n, as a shell does. */
function signalledExit(code: number | null, signal: NodeJS.Signals | null): Exit {
  if (signal !== null || code === null || code <= 128 || code >= 128 + 65) return { code, signal };
  const n = code - 128;
  const name = (Object.keys(constants.signals) as NodeJS.Signals[]).find((s) => constants.signals[s] === n);
  return name === undefined ? { code, signal } : { code: null, signal: name };
}
