/** Writes the three reports of a run: JSON (machine-readable), text (the terminal table), HTML (plots). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunResults } from '../runner.js';
import { htmlReport } from './html.js';
import { terminalReport } from './terminal.js';

export function writeReports(results: RunResults, outDir: string): string[] {
  mkdirSync(outDir, { recursive: true });
  const stamp = results.startedAt.replace(/[:.]/g, '-');
  // NaN (a figure with no samples) is not JSON; null keeps the file parseable.
  const json = JSON.stringify(results, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2);
  const files = {
    json: join(outDir, 'latest.json'),
    archive: join(outDir, `run-${stamp}.json`),
    text: join(outDir, 'latest.txt'),
    html: join(outDir, 'report.html'),
  };
  writeFileSync(files.json, json);
  writeFileSync(files.archive, json);
  writeFileSync(files.text, terminalReport(results));
  writeFileSync(files.html, htmlReport(results));
  return [files.json, files.html];
}
