import { ConfigError, loadConfig } from '../config/load.js';
import { SCHEMA, flagName } from '../config/schema.js';
import { openLaminar } from '../app.js';
import { deployFolders } from './deploy-folders.js';
import { RedisUnreachableError } from '../cluster/connection.js';
import { EventDatabaseError } from '../async/sqlite-queue.js';
import { DataDirError } from '../registry/data-dir.js';

/** Flags accepted by `serve`: every config key as --kebab-case, plus --config and --functions. */
export function serveFlagOptions(): Record<string, { type: 'string' }> {
  const out: Record<string, { type: 'string' }> = { config: { type: 'string' }, functions: { type: 'string' } };
  for (const key of Object.keys(SCHEMA)) out[flagName(key).slice(2)] = { type: 'string' };
  return out;
}

function flagsToConfig(values: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(SCHEMA)) {
    const v = values[flagName(key).slice(2)];
    if (v !== undefined) out[key] = v;
  }
  if (values.functions !== undefined) out.functionsDir = values.functions;
  return out;
}

/** `laminar serve`: loads config, deploys --functions, listens, and shuts down cleanly on SIGTERM/SIGINT. */
export async function serve(values: Record<string, unknown>): Promise<void> {
  let config;
  try {
    config = loadConfig({
      ...(typeof values.config === 'string' ? { file: values.config } : {}),
      env: process.env,
      flags: flagsToConfig(values),
    });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`laminar: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  let laminar;
  try {
    laminar = await openLaminar(config);
  } catch (err) {
    // Redis unreachable in cluster mode, another server on the data dir, a damaged registry, event
    // queue or autoscaling database: the message says what to do.
    if (err instanceof RedisUnreachableError || err instanceof DataDirError || err instanceof EventDatabaseError) {
      process.stderr.write(`laminar: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  if (config.functionsDir) {
    const names = await deployFolders(laminar, config.functionsDir);
    process.stdout.write(`laminar: deployed ${names.length} function(s) from ${config.functionsDir}: ${names.join(', ')}\n`);
  }
  const url = await laminar.listen();
  // Before the serving line, which tells a supervisor (and tests) that the start is complete.
  if (laminar.cluster) {
    process.stdout.write(`laminar: cluster node ${laminar.cluster.id ?? '?'} on Redis ${laminar.cluster.url} (lease ${config.clusterLeaseSeconds} s)\n`);
  }
  process.stdout.write(`laminar: serving the Lambda API on ${url} (data in ${config.dataDir})\n`);
  process.stdout.write(`laminar: process environments: ${laminar.isolation.description}\n`);
  for (const warning of laminar.isolation.warnings) process.stderr.write(`laminar: warning: ${warning}\n`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`laminar: ${signal} received, draining\n`);
    laminar.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`laminar: shutdown failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
