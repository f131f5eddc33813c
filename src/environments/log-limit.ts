/**
 * Bounds a function's output while it streams, so what a function prints costs the server a
 * fixed amount of memory whatever it writes: every kind of environment passes its output through
 * one of these and keeps only what comes out.
 *
 * - A line longer than `LOG_LINE_BYTES` keeps its first `LOG_LINE_BYTES` and ends with a marker
 *   that counts the bytes cut from it. CloudWatch refuses events above 256 KB, so a longer line
 *   could never have been stored whole there either.
 * - A phase (one Init, one invocation) keeps at most `phaseBytes`, markers of cut lines
 *   included. Past that, output is counted and dropped as it arrives, and `end()` closes the
 *   phase with one line saying how many bytes were dropped.
 *
 * The first bytes are kept rather than the last: they are known to be kept the moment they
 * arrive, so nothing needs holding back, and they show how a runaway invocation started.
 * Bytes are UTF-8 bytes; a cut never splits a character.
 */

/** The longest line kept whole (CloudWatch Logs' event size limit, 256 KiB). */
export const LOG_LINE_BYTES = 256 * 1024;

/** Output kept per Init and per invocation when nothing else is configured (config `logBytesPerInvocation`). */
export const DEFAULT_LOG_BYTES_PER_INVOCATION = 1024 * 1024;

/** What ends a line cut at `LOG_LINE_BYTES` (the newline follows). */
export function lineTruncatedMarker(droppedBytes: number): string {
  return `… [Laminar: line truncated, ${droppedBytes} bytes dropped]`;
}

/** The line that closes a phase whose output went past its budget. */
export function outputTruncatedLine(droppedBytes: number, phaseBytes: number): string {
  return `[Laminar: output truncated, ${droppedBytes} bytes dropped beyond logBytesPerInvocation (${phaseBytes} bytes)]\n`;
}

export class LogLimiter {
  /** Bytes passed on in this phase. */
  private kept = 0;
  /** Bytes of the function's output dropped because the phase's budget was spent. */
  private droppedBytes = 0;
  /** The budget is spent: the rest of the phase is only counted. */
  private full = false;
  /** Bytes of the current line so far, kept or cut. */
  private lineBytes = 0;
  /** Bytes cut from the current line by the line limit. */
  private lineCut = 0;
  /** Part of the current line was passed on and its newline was not. */
  private lineOpen = false;

  constructor(
    readonly phaseBytes: number,
    readonly lineLimitBytes: number = LOG_LINE_BYTES,
  ) {}

  /** Bytes dropped so far in this phase by the phase budget (lines cut are counted by their markers). */
  get dropped(): number {
    return this.droppedBytes;
  }

  /** The part of `text` to keep, with the markers of lines cut in it. */
  write(text: string): string {
    if (text === '') return '';
    if (this.full) {
      this.droppedBytes += Buffer.byteLength(text);
      return '';
    }
    const bytes = Buffer.byteLength(text);
    // The common case, whole short lines well within the budget, costs one length and one search.
    if (this.lineCut === 0 && this.lineBytes + bytes <= this.lineLimitBytes && this.kept + bytes <= this.phaseBytes) {
      this.kept += bytes;
      const nl = text.lastIndexOf('\n');
      if (nl === text.length - 1) this.lineBytes = 0;
      else this.lineBytes = nl === -1 ? this.lineBytes + bytes : Buffer.byteLength(text.slice(nl + 1));
      this.lineOpen = nl !== text.length - 1;
      return text;
    }
    let out = '';
    let at = 0;
    while (at < text.length) {
      const nl = text.indexOf('\n', at);
      const end = nl === -1 ? text.length : nl;
      if (end > at) out += this.content(text.slice(at, end));
      // Once the budget is spent, the rest (this newline included) only needs counting.
      if (this.full) return out + this.drop(text.slice(end));
      if (nl === -1) break;
      out += this.newline();
      at = nl + 1;
      if (this.full) return out + this.drop(text.slice(at));
    }
    return out;
  }

  /**
   * Closes the phase: ends an open line, adds the drop marker when the budget was exceeded, and
   * starts the next phase afresh. Returns the text to append (possibly '').
   */
  end(): string {
    let out = '';
    if (!this.full && this.lineCut > 0) {
      // A cut line that never got its newline gets its marker now, if the marker fits.
      const marker = lineTruncatedMarker(this.lineCut);
      if (this.kept + Buffer.byteLength(marker) <= this.phaseBytes) out += marker;
      else this.spend(0);
    }
    if (this.lineOpen || out !== '') out += '\n';
    if (this.full) out += outputTruncatedLine(this.droppedBytes, this.phaseBytes);
    this.reset();
    return out;
  }

  /** Starts the next phase without closing this one (its output is being thrown away). */
  reset(): void {
    this.kept = 0;
    this.droppedBytes = 0;
    this.full = false;
    this.lineBytes = 0;
    this.lineCut = 0;
    this.lineOpen = false;
  }

  /** A piece of one line, without newlines. */
  private content(piece: string): string {
    const bytes = Buffer.byteLength(piece);
    const lineRoom = Math.max(0, this.lineLimitBytes - this.lineBytes);
    this.lineBytes += bytes;
    if (bytes <= lineRoom) return this.pass(piece, bytes);
    const head = utf8Head(piece, lineRoom);
    this.lineCut += bytes - head.bytes;
    return head.bytes === 0 ? '' : this.pass(head.text, head.bytes);
  }

  /** Keeps what fits in the phase's budget; the first byte that does not fill it. */
  private pass(text: string, bytes: number): string {
    const room = this.phaseBytes - this.kept;
    if (bytes <= room) {
      this.kept += bytes;
      this.lineOpen = true;
      return text;
    }
    const head = utf8Head(text, room);
    this.kept += head.bytes;
    if (head.bytes > 0) this.lineOpen = true;
    this.spend(bytes - head.bytes);
    return head.text;
  }

  /** The end of a line: its marker if it was cut, then the newline, all within the budget. */
  private newline(): string {
    const marker = this.lineCut > 0 ? lineTruncatedMarker(this.lineCut) : '';
    const bytes = Buffer.byteLength(marker) + 1;
    let out = '';
    if (this.kept + bytes <= this.phaseBytes) {
      this.kept += bytes;
      out = marker + '\n';
      this.lineOpen = false;
    } else {
      // No room for the marker: the line's cut bytes are reported by the phase's marker instead.
      this.spend(1);
    }
    this.lineBytes = 0;
    this.lineCut = 0;
    return out;
  }

  /**
   * Spends the budget: `droppedBytes` more are dropped, and so are the bytes already cut from
   * the current line, whose own marker will not be written now.
   */
  private spend(droppedBytes: number): void {
    this.full = true;
    this.droppedBytes += droppedBytes + this.lineCut;
    this.lineCut = 0;
  }

  private drop(rest: string): string {
    if (rest !== '') this.droppedBytes += Buffer.byteLength(rest);
    return '';
  }
}

/** The longest prefix of `text` of at most `maxBytes` UTF-8 bytes that ends on a whole character. */
export function utf8Head(text: string, maxBytes: number): { text: string; bytes: number } {
  if (maxBytes <= 0) return { text: '', bytes: 0 };
  // At most 3 bytes per UTF-16 unit: cheap bounds before encoding anything.
  if (text.length * 3 <= maxBytes) return { text, bytes: Buffer.byteLength(text) };
  // maxBytes UTF-16 units hold at least maxBytes bytes, so only they need encoding; a surrogate
  // pair split by the slice would encode as U+FFFD, so its lone half is left out.
  let prefix = text.length > maxBytes ? text.slice(0, maxBytes) : text;
  if (/[\uD800-\uDBFF]$/.test(prefix)) prefix = prefix.slice(0, -1);
  const buf = Buffer.from(prefix, 'utf8');
  if (buf.length <= maxBytes) return { text: prefix, bytes: buf.length };
  let cut = maxBytes;
  // Back off continuation bytes (10xxxxxx) to the start of the character that does not fit.
  while (cut > 0 && ((buf[cut] as number) & 0xc0) === 0x80) cut--;
  return { text: buf.toString('utf8', 0, cut), bytes: cut };
}
