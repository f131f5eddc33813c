import { MemoryEventQueue } from '../../../src/async/memory-queue.js';
import { queueConformance } from './queue-conformance.js';

queueConformance('memory', async () => {
  const queue = new MemoryEventQueue();
  return { queue, cleanup: () => queue.close() };
}, { durable: false });
