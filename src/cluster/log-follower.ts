/**
 * How a node's replica follows the cluster's registry log: it applies entries in order, each in
 * one SQLite transaction together with the position it reached, so a crash never leaves an entry
 * half applied or applied twice. The replica records which cluster it follows; when Redis holds
 * another cluster (or the same one with a shorter log), the replica is emptied and rebuilt from
 * the log; when Redis holds none (a new cluster, or a Redis that lost its data), the first node
 * to notice seeds the log with a snapshot of its own replica.
 *
 * Every call runs with the node's writes and catch-ups serialized (registry-replica.ts).
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { Registry } from '../registry/registry.js';
import type { ArchiveStore } from './archive-store.js';
import { LATEST_NUM } from '../registry/store.js';
import { decodeEntry, encodeEntry, type LogEntry, type WriteEntry } from './log-entry.js';
import { isSideCall, type RecordingStore } from './recording-store.js';
import type { RegistryLog } from './registry-log.js';
import { everythingDeleted, referencedArchives } from './replica-state.js';

const META_CLUSTER = 'cluster-id';
const META_APPLIED = 'applied-seq';
/** Entries read from Redis per round trip while catching up. */
const READ_BATCH = 100;

/** The functions whose $LATEST an entry wrote. */
function latestWritten(entry: WriteEntry): Set<string> {
  const names = new Set<string>();
  for (const call of entry.calls) if (!isSideCall(call) && call.method === 'putVersion' && call.args[0].num === LATEST_NUM) names.add(call.args[0].functionName);
  return names;
}

/** Told of each entry applied: its position, and the side stores (side-store.ts) it changed. */
export type AppliedListener = (seq: number, sides: ReadonlySet<string>) => void;

export class LogFollower {
  private clusterId: string | undefined;
  private appliedSeq: number;
  private readonly listeners = new Set<AppliedListener>();

  constructor(
    private readonly store: RecordingStore,
    private readonly registry: Registry,
    private readonly log: RegistryLog,
    private readonly archives: ArchiveStore,
  ) {
    this.clusterId = store.getMeta(META_CLUSTER);
    this.appliedSeq = Number(store.getMeta(META_APPLIED) ?? 0);
  }

  /** The cluster this replica follows (undefined before it first joined one). */
  get cluster(): string | undefined {
    return this.clusterId;
  }

  /** The position in the log this replica has applied: the length of the log it has. */
  get applied(): number {
    return this.appliedSeq;
  }

  onApplied(listener: AppliedListener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  /** Brings the replica to the log's end, seeding the cluster or rebuilding the replica when needed. */
  async sync(): Promise<void> {
    let rebuilt = false;
    for (;;) {
      const r = await this.log.read(this.appliedSeq, READ_BATCH);
      if (r.clusterId === undefined) {
        await this.seed();
      } else if (r.clusterId !== this.clusterId || r.length < this.appliedSeq) {
        this.rebuild(r.clusterId);
        rebuilt = true;
      } else if (r.entries.length === 0) {
        // Code of the cluster this replica followed before, that the new one does not use.
        if (rebuilt) this.registry.replication.sweepCode();
        return;
      } else {
        for (const text of r.entries) {
          const seq = this.appliedSeq + 1;
          await this.apply(seq, decodeEntry(seq, text));
        }
      }
    }
  }

  /** Applies entry `seq`: its archives first, then its rows and the position in one transaction, then its effects. */
  async apply(seq: number, entry: LogEntry): Promise<void> {
    const fetched = await this.archives.fetch(entry.archives);
    try {
      this.store.replaying(() =>
        this.store.tx(() => {
          if (entry.kind === 'snapshot') this.store.importRows(entry.rows);
          else this.store.applyCalls(entry.calls);
          this.store.setMeta(META_APPLIED, String(seq));
        }),
      );
    } finally {
      fetched.release();
    }
    this.appliedSeq = seq;
    const replication = this.registry.replication;
    if (entry.kind === 'write') {
      replication.effects.apply({ changes: entry.changes, garbage: entry.garbage });
      for (const name of latestWritten(entry)) replication.followSettling(name);
    } else {
      replication.sweepCode();
      for (const name of this.store.functionNames()) replication.followSettling(name);
    }
    const sides = entry.kind === 'write' ? this.store.sidesTouched(entry.calls) : new Set(this.store.sideNames);
    for (const listener of this.listeners) listener(seq, sides);
  }

  /** Redis holds no cluster: start one, with this replica's content as its first entry. */
  private async seed(): Promise<void> {
    const rows = this.store.exportRows();
    let snapshot: string | undefined;
    if (Object.values(rows).some((table) => table.length > 0)) {
      const code = this.registry.replication.code;
      const archives = referencedArchives(this.store, code.root).filter((hash) => existsSync(code.zipPath(hash)));
      await this.archives.upload(archives);
      snapshot = encodeEntry({ kind: 'snapshot', rows, archives });
    }
    const id = randomUUID();
    const seeded = await this.log.seed(id, snapshot);
    // Another node seeded first: the next read sees its id and rebuilds from its log.
    if (!seeded.created) return;
    const seq = snapshot === undefined ? 0 : 1;
    this.store.tx(() => {
      this.store.setMeta(META_CLUSTER, id);
      this.store.setMeta(META_APPLIED, String(seq));
    });
    this.clusterId = id;
    this.appliedSeq = seq;
  }

  /** Empties the replica for the log of cluster `clusterId`; listeners hear that everything went. */
  private rebuild(clusterId: string): void {
    const gone = everythingDeleted(this.store);
    this.store.replaying(() =>
      this.store.tx(() => {
        this.store.importRows({});
        this.store.setMeta(META_CLUSTER, clusterId);
        this.store.setMeta(META_APPLIED, '0');
      }),
    );
    this.clusterId = clusterId;
    this.appliedSeq = 0;
    this.registry.replication.effects.apply({ changes: gone, garbage: [] });
  }
}
