import type { Dashboard, Panel } from '../../src/metrics/dashboards.js';

/** Reads one sample from a Prometheus exposition: the sum of every series of `name` matching `labels`. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
    const m = /^([^{\s]+)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const found: Record<string, string> = {};
    for (const pair of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) found[pair[1] as string] = pair[2] as string;
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) total += Number(m[3]);
  }
  return total;
}

export async function scrape(url: string): Promise<string> {
  const res = await fetch(`${url}/metrics`);
  return res.text();
}

/** A dashboard's panels under the title of the row they follow. */
export function panelsByRow(d: Dashboard): Map<string, Panel[]> {
  const rows = new Map<string, Panel[]>();
  let current: Panel[] = [];
  for (const p of d.panels) {
    if (p.type === 'row') rows.set(p.title, (current = []));
    else current.push(p);
  }
  return rows;
}
