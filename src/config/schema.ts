import { totalmem } from 'node:os';

/** One configuration key: its type, range and default. */
export interface KeySpec {
  type: 'int' | 'number' | 'string' | 'boolean';
  default: string | number | boolean | undefined;
  min?: number;
  max?: number;
  /** Allowed values for strings. */
  oneOf?: readonly string[];
  doc: string;
}

/**
 * Every key Laminar reads. Units are in the names. The README's configuration table is
 * generated from this list's docs, so describe each key for a user.
 */
export const SCHEMA = {
  host: { type: 'string', default: '127.0.0.1', doc: 'Interface the API listens on. Loopback by default; set 0.0.0.0 to expose it.' },
  port: { type: 'int', default: 9000, min: 0, max: 65535, doc: 'TCP port of the API (0 picks a free one).' },
  listenBacklog: {
    type: 'int',
    default: 4096,
    min: 1,
    max: 65535,
    doc: 'Connections the kernel holds for the API while it is busy. A burst of new connections beyond it is delayed or reset. Linux caps it at net.core.somaxconn.',
  },
  dataDir: { type: 'string', default: '.laminar', doc: 'Folder for everything Laminar persists (registry, code, logs, /tmp of environments). Deleting it resets the node.' },
  functionsDir: { type: 'string', default: undefined, doc: 'Folder whose subfolders are deployed (or updated) as functions at start.' },
  region: { type: 'string', default: 'us-east-1', doc: 'Region named in ARNs and AWS_REGION.' },
  accountId: { type: 'string', default: '000000000000', doc: 'Twelve-digit account id named in ARNs.' },
  regionalConcurrencyLimit: { type: 'int', default: 1000, min: 1, max: 1_000_000, doc: 'Account concurrency limit (ConcurrentExecutions).' },
  unreservedConcurrencyMinimum: { type: 'int', default: 100, min: 0, max: 1_000_000, doc: 'Concurrency that must stay unreserved.' },
  scalingRateEnvironments: { type: 'int', default: 1000, min: 1, max: 1_000_000, doc: 'New on-demand environments a function may create per scaling window.' },
  scalingRateWindowSeconds: { type: 'number', default: 10, min: 0.001, max: 3600, doc: 'Length of the scaling window; the budget refills continuously over it.' },
  hostMemoryMb: { type: 'int', default: Math.floor((totalmem() / 1024 / 1024) * 0.75), min: 128, max: 16_777_216, doc: 'Memory budget for environments; each is charged its MemorySize. Default 75% of RAM.' },
  environmentIdleTimeoutSeconds: { type: 'number', default: 600, min: 0, max: 86_400, doc: 'Idle on-demand environments are destroyed after this long.' },
  autoscalingEvaluationPeriodSeconds: { type: 'number', default: 60, min: 0.01, max: 3600, doc: 'Period of one utilization datapoint for target tracking.' },
  provisionedInitConcurrency: { type: 'int', default: 4, min: 1, max: 1000, doc: 'Provisioned environments initialised at once; paces large allocations so running traffic keeps its CPU.' },
  activationDelayMs: { type: 'int', default: 0, min: 0, max: 600_000, doc: 'How long a new or updated function stays Pending / InProgress before it becomes Active / Successful.' },
  isolation: {
    type: 'string',
    default: 'process',
    oneOf: ['thread', 'process'],
    doc: "Where a Node.js function's environment runs when its laminar:isolation tag is absent: a sandboxed process of its own (process), or a worker thread of the server (thread: faster and lighter, for trusted code only, with no isolation from the server).",
  },
  sandbox: {
    type: 'string',
    default: 'auto',
    oneOf: ['auto', 'off'],
    doc: 'auto: every process environment runs in a bubblewrap sandbox with cgroup limits when the machine allows it (Laminar says at start and in /health when it does not). off: processes run directly, unsandboxed.',
  },
  environmentCpu: {
    type: 'string',
    default: 'proportional',
    oneOf: ['proportional', 'unlimited'],
    doc: "CPU of a sandboxed environment after Init: in proportion to MemorySize as in Lambda (1,769 MB = one vCPU), or unlimited. Init always runs unthrottled.",
  },
  environmentPidsMax: {
    type: 'int',
    default: 1024,
    min: 8,
    max: 1_000_000,
    doc: 'Processes and threads one sandboxed environment may have at once (Lambda allows 1,024); a fork bomb stops there.',
  },
  asyncRetryBaseDelaySeconds: {
    type: 'number',
    default: 60,
    min: 0,
    max: 3600,
    doc: 'After a function error, the n-th retry of an Event invocation waits n times this (Lambda: about 1 and 2 minutes).',
  },
  asyncMaxConcurrency: {
    type: 'int',
    default: 100,
    min: 1,
    max: 1_000_000,
    doc: 'Event invocations run at once across all functions, however long the queue; the rest of the concurrency stays for synchronous invokes.',
  },
  functionUrlCredentials: {
    type: 'string',
    default: undefined,
    doc: 'The credentials whose SigV4 signatures AWS_IAM function URLs accept, as ACCESS_KEY_ID:SECRET_ACCESS_KEY pairs separated by commas. Unset, AWS_IAM URLs refuse every request. NONE URLs and the API itself never check signatures.',
  },
  printFunctionLogs: { type: 'boolean', default: true, doc: "Echo functions' log lines (START/END/REPORT and app output) to Laminar's stdout." },
  logBytesPerInvocation: {
    type: 'int',
    default: 1024 * 1024,
    min: 4096,
    max: 64 * 1024 * 1024,
    doc:
      "Bytes of a function's own output kept per invocation, and per Init (1 MiB by default). Beyond them the output is dropped as it is written, never held, and one line says how many bytes were dropped; START, END and REPORT are always written. Separately, a line longer than 256 KiB (CloudWatch's event limit) keeps its first 256 KiB and a marker.",
  },
  logRetentionBytes: {
    type: 'int',
    default: 16 * 1024 * 1024,
    min: 64 * 1024,
    max: 1024 * 1024 * 1024 * 1024,
    doc:
      "Bytes of stored log kept per function, all its log streams together (16 MiB by default). Past it the least recently written files are deleted, and a stream's file that reaches half of it is rotated to one `.1.log` file, so the newest logs are what remain. Keep it well above logBytesPerInvocation.",
  },
  logLevel: { type: 'string', default: 'info', oneOf: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], doc: "Level of Laminar's own log." },
  shutdownTimeoutSeconds: { type: 'number', default: 30, min: 0, max: 900, doc: 'On SIGTERM, how long in-flight invocations may run before environments are destroyed.' },
  redisUrl: {
    type: 'string',
    default: undefined,
    doc: 'Puts the node in cluster mode: nodes started with the same Redis (redis://[user:password@]host:port[/db], or rediss:// for TLS) are members of one cluster. Unset, the node runs embedded and needs no server. With it, the node refuses to start while Redis cannot be reached.',
  },
  nodeId: {
    type: 'string',
    default: undefined,
    doc: "Name of this node in a cluster: in /health, in Redis and as the `node` label of every metric. Default <hostname>:<port> (the port it listens on), which stays the same across restarts and differs between nodes on one machine. Letters, digits and . _ : - only, at most 128.",
  },
  clusterLeaseSeconds: {
    type: 'number',
    default: 15,
    min: 1,
    max: 3600,
    doc: "In cluster mode, how long a node counts as live after its last heartbeat (it beats every third of it), and how long a dead node's claims last before they return to the others.",
  },
} as const satisfies Record<string, KeySpec>;

export type ConfigKey = keyof typeof SCHEMA;

type ValueOf<S extends KeySpec> = S['type'] extends 'boolean' ? boolean : S['type'] extends 'string' ? string : number;

/** The validated, frozen configuration. Optional keys (no default) may be undefined. */
export type Config = {
  readonly [K in ConfigKey]: (typeof SCHEMA)[K]['default'] extends undefined
    ? ValueOf<(typeof SCHEMA)[K]> | undefined
    : ValueOf<(typeof SCHEMA)[K]>;
};

/** camelCase key → LAMINAR_SNAKE_CASE environment variable. */
export function envName(key: string): string {
  return 'LAMINAR_' + key.replace(/([A-Z])/g, '_$1').toUpperCase();
}

/** camelCase key → --kebab-case flag. */
export function flagName(key: string): string {
  return '--' + key.replace(/([A-Z])/g, '-$1').toLowerCase();
}
