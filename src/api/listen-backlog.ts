import { readFileSync } from 'node:fs';

/**
 * The kernel's cap on a listening socket's accept queue (Linux `net.core.somaxconn`), or
 * undefined where it cannot be read. listen(2) silently truncates a larger backlog to it.
 */
export function somaxconn(): number | undefined {
  try {
    const n = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}
