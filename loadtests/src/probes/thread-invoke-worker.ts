/** The bare Worker of probes/thread-invoke-cpu: one message in, the handler run, one message out. */
import { parentPort, workerData } from 'node:worker_threads';

type Handler = (event: unknown, context: object) => unknown;
const { handlerUrl } = workerData as { handlerUrl: string };
const { handler } = (await import(handlerUrl)) as { handler: Handler };
parentPort?.on('message', (payload: string) => {
  void Promise.resolve(handler(JSON.parse(payload), {})).then((result) => parentPort?.postMessage(JSON.stringify(result)));
});
parentPort?.postMessage('ready');
