import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readFolderSettings } from '../../../src/cli/package-folder.js';

const dirs: string[] = [];
function folderWith(settings: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'laminar-settings-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'laminar.json'), settings);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('laminar.json', () => {
  it('is checked against the same shape as CreateFunction', () => {
    const dir = folderWith(JSON.stringify({ MemorySize: 'abc' }));
    expect(() => readFolderSettings(dir)).toThrow(`${join(dir, 'laminar.json')}: Could not deserialize the request: 'MemorySize' must be an integer, not a string.`);
    expect(() => readFolderSettings(folderWith(JSON.stringify({ Timeout: 0 })))).toThrow(
      "1 validation error detected: Value '0' at 'timeout' failed to satisfy constraint: Member must have value greater than or equal to 1",
    );
    expect(() => readFolderSettings(folderWith('[1]'))).toThrow(/must be a JSON object/);
    expect(() => readFolderSettings(folderWith('{nope'))).toThrow(/laminar\.json is not valid JSON/);
  });

  it('keeps the settings it knows and drops the rest', () => {
    const dir = folderWith(JSON.stringify({ Handler: 'app.handler', MemorySize: 256, Comment: 'not a setting' }));
    expect(readFolderSettings(dir)).toEqual({ Handler: 'app.handler', MemorySize: 256 });
  });
});
