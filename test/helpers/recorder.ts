import { createServer, type Server } from 'node:http';

/** One event the `recorder` fixture posted: the function tells itself apart by the path of its RECORDER_URL. */
export interface Recorded {
  /** The path of the function's RECORDER_URL, without the leading slash (the tests use the function's name). */
  path: string;
  event: unknown;
  /** Wall-clock time the recorder got it. */
  receivedAt: number;
}

/** Collects what the `recorder` fixture posts; `count(n)` resolves once `n` have arrived. */
export interface Recorder {
  /** Base URL; give a function `RECORDER_URL = url + name`. */
  url: string;
  readonly received: readonly Recorded[];
  /** Resolves with the first `n` records once there are that many. */
  count(n: number): Promise<Recorded[]>;
  close(): Promise<void>;
}

export async function startRecorder(): Promise<Recorder> {
  const received: Recorded[] = [];
  let waiters: { n: number; resolve: (r: Recorded[]) => void }[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '/').slice(1);
      received.push({ path, event: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown, receivedAt: Date.now() });
      res.end('ok');
      const ready = waiters.filter((w) => received.length >= w.n);
      waiters = waiters.filter((w) => received.length < w.n);
      for (const w of ready) w.resolve(received.slice(0, w.n));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/`,
    received,
    count(n) {
      if (received.length >= n) return Promise.resolve(received.slice(0, n));
      return new Promise((resolve) => waiters.push({ n, resolve }));
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
