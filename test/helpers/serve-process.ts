import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

/** `laminar serve` as a process of its own (the compiled dist/main.js), as a user runs it. */
export interface ServeProcess {
  url: string;
  child: ChildProcessWithoutNullStreams;
  /** What it printed so far. */
  output(): string;
  /** Resolves with the exit code (or signal) once the process is gone. */
  exited: Promise<number | string | null>;
}

/** Starts `laminar serve --port 0 --data-dir DIR [args]` and resolves once it serves. */
export async function startServeProcess(dataDir: string, args: string[] = []): Promise<ServeProcess> {
  const child = spawn(process.execPath, [MAIN, 'serve', '--port', '0', '--data-dir', dataDir, '--print-function-logs', 'false', ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  const url = await new Promise<string>((resolve, reject) => {
    const look = () => {
      const m = /serving the Lambda API on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1] as string);
    };
    child.stdout.on('data', look);
    void exited.then((code) => reject(new Error(`laminar serve exited (${String(code)}) before serving:\n${out}`)));
  });
  return { url, child, output: () => out, exited };
}
