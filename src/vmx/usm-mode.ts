/**
 * USM mode: the guest's own page tables (paging/mmu.ts) translate every access, exceptions go
 * through the guest's IDT (vmx/idt.ts), and interrupts (timer, host signals, #DB traps) are taken
 * at returns to the dispatcher.
 */
import { type GuestException, MemoryFault, recordException, recordFault } from '../core/exception.js';
import type { CpuState } from '../core/cpu-state.js';
import { Exit, Vector } from '../core/exits.js';
import { CPU, isStepMode, isUserMode, type Mode, PAGE_SIZE } from '../core/layout.js';
import { RF } from '../core/rflags.js';
import type { CodePages } from '../jit/code-pages.js';
import type { SignalDelivery } from '../linux-abi/signal-delivery.js';
import type { FrameAllocator } from '../paging/frames.js';
import { PageFault } from '../paging/pagewalk.js';
import { TRY_GP } from '../paging/mmu.js';
import type { Tlb } from '../paging/tlb.js';
import { DR6_BS } from './debug-regs.js';
import type { ExecMode } from './exec-mode.js';
import { deliver } from './idt.js';
import { type Usm, USM_RET, UsmLeave } from './usm.js';
import { CR0 } from './usm-state.js';

/** Blocks run per entry while a timer is armed: bounds interrupt latency (translated code checks every 4096). */
const USM_TIMER_BUDGET = 1 << 13;
const ZERO8 = new Uint8Array(8);
const ZERO16 = new Uint8Array(16);

export class UsmMode implements ExecMode {
  /** The process's signals: they arrive as interrupt vectors (Usm.signalInterrupt). */
  signals?: SignalDelivery;
  /** This run is one instruction (RFLAGS.TF) and RF is to be cleared after it. */
  private stepping = false;
  private rf = false;

  constructor(
    private readonly usm: Usm,
    private readonly cpu: CpuState,
    private readonly frames: FrameAllocator,
    private readonly tlbs: Tlb[],
    private readonly codePages: CodePages,
  ) {}

  get mem(): Usm['mmu'] {
    return this.usm.mmu;
  }

  // ---- slow paths ----------------------------------------------------------------------------

  /**
   * The common case, an access within one page and no watchpoints: the host address (>= 0),
   * -1 after recording the fault, or -2 to take the general path.
   */
  private fast(a: bigint, size: number, write: boolean, rip: bigint): number {
    const mmu = this.usm.mmu;
    if (mmu.watches.length || Number(BigInt.asUintN(12, a)) + size > PAGE_SIZE) return -2;
    let h: number;
    try {
      h = mmu.tryAccess(a, write);
    } catch (e) {
      if (e instanceof MemoryFault) { recordFault(this.cpu, e, rip); return -1; }
      throw e;
    }
    if (h >= 0) return h;
    if (h === TRY_GP) recordException(this.cpu, { vector: Vector.GP, error: 0, rip });
    else recordException(this.cpu, { vector: Vector.PF, error: ~h, cr2: a, rip });
    return -1;
  }

  /** The general path (page crossings, watchpoints): faults recorded, `dflt` returned then. */
  private slow<T>(rip: bigint, body: () => T, dflt: T): T {
    try {
      return body();
    } catch (e) {
      if (e instanceof MemoryFault) { recordFault(this.cpu, e, rip); return dflt; }
      throw e;
    }
  }

  read(a: bigint, size: number, rip: bigint): bigint {
    const h = this.fast(a, size, false, rip);
    if (h === -1) return 0n;
    if (h >= 0) {
      const dv = this.frames.dv;
      switch (size) {
        case 1: return BigInt(dv.getUint8(h));
        case 2: return BigInt(dv.getUint16(h, true));
        case 4: return BigInt(dv.getUint32(h, true));
        default: return dv.getBigInt64(h, true);
      }
    }
    const b = this.slow(rip, () => this.usm.mmu.readV(a, size), ZERO8);
    let v = 0n;
    for (let k = size - 1; k >= 0; k--) v = (v << 8n) | BigInt(b[k]);
    return BigInt.asIntN(64, v);
  }

  write(a: bigint, size: number, v: bigint, rip: bigint): void {
    const h = this.fast(a, size, true, rip);
    if (h >= 0) {
      // Within one page: store straight to host memory (no byte array on this path).
      const dv = this.frames.dv;
      switch (size) {
        case 1: dv.setUint8(h, Number(v & 0xffn)); return;
        case 2: dv.setUint16(h, Number(v & 0xffffn), true); return;
        case 4: dv.setUint32(h, Number(v & 0xffff_ffffn), true); return;
        default: dv.setBigUint64(h, BigInt.asUintN(64, v), true); return;
      }
    }
    if (h !== -2) return;
    const bytes = new Uint8Array(size);
    for (let k = 0; k < size; k++) bytes[k] = Number((v >> BigInt(8 * k)) & 0xffn);
    this.slow(rip, () => this.usm.mmu.writeV(a, bytes), undefined);
  }

  read128(c: number, a: bigint, rip: bigint): number {
    this.frames.u8.set(this.slow(rip, () => this.usm.mmu.readV(a, 16), ZERO16), c + CPU.scratch);
    return c + CPU.scratch;
  }

  write128(c: number, a: bigint, rip: bigint): void {
    const data = this.frames.u8.slice(c + CPU.scratch, c + CPU.scratch + 16);
    this.slow(rip, () => this.usm.mmu.writeV(a, data), undefined);
  }

  hostAddr(a: number, write: boolean, len: number): number {
    return this.usm.mmu.hostFor(BigInt(a), write, len);
  }

  // ---- code ----------------------------------------------------------------------------------

  /**
   * Instruction fetch through the guest's page tables with the translation mode's CPL. Pages are
   * reported by virtual number (translations are named by virtual address); their physical pages
   * become code pages, so writes through any alias invalidate them.
   */
  fetch(addr: number, len: number, mode: Mode): { bytes: Uint8Array; pages: number[] } {
    const out = new Uint8Array(len);
    const pages: number[] = [];
    const st = this.usm.st;
    const cpl = st.cpl;
    st.cpl = isUserMode(mode) ? 3 : 0;
    let total = 0;
    let added = false;
    try {
      while (total < len) {
        const a = addr + total;
        let t;
        try {
          t = this.usm.mmu.fetchHost(a);
        } catch (e) {
          if (total === 0) throw e;
          break;
        }
        const n = Math.min(len - total, PAGE_SIZE - (a % PAGE_SIZE));
        out.set(this.frames.u8.subarray(t.host, t.host + n), total);
        const vpn = Math.floor(a / PAGE_SIZE);
        const ppn = t.phys / PAGE_SIZE;
        pages.push(vpn);
        if (!this.codePages.has(ppn)) added = true;
        this.codePages.add(ppn, vpn);
        total += n;
      }
    } finally {
      st.cpl = cpl;
    }
    // Write rights to a new code page may be cached under any alias: every cached write right goes.
    if (added) for (const t of this.tlbs) t.dropAllWrites();
    return { bytes: total === len ? out : out.subarray(0, total), pages };
  }

  fetchFault(addr: bigint): never {
    // Code runs only from the lower half (translation keys above it name other modes).
    if (addr >= 1n << 47n) throw new UsmLeave(USM_RET.UNHANDLED, 0, addr, addr);
    this.usm.mmu.translate(addr, false, true);
    // Executable again by now (a racing page-table write): report the fetch fault as decoded.
    throw new PageFault(addr, 0x10);
  }

  translationMode(): Mode {
    return this.usm.mode;
  }

  get watching(): boolean {
    return this.usm.dbg.watches.length > 0;
  }

  get fpuOff(): boolean {
    return (this.usm.st.cr0 & CR0.TS) !== 0n;
  }

  // ---- events ----------------------------------------------------------------------------------

  beforeRun(budget: number): number {
    const u = this.usm;
    const cpu = this.cpu;
    // A #DB trap from the last instruction (watchpoint, single step) comes first.
    if (u.pendingDb) u.deliverPendingDb();
    // Linux signals for the process arrive as interrupts (vector 200 + signo).
    const sigs = this.signals;
    if (sigs !== undefined && sigs.hasWork()) u.signalInterrupt(sigs.st);
    if (u.interruptible || (sigs !== undefined && sigs.st.timerDue !== Infinity)) {
      // An armed timer: interrupts are taken at these returns to the dispatcher.
      u.checkInterrupts();
      budget = Math.min(budget, USM_TIMER_BUDGET);
    }
    // RFLAGS.TF: one instruction (a one-instruction translation), then the #DB trap.
    this.stepping = isStepMode(u.mode);
    if (this.stepping) budget = 1;
    // RF (set by an iretq) lasts one instruction: approximated as the next run from here.
    this.rf = (cpu.u64(CPU.rflags) & RF.RF) !== 0n;
    return budget;
  }

  afterRun(code: number): void {
    if (this.stepping && code !== Exit.Exception) this.usm.pendingDb |= DR6_BS;
    if (this.rf) this.cpu.setU64(CPU.rflags, this.cpu.u64(CPU.rflags) & ~RF.RF);
  }

  /** Through the guest's IDT (a #DF or the end of the session if that fails). */
  deliver(x: GuestException): void {
    deliver(this.usm, x);
  }
}
