/**
 * Child processes of a load test: Laminar itself, the floor servers and the raw-worker probe.
 * The load generator never shares a process (or an event loop) with the server it measures.
 * Every child is registered so that a crash or Ctrl-C of the runner does not leave servers behind.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';

const live = new Set<ChildProcess>();
let hooksInstalled = false;

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      for (const child of live) child.kill('SIGKILL');
      process.exit(130);
    });
  }
}

export interface Child {
  readonly process: ChildProcess;
  /** What matched `readyPattern`'s first group (e.g. the URL). */
  readonly ready: string;
  /** Everything the child wrote to stderr so far (for error messages). */
  stderr(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
}

export interface StartOptions {
  /** Arguments to `node`. */
  args: string[];
  /** A line of stdout that means "ready"; group 1 is returned as `ready`. */
  readyPattern: RegExp;
  timeoutMs?: number;
  spawnOptions?: SpawnOptions;
  /** Called with each stdout line after ready (e.g. to surface warnings). */
  onLine?: (line: string) => void;
}

/** Starts `node ...args` and waits for its ready line. */
export async function startNode(options: StartOptions): Promise<Child> {
  installExitHooks();
  const child = spawn(process.execPath, options.args, { stdio: ['ignore', 'pipe', 'pipe'], ...options.spawnOptions });
  live.add(child);
  child.once('exit', () => live.delete(child));
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    // Keep only the tail: a chatty child must not grow the runner's heap during a long run.
    stderr = (stderr + chunk).slice(-16_384);
  });

  const ready = await new Promise<string>((resolve, reject) => {
    let buffered = '';
    let found = false;
    const timer = setTimeout(() => fail(new Error(`timed out after ${options.timeoutMs ?? 20_000} ms`)), options.timeoutMs ?? 20_000);
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`node ${options.args.join(' ')} did not start: ${err.message}\n${stderr}`));
    };
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (found) {
          options.onLine?.(line);
          continue;
        }
        const m = options.readyPattern.exec(line);
        if (m) {
          found = true;
          clearTimeout(timer);
          resolve(m[1] ?? line);
        }
      }
    });
    child.once('exit', (code, signal) => {
      if (!found) fail(new Error(`exited early (code ${code}, signal ${signal})`));
    });
    child.once('error', fail);
  });

  return {
    process: child,
    ready,
    stderr: () => stderr,
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const [code] = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
