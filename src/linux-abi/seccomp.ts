/**
 * seccomp: system call filtering, as Linux's kernel/seccomp.c. A process in filter mode runs
 * every system call through its classic-BPF filters (newest first) before the call; the result
 * with the highest precedence decides: run it (ALLOW, LOG), fail it with an errno (ERRNO), skip
 * it and force SIGSYS on the caller (TRAP: the SIGSYS handler can emulate the call), or kill the
 * process (KILL_THREAD, KILL_PROCESS). There is no tracer and no user-space notifier here, so
 * TRACE and USER_NOTIF fail the call with ENOSYS, as Linux does without one. Strict mode allows
 * read, write, exit and rt_sigreturn, and kills on anything else.
 *
 * The kernel (kernel.ts) asks `enter()` before each call.
 */
import { GuestKilled } from '../core/exits.js';
import { E, fail } from './errno.js';
import { SIGKILL, SIGSYS, type SignalState } from './signals.js';

export const SECCOMP_MODE_DISABLED = 0, SECCOMP_MODE_STRICT = 1, SECCOMP_MODE_FILTER = 2;

/** Action values (the high 16 bits; SECCOMP_RET_DATA is the low 16). */
export const SECCOMP_RET_KILL_PROCESS = 0x8000_0000, SECCOMP_RET_KILL_THREAD = 0, SECCOMP_RET_TRAP = 0x0003_0000,
  SECCOMP_RET_ERRNO = 0x0005_0000, SECCOMP_RET_USER_NOTIF = 0x7fc0_0000, SECCOMP_RET_TRACE = 0x7ff0_0000,
  SECCOMP_RET_LOG = 0x7ffc_0000, SECCOMP_RET_ALLOW = 0x7fff_0000;
const RET_ACTION_FULL = 0xffff_0000 | 0, RET_DATA = 0xffff;
const KNOWN_ACTIONS = [SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_KILL_THREAD, SECCOMP_RET_TRAP, SECCOMP_RET_ERRNO,
  SECCOMP_RET_USER_NOTIF, SECCOMP_RET_TRACE, SECCOMP_RET_LOG, SECCOMP_RET_ALLOW];

/** AUDIT_ARCH_X86_64 (EM_X86_64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE). */
export const AUDIT_ARCH_X86_64 = 0xc000_003e;
/** si_code of a seccomp SIGSYS. */
export const SYS_SECCOMP = 1;
/** sizeof(struct seccomp_data): nr, arch, instruction_pointer, args[6]. */
export const SECCOMP_DATA_SIZE = 64;

const BPF_MAXINSNS = 4096;
/** Linux's MAX_INSNS_PER_PATH: all filters together, each counted with 4 more. */
const MAX_INSNS_PER_PATH = 32768;
const BPF_MEMWORDS = 16;

// Classic BPF opcodes (linux/bpf_common.h, filter.h).
const LD = 0x00, LDX = 0x01, ST = 0x02, STX = 0x03, ALU = 0x04, JMP = 0x05, RET = 0x06, MISC = 0x07;
const W = 0x00, ABS = 0x20, IMM = 0x00, MEM = 0x60, LEN = 0x80;
const ADD = 0x00, SUB = 0x10, MUL = 0x20, DIV = 0x30, OR = 0x40, AND = 0x50, LSH = 0x60, RSH = 0x70, NEG = 0x80,
  XOR = 0xa0;
const JA = 0x00, JEQ = 0x10, JGT = 0x20, JGE = 0x30, JSET = 0x40;
const K = 0x00, X = 0x08, A = 0x10;
const TAX = 0x00, TXA = 0x80;

/** One filter: the instructions as parallel arrays. */
export interface Filter {
  code: Uint16Array;
  jt: Uint8Array;
  jf: Uint8Array;
  k: Uint32Array;
  log: boolean;
}

/**
 * Checks a filter as seccomp_check_filter and bpf_check_classic do (EINVAL otherwise): only the
 * instructions seccomp allows, loads of aligned words inside seccomp_data, jumps that stay in the
 * program, no division by a zero constant, and a return at the end. `LEN` loads become constants.
 */
export function parseFilter(bytes: Uint8Array, log = false): Filter {
  const n = bytes.length / 8;
  if (n === 0 || n > BPF_MAXINSNS || !Number.isInteger(n)) fail(E.EINVAL);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const f: Filter = { code: new Uint16Array(n), jt: new Uint8Array(n), jf: new Uint8Array(n), k: new Uint32Array(n), log };
  for (let pc = 0; pc < n; pc++) {
    let code = dv.getUint16(pc * 8, true);
    const jt = dv.getUint8(pc * 8 + 2), jf = dv.getUint8(pc * 8 + 3);
    let k = dv.getUint32(pc * 8 + 4, true);
    switch (code) {
      case LD | W | ABS:
        if (k >= SECCOMP_DATA_SIZE || k & 3) fail(E.EINVAL);
        break;
      case LD | W | LEN: code = LD | IMM; k = SECCOMP_DATA_SIZE; break;
      case LDX | W | LEN: code = LDX | IMM; k = SECCOMP_DATA_SIZE; break;
      case RET | K: case RET | A:
      case ALU | ADD | K: case ALU | ADD | X: case ALU | SUB | K: case ALU | SUB | X:
      case ALU | MUL | K: case ALU | MUL | X: case ALU | DIV | X:
      case ALU | AND | K: case ALU | AND | X: case ALU | OR | K: case ALU | OR | X:
      case ALU | XOR | K: case ALU | XOR | X: case ALU | LSH | X: case ALU | RSH | X: case ALU | NEG:
      case LD | IMM: case LDX | IMM: case MISC | TAX: case MISC | TXA:
        break;
      case ALU | DIV | K:
        if (k === 0) fail(E.EINVAL);
        break;
      case ALU | LSH | K: case ALU | RSH | K:
        if (k >= 32) fail(E.EINVAL);
        break;
      case LD | MEM: case LDX | MEM: case ST: case STX:
        if (k >= BPF_MEMWORDS) fail(E.EINVAL);
        break;
      case JMP | JA:
        if (k >= n - pc - 1) fail(E.EINVAL);
        break;
      case JMP | JEQ | K: case JMP | JEQ | X: case JMP | JGE | K: case JMP | JGE | X:
      case JMP | JGT | K: case JMP | JGT | X: case JMP | JSET | K: case JMP | JSET | X:
        if (pc + 1 + jt >= n || pc + 1 + jf >= n) fail(E.EINVAL);
        break;
      default:
        fail(E.EINVAL);
    }
    f.code[pc] = code;
    f.jt[pc] = jt;
    f.jf[pc] = jf;
    f.k[pc] = k;
  }
  const last = f.code[n - 1];
  if (last !== (RET | K) && last !== (RET | A)) fail(E.EINVAL);
  return f;
}

/** Runs a checked filter on a seccomp_data (as 16 little-endian words); returns its u32 result. */
export function runFilter(f: Filter, data: Uint32Array): number {
  let a = 0, x = 0, pc = 0;
  const mem = new Uint32Array(BPF_MEMWORDS);
  const { code, jt, jf, k } = f;
  for (;;) {
    const kk = k[pc];
    switch (code[pc]) {
      case LD | W | ABS: a = data[kk >>> 2]; break;
      case LD | IMM: a = kk; break;
      case LDX | IMM: x = kk; break;
      case LD | MEM: a = mem[kk]; break;
      case LDX | MEM: x = mem[kk]; break;
      case ST: mem[kk] = a; break;
      case STX: mem[kk] = x; break;
      case MISC | TAX: x = a; break;
      case MISC | TXA: a = x; break;
      case ALU | ADD | K: a = (a + kk) >>> 0; break;
      case ALU | ADD | X: a = (a + x) >>> 0; break;
      case ALU | SUB | K: a = (a - kk) >>> 0; break;
      case ALU | SUB | X: a = (a - x) >>> 0; break;
      case ALU | MUL | K: a = Math.imul(a, kk) >>> 0; break;
      case ALU | MUL | X: a = Math.imul(a, x) >>> 0; break;
      case ALU | DIV | K: a = Math.floor(a / kk) >>> 0; break;
      case ALU | DIV | X: if (x === 0) return 0; a = Math.floor(a / x) >>> 0; break;
      case ALU | AND | K: a = (a & kk) >>> 0; break;
      case ALU | AND | X: a = (a & x) >>> 0; break;
      case ALU | OR | K: a = (a | kk) >>> 0; break;
      case ALU | OR | X: a = (a | x) >>> 0; break;
      case ALU | XOR | K: a = (a ^ kk) >>> 0; break;
      case ALU | XOR | X: a = (a ^ x) >>> 0; break;
      case ALU | LSH | K: a = (a << kk) >>> 0; break;
      case ALU | LSH | X: a = x >= 32 ? 0 : (a << x) >>> 0; break;
      case ALU | RSH | K: a = a >>> kk; break;
      case ALU | RSH | X: a = x >= 32 ? 0 : a >>> x; break;
      case ALU | NEG: a = -a >>> 0; break;
      case JMP | JA: pc += kk; break;
      case JMP | JEQ | K: pc += a === kk ? jt[pc] : jf[pc]; break;
      case JMP | JEQ | X: pc += a === x ? jt[pc] : jf[pc]; break;
      case JMP | JGT | K: pc += a > kk ? jt[pc] : jf[pc]; break;
      case JMP | JGT | X: pc += a > x ? jt[pc] : jf[pc]; break;
      case JMP | JGE | K: pc += a >= kk ? jt[pc] : jf[pc]; break;
      case JMP | JGE | X: pc += a >= x ? jt[pc] : jf[pc]; break;
      case JMP | JSET | K: pc += (a & kk) !== 0 ? jt[pc] : jf[pc]; break;
      case JMP | JSET | X: pc += (a & x) !== 0 ? jt[pc] : jf[pc]; break;
      case RET | K: return kk;
      case RET | A: return a;
      default: return 0; // unreachable: parseFilter admits only the cases above
    }
    pc++;
  }
}

/** What the kernel does with a call: run it, or skip it with this value for rax. */
export type Verdict = { run: true } | { run: false; rax: bigint };
const RUN: Verdict = { run: true };

/** Strict mode's allowed calls: read, write, exit, rt_sigreturn. */
const STRICT_ALLOWED = new Set([0, 1, 60, 15]);

export class Seccomp {
  mode = SECCOMP_MODE_DISABLED;
  /** Installed filters, newest first. */
  readonly filters: Filter[] = [];
  private insns = 0;
  private readonly data = new Uint32Array(SECCOMP_DATA_SIZE / 4);

  constructor(private readonly signals: SignalState) {}

  /** fork: the child is filtered like its parent (filters are never changed once installed). */
  copyFrom(other: Seccomp): void {
    this.mode = other.mode;
    this.filters.push(...other.filters);
    this.insns = other.insns;
  }

  /** Enters strict mode (EINVAL once filters are installed). */
  setStrict(): void {
    if (this.mode === SECCOMP_MODE_FILTER) fail(E.EINVAL);
    this.mode = SECCOMP_MODE_STRICT;
  }

  /** Adds a filter (EINVAL in strict mode, ENOMEM past Linux's total size). */
  addFilter(f: Filter): void {
    if (this.mode === SECCOMP_MODE_STRICT) fail(E.EINVAL);
    const total = this.insns + f.code.length + 4;
    if (total > MAX_INSNS_PER_PATH) fail(E.ENOMEM);
    this.insns = total;
    this.filters.unshift(f);
    this.mode = SECCOMP_MODE_FILTER;
  }

  /** SECCOMP_GET_ACTION_AVAIL. */
  static actionAvailable(action: number): boolean {
    return KNOWN_ACTIONS.includes(action >>> 0) || KNOWN_ACTIONS.includes(action | 0);
  }

  /**
   * The verdict on system call `nr` (rax as the kernel sees it) from `ip` (the address after the
   * syscall instruction). Throws GuestKilled for the kill actions (and strict mode's SIGKILL);
   * forces SIGSYS for TRAP.
   */
  enter(nr: number, ip: bigint, args: readonly bigint[], log: (line: string) => void): Verdict {
    if (this.mode === SECCOMP_MODE_STRICT) {
      if (STRICT_ALLOWED.has(nr)) return RUN;
      throw new GuestKilled(SIGKILL, ip, undefined, `seccomp strict mode: system call ${nr}`);
    }
    const d = this.data;
    d[0] = nr >>> 0;
    d[1] = AUDIT_ARCH_X86_64;
    d[2] = Number(ip & 0xffff_ffffn);
    d[3] = Number((ip >> 32n) & 0xffff_ffffn);
    for (let i = 0; i < 6; i++) {
      d[4 + 2 * i] = Number(args[i] & 0xffff_ffffn);
      d[5 + 2 * i] = Number((args[i] >> 32n) & 0xffff_ffffn);
    }
    // The most restrictive result wins: the smallest action as a signed number.
    let ret = SECCOMP_RET_ALLOW, logged = false;
    for (const f of this.filters) {
      const r = runFilter(f, d);
      if ((r & RET_ACTION_FULL) < (ret & RET_ACTION_FULL)) {
        ret = r;
        logged = f.log;
      }
    }
    const data = ret & RET_DATA;
    switch (ret & RET_ACTION_FULL) {
      case SECCOMP_RET_ALLOW:
        return RUN;
      case SECCOMP_RET_LOG:
        log(`usmjit: seccomp: system call ${nr} logged (SECCOMP_RET_LOG)`);
        return RUN;
      case SECCOMP_RET_ERRNO:
        return { run: false, rax: -BigInt(Math.min(data, 4095)) };
      case SECCOMP_RET_TRAP:
        // The call is skipped with rax back to the call number (syscall_rollback), and SIGSYS forced.
        this.signals.force({
          signo: SIGSYS, code: SYS_SECCOMP, pid: 0, uid: 0, addr: ip, sys: { nr, arch: AUDIT_ARCH_X86_64, errno: data },
        });
        return { run: false, rax: BigInt(nr) };
      case SECCOMP_RET_TRACE:
      case SECCOMP_RET_USER_NOTIF:
        // No tracer, no listener: what Linux does then.
        return { run: false, rax: -BigInt(E.ENOSYS) };
      default:
        // KILL_THREAD (the only thread) and KILL_PROCESS, and unknown actions, as Linux.
        if (logged) log(`usmjit: seccomp: system call ${nr} killed the process`);
        throw new GuestKilled(SIGSYS, ip, undefined, `seccomp: system call ${nr}`);
    }
  }
}
