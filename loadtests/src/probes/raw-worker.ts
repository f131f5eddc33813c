/**
 * The cold-start floor, in its own process like the server: on each request from the parent
 * (IPC), start a plain `new Worker`, import the same handler module, run it once, and report
 * how long each step took. No pool, no runtime bootstrap, no HTTP: what a cold start costs at
 * the very least on this machine.
 */
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

export interface RawColdStart {
  /** new Worker → the module is imported and the thread says ready. */
  readyMs: number;
  /** new Worker → the first invocation's result is back. */
  firstCallMs: number;
  /** What the thread added to this process's resident memory by its first result. */
  rssMb: number;
}

export interface RawRequest {
  moduleUrl: string;
}

const THREAD = fileURLToPath(new URL('./raw-worker-thread.js', import.meta.url));

function measure(moduleUrl: string): Promise<RawColdStart> {
  return new Promise((resolve, reject) => {
    const rssBefore = process.memoryUsage.rss();
    const t0 = performance.now();
    let readyMs = 0;
    const worker = new Worker(THREAD, { workerData: { moduleUrl } });
    worker.on('message', (m: { type: string; error?: string }) => {
      if (m.type === 'ready') {
        readyMs = performance.now() - t0;
        worker.postMessage('{}');
      } else if (m.type === 'result') {
        const firstCallMs = performance.now() - t0;
        const rssMb = (process.memoryUsage.rss() - rssBefore) / (1024 * 1024);
        void worker.terminate().then(() => resolve({ readyMs, firstCallMs, rssMb }));
      } else {
        void worker.terminate();
        reject(new Error(m.error ?? 'raw worker failed'));
      }
    });
    worker.once('error', reject);
  });
}

process.on('message', (req: RawRequest) => {
  measure(req.moduleUrl).then(
    (result) => process.send?.({ ok: true, result }),
    (err: unknown) => process.send?.({ ok: false, error: String(err) }),
  );
});
process.send?.({ ready: true });
