/**
 * Laminar's sandbox without Laminar: the bubblewrap command line of an environment, built by the
 * build under test's own modules (src/environments/sandbox/: bwrapArgs, the system view, the
 * seccomp filter), for the floors that run a runtime in the same view Laminar gives a function.
 * No cgroup: creating and joining one is part of Laminar's work, not of the floor's.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, realpathSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';

interface Mount {
  host: string;
  inside: string;
}

/** The shapes of Laminar's sandbox modules used here. */
interface SandboxModules {
  bwrapArgs(view: object, command: string, args: readonly string[]): string[];
  NODE_INSIDE: string;
  RUNTIME_ROOT: string;
  TASK_ROOT: string;
  buildSystemView(supportDir: string): { system: readonly Mount[]; symlinks: readonly { target: string; path: string }[] };
  nodeRuntimeMounts(supportDir: string, environmentsDir: string, nodeBinary: string, runtimeRoot: string, nodeInside: string): Mount[];
  /** The seccomp program of every sandbox (seccomp.ts), in builds that have one. */
  userNamespaceFilter?: () => Buffer;
}

/** Lambda's default /tmp, as Laminar gives a sandbox without EphemeralStorage. */
const TMP_BYTES = 512 * 1024 * 1024;

export interface SandboxedCommand {
  file: string;
  args: string[];
  /** A descriptor for the child's seccomp program: pass it as the stdio entry at `seccompFdIndex`, then close it. */
  seccompFd?: number;
  /** Where the code folder appears inside (LAMBDA_TASK_ROOT). */
  taskRoot: string;
}

export function findExecutable(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter).concat(['/usr/bin', '/bin', '/usr/sbin', '/sbin'])) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not here
    }
  }
  return undefined;
}

export class SandboxLauncher {
  private constructor(
    private readonly bwrap: string,
    private readonly modules: SandboxModules,
    private readonly system: ReturnType<SandboxModules['buildSystemView']>,
    private readonly nodeMounts: Mount[],
    private readonly identity: { kind: 'setpriv'; setpriv: string } | { kind: 'userns' },
    private readonly seccompFile: string | undefined,
  ) {}

  /** Built once per process, as Laminar builds its system view once at start; `supportDir` holds its stand-in files. */
  static async open(laminarDist: string, supportDir: string): Promise<SandboxLauncher> {
    const load = (file: string) => import(pathToFileURL(join(laminarDist, 'environments', 'sandbox', file)).href) as Promise<Partial<SandboxModules>>;
    const seccomp = await load('seccomp.js').catch(() => ({}));
    const modules = { ...(await load('bwrap-args.js')), ...(await load('system-view.js')), ...seccomp } as SandboxModules;
    const bwrap = findExecutable('bwrap');
    if (bwrap === undefined) throw new Error('bubblewrap (bwrap) is not installed');
    let identity: SandboxLauncher['identity'] = { kind: 'userns' };
    if (process.getuid?.() === 0) {
      const setpriv = findExecutable('setpriv');
      if (setpriv === undefined) throw new Error('running as root without setpriv');
      identity = { kind: 'setpriv', setpriv };
    }
    const system = modules.buildSystemView(supportDir);
    const nodeMounts = modules.nodeRuntimeMounts(supportDir, join(laminarDist, 'environments'), realpathSync(process.execPath), modules.RUNTIME_ROOT, modules.NODE_INSIDE);
    let seccompFile: string | undefined;
    if (modules.userNamespaceFilter !== undefined) {
      const file = join(supportDir, 'seccomp.bpf');
      writeFileSync(file, modules.userNamespaceFilter());
      // As Laminar does: where this kernel refuses the filter, sandboxes run without it.
      const fd = openSync(file, 'r');
      try {
        const view = { ...system, codeDir: '/usr', runtime: [], tmpBytes: 1024 * 1024, identity, hostname: 'localhost', seccompFd: 3 };
        execFileSync(bwrap, modules.bwrapArgs(view, '/bin/sh', ['-c', 'exit 0']), { timeout: 10_000, env: {}, stdio: ['ignore', 'ignore', 'ignore', fd] });
        seccompFile = file;
      } catch {
        // no seccomp filters here
      } finally {
        closeSync(fd);
      }
    }
    return new SandboxLauncher(bwrap, modules, system, nodeMounts, identity, seccompFile);
  }

  get taskRoot(): string {
    return this.modules.TASK_ROOT;
  }

  get nodeInside(): string {
    return this.modules.NODE_INSIDE;
  }

  /**
   * The command that runs `command args` (paths as seen inside) in a sandbox showing `codeDir`
   * at /var/task, with Laminar's Node.js mounts when `node`. `seccompFdIndex` is the stdio index
   * the caller will put the returned `seccompFd` at.
   */
  command(codeDir: string, command: string, args: readonly string[], options: { node: boolean; seccompFdIndex: number }): SandboxedCommand {
    // A descriptor per sandbox, as Laminar opens one: bubblewrap reads the program from its offset.
    const seccompFd = this.seccompFile === undefined ? undefined : openSync(this.seccompFile, 'r');
    const view = {
      ...this.system,
      ...(seccompFd === undefined ? {} : { seccompFd: options.seccompFdIndex }),
      codeDir,
      runtime: options.node ? this.nodeMounts : [],
      tmpBytes: TMP_BYTES,
      identity: this.identity,
      hostname: 'localhost',
    };
    return { file: this.bwrap, args: this.modules.bwrapArgs(view, command, args), taskRoot: this.modules.TASK_ROOT, ...(seccompFd === undefined ? {} : { seccompFd }) };
  }
}
