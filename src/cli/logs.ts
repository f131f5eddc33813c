import { closeSync, existsSync, openSync, readSync, readdirSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';

/** A stream's older part after rotation: `X.1.log` beside `X.log`. */
const ROTATED = /\.1\.log$/;

/**
 * Prints a function's stored logs (the stream written longest ago first, and within a stream its
 * rotated `.1.log` part before the current file); with `follow`, keeps printing new lines.
 *
 * What was printed is remembered per file identity (inode and birth time), not per name: when
 * the server rotates `X.log` to `X.1.log`, the renamed file keeps its place and the new `X.log`
 * is read from its start, so nothing is printed twice or skipped.
 */
export async function showLogs(
  logsRoot: string,
  name: string,
  o: { follow?: boolean; write?: (s: string) => void; signal?: AbortSignal; pollMs?: number },
): Promise<void> {
  const write = o.write ?? ((s: string) => process.stdout.write(s));
  const dir = join(logsRoot, name);
  const offsets = new Map<string, number>();
  const drain = () => {
    if (!existsSync(dir)) return;
    const files: { f: string; st: Stats; stream: string }[] = [];
    for (const f of readdirSync(dir)) {
      if (!f.endsWith('.log')) continue;
      try {
        files.push({ f, st: statSync(join(dir, f)), stream: f.replace(ROTATED, '.log') });
      } catch {
        // deleted by the server's retention meanwhile
      }
    }
    const lastWrite = new Map<string, number>();
    for (const { st, stream } of files) lastWrite.set(stream, Math.max(lastWrite.get(stream) ?? 0, st.mtimeMs));
    files.sort(
      (a, b) =>
        (lastWrite.get(a.stream) ?? 0) - (lastWrite.get(b.stream) ?? 0) ||
        a.stream.localeCompare(b.stream) ||
        Number(ROTATED.test(b.f)) - Number(ROTATED.test(a.f)),
    );
    const seen = new Set<string>();
    for (const { f, st } of files) {
      const id = `${st.ino}:${st.birthtimeMs}`;
      seen.add(id);
      let from = offsets.get(id) ?? 0;
      if (st.size < from) from = 0;
      if (st.size > from) write(readRange(join(dir, f), from, st.size));
      offsets.set(id, st.size);
    }
    for (const id of offsets.keys()) if (!seen.has(id)) offsets.delete(id);
  };
  if (!o.follow && !existsSync(dir)) throw new Error(`No logs for function ${name} under ${logsRoot}`);
  drain();
  while (o.follow && !o.signal?.aborted) {
    await new Promise((r) => setTimeout(r, o.pollMs ?? 250));
    drain();
  }
}

function readRange(path: string, from: number, to: number): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return '';
  }
  try {
    const buf = Buffer.alloc(to - from);
    const n = readSync(fd, buf, 0, buf.length, from);
    return buf.toString('utf8', 0, n);
  } finally {
    closeSync(fd);
  }
}
