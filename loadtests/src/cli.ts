/**
 * `npm run loadtest [-- --scenario NAME ...] [--duration S] [--connections N] [--reps N]`
 * `npm run perf:check [-- --results FILE]`   compare a fresh (or given) run with baseline.json
 * `npm run perf:baseline [-- --results FILE]` rewrite baseline.json deliberately
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { BASELINE_FILE, RESULTS_DIR } from './harness/paths.js';
import { DEFAULT_SETTINGS, type Settings } from './harness/settings.js';
import { writeReports } from './report/write.js';
import { terminalReport } from './report/terminal.js';
import { runSuite, type RunResults } from './runner.js';
import { SCENARIOS } from './scenarios/index.js';
import { checkAgainstBaseline, writeBaseline } from './check/commands.js';

// The SDK warns once per process that future releases will need Node 22; on a load-test report
// that is noise (the project targets Node 20 on purpose).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const USAGE = `Usage: node loadtests/dist/cli.js <run|check|baseline> [options]

  run        run scenarios and write loadtests/results/{latest.json,report.html}
  check      run every scenario (or read --results FILE) and compare its ratios with baseline.json;
             exits 1 on a regression
  baseline   run every scenario (or read --results FILE) and rewrite baseline.json

Options:
  --scenario NAME    only this scenario (repeatable): ${SCENARIOS.map((s) => s.name).join(', ')}
  --duration S       seconds per measured run (default ${DEFAULT_SETTINGS.durationSeconds})
  --warmup S         seconds of unmeasured load first (default ${DEFAULT_SETTINGS.warmupSeconds})
  --connections N    connections for the steady-load scenarios and their floors
  --reps N           measured runs per figure, reduced to the median (default ${DEFAULT_SETTINGS.reps})
  --out DIR          where reports go (default loadtests/results)
  --results FILE     check/baseline: use this results file instead of running
  --baseline FILE    check/baseline: the baseline file (default loadtests/baseline.json)
`;

function positiveNumber(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a positive number, got ${value}`);
  return n;
}

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      scenario: { type: 'string', multiple: true },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      reps: { type: 'string' },
      out: { type: 'string' },
      results: { type: 'string' },
      baseline: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const command = positionals[0] ?? 'run';
  if (values.help || !['run', 'check', 'baseline'].includes(command)) {
    process.stdout.write(USAGE);
    return values.help ? 0 : 2;
  }
  const names = values.scenario ?? SCENARIOS.map((s) => s.name);
  for (const n of names) if (!SCENARIOS.some((s) => s.name === n)) throw new UsageError(`unknown scenario ${n}`);
  if (command !== 'run' && values.scenario) throw new UsageError(`${command} compares the whole suite; --scenario is for run`);

  const connections = positiveNumber('connections', values.connections);
  const settings: Settings = {
    durationSeconds: positiveNumber('duration', values.duration) ?? DEFAULT_SETTINGS.durationSeconds,
    warmupSeconds: values.warmup === '0' ? 0 : (positiveNumber('warmup', values.warmup) ?? DEFAULT_SETTINGS.warmupSeconds),
    reps: Math.round(positiveNumber('reps', values.reps) ?? DEFAULT_SETTINGS.reps),
    ...(connections ? { connections: Math.round(connections) } : {}),
    outDir: values.out ?? RESULTS_DIR,
    log: (line) => process.stderr.write(`${line}\n`),
  };

  let results: RunResults;
  if (values.results && command !== 'run') {
    results = JSON.parse(readFileSync(values.results, 'utf8')) as RunResults;
  } else {
    results = await runSuite(names, settings);
    const files = writeReports(results, settings.outDir);
    process.stdout.write(terminalReport(results));
    process.stdout.write(`\nreports: ${files.join(', ')}\n`);
  }

  const baselineFile = values.baseline ?? BASELINE_FILE;
  if (command === 'check') return checkAgainstBaseline(results, baselineFile);
  if (command === 'baseline') return writeBaseline(results, baselineFile);
  return Object.values(results.scenarios).some((r) => r.status === 'failed') ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const usage = err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`loadtest: ${err instanceof Error ? err.message : String(err)}\n${usage ? `\n${USAGE}` : ''}`);
    process.exit(usage ? 2 : 1);
  },
);
