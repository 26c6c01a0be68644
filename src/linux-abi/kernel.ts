/**
 * The Linux system call layer: LinuxKernel.syscall() performs the call held in a CPU's registers
 * (rax = number; rdi, rsi, rdx, r10, r8, r9 = arguments) and returns the value for rax.
 *
 * Handlers live in syscalls/ (one table, see syscalls/index.ts and table.ts). Here:
 *  - errors: SysError -> -errno; a GuestFault from a bad guest pointer -> -EFAULT; a node:fs error
 *    -> its Linux errno; running out of guest memory -> -ENOMEM;
 *  - strace lines (strace.ts), exit_group's printed before the process ends;
 *  - signals: a signal made pending by the call (kill of itself, SIGPIPE) whose action is to end
 *    the process does so when the call returns, like Linux on its way back to user mode;
 *  - blocking (block.ts): a handler that must wait throws Block; the call is kept (BlockedCall)
 *    and TaskBlocked unwinds the machine; the scheduler later retries it (retry) or a signal
 *    interrupts it (interrupt: EINTR, or a restart for SA_RESTART handlers);
 *  - execve (ExecDone) unwinds the old image's machine like exit does.
 */
import type { AddressSpace } from '../paging/address-space.js';
import { GuestFault } from '../paging/address-space.js';
import { OutOfFrames } from '../paging/frames.js';
import type { CpuState } from '../core/cpu-state.js';
import { ExecDone, GuestExit, GuestKilled, TaskBlocked } from '../core/exits.js';
import { Block } from './block.js';
import { monotonicNs } from './clock.js';
import { E, errnoFromNode, SysError } from './errno.js';
import { Proc } from './proc.js';
import { defaultAction, SA_RESTART, SIG_DFL, SIG_IGN, SIGKILL, signalName } from './signals.js';
import { SECCOMP_MODE_DISABLED, type Verdict } from './seccomp.js';
import { formatCall } from './strace.js';
import { SYSCALLS } from './syscalls/index.js';
import { SYSCALL_NAMES } from './syscall-names.js';
import type { SyscallDef } from './table.js';

export interface KernelOptions {
  /** Guest memory; as.brkStart/brkEnd are set by the loader. */
  as: AddressSpace;
  /** Absolute host path of the guest executable (for /proc/self/exe). */
  exePath: string;
  /** Log every system call to `log`. */
  strace: boolean;
  /** stderr writer for strace lines and warnings. */
  log: (line: string) => void;
  /** Called when an executable range is unmapped, replaced or loses PROT_EXEC. */
  onUnmapCode?: (start: number, end: number) => void;
  /** Where the loader put argv, envp and auxv (for /proc/self/cmdline, environ, auxv). */
  image?: import('./proc.js').ProcessImage;
  /** The machine's USM session, reachable through /dev/usm. */
  usm?: import('./usm-device.js').UsmDeviceHost;
  /** `-L PREFIX`: absolute guest paths are looked up under PREFIX first (see Proc.sysroot). */
  sysroot?: string;
  /** A process the process model creates: its ids, and the parent it copies (fork). */
  ids?: import('./proc.js').ProcOptions['ids'];
  forkOf?: Proc;
}

/** Register numbers of the six argument registers, in order. */
const ARG_REGS = [7, 6, 2, 10, 8, 9] as const;

/** A call that blocked (block.ts), kept until it completes or a signal interrupts it. */
export interface BlockedCall {
  nr: number;
  raw: bigint;
  def: SyscallDef;
  args: bigint[];
  /** When it was first attempted (Proc.callStartNs on every retry). */
  startNs: bigint;
  why: string;
  deadlineNs?: bigint;
  /** Undoes what the call registered while waiting (a futex waiter), when a signal interrupts it. */
  cleanup?: () => void;
}

/**
 * Calls Linux restarts after a handler with SA_RESTART (ERESTARTSYS); the others (sleeps, poll,
 * pause, sigsuspend) return EINTR whatever the flags (see signal(7), "Interruption of system calls").
 */
const RESTARTABLE = new Set(['read', 'readv', 'write', 'writev', 'pread64', 'pwrite64', 'wait4', 'waitid',
  'futex', 'ioctl', 'open', 'openat', 'flock', 'fcntl', 'accept', 'accept4', 'recvfrom', 'sendto', 'recvmsg', 'sendmsg']);

export class LinuxKernel {
  /** The process state (fds, cwd, signals, limits...). */
  readonly proc: Proc;
  private readonly strace: boolean;
  private readonly log: (line: string) => void;
  /** The call the current thread is blocked in, if any (thread.ts). */
  get blockedCall(): BlockedCall | undefined { return this.proc.thread.blockedCall; }
  set blockedCall(c: BlockedCall | undefined) { this.proc.thread.blockedCall = c; }

  constructor(opts: KernelOptions) {
    this.proc = new Proc(opts);
    this.strace = opts.strace;
    this.log = opts.log;
  }

  /**
   * Performs the system call in `cpu`. Returns the value for rax (a negative errno on failure).
   * Throws GuestExit (exit, exit_group) or GuestKilled (a signal whose default action ends the
   * process, e.g. kill/tgkill/raise of itself, or SIGPIPE).
   */
  syscall(cpu: CpuState): bigint {
    const p = this.proc;
    p.cpu = cpu;
    const raw = cpu.get(0);
    const nr = raw < 0x1_0000_0000n ? Number(raw) : -1;
    const args = ARG_REGS.map((r) => cpu.get(r));
    const def: SyscallDef | undefined = nr >= 0 ? SYSCALLS[nr] : undefined;

    if (p.seccomp.mode !== SECCOMP_MODE_DISABLED) {
      // seccomp first (seccomp.ts): a call it skips returns its value; TRAP leaves SIGSYS pending.
      const v = this.seccompEnter(cpu, raw, args, def);
      if (!v.run) {
        this.actOnSignals();
        return v.rax;
      }
    }

    p.callStartNs = monotonicNs();
    const r = this.invoke(nr, def, args);
    if (r instanceof Block) {
      if (p.blockable && def) {
        this.blockedCall = { nr, raw, def, args, startNs: p.callStartNs, why: r.why, deadlineNs: r.deadlineNs, cleanup: r.cleanup };
        throw new TaskBlocked();
      }
      // No scheduler (or USM's vmcall path): nobody else can run while this call would wait.
      p.warnOnce(`block-${r.why}`, `${def?.name ?? nr}: ${r.why} would wait for another task, and none can run here; returning EINTR`);
      return this.complete(nr, def, args, -BigInt(E.EINTR));
    }
    return this.complete(nr, def, args, r);
  }

  /** Runs a handler: its result, or the Block it threw. Exits, kills and execs unwind from here. */
  private invoke(nr: number, def: SyscallDef | undefined, args: bigint[]): bigint | Block {
    const p = this.proc;
    try {
      return def ? BigInt(def.handler(p, args)) : -BigInt(E.ENOSYS);
    } catch (e) {
      if (e instanceof Block) return e;
      if (e instanceof ExecDone) {
        if (this.strace) this.trace(nr, def, args, 0n);
        throw e;
      }
      if (e instanceof GuestExit) {
        if (this.strace) {
          this.trace(nr, def, args, undefined);
          this.log(`+++ exited with ${e.status} +++`);
        }
        throw e;
      }
      if (e instanceof GuestKilled) {
        if (this.strace) {
          this.trace(nr, def, args, undefined);
          this.log(`+++ killed by ${signalName(e.signo)} +++`);
        }
        throw e;
      }
      return -BigInt(this.errnoOf(e, def?.name ?? `syscall ${nr}`));
    }
  }

  /** A finished call: traced, pending fatal signals acted on; the value for rax. */
  private complete(nr: number, def: SyscallDef | undefined, args: bigint[], r: bigint): bigint {
    const result = BigInt.asIntN(64, r);
    if (this.strace) this.trace(nr, def, args, result);
    this.actOnSignals();
    return result;
  }

  /**
   * Runs the blocked call again (something it may wait for changed, or its deadline passed): the
   * value for rax, or undefined if it must still wait.
   */
  retry(cpu: CpuState): bigint | undefined {
    const call = this.blockedCall;
    if (!call) throw new Error('retry without a blocked call');
    const p = this.proc;
    p.cpu = cpu;
    p.callStartNs = call.startNs;
    const r = this.invoke(call.nr, call.def, call.args);
    if (r instanceof Block) {
      call.why = r.why;
      call.deadlineNs = r.deadlineNs;
      call.cleanup = r.cleanup;
      return undefined;
    }
    this.blockedCall = undefined;
    return this.complete(call.nr, call.def, call.args, r);
  }

  /**
   * A signal arrived for a task blocked in a call: { restart: rax } if the call is to run again after the
   * handler (SA_RESTART and a restartable call: the machine rewinds to the syscall instruction),
   * otherwise the value for rax (-EINTR).
   */
  interrupt(): { restart: bigint } | bigint {
    const call = this.blockedCall;
    if (!call) throw new Error('interrupt without a blocked call');
    this.blockedCall = undefined;
    call.cleanup?.();
    const st = this.proc.signals;
    const sig = st.next();
    const act = sig ? st.action(sig) : undefined;
    if (act && act.handler !== SIG_DFL && act.handler !== SIG_IGN && (act.flags & BigInt(SA_RESTART)) !== 0n && RESTARTABLE.has(call.def.name)) {
      if (this.strace) this.log(`${call.def.name}(...) = ? ERESTARTSYS (To be restarted if SA_RESTART is set)`);
      return { restart: call.raw };
    }
    if (this.strace) this.trace(call.nr, call.def, call.args, -BigInt(E.EINTR));
    return -BigInt(E.EINTR);
  }

  private seccompEnter(cpu: CpuState, raw: bigint, args: bigint[], def: SyscallDef | undefined): Verdict {
    const nr = Number(BigInt.asIntN(32, raw));
    try {
      const v = this.proc.seccomp.enter(nr, cpu.rip, args, this.log);
      if (!v.run && this.strace) this.trace(nr, def, args, v.rax);
      return v;
    } catch (e) {
      if (e instanceof GuestKilled && this.strace) {
        this.trace(nr, def, args, undefined);
        this.log(`+++ killed by ${signalName(e.signo)}${e.signo === SIGKILL ? '' : ' (core dumped)'} +++`);
      }
      throw e;
    }
  }

  private errnoOf(e: unknown, name: string): number {
    if (e instanceof SysError) return e.errno;
    if (e instanceof GuestFault) return E.EFAULT;
    if (e instanceof OutOfFrames) return E.ENOMEM;
    const errno = errnoFromNode(e);
    if (errno !== undefined) return errno;
    // A bug in a handler: keep the guest running, but say so.
    this.proc.warn(`internal error in ${name}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return E.ENOSYS;
  }

  private trace(nr: number, def: SyscallDef | undefined, args: bigint[], result: bigint | undefined): void {
    const named = SYSCALL_NAMES[nr];
    const name = def?.name ?? named?.[0] ?? `syscall_0x${BigInt.asUintN(64, this.proc.cpu.get(0)).toString(16)}`;
    const nargs = named?.[1] ?? 6;
    this.log(formatCall(name, def?.args, nargs, args, result, this.proc.as, def?.ret));
  }

  /**
   * Pending, unblocked signals after a call: an ignored one is discarded, a default action that
   * ends the process ends it now (GuestKilled), stop/continue are not emulated (warned), and one
   * with a handler stays pending for the delivery engine.
   */
  private actOnSignals(): void {
    const st = this.proc.signals;
    // A delivery engine (linux-abi/signal-delivery.ts) acts on them on the way back to the guest.
    if (st.pending === 0n || st.engine) return;
    for (const sig of st.deliverable()) {
      const act = st.action(sig);
      if (sig !== SIGKILL && st.isIgnored(sig)) {
        st.discard(sig);
        continue;
      }
      if (sig !== SIGKILL && act.handler !== SIG_DFL) {
        this.proc.warnOnce(`handler-${sig}`, `${signalName(sig)} has a handler, but signal delivery is not implemented yet; it stays pending`);
        continue;
      }
      const what = sig === SIGKILL ? 'term' : defaultAction(sig);
      if (what === 'term' || what === 'core') {
        const info = st.infoOf(sig);
        st.discard(sig);
        if (this.strace) {
          const code = info ? ({ 0: 'SI_USER', [-6]: 'SI_TKILL', 0x80: 'SI_KERNEL' } as Record<number, string>)[info.code] ?? String(info.code) : 'SI_USER';
          const from = info && info.code !== 0x80 ? `, si_pid=${info.pid}, si_uid=${info.uid}` : '';
          this.log(`--- ${signalName(sig)} {si_signo=${signalName(sig)}, si_code=${code}${from}} ---`);
          this.log(`+++ killed by ${signalName(sig)} +++`);
        }
        throw new GuestKilled(sig, this.proc.cpu.rip, undefined, '', what === 'core');
      }
      // stop / cont: a stopped process would need job control from the host shell.
      this.proc.warnOnce(`stop-${sig}`, `${signalName(sig)}: stopping and continuing the process are not emulated`);
      st.discard(sig);
    }
  }
}
