/**
 * A store beside the registry whose content the cluster shares through the registry's log: the
 * Application Auto Scaling targets (autoscaling.db) and the EventBridge rules (schedules.db).
 * Each keeps its own file and schema; on a cluster node the replica records the calls of the
 * methods named in `mutations` together with the registry's own store calls, and every node
 * replays them in log order, exactly as it replays the registry's (recording-store.ts). So a
 * write touching several stores is still one entry of one log, under one lock.
 *
 * The stores are separate SQLite files, so an entry is applied to each in a transaction of its
 * own, the side stores first and the registry (with the log position) last: a node killed in
 * between applies the side calls again when it restarts, which is why every mutation of a side
 * store is an upsert or a delete (repeating one changes nothing), except appending an activity
 * to the autoscaling history, which may then appear twice.
 */
import type { TableRows } from '../registry/store.js';

export interface SideStore {
  /** The methods that change the store's content: what is recorded and replayed. */
  readonly mutations: readonly string[];
  /** Opens a transaction spanning asynchronous work; inner transactions nest as savepoints. */
  begin(): void;
  /** Ends the transaction `begin` opened, undoing it. */
  rollback(): void;
  tx<T>(fn: () => T): T;
  /** Every row of its content tables (a cluster snapshot). */
  exportRows(): TableRows;
  /** Replaces the content tables with `rows`, in the caller's transaction. */
  importRows(rows: TableRows): void;
}

/** The key of a side store's table in a snapshot: `<store>/<table>`. */
export function sideTable(store: string, table: string): string {
  return `${store}/${table}`;
}

/** The rows of one side store out of a snapshot's tables. */
export function sideRows(rows: TableRows, store: string): TableRows {
  const prefix = `${store}/`;
  const out: TableRows = {};
  for (const [key, table] of Object.entries(rows)) if (key.startsWith(prefix)) out[key.slice(prefix.length)] = table;
  return out;
}
