/**
 * Signal delivery to guest handlers, as Linux x86-64 does it (kernel/signal.c get_signal,
 * arch/x86/kernel/signal.c handle_signal / get_sigframe, signal_64.c x64_setup_rt_frame).
 *
 * The dispatcher (machine.ts) calls in at two kinds of points:
 *  - a synchronous fault (`fault`): a CPU exception exit, a slow-path memory access that faulted,
 *    an instruction fetch from a page that is not executable. The fault is forced on the process
 *    (a blocked or ignored fault signal kills, as Linux's force_sig_fault) and, if a handler is
 *    installed, a frame is built and the guest continues at the handler;
 *  - every return to the guest (`deliver`, when `hasWork()`): after each system call (kill,
 *    tgkill, raise, SIGPIPE, rt_sigprocmask / rt_sigreturn unblocking a pending signal) and at
 *    every exit to the dispatcher. Pending, unblocked signals are taken synchronous ones first,
 *    then lowest first: ignored ones are dropped, default-fatal ones kill (GuestKilled), handled
 *    ones each get a frame (so several stack up and run last-in first-out, like Linux).
 *
 * The frame itself (layout, FP image, rt_sigreturn) is linux-abi/sigframe.ts. Everything the
 * frame records is in the CPU block when the dispatcher has control (see jit/emitter.ts: the exit
 * tail and the catch_all handler of a region write registers and lazy flags back).
 */
import { CPU, PAGE_SIZE, RSP } from '../core/layout.js';
import {
  cpuView, encodeFpstate, encodeHead, encodeMask, encodeSiginfo, FP_WRITTEN, FPSTATE_SIZE, FRAME_INFO, FRAME_SIZE,
  FRAME_UC, HANDLER_CLEARS, initFpu, RF, UC_SIGMASK, viewSetGpr,
} from './sigframe.js';
import {
  BUS_ADRERR, defaultAction, formatSiginfo, FPE_FLTDIV, FPE_FLTINV, FPE_FLTOVF, FPE_FLTRES, FPE_FLTUND, FPE_INTDIV, ILL_ILLOPN,
  SA_NODEFER, SA_ONSTACK, SA_RESETHAND, SA_RESTORER, SA_SIGINFO, SEGV_ACCERR, SEGV_MAPERR, SI_KERNEL, SIG_DFL,
  SIG_IGN, type SigAction, type SigInfo, SIGBUS, SIGFPE, SIGILL, SIGKILL, signalName, SignalState, SIGSEGV, SIGTRAP,
  SS_AUTODISARM,
} from './signals.js';
import { Access, type AddressSpace, GuestFault, USER_TOP } from '../paging/address-space.js';
import type { CpuState } from '../core/cpu-state.js';
import { GuestKilled, Vector } from '../core/exits.js';
import type { GuestException } from '../core/exception.js';

/** What the engine needs of the process: its signal state and a way to warn once. */
export interface SignalProcess {
  readonly signals: SignalState;
  warnOnce(key: string, msg: string): void;
}

/** A synchronous fault, as Linux turns a CPU exception into a signal. */
export interface Fault {
  signo: number;
  /** si_code. */
  code: number;
  /** si_addr (fault codes only; SI_KERNEL faults have none). */
  addr?: bigint;
  /** The thread's trap record, which every later frame's sigcontext shows until the next fault. */
  trapno: number;
  err: number;
  /** cr2: page faults only (the previous value stays otherwise). */
  cr2?: bigint;
  /** Where the guest resumes if the handler returns: the faulting instruction, or after a trap. */
  rip: bigint;
  /** A fault-class exception: the saved RFLAGS has RF set (what the CPU pushes). */
  rf: boolean;
}

/** Linux's TASK_SIZE_MAX: user accesses at or above it are reported as protection faults. */
const TASK_SIZE_MAX = 0x7fff_ffff_f000n;
/** x86 page-fault error code bits. */
const PF_PROT = 1, PF_WRITE = 2, PF_USER = 4, PF_INSTR = 16;

const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);
const bit = (sig: number): bigint => 1n << BigInt(sig - 1);

/**
 * The page fault Linux reports for a user access that failed in our address space: si_code from
 * the lookup (no mapping / no permission), the error code the CPU would have pushed (a page with
 * PROT_NONE or never touched is not present; see the tests in test/guest/sig_info.c).
 */
export function pageFault(as: AddressSpace, addr: bigint, access: Access, code: number, rip: bigint): Fault {
  let err = PF_USER;
  if (access === Access.Write) err |= PF_WRITE;
  if (access === Access.Exec) err |= PF_INSTR;
  if (addr >= TASK_SIZE_MAX) err |= PF_PROT;
  else if (code === SEGV_ACCERR) {
    const a = Number(addr);
    const r = as.regionAt(a);
    if (r && r.prot !== 0 && as.isPopulated(a - (a % PAGE_SIZE))) err |= PF_PROT;
  }
  return { signo: SIGSEGV, code, addr, trapno: Vector.PF, err, cr2: addr, rip, rf: true };
}

/** #GP: SIGSEGV with SI_KERNEL and no address (non-canonical addresses, privileged instructions). */
export function generalProtection(rip: bigint, err = 0): Fault {
  return { signo: SIGSEGV, code: SI_KERNEL, trapno: Vector.GP, err, rip, rf: true };
}

/**
 * The signal Linux sends for a guest exception (the record of core/exception.ts). `bytes` reads
 * instruction bytes (undefined if unreadable).
 */
export function exceptionFault(x: GuestException, cpu: CpuState, as: AddressSpace,
  bytes: (addr: bigint, n: number) => Uint8Array | undefined): Fault {
  const insn = x.rip;
  switch (x.vector) {
    case Vector.DE:
      return { signo: SIGFPE, code: FPE_INTDIV, addr: insn, trapno: Vector.DE, err: 0, rip: insn, rf: true };
    case Vector.UD:
      return { signo: SIGILL, code: ILL_ILLOPN, addr: insn, trapno: Vector.UD, err: 0, rip: insn, rf: true };
    case Vector.BP: {
      // A trap: the reported rip is after the int3 (0xcc) or int $3 (0xcd 0x03).
      const b = bytes(insn, 2);
      const len = b && b[0] === 0xcd ? 2 : 1;
      return { signo: SIGTRAP, code: SI_KERNEL, trapno: Vector.BP, err: 0, rip: u64(insn + BigInt(len)), rf: false };
    }
    case Vector.PF: {
      // si_code as Linux's find_vma decides it: no mapping there, or a mapping without the right.
      const addr = x.cr2 ?? 0n;
      const access = x.error & PF_INSTR ? Access.Exec : x.error & PF_WRITE ? Access.Write : Access.Read;
      const r = addr < TASK_SIZE_MAX ? as.regionAt(Number(addr)) : undefined;
      if (r && as.pastEof(Number(addr), access)) {
        // A file mapping's page wholly past the end of the file: SIGBUS, BUS_ADRERR.
        const f = pageFault(as, addr, access, SEGV_MAPERR, insn);
        return { ...f, signo: SIGBUS, code: BUS_ADRERR };
      }
      return pageFault(as, addr, access, r ? SEGV_ACCERR : SEGV_MAPERR, insn);
    }
    case Vector.GP: {
      const b = bytes(insn, 2);
      if (b && b[0] === 0xcd) {
        // int $n: vectors 3 and 4 are user-callable gates (traps); any other is #GP(n << 3 | 2).
        const n = b[1];
        if (n === 3) return { signo: SIGTRAP, code: SI_KERNEL, trapno: Vector.BP, err: 0, rip: u64(insn + 2n), rf: false };
        if (n === 4) return { signo: SIGSEGV, code: SI_KERNEL, trapno: Vector.OF, err: 0, rip: u64(insn + 2n), rf: false };
        return generalProtection(insn, (n << 3) | 2);
      }
      return generalProtection(insn, x.error);
    }
    case Vector.MF: {
      const cw = cpu.u32(CPU.fpCw), sw = cpu.u32(CPU.fpSw);
      return { signo: SIGFPE, code: fpeCode(sw & ~cw), addr: insn, trapno: Vector.MF, err: 0, rip: insn, rf: true };
    }
    case Vector.XM: {
      const mxcsr = cpu.u32(CPU.mxcsr);
      return { signo: SIGFPE, code: fpeCode(~(mxcsr >> 7) & mxcsr), addr: insn, trapno: Vector.XM, err: 0, rip: insn, rf: true };
    }
    default:
      return { signo: SIGSEGV, code: SI_KERNEL, trapno: x.vector, err: 0, rip: insn, rf: true };
  }
}

/** What the one-line crash report adds for an exception that kills. */
function killDetail(x: GuestException, f: Fault, why: () => string): string {
  switch (x.vector) {
    case Vector.DE: return 'integer divide error';
    case Vector.UD: return why();
    case Vector.GP: return f.signo === SIGSEGV ? 'general protection' : '';
    case Vector.MF: case Vector.XM: return 'floating-point exception';
    case Vector.PF: case Vector.BP: return '';
    default: return `exception ${x.vector}`;
  }
}

/**
 * The Linux-mode exception sink: the guest exception becomes the signal Linux would send, run by
 * the guest's handler (`delivery`, when signals are attached) or by its default action, which
 * ends the guest (GuestKilled). `why` describes an undecodable instruction for the report.
 */
export function deliverException(x: GuestException, cpu: CpuState, as: AddressSpace, delivery: SignalDelivery | undefined,
  why: () => string): void {
  const f = exceptionFault(x, cpu, as, (a, n) => {
    try { return as.read(Number(a), n); } catch { return undefined; }
  });
  if (delivery?.fault(f)) return;
  const addr = x.vector === Vector.PF ? Number(x.cr2 ?? 0n) : x.vector === Vector.GP && f.signo === SIGSEGV ? 0 : undefined;
  throw new GuestKilled(f.signo, f.rip, addr, killDetail(x, f, why));
}

/** Linux's fpu__exception_code: the first unmasked exception flag decides. */
function fpeCode(err: number): number {
  if (err & 0x01) return FPE_FLTINV;
  if (err & 0x04) return FPE_FLTDIV;
  if (err & 0x08) return FPE_FLTOVF;
  if (err & 0x12) return FPE_FLTUND;
  if (err & 0x20) return FPE_FLTRES;
  return 0;
}

export class SignalDelivery {
  readonly st: SignalState;
  /** Linux's thread.trap_nr / error_code / cr2: what a sigcontext reports, set by each fault. */
  private trapno = 0n;
  private err = 0n;
  private cr2 = 0n;
  /** The next frame interrupts a faulting instruction (its saved RFLAGS gets RF). */
  private faulting = false;

  constructor(
    private readonly cpu: CpuState,
    private readonly as: AddressSpace,
    /** The materialised arithmetic flags (the runtime's get_flags). */
    private readonly arithFlags: () => number,
    private readonly proc: SignalProcess,
    /** strace output, if tracing. */
    private readonly trace?: (line: string) => void,
  ) {
    this.st = proc.signals;
    this.st.engine = true;
  }

  /**
   * Whether `deliver` has something to do (cheap: checked at every dispatcher exit). Timers that
   * have come due fire here (linux-abi/timers.ts): their signals arrive at the first exit after
   * the deadline.
   */
  hasWork(): boolean {
    const st = this.st;
    st.pollTimers();
    return (st.pending !== 0n && (st.pending & ~st.blocked) !== 0n) || st.savedMask !== undefined;
  }

  /**
   * A synchronous fault at `f.rip` (the CPU state is the interrupted one). Returns true if the
   * guest now continues in a handler; false if the default action applies (the caller reports
   * the fatal signal; Linux's forced signal would kill here, handler or not, if it is blocked or
   * ignored).
   */
  fault(f: Fault): boolean {
    this.trapno = BigInt(f.trapno);
    this.err = BigInt(f.err);
    if (f.cr2 !== undefined) this.cr2 = f.cr2;
    this.cpu.rip = f.rip;
    const info: SigInfo = { signo: f.signo, code: f.code, pid: 0, uid: 0, addr: f.addr };
    if (!this.st.force(info)) {
      this.st.discard(f.signo);
      if (this.trace) {
        this.trace(`--- ${signalName(f.signo)} ${formatSiginfo(info)} ---`);
        this.trace(`+++ killed by ${signalName(f.signo)} +++`);
      }
      return false;
    }
    this.faulting = f.rf;
    try {
      this.deliver();
    } finally {
      this.faulting = false;
    }
    return true;
  }

  /** Acts on every pending, unblocked signal (see the file comment). Throws GuestKilled. */
  deliver(): void {
    const st = this.st;
    for (;;) {
      const sig = st.next();
      if (sig === 0) break;
      const info = st.dequeue(sig);
      const act = st.action(sig);
      if (sig !== SIGKILL && act.handler === SIG_IGN) continue;
      if (sig === SIGKILL || act.handler === SIG_DFL) {
        const what = sig === SIGKILL ? 'term' : defaultAction(sig);
        if (what === 'ignore') continue;
        if (what === 'stop' || what === 'cont') {
          this.proc.warnOnce(`stop-${sig}`, `${signalName(sig)}: stopping and continuing the process are not emulated`);
          continue;
        }
        if (this.trace) {
          this.trace(`--- ${signalName(sig)} ${formatSiginfo(info)} ---`);
          this.trace(`+++ killed by ${signalName(sig)} +++`);
        }
        // Reported like qemu-user does: a fault, or any signal whose default action dumps core
        // (abort's SIGABRT); SIGTERM, SIGPIPE, SIGKILL... end the process silently, as natively.
        const fault = [SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP].includes(sig) && info.code > 0;
        const report = fault || (sig !== SIGKILL && defaultAction(sig) === 'core');
        throw new GuestKilled(sig, this.cpu.rip, info.addr !== undefined ? Number(info.addr) : undefined, '', report);
      }
      // A handler. SA_RESETHAND: the action is back to SIG_DFL as soon as it is taken.
      const ka: SigAction = { ...act };
      if (ka.flags & BigInt(SA_RESETHAND)) st.actions[sig] = { ...act, handler: SIG_DFL };
      if (this.trace) this.trace(`--- ${signalName(sig)} ${formatSiginfo(info)} ---`);
      if (!this.setupFrame(sig, ka, info)) {
        // Linux's force_sigsegv: a SIGSEGV that cannot be delivered kills; any other signal
        // turns into a SIGSEGV (which a handler on an alternate stack may still catch).
        if (sig === SIGSEGV) {
          if (this.trace) this.trace(`+++ killed by SIGSEGV +++`);
          throw new GuestKilled(SIGSEGV, this.cpu.rip, undefined, 'cannot build the signal frame');
        }
        st.force({ signo: SIGSEGV, code: SI_KERNEL, pid: 0, uid: 0 });
        continue;
      }
      st.setBlocked(st.blocked | ka.mask | (ka.flags & BigInt(SA_NODEFER) ? 0n : bit(sig)));
      if (st.altstack.flags & SS_AUTODISARM) st.resetAltstack();
    }
    // rt_sigsuspend's mask goes back if no handler frame took it.
    if (st.savedMask !== undefined) {
      st.setBlocked(st.savedMask);
      st.savedMask = undefined;
    }
  }

  /**
   * Builds the rt_sigframe for `sig` below the interrupted stack (or on the alternate stack) and
   * points the CPU at the handler. False if the frame cannot be written (the caller forces SIGSEGV).
   */
  private setupFrame(sig: number, ka: SigAction, info: SigInfo): boolean {
    const cpu = this.cpu, st = this.st;
    if (!(ka.flags & BigInt(SA_RESTORER))) return false; // x86-64 requires a restorer
    const rsp = cpu.get(RSP);
    // get_sigframe: below the red zone, or at the top of the alternate stack.
    let sp = u64(rsp - 128n);
    const nested = st.onSigStack(rsp);
    let entering = false;
    if ((ka.flags & BigInt(SA_ONSTACK)) && st.sasSsFlags(sp) === 0) {
      sp = u64(st.altstack.sp + st.altstack.size);
      entering = true;
    }
    const fpstate = u64(sp - BigInt(FPSTATE_SIZE)) & ~63n;
    const frame = u64((u64(fpstate - BigInt(FRAME_SIZE)) & ~15n) - 8n);
    if ((nested || entering) && !st.inSigStack(frame)) return false;
    // access_ok
    if (frame >= fpstate || fpstate + BigInt(FPSTATE_SIZE) > BigInt(USER_TOP)) return false;
    const mask = st.savedMask ?? st.blocked;
    const arith = this.arithFlags() >>> 0;
    let regs = cpuView(cpu, this.as);
    const rflags = BigInt(arith) | regs.getBigUint64(CPU.rflags, true) | (this.faulting ? BigInt(RF) : 0n);
    this.faulting = false;
    const ctx = { rflags, trapno: this.trapno, err: this.err, cr2: this.cr2 };
    const image = encodeFpstate(regs);
    const head = encodeHead(regs, ctx, ka.restorer, st.altstack, mask, fpstate);
    const f = Number(frame), fp = Number(fpstate);
    try {
      for (const [from, to] of FP_WRITTEN) this.as.write(fp + from, image.subarray(from, to));
      this.as.write(f, head);
      this.as.write(f + FRAME_UC + UC_SIGMASK, encodeMask(mask));
      if (ka.flags & BigInt(SA_SIGINFO)) this.as.write(f + FRAME_INFO, encodeSiginfo(info));
    } catch (e) {
      if (e instanceof GuestFault) return false;
      throw e;
    }
    st.savedMask = undefined;
    // The handler's entry state: handler(sig, &info, &uc), returning to sa_restorer.
    regs = cpuView(cpu, this.as); // the writes may have grown the memory
    viewSetGpr(regs, 7, BigInt(sig));
    viewSetGpr(regs, 6, frame + BigInt(FRAME_INFO));
    viewSetGpr(regs, 2, frame + BigInt(FRAME_UC));
    viewSetGpr(regs, 0, 0n);
    viewSetGpr(regs, RSP, frame);
    regs.setBigUint64(CPU.rip, ka.handler, true);
    regs.setBigUint64(CPU.rflags, regs.getBigUint64(CPU.rflags, true) & ~BigInt(HANDLER_CLEARS), true);
    initFpu(regs);
    return true;
  }
}
