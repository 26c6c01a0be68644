/**
 * Per-process signal state: dispositions (rt_sigaction), the blocked mask (rt_sigprocmask), the
 * alternate stack (sigaltstack) and pending signals. System calls record here; the kernel checks
 * after each call whether a pending, unblocked signal must act now, which for now means only a
 * default action that terminates (handlers are kept pending for a later delivery engine, which
 * reads `deliverable()` and the recorded actions).
 */

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
export const SI_USER = 0, SI_KERNEL = 0x80, SI_TKILL = -6;

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

export interface AltStack {
  sp: bigint;
  flags: number;
  size: bigint;
}

/** What a pending signal carries for siginfo_t. */
export interface SigInfo {
  signo: number;
  code: number;
  pid: number;
  uid: number;
}

const bit = (sig: number): bigint => 1n << BigInt(sig - 1);
/** SIGKILL and SIGSTOP can be neither blocked nor caught. */
export const UNBLOCKABLE = bit(SIGKILL) | bit(SIGSTOP);
const ALL = (1n << 64n) - 1n;

export class SignalState {
  readonly actions: SigAction[] = [];
  /** Blocked mask: bit (sig-1). */
  blocked = 0n;
  /** Pending signals: bit (sig-1), with their siginfo. */
  pending = 0n;
  readonly info = new Map<number, SigInfo>();
  altstack: AltStack = { sp: 0n, flags: SS_DISABLE, size: 0n };

  constructor() {
    for (let s = 0; s <= NSIG; s++) this.actions.push({ handler: SIG_DFL, flags: 0n, restorer: 0n, mask: 0n });
  }

  static bit = bit;

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
  send(info: SigInfo): void {
    if (!this.isBlocked(info.signo) && this.isIgnored(info.signo) && info.signo !== SIGKILL) return;
    this.raise(info);
  }

  /** Marks `sig` pending (standard signals do not queue: a second one merges). */
  raise(info: SigInfo): void {
    this.pending |= bit(info.signo);
    if (!this.info.has(info.signo)) this.info.set(info.signo, info);
  }

  discard(sig: number): void {
    this.pending &= ~bit(sig);
    this.info.delete(sig);
  }

  /** Pending, unblocked signals, lowest first (the order Linux delivers synchronous ones). */
  deliverable(): number[] {
    const out: number[] = [];
    let set = this.pending & ~this.blocked;
    for (let s = 1; set !== 0n; s++, set >>= 1n) if (set & 1n) out.push(s);
    return out;
  }
}
