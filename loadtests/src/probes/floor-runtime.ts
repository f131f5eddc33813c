/**
 * The least a Node.js runtime on the Lambda Runtime API does for one invocation: import the
 * handler, GET the next invocation, run it, POST the response. probes/raw-process copies this
 * file next to the function's handler (the folder a sandbox shows at /var/task) and starts it
 * with plain `node`. It imports nothing but node:http, so the floor loads no module that a
 * runtime could do without.
 */
import { request } from 'node:http';

type Handler = (event: unknown, context: unknown) => unknown;

const [host, port] = (process.env.AWS_LAMBDA_RUNTIME_API ?? '').split(':');
const base = '/2018-06-01/runtime/invocation';

function call(method: 'GET' | 'POST', path: string, body?: string): Promise<{ headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port: Number(port), method, path }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

// A variable, not a literal: the handler is the function's file beside this one at run time.
const handlerUrl = new URL('./index.mjs', import.meta.url).href;
const { handler } = (await import(handlerUrl)) as { handler: Handler };
const next = await call('GET', `${base}/next`);
const requestId = String(next.headers['lambda-runtime-aws-request-id']);
const result = await handler(JSON.parse(next.body), { awsRequestId: requestId });
await call('POST', `${base}/${requestId}/response`, JSON.stringify(result));
