import { appendFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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

  it('with --follow, reads across a rotation without printing anything twice or skipping it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'laminar-logs-'));
    dirs.push(root);
    mkdirSync(join(root, 'fn'));
    const file = join(root, 'fn', 'a.log');
    writeFileSync(file, 'one\n');
    let out = '';
    const stop = new AbortController();
    const following = showLogs(root, 'fn', { follow: true, write: (s) => (out += s), signal: stop.signal, pollMs: 5 });
    const printed = async (text: string): Promise<void> => {
      const until = Date.now() + 5000;
      while (out !== text && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
      expect(out).toBe(text);
    };
    await printed('one\n');
    // The server rotates: the file keeps its identity under the .1 name (a late write lands there),
    // and the stream starts a new file under the old name.
    renameSync(file, join(root, 'fn', 'a.1.log'));
    appendFileSync(join(root, 'fn', 'a.1.log'), 'two\n');
    await printed('one\ntwo\n');
    writeFileSync(file, 'three\n');
    await printed('one\ntwo\nthree\n');
    stop.abort();
    await following;
  });

  it('prints a rotated stream in order: its .1.log part, then the current file', async () => {
    const root = mkdtempSync(join(tmpdir(), 'laminar-logs-'));
    dirs.push(root);
    mkdirSync(join(root, 'fn'));
    writeFileSync(join(root, 'fn', 'a.log'), 'newer\n');
    writeFileSync(join(root, 'fn', 'a.1.log'), 'older\n');
    let out = '';
    await showLogs(root, 'fn', { write: (s) => (out += s) });
    expect(out).toBe('older\nnewer\n');
  });

  it('says so when a function has no logs', async () => {
    const root = mkdtempSync(join(tmpdir(), 'laminar-logs-'));
    dirs.push(root);
    await expect(showLogs(root, 'nothing', { write: () => undefined })).rejects.toThrow(/No logs for function nothing/);
  });
});
