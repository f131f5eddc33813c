/**
 * Floor of a thread environment as Laminar builds one: Fastify plus one piscina pool of one
 * thread per request in flight (Laminar gives each environment a pool of its own), set up as
 * Laminar sets up an environment's pool. Against `workers`, it is what piscina costs.
 */
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { serveFloor } from './floor-app.js';
import { ENVIRONMENT_POOL_OPTIONS, eventOf, PerRequestPool } from './per-request.js';

const TASK = fileURLToPath(new URL('./trivial-task.js', import.meta.url));

const pool = new PerRequestPool(async () => {
  const p = new Piscina<string, string>({ filename: TASK, ...ENVIRONMENT_POOL_OPTIONS });
  p.on('error', (err: unknown) => process.stderr.write(`piscina-each floor: ${String(err)}\n`));
  return { call: (event: string) => p.run(event) };
});
await serveFloor('piscina-each', (body) => pool.run(eventOf(body)), (n) => pool.ensure(n));
