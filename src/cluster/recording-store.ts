/**
 * The registry's SQLite store as a cluster replica opens it: every mutating call can be recorded
 * (method and JSON copy of its arguments) and replayed on another node's store. The registry's
 * modules decide everything (RevisionIds, timestamps, version numbers) before they call the
 * store, so replaying the calls in log order rebuilds the same rows everywhere.
 *
 * The stores beside the registry that the cluster shares (side-store.ts) are attached to it:
 * their calls are recorded into the same record, tagged with the store's name, so one write is
 * one entry whichever stores it touched.
 *
 * A mutating call outside a recording or a replay throws: on a replica, a write that does not go
 * through `RegistryReplica.write` would change this node only, and the nodes would drift apart
 * without anyone noticing.
 */
import { Store, type TableRows } from '../registry/store.js';
import { sideRows, sideTable, type SideStore } from './side-store.js';

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

/** One recorded call of the registry's store; `args` went through JSON (undefined became null or vanished). */
export type RegistryCall = { [M in Mutation]: { method: M; args: Parameters<Store[M]> } }[Mutation];

/** One recorded call of a side store, named by `store`. */
export interface SideCall {
  store: string;
  method: string;
  args: unknown[];
}

export type RecordedCall = RegistryCall | SideCall;

export function isSideCall(call: RecordedCall): call is SideCall {
  return 'store' in call && typeof call.store === 'string';
}

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
  if (isSideCall(call)) return [];
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

/** A log entry calls a side store this node does not have, or a method that is not one of its writes. */
export class UnknownSideCallError extends Error {
  constructor(call: SideCall) {
    super(`The registry log holds a call ${call.store}.${call.method}, which is not a write of a store this node shares; every node of a cluster must run the same Laminar version`);
    this.name = new.target.name;
  }
}

/**
 * Calls `call.method` of `target` with the recorded arguments. JSON turned undefined arguments
 * into null (setReservedConcurrency(name, undefined)); no store method takes null, so null here
 * always meant undefined.
 */
function replay(target: object, call: { method: string; args: readonly unknown[] }): void {
  const method = (target as Record<string, (...args: unknown[]) => unknown>)[call.method] as (...args: unknown[]) => unknown;
  method.apply(target, call.args.map((a) => (a === null ? undefined : a)));
}

/** Applies one call of the registry's store, in the caller's transaction. */
export function applyCall(store: Store, call: RegistryCall): void {
  replay(store, call);
}

type Mode = { kind: 'guard' } | { kind: 'replay' } | { kind: 'record'; calls: RecordedCall[] };

export class RecordingStore extends Store {
  private mode: Mode = { kind: 'guard' };
  private readonly sides = new Map<string, SideStore>();

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

  /**
   * Shares `side` as `name`: from now on its mutations are recorded and replayed with the
   * registry's, and refused outside them, as the registry's own are.
   */
  attach(name: string, side: SideStore): void {
    if (this.sides.has(name)) throw new Error(`a side store named ${name} is already attached`);
    this.sides.set(name, side);
    const target = side as unknown as Record<string, (...args: unknown[]) => unknown>;
    for (const method of side.mutations) {
      const base = target[method];
      if (typeof base !== 'function') throw new Error(`side store ${name} has no method ${method}`);
      Object.defineProperty(side, method, {
        // Configurable and writable as a method is, so a Proxy over the store may still wrap it.
        configurable: true,
        writable: true,
        value: (...args: unknown[]): unknown => {
          if (this.mode.kind === 'guard') throw new UnloggedRegistryWriteError(`${name}.${method}`);
          const out = base.apply(side, args);
          // Recorded once it succeeded: a call that threw changed nothing, so it is not replayed.
          if (this.mode.kind === 'record') this.mode.calls.push({ store: name, method, args: JSON.parse(JSON.stringify(args)) as unknown[] });
          return out;
        },
      });
    }
  }

  /**
   * Applies an entry's calls (in replay mode, in the caller's registry transaction): each side
   * store's in a transaction of its own first, then the registry's.
   */
  applyCalls(calls: readonly RecordedCall[]): void {
    const bySide = new Map<string, SideCall[]>();
    for (const call of calls) {
      if (!isSideCall(call)) continue;
      const side = this.sides.get(call.store);
      if (!side || !side.mutations.includes(call.method)) throw new UnknownSideCallError(call);
      let list = bySide.get(call.store);
      if (!list) bySide.set(call.store, (list = []));
      list.push(call);
    }
    for (const [name, list] of bySide) {
      const side = this.sides.get(name) as SideStore;
      side.tx(() => {
        for (const call of list) replay(side, call);
      });
    }
    for (const call of calls) if (!isSideCall(call)) applyCall(this, call);
  }

  /** The names of the side stores an entry's calls touch. */
  sidesTouched(calls: readonly RecordedCall[]): Set<string> {
    const names = new Set<string>();
    for (const call of calls) if (isSideCall(call)) names.add(call.store);
    return names;
  }

  /** The attached side stores' names. */
  get sideNames(): string[] {
    return [...this.sides.keys()];
  }

  override begin(): void {
    super.begin();
    for (const side of this.sides.values()) side.begin();
  }

  override rollback(): void {
    for (const side of this.sides.values()) side.rollback();
    super.rollback();
  }

  /** The registry's tables and, as `<store>/<table>`, every side store's. */
  override exportRows(): TableRows {
    const rows = super.exportRows();
    for (const [name, side] of this.sides) for (const [table, list] of Object.entries(side.exportRows())) rows[sideTable(name, table)] = list;
    return rows;
  }

  /** Replaces the registry's tables and every side store's (each in its own transaction). */
  override importRows(rows: TableRows): void {
    super.importRows(rows);
    for (const [name, side] of this.sides) side.tx(() => side.importRows(sideRows(rows, name)));
  }

  private admit(method: Mutation, args: unknown[]): void {
    if (this.mode.kind === 'guard') throw new UnloggedRegistryWriteError(method);
    if (this.mode.kind === 'record') {
      // A copy taken now: the registry goes on changing the objects it passed (`delete fn.previous`).
      this.mode.calls.push({ method, args: JSON.parse(JSON.stringify(args)) as never } as RegistryCall);
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
