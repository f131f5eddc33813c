import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/load.js';
import { envName, flagName } from '../../../src/config/schema.js';

describe('loadConfig', () => {
  it('has defaults: loopback, port 9000, Lambda limits', () => {
    const c = loadConfig();
    expect(c.host).toBe('127.0.0.1');
    expect(c.port).toBe(9000);
    expect(c.listenBacklog).toBe(4096);
    expect(c.regionalConcurrencyLimit).toBe(1000);
    expect(c.unreservedConcurrencyMinimum).toBe(100);
    expect(c.environmentIdleTimeoutSeconds).toBe(600);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('merges defaults < file < LAMINAR_* environment < flags', () => {
    const dir = mkdtempSync(join(tmpdir(), 'laminar-config-'));
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ port: 1111, regionalConcurrencyLimit: 500, hostMemoryMb: 4096 }));
    const c = loadConfig({ file, env: { LAMINAR_PORT: '2222', LAMINAR_REGIONAL_CONCURRENCY_LIMIT: '600', HOME: '/x' }, flags: { port: '3333' } });
    expect(c.port).toBe(3333);
    expect(c.regionalConcurrencyLimit).toBe(600);
    expect(c.hostMemoryMb).toBe(4096);
  });

  it('names the bad key and the allowed values', () => {
    expect(() => loadConfig({ flags: { port: 'abc' } })).toThrow(/port \(from flags\): expected an integer/);
    expect(() => loadConfig({ env: { LAMINAR_PORT: '70000' } })).toThrow(/port \(from environment\).*\[0, 65535\]/);
    expect(() => loadConfig({ env: { LAMINAR_LISTEN_BACKLOG: '0' } })).toThrow(/listenBacklog \(from environment\).*\[1, 65535\]/);
    expect(() => loadConfig({ env: { LAMINAR_PROT: '1' } })).toThrow(/Unknown environment variable LAMINAR_PROT/);
    expect(() => loadConfig({ flags: { colour: 'red' } })).toThrow(ConfigError);
    expect(() => loadConfig({ flags: { logLevel: 'loud' } })).toThrow(/logLevel.*one of/);
    expect(() => loadConfig({ flags: { regionalConcurrencyLimit: 10, unreservedConcurrencyMinimum: 20 } })).toThrow(/unreservedConcurrencyMinimum/);
  });

  it('functionUrlCredentials: unset by default, ACCESS_KEY_ID:SECRET pairs, refused without saying the secret', () => {
    expect(loadConfig().functionUrlCredentials).toBeUndefined();
    expect(loadConfig({ env: { LAMINAR_FUNCTION_URL_CREDENTIALS: 'AKID1:s3cr:et,AKID2:other' } }).functionUrlCredentials).toBe('AKID1:s3cr:et,AKID2:other');
    expect(() => loadConfig({ flags: { functionUrlCredentials: 'AKID1:secret,justakey' } })).toThrow(/functionUrlCredentials: entry 2 is not ACCESS_KEY_ID:SECRET_ACCESS_KEY/);
    expect(() => loadConfig({ flags: { functionUrlCredentials: 'AKID1:secret,AKID1:again' } })).toThrow(/access key AKID1 is given twice/);
    let message = '';
    try {
      loadConfig({ flags: { functionUrlCredentials: 'AKID1:hunter2,' } });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/entry 2 is not/);
    expect(message).not.toMatch(/hunter2/);
  });

  it('isolation: process by default, thread from LAMINAR_ISOLATION or --isolation, nothing else', () => {
    expect(loadConfig().isolation).toBe('process');
    expect(loadConfig({ env: { LAMINAR_ISOLATION: 'thread' } }).isolation).toBe('thread');
    expect(loadConfig({ env: { LAMINAR_ISOLATION: 'thread' }, flags: { isolation: 'process' } }).isolation).toBe('process');
    expect(loadConfig().sandbox).toBe('auto');
    expect(loadConfig({ env: { LAMINAR_SANDBOX: 'off' } }).sandbox).toBe('off');
    expect(() => loadConfig({ flags: { sandbox: 'maybe' } })).toThrow(/sandbox \(from flags\): must be one of auto, off/);
    expect(() => loadConfig({ flags: { isolation: 'vm' } })).toThrow(/isolation \(from flags\): must be one of thread, process/);
    expect(flagName('isolation')).toBe('--isolation');
  });

  it('log bounds: 1 MiB per invocation, 16 MiB per function, the retention at least four invocations', () => {
    const c = loadConfig();
    expect(c.logBytesPerInvocation).toBe(1024 * 1024);
    expect(c.logRetentionBytes).toBe(16 * 1024 * 1024);
    expect(loadConfig({ env: { LAMINAR_LOG_BYTES_PER_INVOCATION: '65536', LAMINAR_LOG_RETENTION_BYTES: '262144' } })).toMatchObject({
      logBytesPerInvocation: 65536,
      logRetentionBytes: 262144,
    });
    expect(() => loadConfig({ flags: { logBytesPerInvocation: 8 * 1024 * 1024 } })).toThrow(
      /logRetentionBytes: 16777216 is less than 4 × logBytesPerInvocation \(33554432\)/,
    );
    expect(() => loadConfig({ flags: { logBytesPerInvocation: 100 } })).toThrow(/logBytesPerInvocation \(from flags\).*\[4096, /);
  });

  it('maps keys to environment variables and flags', () => {
    expect(envName('hostMemoryMb')).toBe('LAMINAR_HOST_MEMORY_MB');
    expect(flagName('dataDir')).toBe('--data-dir');
  });
});
