/**
 * The bubblewrap command line of one sandboxed environment, as a pure function of what the
 * sandbox should show. The view is built from nothing: only what is listed here exists inside,
 * so a forgotten path is missing rather than exposed.
 */

/** Lambda's sandbox user: `sbx_user1051`, uid 993, gid 990. */
export const SANDBOX_UID = 993;
export const SANDBOX_GID = 990;

/** Where things stand inside, as in a Lambda sandbox. */
export const TASK_ROOT = '/var/task';
export const OPT_ROOT = '/opt';
export const RUNTIME_ROOT = '/var/runtime';
export const NODE_INSIDE = '/var/lang/bin/node';

export interface Mount {
  /** A host path (file or folder). */
  host: string;
  /** Where it appears inside. */
  inside: string;
}

export interface SandboxView {
  /** Read-only system folders a runtime needs (`/usr`, `/etc/ssl`, …), bound at the same place. */
  system: readonly Mount[];
  /** Symbolic links of a merged-/usr system (`/bin` → `usr/bin`). */
  symlinks: readonly { target: string; path: string }[];
  /** The function's code, read-only at /var/task. */
  codeDir: string;
  /** The function's layers merged into one folder, read-only at /opt; none without layers. */
  optDir?: string;
  /** Runtime files (the Node.js runtime, the node binary), read-only. */
  runtime: readonly Mount[];
  /** Size of the private /tmp (a tmpfs), in bytes. */
  tmpBytes: number;
  /**
   * How the sandbox becomes unprivileged: as root, bubblewrap builds the view and `setpriv`
   * drops to the sandbox user with no capabilities; otherwise a user namespace maps the
   * sandbox user onto the server's own user.
   */
  identity: { kind: 'setpriv'; setpriv: string } | { kind: 'userns' };
  hostname: string;
  /** The descriptor, in bubblewrap's process, of the seccomp program to run under (seccomp.ts). */
  seccompFd?: number;
}

/** Arguments for `bwrap`, ending with the command to run inside. */
export function bwrapArgs(view: SandboxView, command: string, args: readonly string[]): string[] {
  const out: string[] = [
    // Own mount, PID, IPC, UTS (and cgroup where possible) namespaces; the network stays shared,
    // as a Lambda function has outbound network by default.
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    '--unshare-cgroup-try',
    '--hostname',
    view.hostname,
    // The sandbox dies with the server, even when the server is SIGKILLed.
    '--die-with-parent',
    // No controlling terminal to push input into (TIOCSTI).
    '--new-session',
  ];
  if (view.seccompFd !== undefined) out.push('--seccomp', String(view.seccompFd));
  if (view.identity.kind === 'userns') out.push('--unshare-user', '--uid', String(SANDBOX_UID), '--gid', String(SANDBOX_GID));
  // bubblewrap makes missing parents of a mount point 0700, which the sandbox user could not
  // cross: each parent is made first, readable by all.
  const points = [...view.system.map((m) => m.inside), TASK_ROOT, ...(view.optDir !== undefined ? [OPT_ROOT] : []), ...view.runtime.map((m) => m.inside)];
  for (const dir of parentsOf(points)) out.push('--perms', '0755', '--dir', dir);
  for (const m of view.system) out.push('--ro-bind', m.host, m.inside);
  for (const l of view.symlinks) out.push('--symlink', l.target, l.path);
  out.push('--proc', '/proc', '--dev', '/dev');
  out.push('--perms', '1777', '--size', String(Math.max(1, Math.floor(view.tmpBytes))), '--tmpfs', '/tmp');
  out.push('--ro-bind', view.codeDir, TASK_ROOT);
  if (view.optDir !== undefined) out.push('--ro-bind', view.optDir, OPT_ROOT);
  for (const m of view.runtime) out.push('--ro-bind', m.host, m.inside);
  out.push('--chdir', TASK_ROOT, '--');
  if (view.identity.kind === 'setpriv') {
    out.push(
      view.identity.setpriv,
      `--reuid=${SANDBOX_UID}`,
      `--regid=${SANDBOX_GID}`,
      '--clear-groups',
      '--inh-caps=-all',
      '--bounding-set=-all',
      '--',
    );
  }
  out.push(command, ...args);
  return out;
}

/** Every proper ancestor of `paths` (except `/`), parents before children, once each. */
export function parentsOf(paths: readonly string[]): string[] {
  const out = new Set<string>();
  for (const path of paths) {
    const parts = path.split('/').filter((p) => p !== '');
    for (let i = 1; i < parts.length; i++) out.add(`/${parts.slice(0, i).join('/')}`);
  }
  return [...out].sort((a, b) => a.split('/').length - b.split('/').length || a.localeCompare(b));
}
