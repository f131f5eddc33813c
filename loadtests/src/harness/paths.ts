import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** loadtests/src/harness or loadtests/dist/harness: both sit two levels below loadtests/. */
const here = dirname(fileURLToPath(import.meta.url));

export const LOADTESTS_DIR = resolve(here, '../..');
export const REPO_DIR = resolve(LOADTESTS_DIR, '..');
export const FUNCTIONS_DIR = join(LOADTESTS_DIR, 'functions');
export const RESULTS_DIR = join(LOADTESTS_DIR, 'results');
export const BASELINE_FILE = join(LOADTESTS_DIR, 'baseline.json');
/**
 * Laminar's entry point as built by `npm run build`. LOADTEST_LAMINAR_MAIN points the load tests
 * at another build (e.g. a patched copy) to measure a change before making it.
 */
export const LAMINAR_MAIN = process.env.LOADTEST_LAMINAR_MAIN ?? join(REPO_DIR, 'dist', 'main.js');

/**
 * A child-process script of the load tests (floor servers, probes). Children are started with
 * plain `node`, so they always come from the compiled output, also when the harness itself runs
 * from source under vitest.
 */
export function compiledScript(relative: string): string {
  const file = join(LOADTESTS_DIR, 'dist', relative);
  if (!existsSync(file)) throw new Error(`${file} is missing: compile the load tests first (tsc -p loadtests/tsconfig.json)`);
  return file;
}

export function requireLaminarBuild(): string {
  if (!existsSync(LAMINAR_MAIN)) throw new Error(`${LAMINAR_MAIN} is missing: run npm run build first`);
  return LAMINAR_MAIN;
}
