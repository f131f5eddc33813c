import { createServer, type Server } from 'node:http';

/** Counts how many handlers are inside their critical section at once, as they report it. */
export interface Probe {
  url: string;
  current: number;
  peak: number;
  entered: number;
  /** How many times each id was reported to `/seen?id=…` (events handled, duplicates included). */
  seen: ReadonlyMap<string, number>;
  /** JSON bodies POSTed to `/record`, in arrival order (what a function was given, as it reported it). */
  records: unknown[];
  /** Handlers that called `/hold` wait until this is called. */
  release(): void;
  reset(): void;
  close(): Promise<void>;
}

export async function startProbe(): Promise<Probe> {
  const state = { current: 0, peak: 0, entered: 0 };
  const seen = new Map<string, number>();
  const records: unknown[] = [];
  let held: (() => void)[] = [];
  let released = false;
  const server: Server = createServer((req, res) => {
    if (req.url === '/record') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        records.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        res.end('ok');
      });
      return;
    }
    if (req.url === '/hold') {
      if (released) res.end('ok');
      else held.push(() => res.end('ok'));
      return;
    }
    if (req.url?.startsWith('/seen?')) {
      const id = new URL(req.url, 'http://probe').searchParams.get('id') ?? '';
      seen.set(id, (seen.get(id) ?? 0) + 1);
    } else if (req.url === '/enter') {
      state.current++;
      state.entered++;
      state.peak = Math.max(state.peak, state.current);
    } else if (req.url === '/leave') {
      state.current--;
    }
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    get current() {
      return state.current;
    },
    get peak() {
      return state.peak;
    },
    get entered() {
      return state.entered;
    },
    seen,
    records,
    release() {
      released = true;
      for (const h of held) h();
      held = [];
    },
    reset() {
      released = false;
      state.current = 0;
      state.peak = 0;
      state.entered = 0;
      seen.clear();
      records.length = 0;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
