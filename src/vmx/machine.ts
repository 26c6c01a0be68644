import { Decoder } from '../decoder/capstone.js';
import type { CodeFetcher } from '../decoder/block.js';
import { CodeCache } from '../jit/code-cache.js';
import type { JsEnv } from '../jit/emitter.js';
import { CC } from '../jit/flags.js';
import { checkPreciseAllowed, isFastMxcsr } from '../jit/isa/sse-flags.js';
import { CPU, cpuBlockBase, isStepMode, Mode, PAGE_SIZE } from '../jit/layout.js';
import { DR6_BS } from './debug-regs.js';
import { codeKey } from '../jit/code-cache.js';
import { NonCanonical } from '../paging/mmu.js';
import { PageFault, PhysFault } from '../paging/pagewalk.js';
import { deliver } from './idt.js';
import { PRIVILEGED } from './privileged.js';
import { Usm, UsmLeave, USM_RET } from './usm.js';
import { buildRuntime, type RuntimeExports } from '../jit/runtime.js';
import { Access, AddressSpace, GuestFault, PROT_EXEC, PROT_WRITE } from '../paging/address-space.js';
import { FrameAllocator, OutOfFrames } from '../paging/frames.js';
import { Tlb } from '../paging/tlb.js';
import { CpuState } from './cpu.js';
import { cpuid } from './cpuid.js';
import { Exit, GuestExit, GuestKilled, Vector } from './exits.js';
import type { SignalState } from '../linux-abi/signals.js';
import { exceptionFault, generalProtection, pageFault, SignalDelivery, type SignalProcess } from './signal-delivery.js';

/** Blocks a CPU runs before the dispatcher looks at pending events. */
const BUDGET = 1 << 20;
/** The same while a USM timer is armed: bounds interrupt latency (translated code checks every 4096). */
const USM_TIMER_BUDGET = 1 << 13;

/** A guest memory fault raised by a slow-path access, with the instruction that made it. */
export class MemFault extends Error {
  /** `addr64`: the exact address when it does not fit a number (kernel-half addresses). */
  constructor(readonly fault: GuestFault, readonly rip: number, readonly addr64?: bigint) {
    super(fault.message);
  }
}

/**
 * [signals] Turns off stack traces for the errors a slow-path access may throw (GuestFault,
 * MemFault) and returns the old limit to restore: a guest fault is control flow, often handled by
 * the guest (a SIGSEGV handler), and capturing a host stack through the Wasm frames costs more
 * than the rest of the signal round trip.
 */
function quietFaults(): number {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  return limit;
}

/** A USM-mode fault (#PF, #GP for a non-canonical address, or an unmapped physical address) at `rip`. */
export class UsmFault extends Error {
  constructor(readonly fault: PageFault | NonCanonical | PhysFault, readonly rip: bigint) {
    super(fault.message);
  }
}

const ZERO8 = new Uint8Array(8);
const ZERO16 = new Uint8Array(16);

/** run() returns this when a time slice ended (runSliced): call it again to continue. */
export const SLICE_ENDED = -1;
class SliceEnd {}

/** Linux signal numbers used for CPU exceptions. */
export const SIG = { SIGILL: 4, SIGTRAP: 5, SIGBUS: 7, SIGFPE: 8, SIGSEGV: 11 } as const;

/** Handles `syscall` exits (the Linux layer). */
export interface SyscallHandler {
  syscall(cpu: CpuState): bigint;
}

/**
 * The virtual machine for one guest process: memory, one virtual CPU, the code cache and the
 * dispatcher loop that enters translated code and handles what comes back out of it.
 */
export class Machine {
  readonly frames = new FrameAllocator();
  readonly as: AddressSpace;
  readonly cpu: CpuState;
  readonly tlb: Tlb;
  /** TLB banks: 0 for Linux mode and USM CPL0, 1 for USM CPL3 (jit/layout.ts tlbBank). */
  readonly tlbs: Tlb[];
  /** The USM session (docs/usm-abi.md); inactive until the guest enters it through /dev/usm. */
  readonly usm: Usm;
  /** Translation mode of the code the CPU runs now. */
  mode: Mode = Mode.Linux;
  /** USM: guest-physical code page -> the virtual pages translated from it. */
  private codeAliases = new Map<number, Set<number>>();
  readonly table = new WebAssembly.Table({ initial: 1024, element: 'anyfunc' });
  readonly runtime: RuntimeExports;
  readonly cache: CodeCache;
  syscalls!: SyscallHandler;
  /** Signal delivery to guest handlers (attachSignals); without it every fault signal kills. */
  signals?: SignalDelivery;
  private readonly base = cpuBlockBase(0);
  /** The precise-FP switch (JsEnv.fp: MXCSR semantics once the guest writes MXCSR). */
  private fp?: NonNullable<JsEnv['fp']>;
  /**
   * For tests that run arbitrary code (fuzzing): a smaller budget per entry into translated code,
   * and a number of returns to the dispatcher after which the guest is stopped (0 = no limit).
   */
  budgetPerEntry = BUDGET;
  exitLimit = 0;
  /**
   * While non-zero (performance.now() deadline), run() returns SLICE_ENDED at the first dispatcher
   * return after it, so the host event loop can run (host signals reach a USM guest this way).
   */
  sliceEnd = 0;
  private sliceChecks = 0;
  /** Set while the guest is in USM mode: called with true on entry and false when it ends. */
  onUsmActive?: (active: boolean) => void;
  private tscStart = process.hrtime.bigint();

  static async create(): Promise<Machine> {
    return new Machine(await Decoder.create());
  }

  private constructor(readonly decoder: Decoder) {
    this.as = new AddressSpace(this.frames);
    this.cpu = new CpuState(this.frames, this.base);
    this.tlb = new Tlb(this.frames, this.base, 0);
    this.tlbs = [this.tlb, new Tlb(this.frames, this.base, 1)];
    this.as.tlbs.push(...this.tlbs);
    this.runtime = buildRuntime(this.frames.memory, this.table);
    const machine = this;
    const env: JsEnv = {
      cpu: () => this.cpu,
      // Guest memory as the current mode sees it: the MMU in USM mode.
      get mem() { return machine.usm.active ? machine.usm.mmu : machine.as; },
      privileged: (i, _b) => this.privileged(i),
      hostAddr: (a, w, n) => this.hostAddr(a, w, n),
      bytes: () => this.frames.u8,
      debug: {
        breakAt: (a) => machine.usm.active && machine.usm.dbg.exec.has(a),
        check: (i) => machine.usm.breakCheck(i),
        get watching() { return machine.usm.active && machine.usm.dbg.watches.length > 0; },
      },
      getFlags: (b) => this.runtime.get_flags(b),
      setFlags: (b, fl) => {
        const c = this.cpu;
        void b;
        c.setU64(CPU.ccRes, BigInt(fl));
        c.setU32(CPU.ccOp, CC.EFLAGS);
      },
      cpuid,
      rdtsc: () => process.hrtime.bigint() - this.tscStart,
      // SSE FP precise mode (jit/isa/sse-precise.ts): switched on by the first MXCSR write.
      fp: {
        precise: process.env.USMJIT_PRECISE_FP === '1',
        enable: (_b, next) => {
          if (env.fp!.precise) return -1;
          checkPreciseAllowed();
          env.fp!.precise = true;
          this.cache.flushAll();
          this.codeAliases.clear();
          this.cpu.rip = BigInt(next);
          this.cpu.setU32(CPU.exitSlot, 0);
          this.cpu.setU32(CPU.exitRegion, 0);
          return Exit.Lookup;
        },
      },
    };
    this.fp = env.fp;
    const fetcher: CodeFetcher = { fetch: (addr, len) => this.fetch(addr, len) };
    this.cache = new CodeCache(this.frames.memory, this.table, {
      rd: (c: number, a: bigint, size: number, rip: bigint) => this.slowRead(a, size, rip),
      wr: (c: number, a: bigint, size: number, v: bigint, rip: bigint) => this.slowWrite(a, size, v, rip),
      rd128: (c: number, a: bigint, rip: bigint) => this.slowRead128(c, a, rip),
      wr128: (c: number, a: bigint, rip: bigint) => this.slowWrite128(c, a, rip),
      flags_of: this.runtime.flags_of,
      op: (c: number, id: number) => this.runOp(c, id),
      mulhu: this.runtime.mulhu,
      mulhs: this.runtime.mulhs,
      chain: this.runtime.chain,
    }, decoder, fetcher, env);
    this.cache.viewSource = this.frames;
    this.cache.onCodePages = (pages, mode) => {
      if (mode !== Mode.Linux) {
        // Virtual pages: their physical pages were recorded by fetch (codeAliases). Write
        // rights to them may be cached under any alias, so every cached write right goes.
        for (const t of this.tlbs) t.dropAllWrites();
        return;
      }
      for (const p of pages) {
        this.as.codePages.add(p);
        this.tlb.dropWrite(p * PAGE_SIZE);
      }
    };
    this.usm = new Usm({
      cpu: this.cpu,
      as: this.as,
      tlbs: this.tlbs,
      getFlags: () => this.runtime.get_flags(this.base),
      setFlags: (fl) => env.setFlags(this.base, fl),
      setMode: (m) => { this.mode = m; },
      flushCode: () => { this.cache.flushAll(); this.codeAliases.clear(); },
      invalidateCodePage: (vpn) => this.cache.invalidatePage(vpn),
      hasCodePage: (vpn) => this.cache.hasPage(vpn),
      linuxSyscall: () => this.syscalls.syscall(this.cpu),
      rdtsc: () => env.rdtsc(),
      pollSoon: () => this.cpu.setU32(CPU.budget, 0),
      onActive: (a) => this.onUsmActive?.(a),
    });
    this.as.onCodeWrite = (page) => this.codeWritten(page);
    // Bit 1 of RFLAGS is always set; IF is set for user code.
    this.cpu.setU64(CPU.rflags, 0x202n);
    this.cpu.setU32(CPU.ccOp, CC.EFLAGS);
    this.cpu.setU64(CPU.ccRes, 0n);
    this.cpu.setU32(CPU.mxcsr, 0x1f80);
    this.cpu.setU32(CPU.fpCw, 0x37f);
    this.cpu.setU32(CPU.cs, 0x33);
    this.cpu.setU32(CPU.ss, 0x2b);
  }

  /** The code-cache key of rip in the current mode. */
  private key(rip: bigint): number {
    if (rip >= 1n << 47n) {
      // Code runs only from the lower half (keys above it name other translation modes).
      if (this.usm.active) throw new UsmLeave(USM_RET.UNHANDLED, 0, rip, rip);
      throw new GuestFault(Number(rip), Access.Exec, 1);
    }
    if (this.usm.active) this.mode = this.usm.mode;
    return codeKey(Number(rip), this.mode);
  }

  /** env.privileged: a USM instruction run in TypeScript; faults carry the instruction's rip. */
  private privileged(i: import('../decoder/ir.js').Insn): number {
    const h = PRIVILEGED[i.op];
    if (!h) throw new Error(`no USM handler for ${i.op}`);
    return this.usmAccess(BigInt(i.addr), () => h(this.usm, i, this.cpu.u64(CPU.scratch)));
  }

  /** Runs a USM-mode access; faults become MemFault/UsmFault carrying `rip`. */
  private usmAccess<T>(rip: bigint, body: () => T): T {
    const limit = quietFaults();
    try {
      return body();
    } catch (e) {
      if (e instanceof PageFault || e instanceof NonCanonical || e instanceof PhysFault) throw new UsmFault(e, rip);
      throw e;
    } finally {
      Error.stackTraceLimit = limit;
    }
  }

  /**
   * A USM slow-path access from translated code: a fault is not thrown through the Wasm frames
   * (costly) but recorded in the CPU block (CPU.fault, exit fields), and the code leaves the
   * region after the call (Emitter.faultCheck); `dflt` is returned meanwhile.
   */
  private usmSlow<T>(rip: bigint, body: () => T, dflt: T): T {
    const limit = quietFaults();
    try {
      return body();
    } catch (e) {
      const cpu = this.cpu;
      if (e instanceof PageFault) {
        cpu.setU64(CPU.exitArg, BigInt(Vector.PF) | (BigInt(e.errorCode) << 8n));
        cpu.setU64(CPU.faultAddr, e.linear);
        cpu.setU32(CPU.fault, 1);
      } else if (e instanceof NonCanonical) {
        cpu.setU64(CPU.exitArg, BigInt(Vector.GP));
        cpu.setU32(CPU.fault, 1);
      } else if (e instanceof PhysFault) {
        // Not a guest exception: the session ends (the dispatcher sees fault = 2).
        cpu.setU64(CPU.faultAddr, e.addr);
        cpu.setU32(CPU.fault, 2);
      } else {
        throw e;
      }
      cpu.rip = rip;
      cpu.setU64(CPU.exitInsn, rip);
      return dflt;
    } finally {
      Error.stackTraceLimit = limit;
    }
  }

  // ---- memory slow paths (called from Wasm on a TLB miss) ---------------------------------

  private addr(a: bigint, rip: bigint, access: Access): number {
    const n = BigInt.asUintN(64, a);
    if (n >= 0x8000_0000_0000n) {
      // [signals] Kernel-half addresses page-fault (SEGV_MAPERR at that address); non-canonical
      // ones are #GP, which Linux reports as SIGSEGV/SI_KERNEL at address 0.
      if (n >= 0xffff_8000_0000_0000n) throw new MemFault(new GuestFault(Number(n), access, 1 /* SEGV_MAPERR */), Number(rip), n);
      throw new MemFault(new GuestFault(0, access, 128 /* SI_KERNEL */), Number(rip));
    }
    return Number(n);
  }

  /** JsEnv.hostAddr: a guest byte's host address for the current mode, like a slow-path access. */
  private hostAddr(a: number, write: boolean, len = 1): number {
    if (this.usm.active) return this.usm.mmu.hostFor(BigInt(a), write, len);
    const hit = this.tlb.probe(BigInt(a), write);
    if (hit >= 0) return hit;
    const h = this.as.translate(a, write ? Access.Write : Access.Read);
    const page = a - (a % PAGE_SIZE);
    if (write && this.as.codePages.has(page / PAGE_SIZE)) this.as.onCodeWrite(page);
    this.fill(a);
    return h;
  }

  /** Fills the TLB entry for the page of `a` after a successful translation. */
  private fill(a: number): void {
    const page = a - (a % PAGE_SIZE);
    const r = this.as.regionAt(page);
    if (!r) return;
    const frame = this.as.frameOf(page);
    const writable = (r.prot & PROT_WRITE) !== 0 && !this.as.codePages.has(page / PAGE_SIZE);
    this.tlb.fill(page, frame, r.prot !== 0, writable);
  }

  /**
   * Runs a slow-path access: a GuestFault becomes a MemFault carrying the instruction's rip, thrown
   * without a host stack trace (capturing one through Wasm frames dominated the cost of a fault).
   */
  private access<T>(rip: bigint, body: () => T): T {
    const limit = quietFaults();
    try {
      return body();
    } catch (e) {
      if (e instanceof GuestFault) throw new MemFault(e, Number(rip));
      throw e;
    } finally {
      Error.stackTraceLimit = limit;
    }
  }

  /**
   * The USM fast path of a slow access within one page and without watchpoints: the host
   * address, or -1 after recording the guest fault for the exit (no host exception at all).
   */
  private usmTry(a: bigint, size: number, write: boolean, rip: bigint): number {
    const mmu = this.usm.mmu;
    if (mmu.watches.length || Number(BigInt.asUintN(12, a)) + size > PAGE_SIZE) return -2;
    let h: number;
    try {
      h = mmu.tryAccess(a, write);
    } catch (e) {
      if (!(e instanceof PhysFault)) throw e;
      return this.usmSlow(rip, () => { throw e; }, -1);
    }
    if (h >= 0) return h;
    const cpu = this.cpu;
    if (mmu.fault === -1) {
      cpu.setU64(CPU.exitArg, BigInt(Vector.GP));
    } else {
      cpu.setU64(CPU.exitArg, BigInt(Vector.PF) | (BigInt(mmu.fault) << 8n));
      cpu.setU64(CPU.faultAddr, a);
    }
    cpu.setU32(CPU.fault, 1);
    cpu.rip = rip;
    cpu.setU64(CPU.exitInsn, rip);
    return -1;
  }

  private slowRead(a: bigint, size: number, rip: bigint): bigint {
    if (this.usm.active) {
      const h = this.usmTry(a, size, false, rip);
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
      const b = this.usmSlow(rip, () => this.usm.mmu.readV(a, size), ZERO8);
      let v = 0n;
      for (let k = size - 1; k >= 0; k--) v = (v << 8n) | BigInt(b[k]);
      return BigInt.asIntN(64, v);
    }
    const addr = this.addr(a, rip, Access.Read);
    return this.access(rip, () => {
      const bytes = this.as.read(addr, size);
      this.fill(addr);
      let v = 0n;
      for (let k = size - 1; k >= 0; k--) v = (v << 8n) | BigInt(bytes[k]);
      return BigInt.asIntN(64, v);
    });
  }

  private slowWrite(a: bigint, size: number, v: bigint, rip: bigint): void {
    if (this.usm.active) {
      const h = this.usmTry(a, size, true, rip);
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
      const bytes = littleEndian(v, size);
      return this.usmSlow(rip, () => this.usm.mmu.writeV(a, bytes), undefined);
    }
    const bytes = littleEndian(v, size);
    const addr = this.addr(a, rip, Access.Write);
    this.access(rip, () => {
      this.as.write(addr, bytes);
      this.fill(addr);
    });
  }

  private slowRead128(c: number, a: bigint, rip: bigint): number {
    if (this.usm.active) {
      this.frames.u8.set(this.usmSlow(rip, () => this.usm.mmu.readV(a, 16), ZERO16), c + CPU.scratch);
      return c + CPU.scratch;
    }
    const addr = this.addr(a, rip, Access.Read);
    this.access(rip, () => {
      this.frames.u8.set(this.as.read(addr, 16), c + CPU.scratch);
      this.fill(addr);
    });
    return c + CPU.scratch;
  }

  private slowWrite128(c: number, a: bigint, rip: bigint): void {
    if (this.usm.active) {
      const data = this.frames.u8.slice(c + CPU.scratch, c + CPU.scratch + 16);
      return this.usmSlow(rip, () => this.usm.mmu.writeV(a, data), undefined);
    }
    const addr = this.addr(a, rip, Access.Write);
    this.access(rip, () => {
      this.as.write(addr, this.frames.u8.slice(c + CPU.scratch, c + CPU.scratch + 16));
      this.fill(addr);
    });
  }

  /** Code in [start, end) was unmapped or lost PROT_EXEC: drop its translations. */
  invalidateRange(start: number, end: number): void {
    for (let a = start - (start % PAGE_SIZE); a < end; a += PAGE_SIZE) {
      if (this.as.codePages.has(a / PAGE_SIZE)) this.codeWritten(a);
    }
  }

  /** A write reached a page with translated code: drop those translations. */
  private codeWritten(page: number): void {
    const vpn = page / PAGE_SIZE;
    this.as.codePages.delete(vpn);
    this.cache.invalidatePage(vpn);
    const aliases = this.codeAliases.get(vpn);
    if (aliases) {
      this.codeAliases.delete(vpn);
      for (const v of aliases) this.cache.invalidatePage(v);
    }
    // The running block may be stale: return to the dispatcher at the next block boundary.
    this.cpu.setU32(CPU.budget, 0);
  }

  private runOp(c: number, id: number): number {
    try {
      return this.cache.op(c, id);
    } catch (e) {
      if (e instanceof GuestFault) throw new MemFault(e, Number(this.cpu.rip));
      throw e;
    }
  }

  /** Instruction bytes for the decoder: executable pages only. */
  private fetch(addr: number, len: number): { bytes: Uint8Array; pages: number[] } {
    if (this.cache.fetchMode !== Mode.Linux) return this.fetchUsm(addr, len);
    const out = new Uint8Array(len);
    const pages: number[] = [];
    let a = addr;
    let total = 0;
    while (total < len) {
      const r = this.as.regionAt(a);
      if (!r || (r.prot & PROT_EXEC) === 0) {
        if (total === 0) throw new GuestFault(addr, Access.Exec, r ? 2 : 1);
        break;
      }
      const n = Math.min(len - total, PAGE_SIZE - (a % PAGE_SIZE));
      const h = this.as.frameOf(a - (a % PAGE_SIZE)) + (a % PAGE_SIZE);
      out.set(this.frames.u8.subarray(h, h + n), total);
      pages.push(Math.floor(a / PAGE_SIZE));
      total += n;
      a += n;
    }
    return { bytes: total === len ? out : out.subarray(0, total), pages };
  }

  /**
   * USM instruction fetch: through the guest's page tables with the translation mode's CPL.
   * Pages are reported by virtual number (translations are named by virtual address); their
   * physical pages become code pages, so writes through any alias invalidate them.
   */
  private fetchUsm(addr: number, len: number): { bytes: Uint8Array; pages: number[] } {
    const out = new Uint8Array(len);
    const pages: number[] = [];
    const st = this.usm.st;
    const cpl = st.cpl;
    st.cpl = this.cache.fetchMode === Mode.Cpl3 ? 3 : 0;
    let total = 0;
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
        this.as.codePages.add(ppn);
        let set = this.codeAliases.get(ppn);
        if (!set) this.codeAliases.set(ppn, (set = new Set()));
        set.add(vpn);
        total += n;
      }
    } finally {
      st.cpl = cpl;
    }
    return { bytes: total === len ? out : out.subarray(0, total), pages };
  }

  // ---- the dispatcher ---------------------------------------------------------------------

  /**
   * [signals] Delivers Linux signals to guest handlers from now on: `proc` is the kernel's process
   * (its SignalState), `trace` the strace log. See vmx/signal-delivery.ts.
   */
  attachSignals(proc: SignalProcess, trace?: (line: string) => void): SignalState {
    this.signals = new SignalDelivery(this.cpu, this.as, () => this.runtime.get_flags(this.base), proc, trace);
    return proc.signals;
  }

  /** Runs the guest until it exits; returns the exit status (128+N for a fatal signal N). */
  run(): number {
    for (;;) {
      try {
        this.loop();
      } catch (e) {
        if (e instanceof SliceEnd) return SLICE_ENDED;
        if (this.usm.active) {
          try {
            if (this.usmEvent(e)) continue;
          } catch (l) {
            if (!(l instanceof UsmLeave)) throw l;
            this.usm.leave(l);
            continue;
          }
        }
        if (e instanceof GuestExit) return e.status;
        if (e instanceof GuestKilled) return this.killed(e);
        if (e instanceof MemFault) {
          // [signals] The region's catch_all wrote the state back; rip is the faulting instruction.
          const rip = BigInt(e.rip);
          const f = e.fault.code === 128
            ? generalProtection(rip)
            : pageFault(this.as, e.addr64 ?? BigInt(e.fault.addr), e.fault.access, e.fault.code, rip);
          try {
            if (this.signals?.fault(f)) continue;
          } catch (k) {
            if (k instanceof GuestKilled) return this.killed(k);
            throw k;
          }
          return this.killed(new GuestKilled(SIG.SIGSEGV, rip, e.fault.addr));
        }
        if (e instanceof GuestFault) {
          // An instruction fetch fault: rip itself is not executable.
          const rip = this.cpu.rip;
          try {
            if (this.signals?.fault(pageFault(this.as, BigInt(e.addr), Access.Exec, e.code, rip))) continue;
          } catch (k) {
            if (k instanceof GuestKilled) return this.killed(k);
            throw k;
          }
          return this.killed(new GuestKilled(SIG.SIGSEGV, rip, e.addr));
        }
        if (e instanceof OutOfFrames) {
          // The 4 GiB Wasm memory is full: what Linux's OOM killer would do.
          return this.killed(new GuestKilled(9, this.cpu.rip, undefined, 'out of memory'));
        }
        throw e;
      }
    }
  }

  /** Reports a fatal signal on stderr like a shell would show it, and gives 128+N. */
  killed(k: GuestKilled): number {
    const names: Record<number, string> = { 1: 'SIGHUP (Hangup)', 2: 'SIGINT (Interrupt)', 3: 'SIGQUIT (Quit)', 31: 'SIGSYS (Bad system call)', 14: 'SIGALRM (Alarm clock)', 10: 'SIGUSR1 (User defined signal 1)', 12: 'SIGUSR2 (User defined signal 2)', 4: 'SIGILL (Illegal instruction)', 5: 'SIGTRAP (Trace/breakpoint trap)', 6: 'SIGABRT (Aborted)', 7: 'SIGBUS (Bus error)', 8: 'SIGFPE (Floating point exception)', 9: 'SIGKILL (Killed)', 11: 'SIGSEGV (Segmentation fault)', 13: 'SIGPIPE (Broken pipe)', 15: 'SIGTERM (Terminated)' };
    const what = names[k.signo] ?? `signal ${k.signo}`;
    let line = `usmjit: guest killed by ${what} at rip=0x${k.rip.toString(16)}`;
    if (k.faultAddr !== undefined) line += ` addr=0x${k.faultAddr.toString(16)}`;
    if (k.detail) line += ` (${k.detail})`;
    process.stderr.write(line + '\n');
    return 128 + k.signo;
  }

  private loop(): void {
    const cpu = this.cpu;
    const base = this.base;
    const sigs = this.signals;
    let idx = this.cache.get(this.key(cpu.rip));
    for (;;) {
      // [signals] Pending signals act on every return to the guest (after a syscall, each exit).
      // (In USM mode they wait: host signals reach a USM guest as interrupts.)
      if (sigs !== undefined && !this.usm.active && sigs.hasWork()) {
        sigs.deliver();
        idx = this.cache.get(this.key(cpu.rip));
      }
      if (this.exitLimit > 0 && --this.exitLimit === 0) throw new GuestKilled(9, cpu.rip, undefined, 'exit limit reached');
      // The clock is read every 16th return only: it costs ~0.1 us, a USM fault makes two returns.
      if (this.sliceEnd !== 0 && (++this.sliceChecks & 15) === 0 && performance.now() > this.sliceEnd) throw new SliceEnd();
      let budget = this.budgetPerEntry;
      let stepping = false;
      if (this.usm.active) {
        const u = this.usm;
        // A #DB trap from the last instruction (watchpoint, single step) comes first.
        if (u.pendingDb) {
          u.deliverPendingDb();
          idx = this.cache.get(this.key(cpu.rip));
        }
        // Linux signals for the process arrive as interrupts (vector 200 + signo).
        if (sigs !== undefined && sigs.hasWork() && u.signalInterrupt(sigs.st)) idx = this.cache.get(this.key(cpu.rip));
        if (u.interruptible || (sigs !== undefined && sigs.st.timerDue !== Infinity)) {
          // An armed timer: interrupts are taken at these returns to the dispatcher.
          if (u.checkInterrupts()) idx = this.cache.get(this.key(cpu.rip));
          budget = Math.min(budget, USM_TIMER_BUDGET);
        }
        // RFLAGS.TF: one instruction (a one-instruction translation), then the #DB trap.
        stepping = isStepMode(this.mode);
        if (stepping) budget = 1;
      }
      cpu.setU32(CPU.budget, budget);
      // RF (set by an iretq) lasts one instruction: approximated as the next run from here.
      const rf = this.usm.active && (cpu.u64(CPU.rflags) & 0x10000n) !== 0n;
      const code = this.runtime.run(base, idx);
      if (this.usm.active) {
        if (stepping && code !== Exit.Exception) this.usm.pendingDb |= DR6_BS;
        if (rf) cpu.setU64(CPU.rflags, cpu.u64(CPU.rflags) & ~0x10000n);
      }
      switch (code) {
        case Exit.Lookup: {
          const rip = Number(cpu.rip);
          const slot = cpu.u32(CPU.exitSlot);
          const generation = this.cache.generation;
          const key = this.key(cpu.rip);
          idx = this.cache.get(key);
          // (A translation that flushed the cache also dropped the slot the exit came through.)
          if (slot && generation === this.cache.generation) this.cache.patchSlot(slot, idx);
          else {
            // An indirect branch missed the jump cache: let its region take the target in.
            const region = cpu.u32(CPU.exitRegion);
            if (region) {
              cpu.setU32(CPU.exitRegion, 0);
              this.cache.noteIndirect(region, rip);
            }
          }
          this.cache.fillJumpCache(key, idx);
          if (cpu.u32(CPU.budget) <= 0) this.cache.growHot();
          break;
        }
        case Exit.Syscall: {
          const mxcsr = cpu.u32(CPU.mxcsr);
          const r = this.syscalls.syscall(cpu);
          // ioctl(USM_ENTER) switched the CPU to the guest's state: rax is the guest's now.
          if (this.usm.justEntered) this.usm.justEntered = false;
          else cpu.set(0, r);
          // rt_sigreturn left MXCSR's fast control: from now on SSE arithmetic must honour it.
          if (cpu.u32(CPU.mxcsr) !== mxcsr && !isFastMxcsr(cpu.u32(CPU.mxcsr)) && this.fp && !this.fp.precise) {
            checkPreciseAllowed();
            this.fp.precise = true;
            this.cache.flushAll();
            this.codeAliases.clear();
          }
          idx = this.cache.get(this.key(cpu.rip));
          break;
        }
        case Exit.Budget:
          this.cache.growHot();
          this.cache.growLoops();
          idx = this.cache.get(this.key(cpu.rip));
          break;
        case Exit.Exception:
          if (this.usm.active) this.usmException();
          else this.exception();
          idx = this.cache.get(this.key(cpu.rip));
          break;
        default:
          throw new Error(`bad exit code ${code}`);
      }
    }
  }

  /** A CPU exception raised by translated code in USM mode: through the guest's IDT. */
  private usmException(): void {
    const arg = this.cpu.u64(CPU.exitArg);
    const vector = Number(arg & 0xffn);
    const rip = this.cpu.u64(CPU.exitInsn);
    const pending = this.cpu.u32(CPU.fault);
    try {
      if (pending) {
        // A slow-path access faulted (usmSlow).
        this.cpu.setU32(CPU.fault, 0);
        if (pending === 2) throw new UsmLeave(USM_RET.PHYS, 0, this.cpu.u64(CPU.faultAddr), rip);
        return deliver(this.usm, { vector, error: Number(arg >> 8n), rip, cr2: this.cpu.u64(CPU.faultAddr) });
      }
      if (vector === Vector.PF) {
        // A fetch fault found while decoding (block.fault): walk again for the error code.
        const addr = arg >> 8n;
        try {
          this.fetchProbe(addr);
        } catch (e) {
          if (e instanceof PageFault) return deliver(this.usm, { vector, error: e.errorCode, rip, cr2: addr });
          throw e;
        }
        return deliver(this.usm, { vector, error: 0x10, rip, cr2: addr });
      }
      deliver(this.usm, { vector, error: Number(arg >> 8n), rip });
    } catch (l) {
      if (!(l instanceof UsmLeave)) throw l;
      this.usm.leave(l);
    }
  }

  /** Walks `addr` for an instruction fetch at the current CPL (throws the PageFault). */
  private fetchProbe(addr: bigint): void {
    this.usm.mmu.translate(addr, false, true);
  }

  /**
   * A fault thrown out of translated code or the dispatcher in USM mode: delivered through the
   * guest's IDT (true), or not a USM event (false). Throws UsmLeave when the session must end.
   */
  private usmEvent(e: unknown): boolean {
    let f: unknown = e, rip = this.cpu.rip;
    if (e instanceof UsmFault) { f = e.fault; rip = e.rip; }
    else if (e instanceof MemFault) { f = e.fault; rip = BigInt(e.rip); }
    if (f instanceof PhysFault) throw new UsmLeave(USM_RET.PHYS, 0, f.addr, rip);
    if (f instanceof NonCanonical) { deliver(this.usm, { vector: Vector.GP, error: 0, rip }); return true; }
    if (f instanceof PageFault) { deliver(this.usm, { vector: Vector.PF, error: f.errorCode, rip, cr2: f.linear }); return true; }
    if (f instanceof UsmLeave) throw f;
    if (f instanceof GuestKilled || f instanceof GuestExit) return false;
    return false;
  }

  /** A CPU exception in Linux mode: the signal Linux would send, to a handler or by its default action. */
  private exception(): void {
    const arg = this.cpu.u64(CPU.exitArg);
    const vector = Number(arg & 0xffn);
    let rip = this.cpu.u64(CPU.exitInsn);
    // [signals] A handler runs (the CPU now at its entry), or the default action below.
    const fault = exceptionFault(vector, arg, rip, this.cpu, this.as, (a, n) => {
      try { return this.as.read(Number(a), n); } catch { return undefined; }
    });
    if (this.signals?.fault(fault)) return;
    rip = fault.rip;
    const detail = (): string => {
      const note = this.cache.notes.get(Number(rip));
      let bytes = '';
      try { bytes = [...this.as.read(Number(rip), 8)].map((b) => b.toString(16).padStart(2, '0')).join(' '); } catch { /* unreadable */ }
      return note ? `${note.text}: ${note.why}; bytes ${bytes}` : `bytes ${bytes}`;
    };
    switch (vector) {
      case Vector.DE: throw new GuestKilled(SIG.SIGFPE, rip, undefined, 'integer divide error');
      case Vector.UD: throw new GuestKilled(SIG.SIGILL, rip, undefined, detail());
      case Vector.BP: throw new GuestKilled(SIG.SIGTRAP, rip);
      case Vector.PF: throw new GuestKilled(SIG.SIGSEGV, rip, Number(arg >> 8n));
      case Vector.GP: throw fault.signo === SIG.SIGTRAP ? new GuestKilled(SIG.SIGTRAP, rip) : new GuestKilled(SIG.SIGSEGV, rip, 0, 'general protection');
      case Vector.MF: case Vector.XM: throw new GuestKilled(SIG.SIGFPE, rip, undefined, 'floating-point exception');
      default: throw new GuestKilled(SIG.SIGSEGV, rip, undefined, `exception ${vector}`);
    }
  }
}

/** The low `size` bytes of `v`, least significant first. */
function littleEndian(v: bigint, size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let k = 0; k < size; k++) bytes[k] = Number((v >> BigInt(8 * k)) & 0xffn);
  return bytes;
}
