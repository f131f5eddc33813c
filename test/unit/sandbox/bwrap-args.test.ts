import { describe, expect, it } from 'vitest';
import { bwrapArgs, parentsOf, SANDBOX_GID, SANDBOX_UID, type SandboxView } from '../../../src/environments/sandbox/bwrap-args.js';

const VIEW: SandboxView = {
  system: [
    { host: '/usr', inside: '/usr' },
    { host: '/etc/ssl', inside: '/etc/ssl' },
    { host: '/data/sandbox/support/passwd', inside: '/etc/passwd' },
  ],
  symlinks: [{ target: 'usr/bin', path: '/bin' }],
  codeDir: '/data/code/abc',
  optDir: '/data/sandbox/opt/123',
  runtime: [{ host: '/usr/local/bin/node', inside: '/var/lang/bin/node' }],
  tmpBytes: 512 * 1024 * 1024,
  identity: { kind: 'setpriv', setpriv: '/usr/bin/setpriv' },
  hostname: 'localhost',
};

/** The value that follows `flag` for each occurrence, as pairs. */
function pairs(args: string[], flag: string, arity = 2): string[][] {
  const out: string[][] = [];
  args.forEach((a, i) => {
    if (a === flag) out.push(args.slice(i + 1, i + 1 + arity));
  });
  return out;
}

describe('bwrapArgs', () => {
  const args = bwrapArgs(VIEW, '/var/task/bootstrap', ['--flag']);

  it('unshares every namespace but the network, dies with the server, and has no terminal', () => {
    for (const flag of ['--unshare-pid', '--unshare-ipc', '--unshare-uts', '--die-with-parent', '--new-session']) expect(args).toContain(flag);
    expect(args).not.toContain('--unshare-net');
    expect(args).not.toContain('--share-net');
  });

  it('binds only what the view lists, all read-only, code at /var/task and layers at /opt', () => {
    expect(pairs(args, '--bind')).toEqual([]);
    expect(pairs(args, '--ro-bind')).toEqual([
      ['/usr', '/usr'],
      ['/etc/ssl', '/etc/ssl'],
      ['/data/sandbox/support/passwd', '/etc/passwd'],
      ['/data/code/abc', '/var/task'],
      ['/data/sandbox/opt/123', '/opt'],
      ['/usr/local/bin/node', '/var/lang/bin/node'],
    ]);
    expect(pairs(args, '--proc', 1)).toEqual([['/proc']]);
    expect(pairs(args, '--dev', 1)).toEqual([['/dev']]);
  });

  it('gives a private /tmp of the ephemeral storage size, writable by the sandbox user', () => {
    const i = args.indexOf('--tmpfs');
    expect(args.slice(i - 4, i + 2)).toEqual(['--perms', '1777', '--size', String(512 * 1024 * 1024), '--tmpfs', '/tmp']);
  });

  it('makes the parents of mount points crossable (bubblewrap would make them 0700)', () => {
    const dirs = pairs(args, '--dir', 1).map(([d]) => String(d));
    expect(dirs).toEqual(['/etc', '/var', '/var/lang', '/var/lang/bin']);
    for (const d of dirs) expect(args[args.indexOf(d as string) - 2]).toBe('0755');
  });

  it('drops to the sandbox user with no capabilities, as root, before the command', () => {
    const end = args.indexOf('--chdir');
    expect(args.slice(end, end + 3)).toEqual(['--chdir', '/var/task', '--']);
    expect(args.slice(end + 3)).toEqual([
      '/usr/bin/setpriv',
      `--reuid=${SANDBOX_UID}`,
      `--regid=${SANDBOX_GID}`,
      '--clear-groups',
      '--inh-caps=-all',
      '--bounding-set=-all',
      '--',
      '/var/task/bootstrap',
      '--flag',
    ]);
  });

  it('maps the sandbox user in a user namespace when the server is not root; no /opt without layers', () => {
    const { optDir: _none, ...noLayers } = VIEW;
    const userns = bwrapArgs({ ...noLayers, identity: { kind: 'userns' } }, 'node', []);
    expect(userns.slice(userns.indexOf('--unshare-user'), userns.indexOf('--unshare-user') + 5)).toEqual([
      '--unshare-user',
      '--uid',
      String(SANDBOX_UID),
      '--gid',
      String(SANDBOX_GID),
    ]);
    expect(userns).not.toContain('/usr/bin/setpriv');
    expect(userns).not.toContain('/opt');
    expect(userns.slice(-2)).toEqual(['--', 'node']);
  });
});

describe('parentsOf', () => {
  it('lists each proper ancestor once, shallow first, never /', () => {
    expect(parentsOf(['/var/task', '/var/lang/bin/node', '/opt', '/etc/ssl'])).toEqual(['/etc', '/var', '/var/lang', '/var/lang/bin']);
    expect(parentsOf(['/usr'])).toEqual([]);
  });
});
