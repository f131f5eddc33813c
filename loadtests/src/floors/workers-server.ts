/**
 * Floor of a thread environment with Lambda's semantics: Fastify plus one bare `Worker` per
 * request in flight, each running the trivial task on a message and answering with a message.
 * No pool library, no timing, no logs: the physical ceiling of threads on this machine.
 */
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { serveFloor } from './floor-app.js';
import { eventOf, PerRequestPool, type Backend } from './per-request.js';

const TASK = fileURLToPath(new URL('./worker-task.js', import.meta.url));

class WorkerBackend implements Backend {
  private pending: ((reply: string) => void) | undefined;

  constructor(private readonly worker: Worker) {
    worker.on('message', (reply: string) => {
      const resolve = this.pending;
      this.pending = undefined;
      resolve?.(reply);
    });
  }

  static async start(): Promise<WorkerBackend> {
    const worker = new Worker(TASK);
    await once(worker, 'online');
    return new WorkerBackend(worker);
  }

  call(event: string): Promise<string> {
    return new Promise((resolve) => {
      this.pending = resolve;
      this.worker.postMessage(event);
    });
  }
}

const pool = new PerRequestPool(() => WorkerBackend.start());
await serveFloor('workers', (body) => pool.run(eventOf(body)), (n) => pool.ensure(n));
