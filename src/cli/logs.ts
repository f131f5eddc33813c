import { closeSync, existsSync, openSync, readSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Prints a function's stored logs (oldest stream first); with `follow`, keeps printing new lines. */
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
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.log'))
      .map((f) => ({ f, t: statSync(join(dir, f)).mtimeMs }))
      .sort((a, b) => a.t - b.t || a.f.localeCompare(b.f));
    for (const { f } of files) {
      const path = join(dir, f);
      const size = statSync(path).size;
      const from = offsets.get(f) ?? 0;
      if (size <= from) continue;
      const fd = openSync(path, 'r');
      try {
        const buf = Buffer.alloc(size - from);
        readSync(fd, buf, 0, buf.length, from);
        write(buf.toString('utf8'));
      } finally {
        closeSync(fd);
      }
      offsets.set(f, size);
    }
  };
  if (!o.follow && !existsSync(dir)) throw new Error(`No logs for function ${name} under ${logsRoot}`);
  drain();
  while (o.follow && !o.signal?.aborted) {
    await new Promise((r) => setTimeout(r, o.pollMs ?? 250));
    drain();
  }
}
