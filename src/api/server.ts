import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Partition } from '../core/arn.js';
import type { Clock } from '../core/clock.js';
import type { SharedWrite } from '../core/shared-write.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Registry } from '../registry/registry.js';
import type { EventSink } from '../async/dispatcher.js';
import { appAutoScalingRoutes, type AutoScaling } from '../autoscaling/index.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import { eventBridgeRoutes, type Schedules } from '../schedules/index.js';
import { errorHandler, notFoundHandler } from './error-handler.js';
import { functionUrlServeRoutes } from './function-url/serve.js';
import { lambdaValidatorCompiler } from './validation/fastify.js';
import { accountRoutes } from './routes/account.js';
import { awsJsonFallbackRoutes } from './routes/aws-json-fallback.js';
import { concurrencyRoutes, type ConcurrencyService } from './routes/concurrency.js';
import { eventInvokeConfigRoutes } from './routes/event-invoke-config.js';
import { failedEventRoutes, type FailedEventStore } from './routes/failed-events.js';
import { functionRoutes } from './routes/functions.js';
import { functionUrlRoutes } from './routes/function-urls.js';
import { invokeRoutes } from './routes/invoke.js';
import { layerRoutes } from './routes/layers.js';
import { metricsHealthRoutes } from './routes/metrics-health.js';
import { guardSandboxCallers } from './sandbox-callers.js';
import { provisionedRoutes, type ProvisionedService } from './routes/provisioned.js';
import { tagRoutes } from './routes/tags.js';

export interface ServerDeps {
  registry: Registry;
  scheduler: Scheduler;
  events: EventSink;
  /** The events kept for dead-letter queues and undelivered destinations. */
  failedEvents: FailedEventStore;
  autoscaling: AutoScaling;
  schedules: Schedules;
  concurrency: ConcurrencyService;
  provisioned: ProvisionedService;
  metrics: Metrics;
  partition: Partition;
  regionalConcurrencyLimit: number;
  unreservedConcurrency: () => number;
  logLevel?: string;
  /** What /health reports beside its status (the sandbox in use and what it lacks, the cluster). */
  health?: () => Record<string, unknown> | Promise<Record<string, unknown>>;
  /** The uid sandboxed functions run as, when it is theirs alone: their requests may only invoke. */
  sandboxUid?: number;
  /** Time for function URLs' signature checks and event timestamps. */
  clock: Clock;
  /** `http://host:port` of the function URLs handed out; undefined until the server listens. */
  urlOrigin: () => string | undefined;
  /** The signers AWS_IAM function URLs accept: secret access key by access key id. */
  functionUrlCredentials: ReadonlyMap<string, string>;
  /** In a cluster: runs a control-plane request's registry writes as one write logged through Redis. */
  registryWrite?: SharedWrite;
}

/** Control-plane requests that may change the registry: Lambda's dated paths, except invocations. */
function writesRegistry(method: string | string[], url: string): boolean {
  const methods = Array.isArray(method) ? method : [method];
  if (!methods.some((m) => m === 'POST' || m === 'PUT' || m === 'PATCH' || m === 'DELETE')) return false;
  return /^\/20\d\d-\d\d-\d\d\//.test(url) && !url.endsWith('/invocations') && !url.includes('/invoke-async');
}

/**
 * Builds the HTTP app without listening (tests use it on port 0; only main.ts listens). Routes
 * only translate HTTP to calls; every error leaves through one handler in Lambda's format.
 */
export function buildServer(deps: ServerDeps): FastifyInstance {
  const app = Fastify({
    logger: { level: deps.logLevel ?? 'warn' },
    // Per-request log lines would cost more than a warm invoke on the hot path.
    logController: new LogController({ disableRequestLogging: true }),
    // No child logger per request (a pino child is an object and a serializer chain each time):
    // the few lines written about a request name its id themselves (`reqId`).
    childLoggerFactory: (logger) => logger,
    genReqId: () => randomUUID(),
    // Function names may be ARNs; keep the router from splitting on their colons.
    routerOptions: { maxParamLength: 512 },
    forceCloseConnections: 'idle',
  });
  // Every route's body and query schema is checked before its handler runs (validation/).
  app.setValidatorCompiler(lambdaValidatorCompiler);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  // During shutdown, responses to requests that were in flight close their connection, so a
  // keep-alive client cannot hold the server open after its work is done.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  // A callback hook, not an async one: every response passes here, and a promise per response
  // is measurable on the invoke path.
  app.addHook('onSend', (req, reply, payload, done) => {
    reply.header('x-amzn-RequestId', req.id);
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });

  // In a cluster, each control-plane change is one write of the shared registry, whatever its
  // route does inside: wrapped here once rather than in every route.
  const registryWrite = deps.registryWrite;
  if (registryWrite) {
    app.addHook('onRoute', (route) => {
      if (!writesRegistry(route.method, route.url)) return;
      const handler = route.handler as (this: FastifyInstance, req: FastifyRequest, reply: FastifyReply) => unknown;
      route.handler = function (this: FastifyInstance, req: FastifyRequest, reply: FastifyReply) {
        return registryWrite(() => handler.call(this, req, reply));
      };
    });
  }
  if (deps.sandboxUid !== undefined) guardSandboxCallers(app, deps.sandboxUid);
  app.register(invokeRoutes, { registry: deps.registry, scheduler: deps.scheduler, events: deps.events, partition: deps.partition });
  app.register(functionRoutes, { registry: deps.registry, partition: deps.partition });
  app.register(tagRoutes, { registry: deps.registry, partition: deps.partition });
  app.register(functionUrlRoutes, { registry: deps.registry, partition: deps.partition, urlOrigin: deps.urlOrigin });
  app.register(functionUrlServeRoutes, {
    registry: deps.registry,
    scheduler: deps.scheduler,
    metrics: deps.metrics,
    partition: deps.partition,
    clock: deps.clock,
    credentials: deps.functionUrlCredentials,
  });
  app.register(layerRoutes, { registry: deps.registry });
  app.register(concurrencyRoutes, { concurrency: deps.concurrency, partition: deps.partition });
  app.register(eventInvokeConfigRoutes, { registry: deps.registry, partition: deps.partition });
  app.register(failedEventRoutes, { failedEvents: deps.failedEvents, partition: deps.partition });
  app.register(provisionedRoutes, { provisioned: deps.provisioned, partition: deps.partition });
  app.register(accountRoutes, {
    registry: deps.registry,
    regionalConcurrencyLimit: deps.regionalConcurrencyLimit,
    unreservedConcurrency: deps.unreservedConcurrency,
  });
  app.register(metricsHealthRoutes, { metrics: deps.metrics, ...(deps.health ? { health: deps.health } : {}) });
  // Both awsJson1_1 services answer POST /, each for its own X-Amz-Target service.
  app.register(appAutoScalingRoutes, { autoscaling: deps.autoscaling, ...(registryWrite ? { write: registryWrite } : {}) });
  app.register(eventBridgeRoutes, { schedules: deps.schedules, ...(registryWrite ? { write: registryWrite } : {}) });
  app.register(awsJsonFallbackRoutes);
  return app;
}
