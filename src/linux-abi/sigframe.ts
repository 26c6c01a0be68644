/**
 * The x86-64 signal frame, byte for byte as Linux builds it (arch/x86/kernel/signal_64.c,
 * fpu/signal.c) for a CPU without XSAVE (our CPUID does not advertise it):
 *
 *   frame + 0     pretcode       sa_restorer: the handler's return address (rsp at entry)
 *   frame + 8     struct ucontext (304 bytes)
 *                   +0 uc_flags (UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS), +8 uc_link (0),
 *                   +16 uc_stack (stack_t, 24), +40 uc_mcontext (struct sigcontext, 256),
 *                   +296 uc_sigmask (the interrupted blocked mask, 8)
 *   frame + 312   siginfo_t (128 bytes; written only for SA_SIGINFO handlers)
 *   fpstate       512-byte fxsave image (64-aligned, above the frame): legacy area 0..415,
 *                 bytes 464..511 the software-reserved _fpx_sw_bytes (FP_XSTATE_MAGIC1...)
 *
 * Building (`encode*`) reads the CPU block (core/layout.ts); `restoreSigcontext` and
 * `restoreFpstate` are rt_sigreturn's half. They take one DataView of the CPU block (`cpuView`:
 * CpuState makes a view per access, which would dominate a signal's cost). Guest memory is written
 * and read by the callers, through the AddressSpace, so a bad stack faults like a user access
 * would (and a view must be taken again after an access that may grow the memory).
 */
import { CC } from '../jit/flags.js';
import { ARITH_FLAGS, F } from '../core/rflags.js';
import { CPU, RSP } from '../core/layout.js';
import type { AddressSpace } from '../paging/address-space.js';
import type { CpuState } from '../core/cpu-state.js';
import { SI_KERNEL, SI_QUEUE, SI_TIMER, SI_TKILL, SI_USER, type AltStack, type SigInfo } from './signals.js';

export const FRAME_SIZE = 440; // sizeof(struct rt_sigframe)
export const FRAME_UC = 8;
export const FRAME_INFO = 312;
export const UC_STACK = 16;
export const UC_MCONTEXT = 40;
export const UC_SIGMASK = 296;
export const SIGINFO_SIZE = 128;
export const FPSTATE_SIZE = 512;
/** The part of the frame from pretcode to the end of sigcontext's fields (before reserved1). */
export const HEAD_SIZE = FRAME_UC + UC_MCONTEXT + 192;

/** struct sigcontext offsets (= glibc's gregs[REG_*] * 8 up to REG_CR2). */
export const SC = {
  r8: 0, rdi: 64, rsi: 72, rbp: 80, rbx: 88, rdx: 96, rax: 104, rcx: 112, rsp: 120, rip: 128,
  eflags: 136, cs: 144, gs: 146, fs: 148, ss: 150, err: 152, trapno: 160, oldmask: 168, cr2: 176,
  fpstate: 184, reserved: 192,
} as const;
/** The GPR (x86 number) stored in each of sigcontext's first 16 slots. */
const SC_GPRS = [8, 9, 10, 11, 12, 13, 14, 15, 7, 6, 5, 3, 2, 0, 1, RSP] as const;

export const UC_FP_XSTATE = 1, UC_SIGCONTEXT_SS = 2, UC_STRICT_RESTORE_SS = 4;
export const FP_XSTATE_MAGIC1 = 0x4650_5853;
export const USER_CS = 0x33, USER_DS = 0x2b;

const { CF, PF, AF, ZF, SF, TF, DF, OF, AC } = F;
export const RF = F.RF;
const ARITH = ARITH_FLAGS;
/** What rt_sigreturn takes from the frame (Linux's FIX_EFLAGS); RF is not kept (no debug traps). */
const FIX_EFLAGS = AC | OF | DF | TF | SF | ZF | AF | PF | CF | RF;
/** Bits Linux clears when a handler starts. */
export const HANDLER_CLEARS = DF | RF | TF;

const MXCSR_DEFAULT = 0x1f80;
const FCW_DEFAULT = 0x37f;

/** A view of the CPU block's state (not its TLB), valid until the Wasm memory grows. */
export function cpuView(cpu: CpuState, as: AddressSpace): DataView {
  return new DataView(as.frames.memory.buffer, cpu.base, CPU.tlb);
}

const gpr = (v: DataView, n: number): bigint => v.getBigUint64(CPU.gpr + 8 * n, true);
const setGpr = (v: DataView, n: number, x: bigint): void => v.setBigUint64(CPU.gpr + 8 * n, BigInt.asUintN(64, x), true);
export { setGpr as viewSetGpr };

/** The rsp-independent parts of the interrupted context that the frame records. */
export interface Interrupted {
  /** The full RFLAGS image (arithmetic flags materialised). */
  rflags: bigint;
  /** Thread fault record (Linux's thread.trap_nr / error_code / cr2): stale for async signals. */
  trapno: bigint;
  err: bigint;
  cr2: bigint;
}

/**
 * pretcode, the head of the ucontext and the sigcontext up to `fpstate` (Linux leaves
 * sigcontext.reserved1 alone): HEAD_SIZE bytes for `frame`.
 */
export function encodeHead(cpu: DataView, ctx: Interrupted, restorer: bigint, stack: AltStack, mask: bigint,
  fpstate: bigint): Uint8Array {
  const b = new Uint8Array(HEAD_SIZE);
  const dv = new DataView(b.buffer);
  dv.setBigUint64(0, restorer, true);
  const uc = FRAME_UC;
  dv.setBigUint64(uc, BigInt(UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS), true);
  dv.setBigUint64(uc + 8, 0n, true);
  dv.setBigUint64(uc + UC_STACK, stack.sp, true);
  dv.setInt32(uc + UC_STACK + 8, stack.flags | 0, true);
  dv.setBigUint64(uc + UC_STACK + 16, stack.size, true);
  const sc = uc + UC_MCONTEXT;
  for (let i = 0; i < 16; i++) dv.setBigUint64(sc + 8 * i, gpr(cpu, SC_GPRS[i]), true);
  dv.setBigUint64(sc + SC.rip, cpu.getBigUint64(CPU.rip, true), true);
  dv.setBigUint64(sc + SC.eflags, ctx.rflags, true);
  dv.setUint16(sc + SC.cs, USER_CS, true);
  dv.setUint16(sc + SC.ss, USER_DS, true);
  dv.setBigUint64(sc + SC.err, ctx.err, true);
  dv.setBigUint64(sc + SC.trapno, ctx.trapno, true);
  dv.setBigUint64(sc + SC.oldmask, mask, true);
  dv.setBigUint64(sc + SC.cr2, ctx.cr2, true);
  dv.setBigUint64(sc + SC.fpstate, fpstate, true);
  return b;
}

/** uc_sigmask (8 bytes at frame + FRAME_UC + UC_SIGMASK). */
export function encodeMask(mask: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, mask, true);
  return b;
}

/** siginfo_t as copy_siginfo_to_user writes it: the whole 128 bytes, unused ones zero. */
export function encodeSiginfo(info: SigInfo): Uint8Array {
  const b = new Uint8Array(SIGINFO_SIZE);
  const dv = new DataView(b.buffer);
  dv.setInt32(0, info.signo, true);
  dv.setInt32(8, info.code, true);
  if (info.code === SI_TIMER) {
    // struct { int si_tid; int si_overrun; sigval_t si_sigval; }
    dv.setInt32(16, info.timer?.id ?? 0, true);
    dv.setInt32(20, info.timer?.overrun ?? 0, true);
    dv.setBigUint64(24, BigInt.asUintN(64, info.value ?? 0n), true);
  } else if (info.status !== undefined) {
    // SIGCHLD: { pid_t si_pid; uid_t si_uid; int si_status; clock_t si_utime, si_stime; }
    dv.setInt32(16, info.pid, true);
    dv.setUint32(20, info.uid >>> 0, true);
    dv.setInt32(24, info.status, true);
  } else if (info.code === SI_USER || info.code === SI_TKILL || info.code === SI_QUEUE) {
    dv.setInt32(16, info.pid, true);
    dv.setUint32(20, info.uid >>> 0, true);
    if (info.code === SI_QUEUE) dv.setBigUint64(24, info.value ?? 0n, true);
  } else if (info.code !== SI_KERNEL && info.addr !== undefined) {
    dv.setBigUint64(16, BigInt.asUintN(64, info.addr), true);
    if (info.sys) {
      // SIGSYS from seccomp: si_errno, then { void *si_call_addr; int si_syscall; unsigned si_arch; }
      dv.setInt32(4, info.sys.errno, true);
      dv.setInt32(24, info.sys.nr, true);
      dv.setUint32(28, info.sys.arch >>> 0, true);
    }
  }
  return b;
}

// ---- FP state ------------------------------------------------------------------------------

/** The x87 status word with TOP, ES and B (the CPU block keeps them apart; see isa/x87.ts). */
function statusWord(cpu: DataView): number {
  const sw = cpu.getUint32(CPU.fpSw, true) & ~0xb880;
  const cw = cpu.getUint32(CPU.fpCw, true);
  const es = (sw & ~cw & 0x3f) !== 0;
  return sw | ((cpu.getUint32(CPU.fpTop, true) & 7) << 11) | (es ? 0x8080 : 0);
}

/**
 * The fxsave64 image of the CPU's x87/SSE state plus the software-reserved bytes Linux adds
 * (save_xstate_epilog): 512 bytes, of which 416..463 are not Linux's to write (see `FP_WRITTEN`).
 */
export function encodeFpstate(cpu: DataView): Uint8Array {
  const b = new Uint8Array(FPSTATE_SIZE);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, cpu.getUint32(CPU.fpCw, true), true);
  dv.setUint16(2, statusWord(cpu), true);
  b[4] = cpu.getUint32(CPU.fpTag, true) & 0xff;
  dv.setUint16(6, cpu.getUint32(CPU.fpOp, true) & 0x7ff, true);
  dv.setBigUint64(8, cpu.getBigUint64(CPU.fpIp, true), true);
  dv.setBigUint64(16, cpu.getBigUint64(CPU.fpDp, true), true);
  dv.setUint32(24, cpu.getUint32(CPU.mxcsr, true), true);
  dv.setUint32(28, 0xffff, true); // MXCSR_MASK (as our fxsave reports it)
  const top = cpu.getUint32(CPU.fpTop, true) & 7;
  const regs = new Uint8Array(cpu.buffer, cpu.byteOffset, cpu.byteLength);
  for (let i = 0; i < 8; i++) {
    const off = CPU.fpr + ((top + i) & 7) * 16;
    b.set(regs.subarray(off, off + 10), 32 + 16 * i);
  }
  b.set(regs.subarray(CPU.xmm, CPU.xmm + 256), 160);
  // struct _fpx_sw_bytes (Linux >= 5.14 writes it even without XSAVE; no FP_XSTATE_MAGIC2 then).
  dv.setUint32(464, FP_XSTATE_MAGIC1, true);
  dv.setUint32(468, FPSTATE_SIZE + 4, true); // extended_size: user_size + FP_XSTATE_MAGIC2_SIZE
  dv.setBigUint64(472, 3n, true); // xfeatures: FP | SSE
  dv.setUint32(480, FPSTATE_SIZE, true); // xstate_size
  return b;
}

/** The byte ranges of `encodeFpstate` that the kernel writes (fxsave's area, then sw_reserved). */
export const FP_WRITTEN: readonly (readonly [number, number])[] = [[0, 416], [464, 512]];

/** fxrstor of a signal frame's image; false if MXCSR has reserved bits set (the frame is bad). */
export function restoreFpstate(cpu: DataView, b: Uint8Array): boolean {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const mxcsr = dv.getUint32(24, true);
  if (mxcsr & ~0xffff) return false;
  const cw = dv.getUint16(0, true), sw = dv.getUint16(2, true);
  const top = (sw >> 11) & 7;
  cpu.setUint32(CPU.fpCw, (cw & 0x1f3f) | 0x40, true);
  cpu.setUint32(CPU.fpTop, top, true);
  cpu.setUint32(CPU.fpSw, sw & ~0xb880, true);
  cpu.setUint32(CPU.fpTag, b[4], true);
  cpu.setUint32(CPU.fpOp, dv.getUint16(6, true) & 0x7ff, true);
  cpu.setBigUint64(CPU.fpIp, dv.getBigUint64(8, true), true);
  cpu.setBigUint64(CPU.fpDp, dv.getBigUint64(16, true), true);
  const regs = new Uint8Array(cpu.buffer, cpu.byteOffset, cpu.byteLength);
  for (let i = 0; i < 8; i++) {
    const off = CPU.fpr + ((top + i) & 7) * 16;
    regs.set(b.subarray(32 + 16 * i, 42 + 16 * i), off);
    regs.fill(0, off + 10, off + 16);
  }
  cpu.setUint32(CPU.mxcsr, mxcsr, true);
  regs.set(b.subarray(160, 416), CPU.xmm);
  return true;
}

/** The FPU's initial state (fpu__clear_user_states): how a handler starts, fninit + MXCSR default, XMM zero. */
export function initFpu(cpu: DataView): void {
  const regs = new Uint8Array(cpu.buffer, cpu.byteOffset, cpu.byteLength);
  cpu.setUint32(CPU.fpCw, FCW_DEFAULT, true);
  cpu.setUint32(CPU.fpTop, 0, true);
  cpu.setUint32(CPU.fpSw, 0, true);
  cpu.setUint32(CPU.fpTag, 0, true);
  cpu.setUint32(CPU.fpOp, 0, true);
  cpu.setBigUint64(CPU.fpIp, 0n, true);
  cpu.setBigUint64(CPU.fpDp, 0n, true);
  regs.fill(0, CPU.fpr, CPU.fpr + 128);
  regs.fill(0, CPU.xmm, CPU.xmm + 256);
  cpu.setUint32(CPU.mxcsr, MXCSR_DEFAULT, true);
}

// ---- rt_sigreturn ----------------------------------------------------------------------------

/** Sets the arithmetic flags (as a materialised lazy record) and the other RFLAGS bits. */
export function setRflags(cpu: DataView, rflags: bigint): void {
  cpu.setUint32(CPU.ccOp, CC.EFLAGS, true);
  cpu.setBigUint64(CPU.ccRes, rflags & BigInt(ARITH), true);
  cpu.setBigUint64(CPU.rflags, (rflags & ~BigInt(ARITH)) | 2n, true);
}

/**
 * restore_sigcontext: the GPRs, rip and the user-changeable RFLAGS bits from a sigcontext's
 * first 192 bytes. Returns the fpstate pointer it names.
 */
export function restoreSigcontext(cpu: DataView, sc: Uint8Array): bigint {
  const dv = new DataView(sc.buffer, sc.byteOffset, sc.byteLength);
  for (let i = 0; i < 16; i++) setGpr(cpu, SC_GPRS[i], dv.getBigUint64(8 * i, true));
  cpu.setBigUint64(CPU.rip, dv.getBigUint64(SC.rip, true), true);
  const fix = BigInt(FIX_EFLAGS & ~RF);
  const current = cpu.getBigUint64(CPU.rflags, true); // the other bits: IF, ID, bit 1
  setRflags(cpu, (current & ~BigInt(FIX_EFLAGS)) | (dv.getBigUint64(SC.eflags, true) & fix));
  return dv.getBigUint64(SC.fpstate, true);
}

/** The frame fields rt_sigreturn reads besides the sigcontext. */
export function decodeUcontext(b: Uint8Array): { flags: bigint; stack: AltStack; mask: bigint } {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return {
    flags: dv.getBigUint64(0, true),
    stack: { sp: dv.getBigUint64(UC_STACK, true), flags: dv.getInt32(UC_STACK + 8, true), size: dv.getBigUint64(UC_STACK + 16, true) },
    mask: dv.getBigUint64(UC_SIGMASK, true),
  };
}
