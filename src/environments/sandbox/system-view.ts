/**
 * The part of a sandbox's view that is the same for every environment: the host's read-only
 * system folders a runtime needs, a minimal /etc, and Laminar's files that stand in for Lambda's
 * own (/etc/passwd naming the sandbox user, /var/runtime's package scope). Read once at start.
 */
import { chmodSync, existsSync, lstatSync, mkdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SANDBOX_GID, SANDBOX_UID, type Mount, type SandboxView } from './bwrap-args.js';

/** System folders, bound read-only when present (on a merged-/usr system most are links). */
const SYSTEM_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

/**
 * The few files of /etc a runtime reads: name resolution, TLS roots, the dynamic linker's cache,
 * Debian's alternatives (`/usr/bin/awk` → `/etc/alternatives/awk`). Nothing that names the host's
 * users, services or secrets.
 */
const ETC_ENTRIES = [
  '/etc/resolv.conf',
  '/etc/hosts',
  '/etc/nsswitch.conf',
  '/etc/host.conf',
  '/etc/gai.conf',
  '/etc/ssl',
  '/etc/ca-certificates',
  '/etc/pki',
  '/etc/ld.so.cache',
  '/etc/ld.so.conf',
  '/etc/ld.so.conf.d',
  '/etc/alternatives',
  '/etc/localtime',
  '/etc/mime.types',
];

export type SystemView = Pick<SandboxView, 'system' | 'symlinks'>;

/**
 * Reads the host's layout and writes Laminar's stand-in files into `supportDir` (created 0755 so
 * the sandbox user can read what is bound from it; it holds nothing secret).
 */
export function buildSystemView(supportDir: string): SystemView {
  const system: Mount[] = [];
  const symlinks: { target: string; path: string }[] = [];
  for (const dir of SYSTEM_DIRS) {
    let stat;
    try {
      stat = lstatSync(dir);
    } catch {
      continue;
    }
    if (stat.isSymbolicLink()) symlinks.push({ target: readlinkSync(dir), path: dir });
    else if (stat.isDirectory()) system.push({ host: dir, inside: dir });
  }
  for (const entry of ETC_ENTRIES) if (existsSync(entry)) system.push({ host: entry, inside: entry });

  makeReadableDir(dirname(supportDir));
  makeReadableDir(supportDir);
  const passwd = join(supportDir, 'passwd');
  const group = join(supportDir, 'group');
  writeReadable(passwd, `root:x:0:0:root:/root:/sbin/nologin\nsbx_user1051:x:${SANDBOX_UID}:${SANDBOX_GID}::/tmp:/sbin/nologin\n`);
  writeReadable(group, `root:x:0:\nsbx_group:x:${SANDBOX_GID}:\n`);
  system.push({ host: passwd, inside: '/etc/passwd' }, { host: group, inside: '/etc/group' });
  return { system, symlinks };
}

/**
 * The Node.js runtime's files at /var/runtime: the compiled `environments` folder of Laminar
 * (it imports nothing else) and a package.json that makes its `.js` files ES modules, as the
 * package's own does outside.
 */
export function nodeRuntimeMounts(supportDir: string, environmentsDir: string, nodeBinary: string, runtimeRoot: string, nodeInside: string): Mount[] {
  const pkg = join(supportDir, 'runtime-package.json');
  writeReadable(pkg, '{"type":"module"}\n');
  return [
    { host: environmentsDir, inside: join(runtimeRoot, 'environments') },
    { host: pkg, inside: join(runtimeRoot, 'package.json') },
    { host: nodeBinary, inside: nodeInside },
  ];
}

/** Readable by the sandbox user whatever the server's umask (which would mask a mode given to mkdir). */
export function makeReadableDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
}

function writeReadable(file: string, text: string): void {
  writeFileSync(file, text);
  chmodSync(file, 0o644);
}
