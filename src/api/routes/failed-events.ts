import type { FastifyInstance, FastifyRequest } from 'fastify';
import { failedEventView } from '../../async/failed-events.js';
import type { FailedEvent, ListFailedOptions, QueuedEvent } from '../../async/queue.js';
import { parseFunctionName, type Partition } from '../../core/arn.js';
import { ResourceNotFoundException } from '../../core/errors.js';
import { ListFailedEventsQuery } from '../../registry/shapes.js';

/** The failed-event store of the event queue (the dispatcher serves it). */
export interface FailedEventStore {
  listFailed(functionName: string, opts?: ListFailedOptions): Promise<FailedEvent[]>;
  replay(id: string): Promise<QueuedEvent | undefined>;
}

export interface FailedEventRouteOptions {
  failedEvents: FailedEventStore;
  partition: Partition;
}

type Req = FastifyRequest<{
  Params: { Id: string };
  Querystring: { FunctionName: string; Marker?: string; MaxItems?: number };
}>;

const PAGE = 100;

/**
 * Laminar's own routes (beside `/laminar/code/…`): the events kept for dead-letter queues and for
 * destinations Laminar does not deliver to, and their replay. `laminar events` speaks these.
 */
export async function failedEventRoutes(app: FastifyInstance, o: FailedEventRouteOptions): Promise<void> {
  app.get('/laminar/events/failed', { schema: { querystring: ListFailedEventsQuery } }, async (req: Req) => {
    // A deleted function's events stay listed: the store outlives the function.
    const name = parseFunctionName(req.query.FunctionName, o.partition).functionName;
    const limit = req.query.MaxItems ?? PAGE;
    const rows = await o.failedEvents.listFailed(name, { limit: limit + 1, ...(req.query.Marker ? { after: req.query.Marker } : {}) });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      FailedEvents: page.map((f) => failedEventView(f, o.partition)),
      ...(rows.length > limit && last ? { NextMarker: last.id } : {}),
    };
  });

  app.post('/laminar/events/:Id/replay', async (req: Req, reply) => {
    const event = await o.failedEvents.replay(req.params.Id);
    if (!event) throw new ResourceNotFoundException(`The failed-event store has no event ${req.params.Id}.`);
    // 202, as for an Event invoke: the event is queued, and runs like any other.
    return reply.code(202).send({
      Id: event.id,
      FunctionName: event.functionName,
      ...(event.qualifier !== undefined ? { Qualifier: event.qualifier } : {}),
      RequestId: event.requestId,
    });
  });
}
