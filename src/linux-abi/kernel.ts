/**
 * The Linux system call layer: LinuxKernel.syscall() performs the call held in a CPU's registers
 * (rax = number; rdi, rsi, rdx, r10, r8, r9 = arguments) and returns the value for rax.
 *
 * Handlers live in syscalls/ (one table, see syscalls/index.ts and table.ts). Here:
 *  - errors: SysError -> -errno; a GuestFault from a bad guest pointer -> -EFAULT; a node:fs error
 *    -> its Linux errno; running out of guest memory -> -ENOMEM;
 *  - strace lines (strace.ts), exit_group's printed before the process ends;
 *  - signals: a signal made pending by the call (kill of itself, SIGPIPE) whose action is to end
 *    the process does so when the call returns, like Linux on its way back to user mode.
 */
import type { AddressSpace } from '../paging/address-space.js';
import { GuestFault } from '../paging/address-space.js';
import { OutOfFrames } from '../paging/frames.js';
import type { CpuState } from '../core/cpu-state.js';
import { GuestExit, GuestKilled } from '../core/exits.js';
import { E, errnoFromNode, SysError } from './errno.js';
import { Proc } from './proc.js';
import { defaultAction, SIG_DFL, SIGKILL, signalName } from './signals.js';
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
}

/** Register numbers of the six argument registers, in order. */
const ARG_REGS = [7, 6, 2, 10, 8, 9] as const;

export class LinuxKernel {
  /** The process state (fds, cwd, signals, limits...). */
  readonly proc: Proc;
  private readonly strace: boolean;
  private readonly log: (line: string) => void;

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

    let result: bigint;
    try {
      result = def ? BigInt(def.handler(p, args)) : -BigInt(E.ENOSYS);
    } catch (e) {
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
      result = -BigInt(this.errnoOf(e, def?.name ?? `syscall ${nr}`));
    }
    result = BigInt.asIntN(64, result);
    if (this.strace) this.trace(nr, def, args, result);
    this.actOnSignals();
    return result;
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
        const info = st.info.get(sig);
        st.discard(sig);
        if (this.strace) {
          const code = info ? ({ 0: 'SI_USER', [-6]: 'SI_TKILL', 0x80: 'SI_KERNEL' } as Record<number, string>)[info.code] ?? String(info.code) : 'SI_USER';
          const from = info && info.code !== 0x80 ? `, si_pid=${info.pid}, si_uid=${info.uid}` : '';
          this.log(`--- ${signalName(sig)} {si_signo=${signalName(sig)}, si_code=${code}${from}} ---`);
          this.log(`+++ killed by ${signalName(sig)} +++`);
        }
        throw new GuestKilled(sig, this.proc.cpu.rip);
      }
      // stop / cont: a stopped process would need job control from the host shell.
      this.proc.warnOnce(`stop-${sig}`, `${signalName(sig)}: stopping and continuing the process are not emulated`);
      st.discard(sig);
    }
  }
}
