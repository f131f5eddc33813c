/**
 * `laminar serve` as its own process (`node dist/main.js serve`), for tests that signal or kill
 * the server: resolves once it says where it serves.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

export interface ServeProcess {
  child: ChildProcessWithoutNullStreams;
  url: string;
  /** Everything it printed on stdout so far. */
  output(): string;
}

export async function startServe(dataDir: string, extra: readonly string[] = []): Promise<ServeProcess> {
  const child = spawn(process.execPath, [MAIN, 'serve', '--port', '0', '--data-dir', dataDir, '--print-function-logs', 'false', ...extra], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const look = (): void => {
      const m = /serving the Lambda API on (http:\/\/\S+)/.exec(out);
      if (m) {
        child.stdout.off('data', look);
        resolve(m[1] as string);
      }
    };
    child.stdout.on('data', look);
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
  return { child, url, output: () => out };
}
