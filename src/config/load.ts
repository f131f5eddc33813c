import { readFileSync } from 'node:fs';
import { parseCredentials } from './credentials.js';
import { redactedRedisUrl, redisUrlProblem } from './redis-url.js';
import { SCHEMA, envName, type Config, type ConfigKey, type KeySpec } from './schema.js';

/** A configuration problem found at start; the message names the key and what to fix. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Raw = Record<string, unknown>;

const NODE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

function coerce(key: string, spec: KeySpec, value: unknown, source: string): string | number | boolean {
  const where = `${key} (from ${source})`;
  if (spec.type === 'boolean') {
    if (typeof value === 'boolean') return value;
    if (value === 'true' || value === '1') return true;
    if (value === 'false' || value === '0') return false;
    throw new ConfigError(`Invalid config ${where}: expected true or false, got ${JSON.stringify(value)}`);
  }
  if (spec.type === 'string') {
    if (typeof value !== 'string' || value === '') {
      throw new ConfigError(`Invalid config ${where}: expected a non-empty string, got ${JSON.stringify(value)}`);
    }
    if (spec.oneOf && !spec.oneOf.includes(value)) {
      throw new ConfigError(`Invalid config ${where}: must be one of ${spec.oneOf.join(', ')}, got ${JSON.stringify(value)}`);
    }
    return value;
  }
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  if (!Number.isFinite(n) || (spec.type === 'int' && !Number.isInteger(n))) {
    throw new ConfigError(`Invalid config ${where}: expected ${spec.type === 'int' ? 'an integer' : 'a number'}, got ${JSON.stringify(value)}`);
  }
  if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) {
    throw new ConfigError(`Invalid config ${where}: ${n} is outside the allowed range [${spec.min}, ${spec.max}]`);
  }
  return n;
}

export interface ConfigSources {
  /** Path of a JSON config file (`--config`). */
  file?: string;
  /** The process environment; only `LAMINAR_*` keys are read. */
  env?: NodeJS.ProcessEnv;
  /** Values from command-line flags, by config key. */
  flags?: Raw;
}

/**
 * Merges defaults < config file < LAMINAR_* environment < flags, validates every key and the
 * rules between keys, and returns a frozen Config. Unknown keys fail, so typos do not pass silently.
 */
export function loadConfig(sources: ConfigSources = {}): Config {
  const merged: Record<string, string | number | boolean | undefined> = {};
  for (const [key, spec] of Object.entries(SCHEMA) as [ConfigKey, KeySpec][]) merged[key] = spec.default;

  const apply = (raw: Raw, source: string) => {
    for (const [key, value] of Object.entries(raw)) {
      if (value === undefined) continue;
      const spec = (SCHEMA as Record<string, KeySpec>)[key];
      if (!spec) throw new ConfigError(`Unknown config key ${key} (from ${source}). Known keys: ${Object.keys(SCHEMA).join(', ')}`);
      merged[key] = coerce(key, spec, value, source);
    }
  };

  if (sources.file) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(sources.file, 'utf8'));
    } catch (err) {
      throw new ConfigError(`Cannot read config file ${sources.file}: ${(err as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new ConfigError(`Config file ${sources.file} must hold a JSON object of keys`);
    }
    apply(parsed as Raw, sources.file);
  }
  if (sources.env) {
    const known = new Map(Object.keys(SCHEMA).map((k) => [envName(k), k]));
    const fromEnv: Raw = {};
    for (const [name, value] of Object.entries(sources.env)) {
      if (!name.startsWith('LAMINAR_')) continue;
      const key = known.get(name);
      if (!key) throw new ConfigError(`Unknown environment variable ${name}. Known: ${[...known.keys()].join(', ')}`);
      fromEnv[key] = value;
    }
    apply(fromEnv, 'environment');
  }
  if (sources.flags) apply(sources.flags, 'flags');

  const config = merged as unknown as Config;
  if (!/^\d{12}$/.test(config.accountId)) throw new ConfigError(`Invalid config accountId: must be 12 digits, got ${config.accountId}`);
  if (config.unreservedConcurrencyMinimum > config.regionalConcurrencyLimit) {
    throw new ConfigError(
      `Invalid config unreservedConcurrencyMinimum: ${config.unreservedConcurrencyMinimum} exceeds regionalConcurrencyLimit ${config.regionalConcurrencyLimit}`,
    );
  }
  // A stream's file is rotated at half the retention; that half must hold a whole invocation's
  // log, its Init included, or the newest invocation could be the part that is dropped.
  if (config.logRetentionBytes < 4 * config.logBytesPerInvocation) {
    throw new ConfigError(
      `Invalid config logRetentionBytes: ${config.logRetentionBytes} is less than 4 × logBytesPerInvocation (${4 * config.logBytesPerInvocation})`,
    );
  }
  if (config.redisUrl !== undefined) {
    const problem = redisUrlProblem(config.redisUrl);
    if (problem) {
      throw new ConfigError(
        `Invalid config redisUrl: ${JSON.stringify(redactedRedisUrl(config.redisUrl))} ${problem}; expected redis://host:port or rediss://host:port (optionally with user:password@ and /db)`,
      );
    }
  }
  // The id is a Redis key part and a Prometheus label value on every series.
  if (config.nodeId !== undefined && !NODE_ID.test(config.nodeId)) {
    throw new ConfigError(`Invalid config nodeId: ${JSON.stringify(config.nodeId)} must be 1 to 128 letters, digits, '.', '_', ':' or '-'`);
  }
  try {
    parseCredentials(config.functionUrlCredentials);
  } catch (err) {
    throw new ConfigError(`Invalid config functionUrlCredentials: ${(err as Error).message} (pairs separated by commas)`);
  }
  return Object.freeze(config);
}
