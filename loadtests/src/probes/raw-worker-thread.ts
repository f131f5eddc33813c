/** Inside the raw worker: import the handler, say ready, run one invocation per message. */
import { parentPort, workerData } from 'node:worker_threads';

type Handler = (event: unknown, context: unknown) => unknown;

const { moduleUrl } = workerData as { moduleUrl: string };
try {
  const mod = (await import(moduleUrl)) as { handler: Handler };
  parentPort?.postMessage({ type: 'ready' });
  parentPort?.on('message', async (payload: string) => {
    const result = await mod.handler(JSON.parse(payload), {});
    parentPort?.postMessage({ type: 'result', body: JSON.stringify(result) });
  });
} catch (err) {
  parentPort?.postMessage({ type: 'error', error: String(err) });
}
