/**
 * The process floors' child: reads length-prefixed events on stdin, runs the trivial task and
 * writes each answer as a frame on stdout. Self-contained (no imports of its own folder), so the
 * sandboxed floor can copy it alone into the folder it shows at /var/task.
 */
function frame(text: string): Buffer {
  const body = Buffer.from(text, 'utf8');
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32BE(body.length, 0);
  return Buffer.concat([head, body]);
}

let buffered: Buffer = Buffer.alloc(0);
process.stdin.on('data', (chunk: Buffer) => {
  buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
  while (buffered.length >= 4) {
    const length = buffered.readUInt32BE(0);
    if (buffered.length < 4 + length) return;
    const event = buffered.toString('utf8', 4, 4 + length);
    buffered = buffered.subarray(4 + length);
    JSON.parse(event);
    process.stdout.write(frame('{"ok":true}'));
  }
});
process.stdin.on('end', () => process.exit(0));
