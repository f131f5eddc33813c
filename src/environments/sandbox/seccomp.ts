/**
 * The seccomp filter every sandbox runs under: it refuses new user namespaces. Inside a user
 * namespace an unprivileged process is root with every capability over what that namespace owns,
 * which opens much of the kernel's surface (mounts, netfilter, …) to a function; Lambda refuses
 * it too. `unshare` and `clone` with CLONE_NEWUSER fail with EPERM; `clone3`, whose flags sit in
 * memory a classic BPF filter cannot read, fails with ENOSYS, so C libraries fall back to `clone`,
 * which the filter can check. x32 system calls (another numbering on x86_64) are refused.
 *
 * The program is classic BPF, as bubblewrap's `--seccomp FD` takes it: an array of
 * `struct sock_filter { u16 code; u8 jt; u8 jf; u32 k }`, little-endian, no libseccomp needed.
 */

const LD_W_ABS = 0x20;
const JEQ_K = 0x15;
const JGE_K = 0x35;
const JSET_K = 0x45;
const RET_K = 0x06;

const RET_ALLOW = 0x7fff0000;
const RET_ERRNO = 0x00050000;
const EPERM = 1;
const ENOSYS = 38;

const CLONE_NEWUSER = 0x10000000;
/** Offsets in `struct seccomp_data`: nr, arch, then args[0] (its low 32 bits on little-endian). */
const NR = 0;
const ARCH = 4;
const ARG0_LOW = 16;

const ARCHES = [
  // AUDIT_ARCH_X86_64
  { arch: 0xc000003e, unshare: 272, clone: 56, clone3: 435, x32: true },
  // AUDIT_ARCH_AARCH64
  { arch: 0xc00000b7, unshare: 97, clone: 220, clone3: 435, x32: false },
] as const;

type Target = string;
type Insn = { code: number; k: number; jt?: Target; jf?: Target } | { label: string };

/** The filter's instructions, with symbolic jump targets. */
function program(): Insn[] {
  const out: Insn[] = [{ code: LD_W_ABS, k: ARCH }];
  ARCHES.forEach((a, i) => {
    const next = i + 1 < ARCHES.length ? `arch${i + 1}` : 'allow';
    if (i > 0) out.push({ label: `arch${i}` });
    out.push({ code: JEQ_K, k: a.arch, jf: next });
    out.push({ code: LD_W_ABS, k: NR });
    if (a.x32) out.push({ code: JGE_K, k: 0x40000000, jt: 'eperm' });
    out.push({ code: JEQ_K, k: a.unshare, jt: 'flags' });
    out.push({ code: JEQ_K, k: a.clone, jt: 'flags' });
    out.push({ code: JEQ_K, k: a.clone3, jt: 'enosys' });
    out.push({ code: RET_K, k: RET_ALLOW });
  });
  out.push(
    { label: 'flags' },
    { code: LD_W_ABS, k: ARG0_LOW },
    { code: JSET_K, k: CLONE_NEWUSER, jt: 'eperm' },
    { label: 'allow' },
    { code: RET_K, k: RET_ALLOW },
    { label: 'eperm' },
    { code: RET_K, k: RET_ERRNO | EPERM },
    { label: 'enosys' },
    { code: RET_K, k: RET_ERRNO | ENOSYS },
  );
  return out;
}

/** The filter as the kernel reads it. */
export function userNamespaceFilter(): Buffer {
  const insns = program();
  const at = new Map<string, number>();
  let n = 0;
  for (const insn of insns) {
    if ('label' in insn) at.set(insn.label, n);
    else n++;
  }
  const buf = Buffer.alloc(n * 8);
  let i = 0;
  for (const insn of insns) {
    if ('label' in insn) continue;
    // Jumps are forward offsets from the next instruction; BPF has no backward jumps.
    const offset = (target: Target | undefined): number => {
      if (target === undefined) return 0;
      const to = at.get(target);
      if (to === undefined || to <= i || to - i - 1 > 255) throw new Error(`seccomp: bad jump to ${target}`);
      return to - i - 1;
    };
    buf.writeUInt16LE(insn.code, i * 8);
    buf.writeUInt8(offset(insn.jt), i * 8 + 2);
    buf.writeUInt8(offset(insn.jf), i * 8 + 3);
    buf.writeUInt32LE(insn.k >>> 0, i * 8 + 4);
    i++;
  }
  return buf;
}
