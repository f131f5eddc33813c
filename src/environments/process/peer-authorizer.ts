/**
 * Who is on the other end of a loopback connection (Linux). Every environment has its own
 * Runtime API port, but any local process can connect to any loopback port, so a port alone
 * does not keep one environment from fetching or answering another's invocations. The kernel
 * knows which process holds the client socket: its inode is in /proc/net/tcp (keyed by the
 * connection's addresses and ports) and the owning process has an fd linking to
 * `socket:[inode]` under /proc/<pid>/fd.
 *
 * Cost, per new connection (keep-alive makes that about once per environment):
 * - reading /proc/net/tcp (and /proc/net/tcp6 if needed) up to the matching row: the kernel
 *   generates the table as it is read, about 150 bytes per TCP socket in this network
 *   namespace, TIME_WAIT ones included. Usually the largest part: ~1 ms with a few hundred
 *   rows, ~10 ms with 1,200 on a loaded 2-core test machine;
 * - with `candidatePids` (see `processTree`): one readdir plus one readlink per open fd of those
 *   processes only, typically a few dozen calls, about 1 ms;
 * - without: the same for every process on the host, eight processes at a time, until the
 *   holder is found (newest pids first); searching all of ~85 processes took ~12 ms.
 * All reads are asynchronous, so other environments keep being served meanwhile.
 *
 * Reading another process's fds needs the same uid or CAP_SYS_PTRACE; an fd table that cannot
 * be read counts as "not the holder", so a lookup that cannot prove the peer is allowed refuses.
 */
import { readFileSync } from 'node:fs';
import { open, readdir, readFile, readlink } from 'node:fs/promises';
import { isIPv4, isIPv6, type Socket } from 'node:net';

export interface PeerPidAuthorizerOptions {
  /**
   * The pids to search for the socket. When given, only these are searched and a peer held by
   * any other process is refused, so the list must include every process that may connect.
   * When absent, every process under /proc is searched.
   */
  candidatePids?: () => Iterable<number> | Promise<Iterable<number>>;
  /** Where procfs is mounted (tests). Default `/proc`. */
  procRoot?: string;
}

/**
 * An `authorize` option for RuntimeApiServer: allows a connection when the process holding its
 * client end passes `isAllowedPid`.
 */
export function peerPidAuthorizer(
  isAllowedPid: (pid: number) => boolean,
  options: PeerPidAuthorizerOptions = {},
): (socket: Socket) => Promise<boolean> {
  const proc = options.procRoot ?? '/proc';
  return async (socket) => {
    const pid = await findPeerPid(socket, { ...options, procRoot: proc });
    return pid !== undefined && isAllowedPid(pid);
  };
}

const SEARCH_BATCH = 8;

/** The pid of the process holding the other end of a loopback TCP connection, if found. */
export async function findPeerPid(socket: Socket, options: PeerPidAuthorizerOptions = {}): Promise<number | undefined> {
  const proc = options.procRoot ?? '/proc';
  const inode = await peerSocketInode(socket, proc);
  if (inode === undefined) return undefined;
  const target = `socket:[${inode}]`;
  const pids = options.candidatePids ? [...(await options.candidatePids())] : await allPids(proc);
  // A few processes at a time: the reads go through libuv's thread pool, so some overlap
  // shortens a long search without crowding out the file I/O of running invocations.
  for (let i = 0; i < pids.length; i += SEARCH_BATCH) {
    const batch = pids.slice(i, i + SEARCH_BATCH);
    const held = await Promise.all(batch.map((pid) => holdsLink(proc, pid, target)));
    const at = held.indexOf(true);
    if (at !== -1) return batch[at];
  }
  return undefined;
}

/**
 * The inode of the peer's socket: the /proc/net/tcp row whose local end is our remote end and
 * whose remote end is our local end.
 */
export async function peerSocketInode(socket: Socket, proc = '/proc'): Promise<string | undefined> {
  return (await peerSocket(socket, proc))?.inode;
}

/** The peer's socket as the kernel lists it: its inode and the user that owns it. */
export async function peerSocket(socket: Socket, proc = '/proc'): Promise<{ inode: string; uid: number } | undefined> {
  const { localAddress, localPort, remoteAddress, remotePort } = socket;
  if (!localAddress || !remoteAddress || localPort === undefined || remotePort === undefined) return undefined;
  for (const table of ['net/tcp', 'net/tcp6']) {
    const v6 = table.endsWith('6');
    const local = procEndpoint(remoteAddress, remotePort, v6);
    const remote = procEndpoint(localAddress, localPort, v6);
    if (!local || !remote) continue;
    const row = await scanTable(`${proc}/${table}`, local, remote);
    if (row !== undefined) return row;
  }
  return undefined;
}

/**
 * Streams a /proc/net/tcp{,6} table and stops at the matching row. The kernel builds the text
 * as it is read (walking its socket hash tables), which is most of a lookup's cost, so stopping
 * early halves it on average.
 */
async function scanTable(path: string, local: string, remote: string): Promise<{ inode: string; uid: number } | undefined> {
  let file;
  try {
    file = await open(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const buf = Buffer.alloc(64 * 1024);
    let carry = '';
    for (;;) {
      const { bytesRead } = await file.read(buf, 0, buf.length, null);
      if (bytesRead === 0) return matchRow(carry, local, remote);
      const text = carry + buf.toString('latin1', 0, bytesRead);
      const cut = text.lastIndexOf('\n');
      const found = matchRow(text.slice(0, cut + 1), local, remote);
      if (found !== undefined) return found;
      carry = text.slice(cut + 1);
    }
  } finally {
    await file.close();
  }
}

function matchRow(lines: string, local: string, remote: string): { inode: string; uid: number } | undefined {
  // Cheap substring test first; most rows are other connections.
  let at = lines.indexOf(` ${local} ${remote} `);
  while (at !== -1) {
    const start = lines.lastIndexOf('\n', at) + 1;
    const end = lines.indexOf('\n', at);
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...
    const f = lines.slice(start, end === -1 ? undefined : end).trim().split(/\s+/);
    // Rows with inode 0 (TIME_WAIT) hold no socket.
    if (f[1] === local && f[2] === remote && f[9] !== undefined && f[9] !== '0') return { inode: f[9], uid: Number(f[7]) };
    at = lines.indexOf(` ${local} ${remote} `, at + 1);
  }
  return undefined;
}

/** `ADDR:PORT` as /proc/net/tcp{,6} prints it (address words in host byte order), or undefined. */
export function procEndpoint(address: string, port: number, v6: boolean): string | undefined {
  let bytes: number[] | undefined;
  if (isIPv4(address)) {
    const v4 = address.split('.').map(Number);
    bytes = v6 ? [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...v4] : v4;
  } else if (isIPv6(address)) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped && !v6) return procEndpoint(mapped[1] ?? '', port, false);
    if (!v6) return undefined;
    bytes = ipv6Bytes(address);
  }
  if (!bytes) return undefined;
  // The kernel prints each 32-bit word of the address as a native (little-endian) integer.
  let hex = '';
  for (let i = 0; i < bytes.length; i += 4) {
    for (let j = 3; j >= 0; j--) hex += (bytes[i + j] ?? 0).toString(16).padStart(2, '0');
  }
  return `${hex.toUpperCase()}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
}

function ipv6Bytes(address: string): number[] | undefined {
  let text = address.split('%')[0] ?? '';
  let tail: number[] = [];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    tail = (dotted[1] ?? '').split('.').map(Number);
    text = `${text.slice(0, dotted.index)}0:0`;
  }
  const [head = '', rest] = text.split('::');
  const words = (s: string): number[] => (s === '' ? [] : s.split(':').map((w) => parseInt(w, 16)));
  const h = words(head);
  const t = rest === undefined ? [] : words(rest);
  const groups = [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  if (groups.length !== 8 || groups.some((g) => !(g >= 0 && g <= 0xffff))) return undefined;
  const bytes = groups.flatMap((g) => [g >> 8, g & 0xff]);
  if (tail.length === 4) bytes.splice(12, 4, ...tail);
  return bytes;
}

async function allPids(proc: string): Promise<number[]> {
  const names = await readdir(proc);
  // Newest processes first: a runtime that just connected was usually started recently.
  return names
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .sort((a, b) => b - a);
}

async function holdsLink(proc: string, pid: number, target: string): Promise<boolean> {
  let fds: string[];
  try {
    fds = await readdir(`${proc}/${pid}/fd`);
  } catch {
    return false; // gone, or not ours to read
  }
  const links = await Promise.all(fds.map((fd) => readlink(`${proc}/${pid}/fd/${fd}`).catch(() => '')));
  return links.includes(target);
}

/**
 * The processes of one runtime: `rootPid` and its descendants (a `bootstrap` shell and the
 * curl it starts, for instance). `candidatePids` lists them from the kernel's per-thread
 * `children` files, so a lookup only searches this tree; `isAllowedPid` walks parent links.
 */
export function processTree(rootPid: number, proc = '/proc'): {
  isAllowedPid: (pid: number) => boolean;
  candidatePids: () => Promise<number[]>;
} {
  return {
    isAllowedPid: (pid) => isDescendant(pid, rootPid, proc),
    candidatePids: () => descendants(rootPid, proc),
  };
}

function parentPid(pid: number, proc: string): number | undefined {
  try {
    const stat = readFileSync(`${proc}/${pid}/stat`, 'latin1');
    // `pid (comm) state ppid …`; comm may itself contain spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(fields[1]);
    return Number.isInteger(ppid) ? ppid : undefined;
  } catch {
    return undefined;
  }
}

function isDescendant(pid: number, rootPid: number, proc: string): boolean {
  let p: number | undefined = pid;
  for (let depth = 0; depth < 64 && p !== undefined && p > 0; depth++) {
    if (p === rootPid) return true;
    p = parentPid(p, proc);
  }
  return false;
}

async function descendants(rootPid: number, proc: string): Promise<number[]> {
  const out: number[] = [];
  let level = [rootPid];
  while (level.length > 0 && out.length < 4096) {
    out.push(...level);
    const found = await Promise.all(level.map((pid) => childrenOf(pid, proc)));
    if (found[0] === undefined && level[0] === rootPid && out.length === 1) {
      // Kernels without CONFIG_PROC_CHILDREN: search everything; isAllowedPid still decides.
      return allPids(proc);
    }
    level = found.flatMap((c) => c ?? []);
  }
  return out;
}

/** Children of every thread of `pid`; undefined when the kernel has no `children` files. */
async function childrenOf(pid: number, proc: string): Promise<number[] | undefined> {
  let tids: string[];
  try {
    tids = await readdir(`${proc}/${pid}/task`);
  } catch {
    return [];
  }
  const texts = await Promise.all(
    tids.map((tid) =>
      readFile(`${proc}/${pid}/task/${tid}/children`, 'latin1').catch((error: NodeJS.ErrnoException) =>
        error.code === 'ENOENT' && tid === String(pid) ? undefined : '',
      ),
    ),
  );
  if (texts.some((t) => t === undefined)) return undefined;
  return texts.flatMap((t) => (t ?? '').split(' ').filter((c) => c.trim() !== '').map(Number));
}
