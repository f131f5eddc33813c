/**
 * The shape every floor of a kind shares with Laminar: one backend (a thread, a process, a
 * runtime) per request in flight, never two requests on one backend at once, as Lambda runs one
 * invocation per execution environment. A request takes the most recently used idle backend (as
 * Laminar's placement does) or starts a new one; after warm-up there are as many backends as
 * connections and none is started while measuring.
 */
/**
 * A piscina pool as Laminar configures a thread environment's: one thread that never idles out,
 * one task at a time and no queue, the thread woken through Atomics, no timing histogram.
 */
export const ENVIRONMENT_POOL_OPTIONS = {
  minThreads: 1,
  maxThreads: 1,
  concurrentTasksPerWorker: 1,
  maxQueue: 0,
  idleTimeout: Number.POSITIVE_INFINITY,
  atomics: 'sync',
  recordTiming: false,
} as const;

export interface Backend {
  call(event: string): Promise<string>;
}

export class PerRequestPool<B extends Backend> {
  private readonly idle: B[] = [];
  readonly all: B[] = [];

  constructor(private readonly create: () => Promise<B>) {}

  /**
   * Starts backends until there are `n`, a few at a time (as Laminar's prewarm bursts start its
   * environments), so that none is started while the floor is measured.
   */
  async ensure(n: number): Promise<void> {
    while (this.all.length < n) {
      const batch = Array.from({ length: Math.min(4, n - this.all.length) }, () => this.create());
      for (const backend of await Promise.all(batch)) {
        this.all.push(backend);
        this.idle.push(backend);
      }
    }
  }

  async run(event: string): Promise<string> {
    let backend = this.idle.pop();
    if (backend === undefined) {
      backend = await this.create();
      this.all.push(backend);
    }
    try {
      return await backend.call(event);
    } finally {
      this.idle.push(backend);
    }
  }
}

/** The event of a request: `{}` for an empty body, as Laminar's invoke route. */
export function eventOf(body: Buffer | undefined): string {
  return body && body.length > 0 ? body.toString('utf8') : '{}';
}

/** Length-prefixed frames on a byte stream (4-byte big-endian length, then the UTF-8 text). */
export function encodeFrame(text: string): Buffer {
  const body = Buffer.from(text, 'utf8');
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32BE(body.length, 0);
  return Buffer.concat([head, body]);
}

/** Reassembles frames from chunks; calls `onFrame` with each complete one, in order. */
export class FrameSplitter {
  private buffered: Buffer = Buffer.alloc(0);

  constructor(private readonly onFrame: (text: string) => void) {}

  push(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    while (this.buffered.length >= 4) {
      const length = this.buffered.readUInt32BE(0);
      if (this.buffered.length < 4 + length) return;
      const text = this.buffered.toString('utf8', 4, 4 + length);
      this.buffered = this.buffered.subarray(4 + length);
      this.onFrame(text);
    }
  }
}
