import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The prometheus binary, or undefined when it is not installed. */
export function prometheusBinary(): string | undefined {
  try {
    execFileSync('prometheus', ['--version'], { stdio: 'pipe' });
    return 'prometheus';
  } catch {
    return undefined;
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export interface PrometheusResult {
  status: string;
  error?: string;
  data?: { resultType: string; result: unknown[] };
}

export interface PrometheusHandle {
  url: string;
  /** Evaluates `expr` now, or at `time` (Unix seconds) so that several queries see the same samples. */
  query(expr: string, time?: number): Promise<PrometheusResult>;
  stop(): Promise<void>;
}

/** Starts a real Prometheus on loopback scraping `target` (host:port, or several) every second. */
export async function startPrometheus(target: string | string[]): Promise<PrometheusHandle> {
  const targets = [target].flat().map((t) => `'${t}'`).join(', ');
  const dir = mkdtempSync(join(tmpdir(), 'laminar-prom-'));
  const port = await freePort();
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: laminar\n    static_configs:\n      - targets: [${targets}]\n`,
  );
  const child: ChildProcess = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--enable-feature=exemplar-storage',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/-/ready`)).ok) break;
    } catch {
      // not listening yet
    }
    if (i > 150 || child.exitCode !== null) throw new Error(`prometheus did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    async query(expr, time) {
      const at = time === undefined ? '' : `&time=${time}`;
      const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}${at}`);
      return (await res.json()) as PrometheusResult;
    },
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
