import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { originOf } from './api/function-url/address.js';
import { somaxconn } from './api/listen-backlog.js';
import { buildServer } from './api/server.js';
import { Dispatcher, type EventSettings, type RetrySettings } from './async/dispatcher.js';
import { DEFAULT_RETRY_CONFIG } from './async/retry-policy.js';
import type { EventQueue } from './async/queue.js';
import { RedisEventQueue } from './async/redis-queue.js';
import { SqliteEventQueue } from './async/sqlite-queue.js';
import { AutoScaling } from './autoscaling/index.js';
import { SqliteTargetStore } from './autoscaling/sqlite-target-store.js';
import { openClusterConnection, type ClusterConnection } from './cluster/connection.js';
import { ClusterNode, EMBEDDED_HEALTH, laminarVersion } from './cluster/node.js';
import type { Partition } from './core/arn.js';
import { reportRepeatsOnce } from './core/repeat-filter.js';
import type { SharedWrite } from './core/shared-write.js';
import { SystemClock, type Clock } from './core/clock.js';
import { parseCredentials } from './config/credentials.js';
import type { Config } from './config/schema.js';
import type { EnvironmentFactory } from './environments/environment.js';
import { environmentFactory } from './environments/factory.js';
import type { Isolation } from './environments/environment.js';
import { defaultNodeProcessBootstrapPath, nodeProcessEnvironmentsOn } from './environments/process/node/node-process-environment.js';
import { processEnvironmentsOn } from './environments/process/process-environment.js';
import { openProcessHost, type IsolationReport } from './environments/sandbox/open-host.js';
import { openCgroups } from './environments/sandbox/cgroup-port.js';
import { threadEnvironmentFactory } from './environments/thread/thread-environment.js';
import { LogStore } from './logs/log-store.js';
import { Metrics } from './metrics/metrics.js';
import { environmentsTmpRoot, openDataDir, type DataDirLock } from './registry/data-dir.js';
import { RegistryReplica } from './cluster/registry-replica.js';
import { Registry } from './registry/registry.js';
import { Ledger, unreservedCapacity, type LedgerLimits, type LedgerView } from './scheduler/admission/ledger.js';
import { EmbeddedLedgerPort } from './scheduler/admission/embedded-port.js';
import type { LedgerPort } from './scheduler/admission/port.js';
import { CachedLedgerView } from './cluster/ledger-view.js';
import { ClusterProvisionedClaims } from './cluster/provisioned-claims.js';
import { ClusterProvisioning } from './cluster/provisioned-cluster.js';
import { startHeartbeat } from './cluster/heartbeat.js';
import { RedisLedger } from './cluster/redis-ledger.js';
import { Environments } from './scheduler/environments.js';
import { ProvisionedConcurrency, type ProvisionedClaims } from './scheduler/provisioned.js';
import { Reaper } from './scheduler/reaper.js';
import { Reservations } from './scheduler/reservations.js';
import { Scheduler } from './scheduler/scheduler.js';
import { RuleStore, Schedules } from './schedules/index.js';

/** The names under which a cluster's registry log carries the autoscaling and rule stores' writes. */
const AUTOSCALING_SIDE = 'autoscaling';
const SCHEDULES_SIDE = 'schedules';

export interface LaminarOptions {
  clock?: Clock;
  factory?: EnvironmentFactory;
  random?: () => number;
  /** Where function log lines are echoed (default: stdout when config.printFunctionLogs). */
  echo?: (text: string) => void;
  /** The Redis connection of cluster mode, opened by `openLaminar`; required when config.redisUrl is set. */
  cluster?: ClusterConnection;
  /** The cluster's shared event queue on Redis, opened by `openLaminar` with `cluster`. */
  clusterQueue?: RedisEventQueue;
  /** The cluster's shared concurrency ledger on Redis, opened by `openLaminar` with `cluster`. */
  clusterLedger?: RedisLedger;
  /** The cluster's registry: this node's replica of the log in Redis, opened by `openLaminar`. */
  clusterRegistry?: RegistryReplica;
  /**
   * The autoscaling and rule stores, when the caller opened them: a cluster node's replica shares
   * their writes through the registry's log, so it opens them before anything can write.
   */
  clusterStores?: { targets: SqliteTargetStore; rules: RuleStore };
  /** The data dir's lock, when the caller took it (a cluster node takes it before its registry opens). */
  dataDirLock?: DataDirLock;
}

export interface Laminar {
  readonly config: Config;
  readonly registry: Registry;
  readonly scheduler: Scheduler;
  /** The embedded ledger; undefined in a cluster, where the ledger lives in Redis. */
  readonly ledger: Ledger | undefined;
  /** What the ledger holds now (in a cluster, a snapshot refreshed every 250 ms). */
  readonly ledgerView: LedgerView;
  readonly provisioned: ProvisionedConcurrency;
  readonly autoscaling: AutoScaling;
  /** EventBridge rules that run functions on a schedule. */
  readonly schedules: Schedules;
  readonly metrics: Metrics;
  /** Runs Event invocations from the durable queue. */
  readonly dispatcher: Dispatcher;
  readonly server: FastifyInstance;
  readonly clock: Clock;
  /** How process environments run on this machine (sandbox, limits) and what is missing. */
  readonly isolation: IsolationReport;
  /** This node in its cluster (config.redisUrl); undefined in embedded mode. */
  readonly cluster: ClusterNode | undefined;
  /**
   * Runs registry writes as one write: in a cluster, logged through Redis so every node applies
   * it (a write inside another joins it); on one node, simply runs them.
   */
  readonly writeRegistry: SharedWrite;
  /** Starts listening; resolves to the base URL. */
  listen(): Promise<string>;
  /** Stops listening, drains in-flight invocations, destroys environments, closes the store. */
  close(): Promise<void>;
}

/**
 * Creates Laminar, in cluster mode first reaching Redis: a node that cannot reach it throws
 * RedisUnreachableError before anything else (data dir, databases, timers) is touched.
 */
export async function openLaminar(config: Config, options: LaminarOptions = {}): Promise<Laminar> {
  if (config.redisUrl === undefined) return createLaminar(config, options);
  const clock = options.clock ?? new SystemClock();
  const connection = await openClusterConnection({ url: config.redisUrl, clock });
  let clusterQueue: RedisEventQueue | undefined;
  let clusterLedger: RedisLedger | undefined;
  let clusterRegistry: RegistryReplica | undefined;
  let dataDirLock: DataDirLock | undefined;
  let clusterStores: { targets: SqliteTargetStore; rules: RuleStore } | undefined;
  try {
    clusterQueue = await RedisEventQueue.connect({ url: config.redisUrl });
    clusterLedger = await RedisLedger.open(
      { url: config.redisUrl },
      { limits: ledgerLimits(config), nodeId: config.nodeId ?? hostname(), leaseMs: config.clusterLeaseSeconds * 1000 },
    );
    // The registry replica opens the data dir's databases: the lock comes first, as on one node.
    dataDirLock = openDataDir(resolve(config.dataDir));
    const targets = SqliteTargetStore.inDataDir(resolve(config.dataDir));
    try {
      clusterStores = { targets, rules: RuleStore.inDataDir(resolve(config.dataDir)) };
    } catch (err) {
      targets.close();
      throw err;
    }
    clusterRegistry = await RegistryReplica.open({
      // Scalable targets, policies, scheduled actions and activities, and EventBridge rules, are
      // the account's as functions are: their writes travel in the same log.
      sides: { [AUTOSCALING_SIDE]: clusterStores.targets, [SCHEDULES_SIDE]: clusterStores.rules },
      registry: { dataDir: resolve(config.dataDir), clock, partition: { region: config.region, accountId: config.accountId }, activationDelayMs: config.activationDelayMs, ...(options.random ? { random: options.random } : {}) },
      redis: { url: config.redisUrl },
      // A node that dies holding the registry lock holds up the others' writes until it expires:
      // never longer than a lease, the time the cluster takes to notice a dead node at all.
      lockTtlMs: Math.min(5000, config.clusterLeaseSeconds * 1000),
    });
    return createLaminar(config, { ...options, clock, cluster: connection, clusterQueue, clusterLedger, clusterRegistry, clusterStores, dataDirLock });
  } catch (err) {
    await clusterRegistry?.close();
    clusterStores?.rules.close();
    clusterStores?.targets.close();
    dataDirLock?.release();
    await clusterLedger?.close();
    await clusterQueue?.close();
    await connection.close();
    throw err;
  }
}

/** The one place where Laminar's parts are constructed and wired. */
export function createLaminar(config: Config, options: LaminarOptions = {}): Laminar {
  if ((config.redisUrl !== undefined) !== (options.cluster !== undefined) || (options.cluster !== undefined) !== (options.clusterQueue !== undefined && options.clusterLedger !== undefined)) {
    throw new Error(config.redisUrl !== undefined ? 'config redisUrl is set: open Laminar with openLaminar, which connects to Redis first' : 'a Redis connection was given without config redisUrl');
  }
  const clock = options.clock ?? new SystemClock();
  const dataDir = resolve(config.dataDir);
  // First, before anything opens a file there: a refused start leaves nothing half-open.
  const dataDirLock = options.dataDirLock ?? openDataDir(dataDir);
  const partition: Partition = { region: config.region, accountId: config.accountId };
  const metrics = new Metrics();
  // The cluster's parts log through the server's logger, built further down.
  const cluster = options.cluster
    ? new ClusterNode({
        connection: options.cluster,
        clock,
        leaseSeconds: config.clusterLeaseSeconds,
        nodeId: config.nodeId,
        hostname: hostname(),
        version: laminarVersion(),
        log: { info: (m) => server.log.info(m), warn: (m) => server.log.warn(m), error: (m) => server.log.error(m) },
      })
    : undefined;
  const echo = options.echo ?? (config.printFunctionLogs ? (t: string) => process.stdout.write(t) : undefined);
  const logs = new LogStore(LogStore.folderFor(dataDir), { retentionBytes: config.logRetentionBytes, ...(echo ? { echo } : {}) });
  let registry: Registry;
  let queue: EventQueue;
  let targets: SqliteTargetStore;
  let rules: RuleStore;
  try {
    registry =
      options.clusterRegistry?.registry ??
      Registry.open({
        dataDir,
        clock,
        partition,
        activationDelayMs: config.activationDelayMs,
        ...(options.random ? { random: options.random } : {}),
      });
    try {
      targets = options.clusterStores?.targets ?? SqliteTargetStore.inDataDir(dataDir);
    } catch (err) {
      registry.close();
      throw err;
    }
    try {
      rules = options.clusterStores?.rules ?? RuleStore.inDataDir(dataDir);
    } catch (err) {
      targets.close();
      registry.close();
      throw err;
    }
    try {
      if (options.clusterQueue) {
        // Shared by every node: leases held by other nodes are alive, so none is released here.
        queue = options.clusterQueue;
      } else {
        const local = SqliteEventQueue.inDataDir(dataDir);
        // The lock makes this the data dir's only server: a lease still held was held by a server
        // that died, so its events run again now rather than after their visibility timeout.
        local.releaseAllLeases(clock.now());
        queue = local;
      }
    } catch (err) {
      rules.close();
      targets.close();
      registry.close();
      throw err;
    }
  } catch (err) {
    dataDirLock.release();
    throw err;
  }
  // The ledger: in memory on one node; in a cluster, in Redis, with a view refreshed every 250 ms
  // for readers that cannot wait, and this node's leases renewed by a heartbeat.
  // Registry writes: in a cluster each is logged through Redis, so every node applies it.
  const clusterRegistry = options.clusterRegistry;
  const writeRegistry: SharedWrite = (fn) => (clusterRegistry ? clusterRegistry.write(fn) : Promise.resolve().then(fn));
  const clusterLedger = options.clusterLedger;
  const ledger = clusterLedger ? undefined : new Ledger(ledgerLimits(config));
  const ledgerPort: LedgerPort = clusterLedger ?? new EmbeddedLedgerPort(ledger as Ledger);
  const clusterView = clusterLedger ? new CachedLedgerView(clusterLedger, clock, 250, (err) => server.log.warn(err, 'cluster: the ledger could not be read')) : undefined;
  void clusterView?.start();
  const view: LedgerView = clusterView ?? (ledger as Ledger);
  const claims: ProvisionedClaims = clusterLedger && clusterView ? new ClusterProvisionedClaims(clusterLedger, clusterView, (err) => server.log.error(err, 'cluster: a provisioned claim was not recorded')) : (ledger as Ledger);
  const heartbeat = clusterLedger
    ? startHeartbeat(clusterLedger, clock, {
        onBeat: (outcome) => {
          if (outcome instanceof Error) server.log.warn(outcome, 'cluster: the ledger heartbeat did not reach Redis');
        },
      })
    : undefined;
  const reservations = new Reservations(ledgerPort, registry, (err) => server.log.error(err, 'cluster: a reservation was not recorded in the ledger'));
  const cgroups = config.sandbox === 'off' ? Promise.resolve({ unavailable: 'config sandbox is off' }) : openCgroups(dataDir);
  const opened = openProcessHost({
    mode: config.sandbox === 'off' ? 'off' : 'auto',
    workDir: join(dataDir, 'sandbox'),
    nodeBootstrap: defaultNodeProcessBootstrapPath(),
    cgroups,
    environmentCpu: config.environmentCpu === 'unlimited' ? 'unlimited' : 'proportional',
    pidsMax: config.environmentPidsMax,
  });
  const environments = new Environments({
    clock,
    factory:
      options.factory ??
      environmentFactory({ thread: threadEnvironmentFactory, process: processEnvironmentsOn(opened.host), nodeProcess: nodeProcessEnvironmentsOn(opened.host) }),
    metrics,
    logs,
    partition,
    tmpRoot: environmentsTmpRoot(dataDir),
    isolation: config.isolation as Isolation,
    logBytesPerInvocation: config.logBytesPerInvocation,
  });
  const reaper = new Reaper(environments, {
    clock,
    hostMemoryMb: config.hostMemoryMb,
    environmentIdleTimeoutSeconds: config.environmentIdleTimeoutSeconds,
  });
  // In a cluster, provisioned concurrency is spread over the live nodes (each keeps its share and
  // the API reports the cluster's allocation) and one node at a time runs the autoscaling loop,
  // on usage summed over the nodes; both start once the node joined, in listen().
  const clusterProvisioning: ClusterProvisioning | undefined =
    cluster && options.cluster
      ? new ClusterProvisioning({
          connection: options.cluster,
          clock,
          leaseMs: config.clusterLeaseSeconds * 1000,
          liveIds: () => cluster.membership.liveIds(),
          local: () => provisioned.snapshot(),
          reshare: () => provisioned.reshare(),
          // The leader's duties: the autoscaling loop, and firing scheduled rules (once for the cluster).
          autoscaling: {
            start: () => {
              autoscaling.start();
              schedules.start();
            },
            stop: () => {
              autoscaling.stop();
              schedules.stop();
            },
          },
          log: { info: (m) => server.log.info(m), warn: (m) => server.log.warn(m), error: (m) => server.log.error(m) },
        })
      : undefined;
  const provisioned: ProvisionedConcurrency = new ProvisionedConcurrency({
    environments,
    reaper,
    registry,
    ledger: claims,
    metrics,
    partition,
    initConcurrency: config.provisionedInitConcurrency,
    ...(clusterProvisioning ? { share: clusterProvisioning.share, allocated: clusterProvisioning.allocated } : {}),
  });
  const scheduler = new Scheduler({ clock, metrics, ledger: ledgerPort, view, environments, reaper, provisioned });
  registry.onChange((e) => {
    if (e.kind === 'alias-updated') provisioned.aliasChanged(e.functionName, e.version);
    if (e.kind === 'alias-deleted') provisioned.deleted(e.functionName, e.version);
    if (e.kind !== 'deleted') return;
    provisioned.deleted(e.functionName, e.version);
    scheduler.retireFunction(e.functionName, e.version);
    if (e.version === '$LATEST') reservations.forget(e.functionName);
  });
  // Provisioned configs, scalable targets and rules put through other nodes reach this one
  // through the registry's log; the leader's loop and rule runner catch up with them.
  clusterRegistry?.onApplied((_seq, sides) => {
    provisioned.follow();
    if (sides.has(AUTOSCALING_SIDE)) autoscaling.sync();
    if (sides.has(SCHEDULES_SIDE)) schedules.sync();
  });
  // Restoring may drop a config whose version is gone: a registry write like any other.
  if (clusterRegistry) void writeRegistry(() => provisioned.restore()).catch((err: unknown) => server.log.error(err, 'cluster: provisioned concurrency was not restored'));
  else provisioned.restore();
  const retryDefaults = { ...DEFAULT_RETRY_CONFIG, functionErrorBaseDelayMs: config.asyncRetryBaseDelaySeconds * 1000 };
  const dispatcher = new Dispatcher({
    queue,
    scheduler,
    resolve: (name, qualifier) => registry.resolve(name, qualifier),
    ledger: view,
    metrics,
    clock,
    maxConcurrency: config.asyncMaxConcurrency,
    eventSettings: (name, qualifier) => eventSettings(registry, retryDefaults, name, qualifier),
    partition,
    onError: (err) => server.log.error(err, 'asynchronous invocation: the event queue failed; the event stays queued'),
    // In a cluster, a lease lasts one cluster lease and is renewed while its attempt runs, so the
    // events of a node that dies run on the others within that time; and each node looks at the
    // shared queue every second for events other nodes accepted.
    ...(options.clusterQueue
      ? { leaseVisibilityMs: config.clusterLeaseSeconds * 1000, leaseRenewMs: (config.clusterLeaseSeconds * 1000) / 3, pollMs: 1000 }
      : {}),
  });
  // Targets whose function was deleted (even while the server was down) stay registered, as in
  // Application Auto Scaling: the loop reads no data for them and a scheduled action that runs
  // records a Failed activity naming the missing function, until the target is deregistered.
  const autoscaling = new AutoScaling({
    clock,
    store: targets,
    // In a cluster every pass of the loop, and every API call, that can change provisioned
    // concurrency already runs inside one logged write, which the port's changes join.
    port: clusterProvisioning ? clusterProvisioning.port(provisioned) : provisioned,
    periodMs: config.autoscalingEvaluationPeriodSeconds * 1000,
    partition,
    ...(clusterRegistry ? { write: writeRegistry, onError: reportRepeatsOnce((err) => server.log.warn(err, 'cluster: an autoscaling pass was not written'), clock) } : {}),
    ...(options.random ? { random: options.random } : {}),
  });
  metrics.bindAutoscaling(() => autoscaling.desiredCapacity().map((d) => ({ functionName: d.function, qualifier: d.qualifier, desired: d.value })));
  autoscaling.bindMetrics({
    onAction: (direction, t) => metrics.autoscalingActions.inc({ function: t.functionName, qualifier: t.qualifier, direction }),
  });
  if (!clusterProvisioning) autoscaling.start();
  // Function URLs name the address the server listens on, known once it listens.
  let urlOrigin: string | undefined;
  // A due rule invokes each target asynchronously, as EventBridge invokes Lambda: the event is
  // queued (durable) and runs, with retries, through the dispatcher. A function that does not
  // exist (any more) is refused here, as Lambda's Invoke refuses EventBridge.
  const schedules = new Schedules({
    clock,
    store: rules,
    partition,
    port: {
      async invoke(target, payload, requestId) {
        registry.resolve(target.functionName, target.qualifier);
        await dispatcher.submit({ ...target, payload, requestId });
      },
    },
    metrics: {
      triggered: (rule) => metrics.scheduleTriggeredRules.inc({ rule }),
      invoked: (rule) => metrics.scheduleInvocations.inc({ rule }),
      failed: (rule, reason) => metrics.scheduleFailedInvocations.inc({ rule, reason }),
    },
    onError: reportRepeatsOnce((err) => server.log.error(err, 'scheduled rule: a run or one of its targets failed'), clock),
    ...(clusterRegistry ? { write: writeRegistry } : {}),
  });
  const server = buildServer({
    clock,
    urlOrigin: () => urlOrigin,
    functionUrlCredentials: parseCredentials(config.functionUrlCredentials),
    registry,
    scheduler,
    events: dispatcher,
    failedEvents: dispatcher,
    autoscaling,
    schedules,
    metrics,
    partition,
    concurrency: reservations,
    provisioned,
    regionalConcurrencyLimit: config.regionalConcurrencyLimit,
    unreservedConcurrency: () => unreservedCapacity(view),
    logLevel: config.logLevel,
    health: async () => ({
      sandbox: opened.sandbox,
      cluster: cluster ? { ...(await cluster.health()), autoscaling: clusterProvisioning?.autoscalingLeader ? 'leader' : 'standby' } : EMBEDDED_HEALTH,
    }),
    ...(opened.sandbox.sandboxUid !== undefined ? { sandboxUid: opened.sandbox.sandboxUid } : {}),
    ...(clusterRegistry ? { registryWrite: writeRegistry } : {}),
  });

  // Events accepted before a restart run from now on, whether or not the API listens yet.
  dispatcher.start();
  // Scheduled rules fire from now on; what came due while the server was down is not replayed.
  // In a cluster only the leader fires them, from when it leads (listen()).
  if (!clusterProvisioning) schedules.start();

  let closed = false;
  return {
    config,
    registry,
    scheduler,
    ledger,
    ledgerView: view,
    provisioned,
    autoscaling,
    schedules,
    metrics,
    dispatcher,
    server,
    clock,
    isolation: opened.sandbox,
    cluster,
    writeRegistry,
    async listen() {
      // The banner and /health say what limits environments, so the probe finishes first.
      await opened.ready;
      // Node's default backlog (511) is smaller than one burst of regionalConcurrencyLimit
      // invocations. While the event loop is busy, connections beyond the accept queue lose
      // their handshake: the client waits for SYN retransmits or, once the kernel prunes the
      // half-open connection, its request is answered with a reset.
      const url = await server.listen({ host: config.host, port: config.port, backlog: config.listenBacklog });
      const address = server.server.address();
      if (address !== null && typeof address === 'object') urlOrigin = originOf(address);
      if (cluster && address !== null && typeof address === 'object') {
        // The default node id names the port, known only now when the config asked for port 0.
        const node = await cluster.join({ host: config.host, port: address.port });
        metrics.registry.setDefaultLabels({ node });
        await clusterProvisioning?.start(node, cluster.instance);
      }
      const cap = somaxconn();
      if (cap !== undefined && cap < config.listenBacklog) {
        server.log.warn(
          `listenBacklog ${config.listenBacklog} is capped by net.core.somaxconn = ${cap}; raise the sysctl for bursts of more than ${cap} connections`,
        );
      }
      dataDirLock.record({ url });
      return url;
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        autoscaling.stop();
        await server.close();
        // No rule fires any more; events it already handed over reach the queue before it closes.
        await schedules.close();
        // No new attempts; those in flight finish within the scheduler's grace, then record
        // their outcome before the queue closes.
        dispatcher.stop();
        await scheduler.close(config.shutdownTimeoutSeconds * 1000);
        await dispatcher.close();
        await logs.close();
        // Every environment is gone: the parent group goes too, rather than one empty group per
        // data dir ever served accumulating under /sys/fs/cgroup.
        const c = await cgroups;
        if (!('unavailable' in c)) await c.dispose().catch(() => undefined);
      } finally {
        await clusterProvisioning?.stop().catch((err: Error) => server.log.warn(`cluster: ${err.message}`));
        await heartbeat?.stop();
        clusterView?.stop();
        // Gives back whatever this node still holds, rather than leaving it to expire.
        await clusterLedger?.close();
        await queue.close();
        rules.close();
        targets.close();
        if (clusterRegistry) await clusterRegistry.close();
        else registry.close();
        dataDirLock.release();
        // Last: the drain above may still need Redis.
        await cluster?.close();
      }
    },
  };
}

/**
 * What an Event invocation runs under: the event invoke config of the qualifier it names (Lambda's
 * defaults for settings the config leaves out, or without one) and the function's dead-letter queue.
 */
function eventSettings(registry: Registry, defaults: RetrySettings, name: string, qualifier: string | undefined): EventSettings {
  const config = registry.eventInvokeConfigFor(name, qualifier);
  const deadLetter = registry.deadLetterTarget(name);
  const onSuccess = config?.DestinationConfig.OnSuccess.Destination;
  const onFailure = config?.DestinationConfig.OnFailure.Destination;
  return {
    ...defaults,
    ...(config?.MaximumRetryAttempts !== undefined ? { maximumRetryAttempts: config.MaximumRetryAttempts } : {}),
    ...(config?.MaximumEventAgeInSeconds !== undefined ? { maximumEventAgeSeconds: config.MaximumEventAgeInSeconds } : {}),
    destinations: {
      ...(onSuccess ? { onSuccess } : {}),
      ...(onFailure ? { onFailure } : {}),
      ...(deadLetter ? { deadLetter } : {}),
    },
  };
}

/** The concurrency rules of the config: the same on every node of a cluster. */
function ledgerLimits(config: Config): LedgerLimits {
  return {
    regionalLimit: config.regionalConcurrencyLimit,
    unreservedMinimum: config.unreservedConcurrencyMinimum,
    scalingRateEnvironments: config.scalingRateEnvironments,
    scalingRateWindowMs: config.scalingRateWindowSeconds * 1000,
  };
}
