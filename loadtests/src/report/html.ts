import type { RunResults } from '../runner.js';
export function htmlReport(results: RunResults): string {
  return `<!doctype html><pre>${JSON.stringify(results.ratios)}</pre>`;
}
