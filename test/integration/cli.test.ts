import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, deployFixture, startLaminar, type Harness } from '../helpers/laminar.js';

const run = promisify(execFile);
const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

/** The AWS CLI's major version, or 0 when it is not installed. */
function awsCliMajor(): number {
  try {
    const out = execFileSync('aws', ['--version'], { stdio: 'pipe' }).toString();
    return Number(/aws-cli\/(\d+)/.exec(out)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

let h: Harness;
beforeAll(async () => {
  h = await startLaminar();
});
afterAll(async () => h.close());

describe('laminar CLI', () => {
  it('deploys a folder, invokes it and shows its logs', async () => {
    const env = { ...process.env, LAMINAR_ENDPOINT: h.url };
    const deployed = await run(process.execPath, [MAIN, 'deploy', join(FIXTURES, 'echo'), '--name', 'cli-echo', '--env', 'GREETING=cli', '--memory', '256'], { env });
    const config = JSON.parse(deployed.stdout) as { FunctionName: string; MemorySize: number; State: string };
    expect(config).toMatchObject({ FunctionName: 'cli-echo', MemorySize: 256, State: 'Active' });

    const invoked = await run(process.execPath, [MAIN, 'invoke', 'cli-echo', '--payload', '{"from":"cli"}'], { env });
    const body = JSON.parse(invoked.stdout) as { event: unknown; env: Record<string, string> };
    expect(body.event).toEqual({ from: 'cli' });
    expect(body.env.GREETING).toBe('cli');

    const logs = await run(process.execPath, [MAIN, 'logs', 'cli-echo', '--data-dir', h.dataDir]);
    expect(logs.stdout).toMatch(/START RequestId: [0-9a-f-]{36} Version: \$LATEST/);
    expect(logs.stdout).toMatch(/REPORT RequestId: /);
  });

  it('exits non-zero with a clear message on a bad command', async () => {
    await expect(run(process.execPath, [MAIN, 'frobnicate'])).rejects.toMatchObject({ code: 2 });
  });
});

describe('AWS CLI compatibility', () => {
  const major = awsCliMajor();
  const available = major > 0;
  // In CI the AWS CLI is installed by .ci/run, so this test always runs there.
  it.skipIf(!available && !process.env.CI)('aws lambda invoke works unchanged against Laminar', async () => {
    const name = await deployFixture(h.client, 'echo');
    const dir = mkdtempSync(join(tmpdir(), 'laminar-awscli-'));
    try {
      const out = join(dir, 'out.json');
      const env = { ...process.env, AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', AWS_DEFAULT_REGION: 'us-east-1', AWS_PAGER: '' };
      const res = await run(
        'aws',
        [
          'lambda', 'invoke', '--endpoint-url', h.url, '--function-name', name,
          // v2 reads --payload as base64 unless told otherwise; v1 takes it raw.
          ...(major >= 2 ? ['--cli-binary-format', 'raw-in-base64-out'] : []),
          '--payload', '{"via":"awscli"}', out,
        ],
        { env },
      );
      expect(JSON.parse(res.stdout)).toMatchObject({ StatusCode: 200, ExecutedVersion: '$LATEST' });
      expect((JSON.parse(readFileSync(out, 'utf8')) as { event: unknown }).event).toEqual({ via: 'awscli' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
