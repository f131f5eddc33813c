/**
 * What every floor server shares with Laminar's invoke route: Fastify 5, the same path, raw-buffer
 * bodies, no request logging, loopback, port 0. Only the work behind the route differs, so the
 * gap between a floor and Laminar is Laminar's own cost.
 */
import Fastify from 'fastify';

/** The path that starts a floor's backends before it is measured: `POST /floor/prewarm?n=100`. */
export const PREWARM_PATH = '/floor/prewarm';

export async function serveFloor(
  name: string,
  respond: (body: Buffer | undefined) => Promise<string> | string,
  /** Starts backends until there are `n` (floors with one backend per request in flight). */
  prewarm?: (n: number) => Promise<void>,
): Promise<void> {
  const app = Fastify({ logger: false });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.post('/2015-03-31/functions/:FunctionName/invocations', async (req, reply) => {
    const out = await respond(req.body as Buffer | undefined);
    return reply.code(200).header('content-type', 'application/json').send(out);
  });
  app.post(PREWARM_PATH, async (req, reply) => {
    const n = Number((req.query as { n?: string }).n ?? '0');
    if (prewarm && Number.isInteger(n) && n > 0) await prewarm(n);
    return reply.code(204).send();
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  process.stdout.write(`${name} floor listening on ${url}\n`);
  const stop = () => void app.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
