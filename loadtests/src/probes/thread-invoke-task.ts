/** The piscina task of probes/thread-invoke-cpu: the handler called on the event, nothing else. */
import { workerData } from 'node:worker_threads';

type Handler = (event: unknown, context: object) => unknown;
const { handlerUrl } = workerData as { handlerUrl: string };
const { handler } = (await import(handlerUrl)) as { handler: Handler };

export default async function run(payload: string): Promise<string> {
  return JSON.stringify(await handler(JSON.parse(payload), {}));
}
