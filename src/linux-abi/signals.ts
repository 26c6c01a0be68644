/**
 * Per-process signal state: dispositions (rt_sigaction), the blocked mask (rt_sigprocmask), the
 * alternate stack (sigaltstack) and pending signals with their siginfo. System calls record here.
 *
 * Who acts on a pending, unblocked signal: the delivery engine (linux-abi/signal-delivery.ts) when the
 * machine has one attached (`engine` is then true): it runs handlers, ignores, or kills, at every
 * return to the guest. Without an engine (the kernel alone, as in unit tests) the kernel applies
 * the default actions that end the process after each call and leaves handled signals pending.
 * Timers (timers.ts) make signals pending when they are polled: see `pollTimers`.
 */
import { performance } from 'node:perf_hooks';
import { SYSCALL_NAMES } from './syscall-names.js';

export const NSIG = 64;
export const SIG_DFL = 0n;
export const SIG_IGN = 1n;

export const SIGHUP = 1, SIGINT = 2, SIGQUIT = 3, SIGILL = 4, SIGTRAP = 5, SIGABRT = 6, SIGBUS = 7,
  SIGFPE = 8, SIGKILL = 9, SIGUSR1 = 10, SIGSEGV = 11, SIGUSR2 = 12, SIGPIPE = 13, SIGALRM = 14,
  SIGTERM = 15, SIGSTKFLT = 16, SIGCHLD = 17, SIGCONT = 18, SIGSTOP = 19, SIGTSTP = 20, SIGTTIN = 21,
  SIGTTOU = 22, SIGURG = 23, SIGXCPU = 24, SIGXFSZ = 25, SIGVTALRM = 26, SIGPROF = 27, SIGWINCH = 28,
  SIGIO = 29, SIGPWR = 30, SIGSYS = 31;

/** sa_flags bits. */
export const SA_NOCLDSTOP = 0x1, SA_NOCLDWAIT = 0x2, SA_SIGINFO = 0x4, SA_RESTORER = 0x0400_0000,
  SA_ONSTACK = 0x0800_0000, SA_RESTART = 0x1000_0000, SA_NODEFER = 0x4000_0000, SA_RESETHAND = 0x8000_0000;

/** sigaltstack flags. */
export const SS_ONSTACK = 1, SS_DISABLE = 2, SS_AUTODISARM = 0x8000_0000;
export const MINSIGSTKSZ = 2048;

/** si_code values. */
export const SI_USER = 0, SI_KERNEL = 0x80, SI_QUEUE = -1, SI_TIMER = -2, SI_TKILL = -6;
export const SEGV_MAPERR = 1, SEGV_ACCERR = 2;
export const BUS_ADRERR = 2;
export const ILL_ILLOPN = 2;
export const FPE_INTDIV = 1, FPE_INTOVF = 2, FPE_FLTDIV = 3, FPE_FLTOVF = 4, FPE_FLTUND = 5, FPE_FLTRES = 6,
  FPE_FLTINV = 7;

/** Signals the kernel dequeues before any other (x86 SYNCHRONOUS_MASK): those faults raise. */
const SYNCHRONOUS = [SIGILL, SIGTRAP, SIGBUS, SIGFPE, SIGSEGV, SIGSYS];

export const SIGNAL_NAMES: readonly string[] = ['0', 'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGILL', 'SIGTRAP', 'SIGABRT',
  'SIGBUS', 'SIGFPE', 'SIGKILL', 'SIGUSR1', 'SIGSEGV', 'SIGUSR2', 'SIGPIPE', 'SIGALRM', 'SIGTERM', 'SIGSTKFLT',
  'SIGCHLD', 'SIGCONT', 'SIGSTOP', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGURG', 'SIGXCPU', 'SIGXFSZ', 'SIGVTALRM',
  'SIGPROF', 'SIGWINCH', 'SIGIO', 'SIGPWR', 'SIGSYS'];

export function signalName(sig: number): string {
  if (sig >= 1 && sig < SIGNAL_NAMES.length) return SIGNAL_NAMES[sig];
  if (sig === 32) return 'SIGRTMIN-2'; // glibc reserves 32 and 33
  if (sig === 33) return 'SIGRTMIN-1';
  if (sig >= 34 && sig <= NSIG) return sig === 34 ? 'SIGRTMIN' : `SIGRT_${sig - 32}`;
  return String(sig);
}

/** strsignal(3)'s text for the signals a crash report names. */
const DESCRIPTIONS: Record<number, string> = {
  1: 'Hangup', 2: 'Interrupt', 3: 'Quit', 4: 'Illegal instruction', 5: 'Trace/breakpoint trap', 6: 'Aborted',
  7: 'Bus error', 8: 'Floating point exception', 9: 'Killed', 10: 'User defined signal 1', 11: 'Segmentation fault',
  12: 'User defined signal 2', 13: 'Broken pipe', 14: 'Alarm clock', 15: 'Terminated', 31: 'Bad system call',
};

/** 'SIGSEGV (Segmentation fault)', or 'signal N' for one without a name. */
export function describeSignal(sig: number): string {
  const d = DESCRIPTIONS[sig];
  return d ? `${signalName(sig)} (${d})` : `signal ${sig}`;
}

export type DefaultAction = 'term' | 'core' | 'ignore' | 'stop' | 'cont';

/** What SIG_DFL does (signal(7)). Real-time signals terminate. */
export function defaultAction(sig: number): DefaultAction {
  switch (sig) {
    case SIGQUIT: case SIGILL: case SIGTRAP: case SIGABRT: case SIGBUS: case SIGFPE: case SIGSEGV:
    case SIGXCPU: case SIGXFSZ: case SIGSYS:
      return 'core';
    case SIGCHLD: case SIGURG: case SIGWINCH:
      return 'ignore';
    case SIGSTOP: case SIGTSTP: case SIGTTIN: case SIGTTOU:
      return 'stop';
    case SIGCONT:
      return 'cont';
    default:
      return 'term';
  }
}

/** The kernel's struct sigaction (x86-64): 32 bytes. */
export interface SigAction {
  handler: bigint; // SIG_DFL, SIG_IGN or a guest address
  flags: bigint;
  restorer: bigint;
  mask: bigint;
}

/**
 * The alternate signal stack as Linux keeps it (sas_ss_sp, sas_ss_size, sas_ss_flags): `flags` is
 * what sigaltstack was last given (0, SS_AUTODISARM, SS_DISABLE...), `size` 0 means none.
 */
export interface AltStack {
  sp: bigint;
  flags: number;
  size: bigint;
}

/** What a pending signal carries for siginfo_t. */
export interface SigInfo {
  signo: number;
  code: number;
  /** Sender (kill, tgkill, SIGPIPE: SI_USER / SI_TKILL / SI_QUEUE). */
  pid: number;
  uid: number;
  /** si_addr of a fault (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP with a fault code). */
  addr?: bigint;
  /** si_value of sigqueue (SI_QUEUE) and of a POSIX timer's signal (SI_TIMER). */
  value?: bigint;
  /** A POSIX timer's signal (SI_TIMER): si_timerid and si_overrun (updated while it is pending). */
  timer?: { id: number; overrun: number };
  /** SIGCHLD: the child's si_status (exit code, or the signal that ended it). */
  status?: number;
  /** A seccomp SIGSYS (SYS_SECCOMP; addr is si_call_addr): si_syscall, si_arch, si_errno. */
  sys?: { nr: number; arch: number; errno: number };
}

/** strace's rendering of a siginfo: `{si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=0x10}`. */
export function formatSiginfo(info: SigInfo): string {
  const generic: Record<number, string> = { [SI_USER]: 'SI_USER', [SI_KERNEL]: 'SI_KERNEL', [SI_QUEUE]: 'SI_QUEUE', [SI_TIMER]: 'SI_TIMER', [SI_TKILL]: 'SI_TKILL' };
  const specific: Record<number, Record<number, string>> = {
    [SIGSEGV]: { 1: 'SEGV_MAPERR', 2: 'SEGV_ACCERR' },
    [SIGILL]: { 1: 'ILL_ILLOPC', 2: 'ILL_ILLOPN' },
    [SIGFPE]: { 1: 'FPE_INTDIV', 2: 'FPE_INTOVF', 3: 'FPE_FLTDIV', 4: 'FPE_FLTOVF', 5: 'FPE_FLTUND', 6: 'FPE_FLTRES', 7: 'FPE_FLTINV' },
    [SIGBUS]: { 1: 'BUS_ADRALN', 2: 'BUS_ADRERR' },
    [SIGTRAP]: { 1: 'TRAP_BRKPT', 2: 'TRAP_TRACE' },
    [SIGSYS]: { 1: 'SYS_SECCOMP' },
  };
  const code = (info.code > 0 && info.code < SI_KERNEL ? specific[info.signo]?.[info.code] : undefined)
    ?? generic[info.code] ?? String(info.code);
  let s = `{si_signo=${signalName(info.signo)}, si_code=${code}`;
  if (info.code === SI_TIMER) {
    const v = BigInt.asUintN(64, info.value ?? 0n);
    s += `, si_timerid=${info.timer?.id ?? 0}, si_overrun=${info.timer?.overrun ?? 0}, si_int=${BigInt.asIntN(32, v)}, si_ptr=${v ? '0x' + v.toString(16) : 'NULL'}`;
  } else if (info.sys) {
    const call = SYSCALL_NAMES[info.sys.nr]?.[0];
    const arch = info.sys.arch === 0xc000_003e ? 'AUDIT_ARCH_X86_64' : `0x${info.sys.arch.toString(16)}`;
    s += `, si_call_addr=0x${(info.addr ?? 0n).toString(16)}, si_syscall=${call ? `__NR_${call}` : info.sys.nr}, si_arch=${arch}`;
  } else if (info.code <= 0) s += `, si_pid=${info.pid}, si_uid=${info.uid}`;
  else if (info.addr !== undefined || (info.code === SI_KERNEL && (info.signo === SIGSEGV || info.signo === SIGBUS))) {
    s += `, si_addr=${info.addr ? '0x' + info.addr.toString(16) : 'NULL'}`;
  }
  return s + '}';
}

const bit = (sig: number): bigint => 1n << BigInt(sig - 1);
/** SIGKILL and SIGSTOP can be neither blocked nor caught. */
export const UNBLOCKABLE = bit(SIGKILL) | bit(SIGSTOP);
const ALL = (1n << 64n) - 1n;

export class SignalState {
  readonly actions: SigAction[] = [];
  /** Blocked mask: bit (sig-1). */
  blocked = 0n;
  /** Signals pending for the process (kill): bit (sig-1), with their siginfo. */
  shared = 0n;
  readonly info = new Map<number, SigInfo>();
  /**
   * Signals pending for the running thread only (tgkill, its own faults), with their siginfo;
   * process/scheduler.ts swaps them with the thread (linux-abi/thread.ts).
   */
  own = 0n;
  ownInfo = new Map<number, SigInfo>();

  /** What the running thread may take: the process's pending signals and its own. */
  get pending(): bigint {
    return this.shared | this.own;
  }

  /** The siginfo of pending `sig` (the thread's own first). */
  infoOf(sig: number): SigInfo | undefined {
    return this.ownInfo.get(sig) ?? this.info.get(sig);
  }
  /** No alternate stack yet: size 0 (sigaltstack then reports SS_DISABLE). */
  altstack: AltStack = { sp: 0n, flags: 0, size: 0n };
  /**
   * The mask to restore after a call that changed it only while it ran (rt_sigsuspend): the first
   * handler frame saves it as the interrupted mask, else it is restored on return to the guest.
   */
  savedMask: bigint | undefined;
  /** A delivery engine acts on pending signals (see the file comment); the kernel leaves them. */
  engine = false;
  /**
   * When the next timer (timers.ts) may be due, in performance.now() milliseconds (Infinity: no
   * timer armed), and what fires the due ones. `pollTimers` is cheap while no timer is armed.
   */
  timerDue = Infinity;
  fireTimers: () => void = () => {};

  constructor() {
    for (let s = 0; s <= NSIG; s++) this.actions.push({ handler: SIG_DFL, flags: 0n, restorer: 0n, mask: 0n });
  }

  static bit = bit;

  /** fork: the parent's actions, mask and alternate stack; no pending signals. */
  copyFrom(other: SignalState): void {
    other.actions.forEach((a, i) => { this.actions[i] = { ...a }; });
    this.blocked = other.blocked;
    this.altstack = { ...other.altstack };
  }

  /** execve: caught signals return to SIG_DFL (ignored ones stay ignored); no alternate stack. */
  resetForExec(): void {
    this.actions.forEach((a, i) => {
      if (a.handler !== SIG_DFL && a.handler !== SIG_IGN) this.actions[i] = { handler: SIG_DFL, flags: 0n, restorer: 0n, mask: 0n };
    });
    this.altstack = { sp: 0n, flags: 0, size: 0n };
    this.savedMask = undefined;
  }

  action(sig: number): SigAction {
    return this.actions[sig];
  }

  /** Installs a new action; a signal now ignored is discarded from the pending set (as Linux). */
  setAction(sig: number, act: SigAction): void {
    this.actions[sig] = { ...act, mask: act.mask & ~UNBLOCKABLE };
    if (this.isIgnored(sig)) this.discard(sig);
  }

  /** Whether delivering `sig` now would do nothing. */
  isIgnored(sig: number): boolean {
    const h = this.actions[sig].handler;
    return h === SIG_IGN || (h === SIG_DFL && defaultAction(sig) === 'ignore');
  }

  setBlocked(mask: bigint): void {
    this.blocked = mask & ALL & ~UNBLOCKABLE;
  }

  isBlocked(sig: number): boolean {
    return (this.blocked & bit(sig)) !== 0n;
  }

  /**
   * Sends a signal to the process: an ignored, unblocked signal is dropped at once (as Linux
   * does); anything else becomes pending and the kernel acts on it when the call returns.
   */
  send(info: SigInfo, toThread = false): void {
    if (!this.isBlocked(info.signo) && this.isIgnored(info.signo) && info.signo !== SIGKILL) return;
    this.raise(info, toThread);
  }

  /** Marks `sig` pending (standard signals do not queue: a second one merges). */
  raise(info: SigInfo, toThread = false): void {
    if (toThread) {
      this.own |= bit(info.signo);
      if (!this.ownInfo.has(info.signo)) this.ownInfo.set(info.signo, info);
      return;
    }
    this.shared |= bit(info.signo);
    if (!this.info.has(info.signo)) this.info.set(info.signo, info);
  }

  discard(sig: number): void {
    this.shared &= ~bit(sig);
    this.info.delete(sig);
    this.own &= ~bit(sig);
    this.ownInfo.delete(sig);
  }

  /**
   * A signal the kernel forces on the process (a fault, a bad signal frame): if it is blocked or
   * ignored its action becomes SIG_DFL and it is unblocked, so it cannot be lost (Linux's
   * force_sig_info). Returns whether a handler will run (false: the default action).
   */
  force(info: SigInfo): boolean {
    const sig = info.signo;
    const act = this.actions[sig];
    const blocked = this.isBlocked(sig);
    if (blocked || act.handler === SIG_IGN) {
      this.actions[sig] = { ...act, handler: SIG_DFL };
      if (blocked) this.blocked &= ~bit(sig);
    }
    this.raise(info, true);
    return this.actions[sig].handler !== SIG_DFL;
  }

  /** Fires the timers that are due (their signals become pending). */
  pollTimers(): void {
    if (this.timerDue !== Infinity && performance.now() >= this.timerDue) this.fireTimers();
  }

  /** Whether some pending signal is unblocked (or a temporary mask must be put back). */
  hasWork(): boolean {
    this.pollTimers();
    return (this.pending !== 0n && (this.pending & ~this.blocked) !== 0n) || this.savedMask !== undefined;
  }

  /** The next signal to deliver: synchronous ones first, then the lowest number (0: none). */
  next(): number {
    const set = this.pending & ~this.blocked;
    if (set === 0n) return 0;
    for (const s of SYNCHRONOUS) if (set & bit(s)) return s;
    let s = 1;
    for (let m = set; (m & 1n) === 0n; m >>= 1n) s++;
    return s;
  }

  /** Takes `sig` off the pending set and returns its siginfo. */
  dequeue(sig: number): SigInfo {
    if (this.own & bit(sig)) {
      const info = this.ownInfo.get(sig) ?? { signo: sig, code: SI_KERNEL, pid: 0, uid: 0 };
      this.own &= ~bit(sig);
      this.ownInfo.delete(sig);
      return info;
    }
    const info = this.info.get(sig) ?? { signo: sig, code: SI_KERNEL, pid: 0, uid: 0 };
    this.shared &= ~bit(sig);
    this.info.delete(sig);
    return info;
  }

  // ---- the alternate stack (Linux's on_sig_stack, sas_ss_flags, do_sigaltstack) ----

  /** Whether `sp` is on the alternate stack (never, with SS_AUTODISARM). */
  onSigStack(sp: bigint): boolean {
    if (this.altstack.flags & SS_AUTODISARM) return false;
    return this.inSigStack(sp);
  }

  /** Whether `sp` lies within the alternate stack, flags aside (Linux's __on_sig_stack). */
  inSigStack(sp: bigint): boolean {
    const { sp: base, size } = this.altstack;
    return sp > base && sp - base <= size;
  }

  /** SS_DISABLE (none), SS_ONSTACK (sp is on it) or 0. */
  sasSsFlags(sp: bigint): number {
    if (this.altstack.size === 0n) return SS_DISABLE;
    return this.onSigStack(sp) ? SS_ONSTACK : 0;
  }

  /** What sigaltstack reports as the current stack, for a guest running at `sp`. */
  reportAltstack(sp: bigint): AltStack {
    const a = this.altstack;
    return { sp: a.sp, size: a.size, flags: this.sasSsFlags(sp) | (a.flags & SS_AUTODISARM) };
  }

  /**
   * Installs a new alternate stack for a guest running at `sp` (sigaltstack, and rt_sigreturn
   * restoring uc_stack). Returns 0 or a positive errno (EPERM while on the stack, EINVAL, ENOMEM).
   */
  setAltstack(ss: AltStack, sp: bigint, minSize = MINSIGSTKSZ): number {
    if (this.onSigStack(sp)) return 1; // EPERM
    const mode = ss.flags & ~SS_AUTODISARM;
    if (mode !== SS_DISABLE && mode !== SS_ONSTACK && mode !== 0) return 22; // EINVAL
    const a = this.altstack;
    if (a.sp === ss.sp && a.size === ss.size && a.flags === ss.flags) return 0;
    if (mode === SS_DISABLE) {
      this.altstack = { sp: 0n, size: 0n, flags: ss.flags };
      return 0;
    }
    if (ss.size < BigInt(minSize)) return 12; // ENOMEM
    this.altstack = { ...ss };
    return 0;
  }

  /** sas_ss_reset: what SS_AUTODISARM does once a handler runs on the stack. */
  resetAltstack(): void {
    this.altstack = { sp: 0n, size: 0n, flags: SS_DISABLE };
  }

  /** Pending, unblocked signals, lowest first (the order Linux delivers synchronous ones). */
  deliverable(): number[] {
    const out: number[] = [];
    let set = this.pending & ~this.blocked;
    for (let s = 1; set !== 0n; s++, set >>= 1n) if (set & 1n) out.push(s);
    return out;
  }
}
