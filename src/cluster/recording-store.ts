/**
 * The registry's SQLite store as a cluster replica opens it: every mutating call can be recorded
 * (method and JSON copy of its arguments) and replayed on another node's store. The registry's
 * modules decide everything (RevisionIds, timestamps, version numbers) before they call the
 * store, so replaying the calls in log order rebuilds the same rows everywhere.
 *
 * A mutating call outside a recording or a replay throws: on a replica, a write that does not go
 * through `RegistryReplica.write` would change this node only, and the nodes would drift apart
 * without anyone noticing.
 */
import { Store } from '../registry/store.js';

/** The Store methods that change its content: what is recorded and replayed. */
export const MUTATIONS = [
  'putFunction',
  'deleteFunction',
  'putVersion',
  'deleteVersion',
  'nextLayerVersion',
  'putLayerVersion',
  'deleteLayerVersion',
  'putProvisioned',
  'deleteProvisioned',
  'putEventInvokeConfig',
  'deleteEventInvokeConfig',
  'setReservedConcurrency',
  'putAlias',
  'deleteAlias',
  'putFunctionUrl',
  'deleteFunctionUrl',
] as const satisfies readonly (keyof Store)[];

export type Mutation = (typeof MUTATIONS)[number];

/** One recorded store call; `args` went through JSON (undefined became null or vanished). */
export type RecordedCall = { [M in Mutation]: { method: M; args: Parameters<Store[M]> } }[Mutation];

const MUTATION_SET: ReadonlySet<string> = new Set(MUTATIONS);

export function isMutation(name: string): name is Mutation {
  return MUTATION_SET.has(name);
}

/** A store write made on a replica outside `RegistryReplica.write`. */
export class UnloggedRegistryWriteError extends Error {
  constructor(method: string) {
    super(`Registry write ${method} outside RegistryReplica.write: on a cluster node every registry write must go through the replica`);
    this.name = new.target.name;
  }
}

/**
 * The archives (hex SHA-256 of a zip) a call makes the store reference: a node must have them
 * extracted before it applies the call, or invokes would find no code.
 */
export function archivesOf(call: RecordedCall): string[] {
  switch (call.method) {
    case 'putVersion': {
      const [v] = call.args;
      return [v.codeHash, ...(v.layerHashes ?? [])];
    }
    case 'putFunction': {
      const [f] = call.args;
      return f.previous ? [f.previous.codeHash, ...(f.previous.layerHashes ?? [])] : [];
    }
    case 'putLayerVersion':
      return [call.args[0].codeHash];
    default:
      return [];
  }
}

/** Applies one call to a store, in the caller's transaction. */
export function applyCall(store: Store, call: RecordedCall): void {
  const method = store[call.method] as (...args: unknown[]) => unknown;
  // JSON turned undefined arguments into null (setReservedConcurrency(name, undefined)); no
  // store method takes null, so null here always meant undefined.
  method.apply(store, call.args.map((a: unknown) => (a === null ? undefined : a)));
}

type Mode = { kind: 'guard' } | { kind: 'replay' } | { kind: 'record'; calls: RecordedCall[] };

export class RecordingStore extends Store {
  private mode: Mode = { kind: 'guard' };

  constructor(file: string) {
    super(file);
    for (const method of MUTATIONS) {
      const base = Store.prototype[method] as (...args: unknown[]) => unknown;
      Object.defineProperty(this, method, {
        value: (...args: unknown[]): unknown => {
          this.admit(method, args);
          return base.apply(this, args);
        },
      });
    }
  }

  private admit(method: Mutation, args: unknown[]): void {
    if (this.mode.kind === 'guard') throw new UnloggedRegistryWriteError(method);
    if (this.mode.kind === 'record') {
      // A copy taken now: the registry goes on changing the objects it passed (`delete fn.previous`).
      this.mode.calls.push({ method, args: JSON.parse(JSON.stringify(args)) as never });
    }
  }

  /**
   * A transaction that throws is rolled back by SQLite (a savepoint when nested), so the calls
   * it recorded are dropped too: the record holds only what the store kept.
   */
  override tx<T>(fn: () => T): T {
    const mode = this.mode;
    const mark = mode.kind === 'record' ? mode.calls.length : 0;
    try {
      return super.tx(fn);
    } catch (err) {
      if (mode.kind === 'record') mode.calls.length = mark;
      throw err;
    }
  }

  /** Records the mutating calls made until `stopRecording`, applying them as usual. */
  startRecording(): void {
    if (this.mode.kind !== 'guard') throw new Error(`the store is already in ${this.mode.kind} mode`);
    this.mode = { kind: 'record', calls: [] };
  }

  stopRecording(): RecordedCall[] {
    const calls = this.mode.kind === 'record' ? this.mode.calls : [];
    this.mode = { kind: 'guard' };
    return calls;
  }

  /** Runs `fn` (which applies calls from the log) with mutations allowed and unrecorded. */
  replaying<T>(fn: () => T): T {
    if (this.mode.kind !== 'guard') throw new Error(`the store is already in ${this.mode.kind} mode`);
    this.mode = { kind: 'replay' };
    try {
      return fn();
    } finally {
      this.mode = { kind: 'guard' };
    }
  }
}
