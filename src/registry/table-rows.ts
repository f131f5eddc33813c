/**
 * Whole tables in and out of a SQLite file, for the cluster's snapshots of the stores it shares
 * (registry-replica.ts): rows as SQLite returns them, and put back with only the columns the
 * table has, so a snapshot's keys never reach SQL as anything but known names.
 */
import type Database from 'better-sqlite3';

/** Every row of some tables, as SQLite returns them (JSON columns stay text), by table name. */
export type TableRows = Record<string, Record<string, string | number | null>[]>;

/** Every row of `tables`. Table names are the caller's constants, never input. */
export function exportTables(db: Database.Database, tables: readonly string[]): TableRows {
  const out: TableRows = {};
  for (const t of tables) out[t] = db.prepare<[], Record<string, string | number | null>>(`SELECT * FROM ${t}`).all();
  return out;
}

/** Empties `tables` (children last to first) and fills them from `rows`; missing tables stay empty. */
export function importTables(db: Database.Database, tables: readonly string[], rows: TableRows): void {
  for (const t of [...tables].reverse()) db.exec(`DELETE FROM ${t}`);
  for (const t of tables) {
    const columns = new Set(db.prepare<[], { name: string }>(`SELECT name FROM pragma_table_info('${t}')`).all().map((c) => c.name));
    const inserts = new Map<string, Database.Statement>();
    for (const row of rows[t] ?? []) {
      const names = Object.keys(row).filter((c) => columns.has(c));
      const sql = `INSERT INTO ${t} (${names.join(', ')}) VALUES (${names.map(() => '?').join(', ')})`;
      let insert = inserts.get(sql);
      if (!insert) inserts.set(sql, (insert = db.prepare(sql)));
      insert.run(...names.map((c) => row[c] ?? null));
    }
  }
}

/**
 * A small SQLite store of whole tables that a cluster can share (cluster/side-store.ts): a
 * transaction spanning asynchronous work, and its content tables in and out as rows.
 */
export abstract class SqliteTables {
  protected constructor(
    protected readonly db: Database.Database,
    private readonly tables: readonly string[],
  ) {}

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Opens a transaction that may span asynchronous work; better-sqlite3's transactions inside nest as savepoints. */
  begin(): void {
    this.db.exec('BEGIN');
  }

  /** Ends what `begin` opened, undoing it. */
  rollback(): void {
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
  }

  tx<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** Every row of the content tables. */
  exportRows(): TableRows {
    return exportTables(this.db, this.tables);
  }

  /** Replaces the content tables with `rows`, in the caller's transaction. */
  importRows(rows: TableRows): void {
    importTables(this.db, this.tables, rows);
  }
}
