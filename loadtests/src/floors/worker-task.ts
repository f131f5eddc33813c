/** The bare Worker floor's thread: the trivial task on every message. */
import { parentPort } from 'node:worker_threads';
import trivialTask from './trivial-task.js';

parentPort?.on('message', (event: string) => parentPort?.postMessage(trivialTask(event)));
