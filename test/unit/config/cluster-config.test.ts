import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/load.js';
import { redactedRedisUrl } from '../../../src/config/redis-url.js';
import { SCHEMA, envName, flagName } from '../../../src/config/schema.js';

describe('cluster configuration', () => {
  it('is embedded by default: no redisUrl, no nodeId, a 15 s lease', () => {
    const c = loadConfig();
    expect(c.redisUrl).toBeUndefined();
    expect(c.nodeId).toBeUndefined();
    expect(c.clusterLeaseSeconds).toBe(15);
  });

  it('reads --redis-url, LAMINAR_REDIS_URL and the file, flags winning', () => {
    expect(flagName('redisUrl')).toBe('--redis-url');
    expect(envName('redisUrl')).toBe('LAMINAR_REDIS_URL');
    expect(flagName('clusterLeaseSeconds')).toBe('--cluster-lease-seconds');
    expect(envName('nodeId')).toBe('LAMINAR_NODE_ID');
    expect(loadConfig({ env: { LAMINAR_REDIS_URL: 'redis://10.0.0.5:6379' } }).redisUrl).toBe('redis://10.0.0.5:6379');
    const c = loadConfig({
      env: { LAMINAR_REDIS_URL: 'redis://10.0.0.5:6379', LAMINAR_CLUSTER_LEASE_SECONDS: '5', LAMINAR_NODE_ID: 'a' },
      flags: { redisUrl: 'rediss://user:pw@redis.internal:6380/2', nodeId: 'web-1.example:9000' },
    });
    expect(c).toMatchObject({ redisUrl: 'rediss://user:pw@redis.internal:6380/2', clusterLeaseSeconds: 5, nodeId: 'web-1.example:9000' });
  });

  it('accepts redis:// and rediss:// URLs with or without a port, credentials and a database', () => {
    for (const url of ['redis://127.0.0.1', 'redis://127.0.0.1:6379', 'redis://localhost:6379/', 'redis://:pw@h:1/15', 'rediss://u:p@h.example:6380', 'redis://[::1]:6379']) {
      expect(loadConfig({ flags: { redisUrl: url } }).redisUrl).toBe(url);
    }
  });

  it('refuses anything else, naming redisUrl and never printing the password', () => {
    const refused: [string, RegExp][] = [
      ['http://127.0.0.1:6379', /has the scheme http/],
      ['127.0.0.1:6379', /has the scheme 127\.0\.0\.1|is not a URL/],
      ['localhost', /is not a URL/],
      ['redis://', /names no host/],
      ['redis://h:6379/queue', /has a path that is not a database number/],
      ['redis://h:6379?db=1', /has a query or fragment/],
      ['redis://h:99999', /is not a URL/],
    ];
    for (const [url, why] of refused) {
      expect(() => loadConfig({ flags: { redisUrl: url } }), url).toThrow(ConfigError);
      expect(() => loadConfig({ flags: { redisUrl: url } }), url).toThrow(/^Invalid config redisUrl: /);
      expect(() => loadConfig({ flags: { redisUrl: url } }), url).toThrow(why);
    }
    let message = '';
    try {
      loadConfig({ env: { LAMINAR_REDIS_URL: 'http://admin:hunter2@h:6379' } });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/redisUrl: "http:\/\/\*\*\*@h:6379" has the scheme http/);
    expect(message).not.toMatch(/hunter2/);
    expect(() => loadConfig({ flags: { redisUrl: '' } })).toThrow(/redisUrl \(from flags\): expected a non-empty string/);
  });

  it('clusterLeaseSeconds is at least 1', () => {
    expect(loadConfig({ flags: { clusterLeaseSeconds: '1' } }).clusterLeaseSeconds).toBe(1);
    expect(loadConfig({ flags: { clusterLeaseSeconds: '2.5' } }).clusterLeaseSeconds).toBe(2.5);
    expect(() => loadConfig({ flags: { clusterLeaseSeconds: '0.5' } })).toThrow(/clusterLeaseSeconds \(from flags\): 0.5 is outside the allowed range \[1, 3600\]/);
    expect(() => loadConfig({ env: { LAMINAR_CLUSTER_LEASE_SECONDS: 'soon' } })).toThrow(/clusterLeaseSeconds \(from environment\): expected a number/);
  });

  it('nodeId is letters, digits and . _ : - only, at most 128', () => {
    expect(loadConfig({ flags: { nodeId: 'eu-1_node.3:9000' } }).nodeId).toBe('eu-1_node.3:9000');
    expect(loadConfig({ flags: { nodeId: 'n'.repeat(128) } }).nodeId).toHaveLength(128);
    for (const bad of ['has space', 'quote"d', 'a{b}', 'n'.repeat(129), 'node/1']) {
      expect(() => loadConfig({ flags: { nodeId: bad } }), bad).toThrow(/^Invalid config nodeId: /);
    }
  });
});

describe("README's configuration table", () => {
  const readme = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');
  const rows = new Map(
    readme
      .split('\n')
      .map((line) => /^\| `([A-Za-z]+)` \| `(--[a-z-]+)` \| `(LAMINAR_[A-Z_]+)` \|/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1] as string, { flag: m[2], env: m[3] }]),
  );

  it('has a row for every key with its flag and environment variable, and no row for a key that does not exist', () => {
    for (const key of Object.keys(SCHEMA)) {
      const row = rows.get(key);
      expect(row, `README row for ${key}`).toBeDefined();
      // `serve --functions DIR` is the documented short form of --functions-dir.
      expect(row?.flag, key).toBe(key === 'functionsDir' ? '--functions' : flagName(key));
      expect(row?.env, key).toBe(envName(key));
    }
    expect([...rows.keys()].filter((k) => !(k in SCHEMA))).toEqual([]);
  });
});

describe('redactedRedisUrl', () => {
  it('masks user and password, malformed URLs included, and leaves URLs without them alone', () => {
    expect(redactedRedisUrl('redis://127.0.0.1:6379/1')).toBe('redis://127.0.0.1:6379/1');
    expect(redactedRedisUrl('redis://admin:hunter2@h:6379')).toBe('redis://***@h:6379');
    expect(redactedRedisUrl('rediss://:hunter2@h')).toBe('rediss://***@h');
    expect(redactedRedisUrl('redis:/:hunter2@h')).toBe('redis:/***@h');
    expect(redactedRedisUrl('redis://u:pa/ss@w@h')).toBe('redis://***@h');
    expect(redactedRedisUrl('admin:hunter2@h:6379')).toBe('admin:***@h:6379');
  });
});
