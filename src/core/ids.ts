import { randomUUID, randomBytes } from 'node:crypto';

/** A request id in the UUID form Lambda uses. */
export function requestId(): string {
  return randomUUID();
}

/** A RevisionId: a fresh UUID on every change. */
export function revisionId(): string {
  return randomUUID();
}

/** 32 hex characters, as in a Lambda log stream name. */
export function streamSuffix(): string {
  return randomBytes(16).toString('hex');
}
