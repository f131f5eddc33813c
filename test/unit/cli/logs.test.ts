import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { showLogs } from '../../../src/cli/logs.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('laminar logs', () => {
  it('prints every stream of a function, and with --follow keeps printing what is appended', async () => {
    const root = mkdtempSync(join(tmpdir(), 'laminar-logs-'));
    dirs.push(root);
    mkdirSync(join(root, 'fn'));
    writeFileSync(join(root, 'fn', 'a.log'), 'START RequestId: 1 Version: $LATEST\n');
    let out = '';
    const stop = new AbortController();
    const following = showLogs(root, 'fn', { follow: true, write: (s) => (out += s), signal: stop.signal, pollMs: 10 });
    await new Promise((r) => setTimeout(r, 30));
    expect(out).toBe('START RequestId: 1 Version: $LATEST\n');
    appendFileSync(join(root, 'fn', 'a.log'), 'END RequestId: 1\n');
    writeFileSync(join(root, 'fn', 'b.log'), 'START RequestId: 2 Version: 1\n');
    await new Promise((r) => setTimeout(r, 60));
    stop.abort();
    await following;
    expect(out).toBe('START RequestId: 1 Version: $LATEST\nEND RequestId: 1\nSTART RequestId: 2 Version: 1\n');
  });

  it('says so when a function has no logs', async () => {
    const root = mkdtempSync(join(tmpdir(), 'laminar-logs-'));
    dirs.push(root);
    await expect(showLogs(root, 'nothing', { write: () => undefined })).rejects.toThrow(/No logs for function nothing/);
  });
});
