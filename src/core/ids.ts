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

const URL_ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** A function URL id: 32 lowercase letters and digits, as in `<url-id>.lambda-url.<region>.on.aws`. */
export function urlId(): string {
  // 252 is the largest multiple of 36 below 256: bytes above it are drawn again, so every
  // character is equally likely.
  let out = '';
  while (out.length < 32) {
    for (const b of randomBytes(48)) {
      if (b < 252 && out.length < 32) out += URL_ID_ALPHABET[b % 36];
    }
  }
  return out;
}
