/**
 * USM mode: the session in which the process is the CPL0 supervisor of the virtual CPU
 * (docs/usm-abi.md). Entered by ioctl(USM_ENTER) on /dev/usm, left when the guest exits through
 * vmcall or cannot go on (triple fault, an access outside guest-physical memory). While it lasts,
 * memory goes through the guest's page tables (paging/mmu.ts), exceptions through its IDT
 * (vmx/idt.ts) and privileged instructions have their meaning (vmx/privileged.ts).
 */
import { CPU, Mode } from '../core/layout.js';
import { ARITH_FLAGS, RF, RFLAGS_VALID } from '../core/rflags.js';
import type { Insn } from '../decoder/ir.js';
import { Exit, Vector } from '../core/exits.js';
import type { AddressSpace } from '../paging/address-space.js';
import { Mmu } from '../paging/mmu.js';
import type { Tlb } from '../paging/tlb.js';
import type { CpuState } from '../core/cpu-state.js';

import { SEL, UsmState } from './usm-state.js';
import { GuestExit, GuestKilled } from '../core/exits.js';
import type { SignalState } from '../linux-abi/signals.js';

/** Signals whose default action is to do nothing (SIGCHLD, SIGCONT, SIGURG, SIGWINCH). */
const DEFAULT_IGNORED = new Set([17, 18, 23, 28]);
import { ApicTimer } from './apic-timer.js';
import { deliver } from './idt.js';
import { decodeDr7 } from './debug-regs.js';
import { MmLog } from './mm-log.js';

/** USMJIT_USM_FAST=0: every USM event in TypeScript, as before the Wasm fast paths (A/B measurements). */
const FAST_OFF = process.env.USMJIT_USM_FAST === '0';

/** usm_config.ret (include/usm/usm_abi.h). */
export const USM_RET = { EXIT: 1, TRIPLE: 2, PHYS: 3, UNHANDLED: 4 } as const;

/** struct usm_config: regs[16], rip, rflags, cr3, ret, status, fault_addr, fault_rip. */
export const CFG = { regs: 0, rip: 128, rflags: 136, cr3: 144, ret: 152, status: 160, faultAddr: 168, faultRip: 176, size: 184 } as const;
/** struct usm_layout. */
export const LAYOUT = { physBase: 0, physLimit: 8, tscHz: 16, signalVectorBase: 24, version: 28, size: 32 } as const;
export const USM_ABI_VERSION = 1;
export const SIGNAL_VECTOR_BASE = 200;
/** rdtsc counts host nanoseconds. */
export const TSC_HZ = 1_000_000_000n;

const ARITH = BigInt(ARITH_FLAGS);

/** What the session needs from the machine around it (implemented by vmx/machine.ts). */
export interface UsmHost {
  readonly cpu: CpuState;
  readonly as: AddressSpace;
  readonly tlbs: Tlb[];
  getFlags(): number;
  setFlags(arith: number): void;
  /** Drop every translation (the mapping of code addresses changed). */
  flushCode(): void;
  /** Drop translations from virtual page `vpn` (invlpg of a code page). */
  invalidateCodePage(vpn: number): void;
  /** Whether any translation holds code from virtual page `vpn`. */
  hasCodePage(vpn: number): boolean;
  /** Performs the Linux system call in the CPU's registers; returns rax. */
  linuxSyscall(): bigint;
  /** The virtual TSC. */
  rdtsc(): bigint;
  /** Make translated code return to the dispatcher soon (an interrupt may be deliverable). */
  pollSoon(): void;
  /** USM mode starts (true) or ends (false). */
  onActive?(active: boolean): void;
}

/** The local APIC timer's MSR interface (vmx/apic-timer.ts). */
export interface TimerMsrs {
  rdmsr(n: number): bigint | undefined;
  /** False for an MSR it does not implement (#GP). */
  wrmsr(n: number, v: bigint): boolean;
}

/** Ends the session from deep inside (delivery, vmcall): caught by the machine's dispatcher. */
export class UsmLeave extends Error {
  constructor(readonly ret: number, readonly status: number, readonly faultAddr = 0n, readonly faultRip = 0n) {
    super(`USM mode ended (${ret})`);
  }
}

export class Usm {
  active = false;
  readonly st: UsmState;
  readonly mmu: Mmu;
  /** The Linux-mode CPU block (state only) at USM_ENTER, restored when the session ends. */
  private saved: Uint8Array | null = null;
  private cfgAddr = 0;
  /** Set by enter(): the dispatcher must not store the ioctl's result into the new rax. */
  justEntered = false;
  /** The local APIC timer (reset at each entry). */
  timer: ApicTimer & TimerMsrs;
  /** Interrupts delivered (statistics). */
  interrupts = 0;
  /** rip right after an sti: no interrupt is taken before the instruction there has run. */
  shadow: bigint | null = null;
  /** DR7 decoded (vmx/debug-regs.ts). */
  dbg: ReturnType<typeof decodeDr7>;
  /** DR6 bits of a #DB trap to deliver at the next instruction boundary (watchpoint, single step). */
  pendingDb = 0n;
  /** Memory-map changes made by vmcall, for the supervisor (ioctl USM_SET_MM_LOG, vmx/mm-log.ts). */
  readonly mmLog: MmLog;

  constructor(readonly host: UsmHost) {
    this.st = new UsmState(host.cpu);
    this.dbg = decodeDr7(this.st.dr);
    this.mmu = new Mmu(host.as, this.st, host.tlbs);
    this.mmLog = new MmLog(host.as);
    this.timer = new ApicTimer(() => host.rdtsc());
    this.mmu.onWatch = (bits) => {
      this.pendingDb |= bits;
      host.pollSoon();
    };
  }

  /** Whether anything may interrupt the guest (the dispatcher then polls more often). */
  get interruptible(): boolean {
    return this.timer.deadline >= 0n || this.timer.pending;
  }

  /**
   * At an instruction boundary (cpu.rip is the next instruction): delivers a pending timer
   * interrupt if RFLAGS.IF allows. Returns true if rip changed.
   */
  checkInterrupts(): boolean {
    if (!this.interruptible || !(this.cpu.u64(CPU.rflags) & RF.IF)) return false;
    if (this.shadow !== null) {
      const inShadow = this.shadow === this.cpu.rip;
      this.shadow = null;
      if (inShadow) return false;
    }
    if (!this.timer.deliverable()) return false;
    this.timer.taken();
    this.interrupts++;
    deliver(this, { vector: this.timer.vector, rip: this.cpu.rip });
    return true;
  }

  /**
   * Linux signals pending for the process (kill/tgkill through vmcall, timers) reach a USM guest
   * as interrupt vector SIGNAL_VECTOR_BASE + signo, like the original's host signals, when IF is
   * set. A signal whose vector has no IDT gate takes its Linux default action (ignored, or the
   * process is killed). Returns true if rip changed.
   */
  signalInterrupt(st: SignalState): boolean {
    if (!(this.cpu.u64(CPU.rflags) & RF.IF)) return false;
    const sig = st.next();
    if (sig === 0) return false;
    st.dequeue(sig);
    const vector = SIGNAL_VECTOR_BASE + sig;
    const idt = this.st.idtr;
    let present = false;
    if (sig !== 9 && vector < 256 && idt.limit >= vector * 16 + 15) {
      try {
        present = (this.mmu.readV(idt.base + BigInt(vector * 16) + 5n, 1, false)[0] & 0x80) !== 0;
      } catch {
        present = false;
      }
    }
    if (!present) {
      if (st.isIgnored(sig) || DEFAULT_IGNORED.has(sig)) return false;
      throw new GuestKilled(sig, this.cpu.rip);
    }
    this.interrupts++;
    deliver(this, { vector, rip: this.cpu.rip });
    return true;
  }

  /**
   * hlt with cpu.rip at the next instruction: waits for the timer and delivers its interrupt.
   * False if no interrupt can ever come (the guest would hang; reported as #GP instead).
   */
  halt(): boolean {
    if (!(this.cpu.u64(CPU.rflags) & RF.IF)) return false;
    for (;;) {
      if (this.checkInterrupts()) return true;
      const wait = this.timer.untilNext();
      if (wait < 0n) return false;
      sleepNs(wait);
    }
  }

  get cpu(): CpuState {
    return this.host.cpu;
  }

  /** The translation mode for the current CPL and RFLAGS.TF. */
  get mode(): Mode {
    const step = (this.cpu.u64(CPU.rflags) & RF.TF) !== 0n;
    if (this.st.cpl === 3) return step ? Mode.Cpl3Step : Mode.Cpl3;
    return step ? Mode.Cpl0Step : Mode.Cpl0;
  }

  /**
   * Whether the Wasm fast paths (vmx/usm-fast) may run: in a session without data watchpoints
   * (watched pages must take the TypeScript path on every access).
   */
  private syncFast(): void {
    this.cpu.setU32(CPU.usmFast, this.active && this.dbg.watches.length === 0 && !FAST_OFF ? 1 : 0);
  }

  /** DR0-DR3 or DR7 changed: breakpoints are compiled into translations, watched pages uncached. */
  debugChanged(): void {
    const before = this.dbg.exec;
    this.dbg = decodeDr7(this.st.dr);
    this.mmu.watches = this.dbg.watches;
    this.syncFast();
    this.flushTlbs();
    // Breakpoint checks are compiled into translations: retranslate the pages of the old and new
    // breakpoints. (Watchpoints are part of the translation key: no flush for them.)
    for (const addr of [...before.keys(), ...this.dbg.exec.keys()]) this.host.invalidateCodePage(Math.floor(addr / 4096));
  }

  /** The check compiled before an instruction at a breakpoint address. */
  breakCheck(i: Insn): number {
    const cpu = this.cpu;
    const fl = cpu.u64(CPU.rflags);
    if (fl & RF.RF) {
      // iretq set RF: the breakpoint is suppressed for this one instruction.
      cpu.setU64(CPU.rflags, fl & ~RF.RF);
      return -1;
    }
    const n = this.dbg.exec.get(i.addr);
    if (n === undefined) return -1;
    this.st.dr[6] |= 1n << BigInt(n);
    cpu.rip = BigInt(i.addr);
    cpu.setU64(CPU.exitInsn, BigInt(i.addr));
    cpu.setU64(CPU.exitArg, BigInt(Vector.DB));
    return Exit.Exception;
  }

  /** Delivers a pending #DB trap (rip = the next instruction). */
  deliverPendingDb(): void {
    this.st.dr[6] |= this.pendingDb;
    this.pendingDb = 0n;
    deliver(this, { vector: Vector.DB, rip: this.cpu.rip });
  }

  // ---- RFLAGS (arithmetic flags are lazy in the CPU block) ---------------------------------

  rflags(): bigint {
    return (this.cpu.u64(CPU.rflags) & ~ARITH) | BigInt(this.host.getFlags()) | 2n;
  }

  setRflags(v: bigint): void {
    v = (v & RFLAGS_VALID) | 2n;
    this.cpu.setU64(CPU.rflags, v & ~ARITH);
    this.host.setFlags(Number(v & ARITH));
  }

  getFlag(bit: bigint): boolean {
    return (this.rflags() & bit) !== 0n;
  }

  setCpl(cpl: number): void {
    this.st.cpl = cpl;
  }

  flushTlbs(): void {
    for (const t of this.host.tlbs) t.flushAll();
  }

  // ---- entering and leaving -----------------------------------------------------------------

  /** ioctl(USM_ENTER, cfg): the CPU continues at cfg.rip at CPL0 when the dispatcher resumes. */
  enter(cfgAddr: number): void {
    const as = this.host.as;
    const cfg = new DataView(as.read(cfgAddr, CFG.size).buffer);
    as.write(cfgAddr + CFG.ret, new Uint8Array(32)); // out fields, and a fault here is EFAULT now
    const cpu = this.cpu;
    this.saved = new Uint8Array(as.frames.memory.buffer, cpu.base, CPU.tlb).slice();
    this.cfgAddr = cfgAddr;
    for (let r = 0; r < 16; r++) cpu.set(r, cfg.getBigUint64(CFG.regs + r * 8, true));
    cpu.rip = cfg.getBigUint64(CFG.rip, true);
    this.st.reset(cfg.getBigUint64(CFG.cr3, true));
    this.timer = new ApicTimer(() => this.host.rdtsc());
    this.dbg = decodeDr7(this.st.dr);
    this.mmu.watches = [];
    this.pendingDb = 0n;
    this.setRflags(cfg.getBigUint64(CFG.rflags, true));
    cpu.setU32(CPU.cs, SEL.KERNEL_CS);
    cpu.setU32(CPU.ss, SEL.KERNEL_DS);
    this.active = true;
    this.justEntered = true;
    this.host.onActive?.(true);
    as.tlbsVirtual = true;
    this.flushTlbs();
    this.setCpl(0);
    this.syncFast();
  }

  /** Ends the session: Linux mode resumes after the ioctl, which returns 0, with cfg's out fields set. */
  leave(l: UsmLeave): void {
    if (!this.active || !this.saved) return;
    const as = this.host.as;
    this.active = false;
    this.host.onActive?.(false);
    as.tlbsVirtual = false;
    this.flushTlbs();
    new Uint8Array(as.frames.memory.buffer, this.cpu.base, CPU.tlb).set(this.saved);
    this.saved = null;
    this.cpu.set(0, 0n);
    const out = new DataView(new ArrayBuffer(32));
    out.setBigInt64(0, BigInt(l.ret), true);
    out.setBigInt64(8, BigInt(l.status), true);
    out.setBigUint64(16, BigInt.asUintN(64, l.faultAddr), true);
    out.setBigUint64(24, BigInt.asUintN(64, l.faultRip), true);
    try {
      as.write(this.cfgAddr + CFG.ret, new Uint8Array(out.buffer));
    } catch {
      // The config block was unmapped by the guest: nothing to report into.
    }
  }

  /** ioctl(USM_SET_MM_LOG): where to record memory-map changes made by vmcall (0: nowhere). */
  setMmLog(addr: number): void {
    this.mmLog.addr = addr;
  }

  /** ioctl(USM_GET_LAYOUT). */
  layout(): Uint8Array {
    const b = new DataView(new ArrayBuffer(LAYOUT.size));
    b.setBigUint64(LAYOUT.physBase, 0n, true);
    b.setBigUint64(LAYOUT.physLimit, 1n << 47n, true);
    b.setBigUint64(LAYOUT.tscHz, TSC_HZ, true);
    b.setUint32(LAYOUT.signalVectorBase, SIGNAL_VECTOR_BASE, true);
    b.setUint32(LAYOUT.version, USM_ABI_VERSION, true);
    return new Uint8Array(b.buffer);
  }

  /** vmcall at CPL0: a Linux system call with guest-physical pointers; exit ends the session. */
  vmcall(): void {
    const cpu = this.cpu, nr = Number(cpu.get(0));
    try {
      if (this.mmLog.wants(nr)) {
        const before = this.mmLog.before(nr);
        const ret = this.host.linuxSyscall();
        cpu.set(0, ret);
        // rdi rsi rdx: the arguments every logged call's event is made from
        this.mmLog.after(before, [cpu.get(7), cpu.get(6), cpu.get(2)], ret);
        return;
      }
      this.cpu.set(0, this.host.linuxSyscall());
    } catch (e) {
      if (e instanceof GuestExit) throw new UsmLeave(USM_RET.EXIT, e.status);
      throw e;
    }
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
/** Blocks the host thread for about `ns` nanoseconds (hlt waiting for the timer). */
function sleepNs(ns: bigint): void {
  if (ns >= 2_000_000n) {
    Atomics.wait(sleeper, 0, 0, Number(ns / 1_000_000n) - 1);
    return;
  }
  const end = process.hrtime.bigint() + ns;
  while (process.hrtime.bigint() < end) { /* spin: sub-millisecond waits */ }
}
