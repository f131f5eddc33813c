/**
 * Floor 2: bare Fastify plus a piscina dispatch to one warm thread running a trivial task, set up
 * the way Laminar sets up an environment's pool (one thread, sync atomics, no timing). The best a
 * thread-per-environment platform can do on this machine.
 */
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { serveFloor } from './floor-app.js';

const pool = new Piscina<string, string>({
  filename: fileURLToPath(new URL('./trivial-task.js', import.meta.url)),
  minThreads: 1,
  maxThreads: 1,
  idleTimeout: Number.POSITIVE_INFINITY,
  atomics: 'sync',
  recordTiming: false,
});
pool.on('error', (err: unknown) => process.stderr.write(`piscina floor: ${String(err)}\n`));
// Warm the thread before reporting ready: the floor is a warm dispatch, not a cold one.
await pool.run('{}');

await serveFloor('piscina', (body) => pool.run(body && body.length > 0 ? body.toString('utf8') : '{}'));
