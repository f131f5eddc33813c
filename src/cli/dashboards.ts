import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DASHBOARDS } from '../metrics/dashboards.js';

/** The file content of a dashboard: stable key order, two-space indent, trailing newline. */
export function dashboardText(name: string): string {
  const build = DASHBOARDS[name];
  if (!build) throw new Error(`No dashboard named ${name}`);
  return JSON.stringify(build(), null, 2) + '\n';
}

/** Writes every dashboard into `dir`; returns the paths written. */
export function writeDashboards(dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  return Object.keys(DASHBOARDS).map((name) => {
    const path = join(dir, name);
    writeFileSync(path, dashboardText(name));
    return path;
  });
}
