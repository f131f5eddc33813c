import type { SandboxCgroups } from './sandbox-host.js';

export function openCgroups(_dataDir: string): SandboxCgroups | { unavailable: string } {
  return { unavailable: 'pending' };
}
