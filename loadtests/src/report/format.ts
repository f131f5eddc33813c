/** Number formatting shared by the terminal table and the HTML report. */
import type { Stat } from '../harness/stats.js';

export function fmt(n: number | undefined, digits?: number): string {
  if (n === undefined || !Number.isFinite(n)) return '—';
  const abs = Math.abs(n);
  const d = digits ?? (Number.isInteger(n) ? 0 : abs >= 1000 ? 0 : abs >= 100 ? 1 : abs >= 10 ? 2 : abs >= 1 ? 2 : 3);
  return n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
}

export function fmtStat(s: Stat | undefined, unit = '', digits?: number): string {
  if (!s) return '—';
  return `${fmt(s.median, digits)}${unit}`;
}

/** "min..max" of the runs, or "" for a single run. */
export function fmtSpread(s: Stat | undefined, digits?: number): string {
  if (!s || s.runs.length < 2 || !Number.isFinite(s.min)) return '';
  return `${fmt(s.min, digits)}..${fmt(s.max, digits)}`;
}

/** Two decimals, or two significant digits for small ratios (0.0084× must not read as 0.01×). */
export function fmtRatio(r: number | undefined): string {
  if (r === undefined || !Number.isFinite(r)) return '—';
  return `${r !== 0 && Math.abs(r) < 0.1 ? r.toPrecision(2) : r.toFixed(2)}×`;
}

export function fmtPct(f: number | undefined, digits = 0): string {
  return f === undefined || !Number.isFinite(f) ? '—' : `${(f * 100).toFixed(digits)}%`;
}

/** Fixed-width text table; the first column left-aligned, the others right-aligned. */
export function textTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i <= 1 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
