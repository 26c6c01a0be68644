import { Decoder, DecoderPending } from '../decoder/capstone.js';
import type { Insn } from '../decoder/ir.js';
import type { CpuState } from '../core/cpu-state.js';
import { MemoryFault, Pending, recordFault, takeException } from '../core/exception.js';
import { ExecDone, Exit, GuestExit, GuestKilled, TaskBlocked, ThreadExit } from '../core/exits.js';
import { CPU, PAGE_SIZE } from '../core/layout.js';
import { CodeCache } from '../jit/code-cache.js';
import { codeKey, tagFor } from '../jit/entry.js';
import { CodePages } from '../jit/code-pages.js';
import type { JsEnv } from '../jit/emitter.js';
import { CC } from '../jit/flags.js';
import { checkPreciseAllowed, isFastMxcsr } from '../jit/isa/sse-flags.js';
import { buildRuntime, type RuntimeExports } from '../jit/runtime.js';
import { SignalDelivery, type SignalProcess } from '../linux-abi/signal-delivery.js';
import { describeSignal, type SignalState } from '../linux-abi/signals.js';
import { AddressSpace } from '../paging/address-space.js';
import { FrameAllocator, OutOfFrames } from '../paging/frames.js';
import type { Tlb } from '../paging/tlb.js';
import { cpuid } from './cpuid.js';
import type { ExecMode } from './exec-mode.js';
import { LinuxMode } from './linux-mode.js';
import { PRIVILEGED } from './privileged.js';
import { Usm, USM_RET, UsmLeave } from './usm.js';
import { UsmMode } from './usm-mode.js';
import { VCpu } from './vcpu.js';
import { codeAdded } from './usm-fast/code-filter.js';
import { buildUsmFast } from './usm-fast/module.js';

/** Blocks a CPU runs before the dispatcher looks at pending events. */
const BUDGET = 1 << 20;

/** run() returns this when a time slice ended (runSliced): call it again to continue. */
export const SLICE_ENDED = -1;
/** run() returns this when a system call blocked (linux-abi/block.ts): resume() it later. */
export const BLOCKED = -2;
/** run() returns this when execve replaced the image: the process goes on in `execed`. */
export const EXECED = -3;
/** run() stopped before translating: Capstone is still loading (await decoder.ready(), run again). */
export const DECODER_PENDING = -4;
class SliceEnd {}

/** Handles `syscall` exits (the Linux layer). */
export interface SyscallHandler {
  syscall(cpu: CpuState): bigint;
  /** Retries a call that blocked: its result, or undefined while it must still wait. */
  retry?(cpu: CpuState): bigint | undefined;
  /** A signal interrupts the blocked call: its result (-EINTR), or 'restart'. */
  interrupt?(): { restart: bigint } | bigint;
}

/** How the guest ended (after run() returned a status >= 0). */
export type Outcome = { exit: number; thread?: boolean } | { signal: number; core: boolean };

/** Signals whose default action dumps core (signal(7)). */
const CORE_SIGNALS = new Set([3, 4, 5, 6, 7, 8, 11, 24, 25, 31]);

/**
 * One guest process: its memory, its virtual CPU (vmx/vcpu.ts), the code cache, and the
 * dispatcher. The dispatcher has the nested-loop shape of QEMU's cpu_exec: deliver a pending
 * exception, take pending events, find the translation, run it, and act on the exit code. What
 * depends on the mode (memory slow paths, fetch, events, the exception sink) is an ExecMode,
 * swapped when the guest enters or leaves USM (vmx/linux-mode.ts, vmx/usm-mode.ts).
 */
export class Machine {
  readonly frames = new FrameAllocator();
  readonly as: AddressSpace;
  readonly vcpu: VCpu;
  readonly cpu: CpuState;
  /** TLB banks: 0 for Linux mode and USM CPL0, 1 for USM CPL3 (core/layout.ts tlbBank). */
  readonly tlbs: Tlb[];
  /** The USM session (docs/usm-abi.md); inactive until the guest enters it through /dev/usm. */
  readonly usm: Usm;
  readonly table = new WebAssembly.Table({ initial: 1024, element: 'anyfunc' });
  readonly runtime: RuntimeExports;
  readonly cache: CodeCache;
  readonly codePages: CodePages;
  readonly linux: LinuxMode;
  private readonly usmMode: UsmMode;
  /** The mode the CPU runs in now. */
  private mode: ExecMode;
  syscalls!: SyscallHandler;
  /** Signal delivery to guest handlers (attachSignals); without it every fault signal kills. */
  signals?: SignalDelivery;
  /** The precise-FP switch (JsEnv.fp: MXCSR semantics once the guest writes MXCSR). */
  private readonly fp: NonNullable<JsEnv['fp']>;
  /** A guest exception is recorded in the CPU block (core/exception.ts) and not yet delivered. */
  private pending = false;
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
  /**
   * Whether a fatal fault is reported on stderr (killed()). The process model turns it off for
   * the processes the guest itself starts: natively their parent (a shell) tells, not they.
   */
  reportFaults = true;
  /**
   * Wasm <-> JavaScript crossings (--stats): dispatcher runs (each a return from Wasm and a call
   * back in) and calls from translated code into TypeScript (slow-path accesses, JS-implemented
   * instructions).
   */
  readonly crossings = { runs: 0, jsCalls: 0 };
  /** How the guest ended, once run() returned a status. */
  outcome?: Outcome;
  /** After run() returned EXECED: what execve prepared (process/scheduler.ts: the new machine and image). */
  execed?: unknown;

  static async create(decoder?: Decoder): Promise<Machine> {
    return new Machine(decoder ?? await Decoder.create());
  }

  /** The CPU block up to the TLBs: a thread's registers (process/scheduler.ts switches threads). */
  saveCpu(): Uint8Array {
    return this.frames.u8.slice(this.vcpu.base, this.vcpu.base + CPU.tlb);
  }

  loadCpu(bytes: Uint8Array): void {
    this.frames.u8.set(bytes, this.vcpu.base);
  }

  /**
   * The process ended or exec'd: this machine never runs again, and its memory may serve the next
   * machine (paging/frames.ts). Call it after everything that reads the memory (MAP_SHARED
   * write-back, the translation store).
   */
  retire(): void {
    this.frames.retire();
  }

  /** A machine sharing this one's decoder (execve's new image, fork's child). */
  sibling(): Machine {
    return new Machine(this.decoder);
  }

  /**
   * fork: a machine whose memory and CPU state are a copy of this one's (frames at the same
   * offsets, so page maps and the CPU block carry over), with its own code cache and TLBs.
   */
  fork(): Machine {
    if (this.usm.active) throw new Error('fork in USM mode');
    const child = new Machine(this.decoder);
    child.frames.copyFrom(this.frames);
    child.as.copyFrom(this.as);
    const u8 = child.frames.u8;
    // (Up to the TLBs: the child's banks stay as its constructor left them, empty.)
    u8.set(this.frames.u8.subarray(this.vcpu.base, this.vcpu.base + CPU.tlb), child.vcpu.base);
    child.fp.precise = this.fp.precise;
    child.budgetPerEntry = this.budgetPerEntry;
    child.tscStart = this.tscStart;
    child.cache.adoptFrom(this.cache);
    return child;
  }

  private constructor(readonly decoder: Decoder) {
    this.as = new AddressSpace(this.frames);
    this.vcpu = new VCpu(this.frames);
    this.cpu = this.vcpu.cpu;
    this.tlbs = this.vcpu.tlbs;
    this.as.tlbs.push(...this.tlbs);
    this.runtime = buildRuntime(this.frames.memory, this.table);
    const cpu = this.cpu;
    let precise = process.env.USMJIT_PRECISE_FP === '1';
    // (Mirrored in the CPU block: the USM fast paths pick translations by it.)
    this.fp = {
      get precise() { return precise; },
      set precise(v: boolean) { precise = v; cpu.setU32(CPU.fpPrecise, v ? 1 : 0); },
      enable: (_b, next) => this.enablePreciseFp(next),
    };
    this.fp.precise = precise;
    this.codePages = new CodePages((vpn) => this.cache.invalidatePage(vpn), () => this.cpu.setU32(CPU.budget, 0),
      (page, vpn) => codeAdded(this.frames.dv, page, vpn));
    this.as.code = this.codePages;
    const fast = buildUsmFast(this.frames.memory, {
      rd: (_c: number, a: bigint, size: number, rip: bigint) => { this.crossings.jsCalls++; return this.mode.read(a, size, rip); },
      wr: (_c: number, a: bigint, size: number, v: bigint, rip: bigint) => { this.crossings.jsCalls++; this.mode.write(a, size, v, rip); },
      getFlags: this.runtime.get_flags,
      chain: this.runtime.chain,
    });
    this.cache = new CodeCache(this.frames.memory, this.table, {
      rd: fast.rd,
      wr: fast.wr,
      usm_raise: fast.raise,
      usm_iret: fast.iret,
      usm_syscall: fast.syscall,
      usm_resume: fast.resume,
      usm_invlpg: fast.invlpg,
      rd128: (c: number, a: bigint, rip: bigint) => this.mode.read128(c, a, rip),
      wr128: (c: number, a: bigint, rip: bigint) => this.mode.write128(c, a, rip),
      flags_of: this.runtime.flags_of,
      op: (c: number, id: number) => this.runOp(c, id),
      chain: this.runtime.chain,
    }, decoder, { fetch: (addr, len, mode) => this.mode.fetch(addr, len, mode) }, this.jsEnv(), this.codePages);
    this.cache.viewSource = this.frames;
    this.usm = new Usm({
      cpu: this.cpu,
      as: this.as,
      tlbs: this.tlbs,
      getFlags: () => this.runtime.get_flags(this.vcpu.base),
      setFlags: (fl) => this.setArithFlags(fl),
      flushCode: () => this.cache.flushAll(),
      invalidateCodePage: (vpn) => this.cache.invalidatePage(vpn),
      hasCodePage: (vpn) => this.cache.hasPage(vpn),
      linuxSyscall: () => this.syscalls.syscall(this.cpu),
      rdtsc: () => this.rdtsc(),
      pollSoon: () => this.cpu.setU32(CPU.budget, 0),
      onActive: (a) => {
        this.mode = a ? this.usmMode : this.linux;
        this.fp.precise = this.fp.precise; // (the CPU block's copy: the Linux-mode block may be older)
        this.onUsmActive?.(a);
      },
    });
    const untranslated = (rip: number): string | undefined => {
      const note = this.cache.notes.get(rip);
      return note && `${note.text}: ${note.why}`;
    };
    this.linux = new LinuxMode(this.cpu, this.as, this.frames, this.tlbs[0], this.codePages, untranslated);
    this.usmMode = new UsmMode(this.usm, this.cpu, this.frames, this.tlbs, this.codePages);
    this.mode = this.linux;
  }

  /** What TypeScript-implemented instructions use (jit/emitter.ts JsEnv). */
  private jsEnv(): JsEnv {
    const machine = this;
    return {
      cpu: () => this.cpu,
      get mem() { return machine.mode.mem; },
      privileged: (i) => this.privileged(i),
      hostAddr: (a, w, n = 1) => this.mode.hostAddr(a, w, n),
      fetchFault: (a) => this.mode.fetchFault(BigInt(a)),
      bytes: () => this.frames.u8,
      debug: {
        breakAt: (a) => machine.usm.active && machine.usm.dbg.exec.has(a),
        check: (i) => machine.usm.breakCheck(i),
      },
      getFlags: (b) => this.runtime.get_flags(b),
      setFlags: (_b, fl) => this.setArithFlags(fl),
      cpuid,
      rdtsc: () => this.rdtsc(),
      fp: this.fp,
    };
  }

  private rdtsc(): bigint {
    return process.hrtime.bigint() - this.tscStart;
  }

  private setArithFlags(fl: number): void {
    this.cpu.setU64(CPU.ccRes, BigInt(fl));
    this.cpu.setU32(CPU.ccOp, CC.EFLAGS);
  }

  /**
   * SSE FP precise mode (jit/isa/sse-precise.ts), switched on by the first MXCSR write that leaves
   * the default control (round to nearest, no DAZ/FTZ, all exceptions masked): the
   * translation key changes (other translations are used from now on; none is dropped), and the
   * writing instruction's region leaves with rip = `next`.
   */
  private enablePreciseFp(next: number): number {
    if (this.fp.precise) return -1;
    // Only a non-default control switches: under the fast control (only the sticky flags differ)
    // the fast translations are exact, flags included (jit/isa/sse-flags.ts).
    if (isFastMxcsr(this.cpu.u32(CPU.mxcsr))) return -1;
    checkPreciseAllowed();
    this.fp.precise = true;
    this.cpu.rip = BigInt(next);
    this.cpu.setU32(CPU.exitSlot, 0);
    this.cpu.setU32(CPU.exitRegion, 0);
    return Exit.Lookup;
  }

  /** env.privileged: a USM instruction run in TypeScript (its faults are recorded by runOp). */
  private privileged(i: Insn): number {
    const h = PRIVILEGED[i.op];
    if (!h) throw new Error(`no USM handler for ${i.op}`);
    return h(this.usm, i, this.cpu.u64(CPU.scratch));
  }

  /**
   * The runtime's `op`: a TypeScript-implemented instruction. This is where a fault raised deep in
   * TypeScript (string instructions, x87 memory operands, privileged instructions) becomes the
   * exception record: the instruction is at cpu.rip (the emitter stores it before the call).
   */
  private runOp(c: number, id: number): number {
    this.crossings.jsCalls++;
    try {
      return this.cache.op(c, id);
    } catch (e) {
      if (!(e instanceof MemoryFault)) throw e;
      recordFault(this.cpu, e, this.cpu.rip);
      return Exit.Exception;
    }
  }

  /** Code in [start, end) was unmapped or lost PROT_EXEC: drop its translations. */
  invalidateRange(start: number, end: number): void {
    for (let a = start - (start % PAGE_SIZE); a < end; a += PAGE_SIZE) this.codePages.written(a);
  }

  /**
   * [signals] Delivers Linux signals to guest handlers from now on: `proc` is the kernel's process
   * (its SignalState), `trace` the strace log. See linux-abi/signal-delivery.ts.
   */
  attachSignals(proc: SignalProcess, trace?: (line: string) => void): SignalState {
    this.signals = new SignalDelivery(this.cpu, this.as, () => this.runtime.get_flags(this.vcpu.base), proc, trace);
    this.linux.signals = this.signals;
    this.usmMode.signals = this.signals;
    return proc.signals;
  }

  // ---- the dispatcher ---------------------------------------------------------------------

  /**
   * Runs the guest until it exits: the exit status (128+N for a fatal signal N; `outcome` tells
   * which), or SLICE_ENDED, BLOCKED (resume() the call later), EXECED (go on in `execed`) or
   * DECODER_PENDING (await decoder.ready(), then run again).
   */
  run(): number {
    for (;;) {
      try {
        this.loop();
      } catch (e) {
        if (e instanceof SliceEnd) return SLICE_ENDED;
        if (e instanceof DecoderPending) return DECODER_PENDING;
        if (e instanceof TaskBlocked) return BLOCKED;
        if (e instanceof ExecDone) {
          this.execed = e.machine;
          return EXECED;
        }
        if (e instanceof UsmLeave) { this.usm.leave(e); continue; }
        if (e instanceof GuestExit) {
          this.outcome = { exit: e.status, thread: e instanceof ThreadExit };
          return e.status;
        }
        if (e instanceof GuestKilled) return this.killed(e);
        // The 4 GiB Wasm memory is full: what Linux's OOM killer would do.
        if (e instanceof OutOfFrames) return this.killed(new GuestKilled(9, this.cpu.rip, undefined, 'out of memory'));
        throw e;
      }
    }
  }

  /**
   * The guest dies of a signal: a fault (or a kill of usmjit's own) is reported on stderr in one
   * line with rip and the faulting address; a signal sent by kill, SIGPIPE or a timer is silent,
   * as natively. Gives 128+N.
   */
  killed(k: GuestKilled): number {
    if (k.report && this.reportFaults) {
      let line = `usmjit: guest killed by ${describeSignal(k.signo)} at rip=0x${k.rip.toString(16)}`;
      if (k.faultAddr !== undefined) line += ` addr=0x${k.faultAddr.toString(16)}`;
      if (k.detail) line += ` (${k.detail})`;
      process.stderr.write(line + '\n');
    }
    this.outcome = { signal: k.signo, core: CORE_SIGNALS.has(k.signo) };
    return 128 + k.signo;
  }

  /**
   * After run() returned BLOCKED: retries the blocked call. True if it completed (rax holds its
   * result and run() goes on after it), false if it must still wait.
   */
  resume(): boolean {
    const r = this.syscalls.retry!(this.cpu);
    if (r === undefined) return false;
    this.cpu.set(0, r);
    return true;
  }

  /**
   * A signal came for a task blocked in a call: the call returns -EINTR, or (SA_RESTART) the
   * CPU goes back to the `syscall` instruction with rax = the call number, to run it again once
   * the handler returns. Either way run() then delivers the signal.
   */
  interrupt(): void {
    const r = this.syscalls.interrupt!();
    if (typeof r === 'bigint') this.cpu.set(0, r);
    else {
      this.cpu.rip -= 2n; // syscall is 0F 05
      this.cpu.set(0, r.restart);
    }
  }

  /**
   * The table entry of the translation at cpu.rip in the current translation mode, or -1 when
   * rip cannot be fetched (the fault is recorded: the next turn of the loop delivers it).
   */
  private find(): number {
    const rip = this.cpu.rip;
    try {
      if (rip >= 1n << 47n) this.mode.fetchFault(rip); // keys above the lower half name other modes
      return this.cache.get(codeKey(Number(rip), this.tag()));
    } catch (e) {
      if (!(e instanceof MemoryFault)) throw e;
      recordFault(this.cpu, e, rip);
      this.pending = true;
      return -1;
    }
  }

  /** The tag of the translation key the CPU runs with now (jit/entry.ts). */
  private tag(): number {
    return tagFor(this.mode.translationMode(), this.fp.precise, this.mode.watching, this.mode.fpuOff);
  }

  /** The last run ended at a system call or a TLB miss (its budget carries on). */
  private carryBudget = false;

  private loop(): void {
    const cpu = this.cpu;
    const base = this.vcpu.base;
    for (;;) {
      // 1. An exception recorded by the last run (or a fetch): the mode's sink delivers it.
      if (this.pending) {
        this.pending = false;
        if (cpu.u32(CPU.fault) === Pending.PhysAbort) {
          cpu.setU32(CPU.fault, Pending.None);
          throw new UsmLeave(USM_RET.PHYS, 0, cpu.u64(CPU.faultAddr), cpu.u64(CPU.exitInsn));
        }
        this.mode.deliver(takeException(cpu));
      }
      if (this.exitLimit > 0 && --this.exitLimit === 0) throw new GuestKilled(9, cpu.rip, undefined, 'exit limit reached');
      // The clock is read every 16th return only: it costs ~0.1 us, a USM fault makes two returns.
      if (this.sliceEnd !== 0 && (++this.sliceChecks & 15) === 0 && performance.now() > this.sliceEnd) throw new SliceEnd();
      // 2. Events: signals (Linux), interrupts and debug traps (USM).
      // The budget left at a system call or a TLB miss carries on: a program that makes a system
      // call every few thousand blocks (md5sum, sort, gzip reading their input), or a loop filling
      // fresh memory, still reaches budget exits, where hot regions grow and are promoted.
      const left = this.carryBudget ? cpu.u32(CPU.budget) | 0 : 0;
      this.carryBudget = false;
      const budget = this.mode.beforeRun(left > 0 && left < this.budgetPerEntry ? left : this.budgetPerEntry);
      // 3. The translation.
      const idx = this.find();
      if (idx < 0) continue;
      // 4. Run it.
      cpu.setU32(CPU.budget, budget);
      this.crossings.runs++;
      const code = this.runtime.run(base, idx);
      this.mode.afterRun(code);
      switch (code) {
        case Exit.Lookup: this.lookup(); break;
        case Exit.Syscall: this.syscall(); this.carryBudget = true; break;
        case Exit.Budget:
          this.cache.growHot();
          this.cache.growLoops();
          this.cache.promoteLoops();
          // A relink compiling in the background completes in the event loop: let it turn.
          if (this.cache.relink()) throw new SliceEnd();
          // Hot regions want to grow and Capstone is not loaded: let the scheduler load it.
          if (this.cache.decoderWanted && !this.decoder.loaded) {
            this.cache.decoderWanted = false;
            throw new DecoderPending('growth needs the decoder');
          }
          break;
        case Exit.Exception: this.pending = true; break;
        case Exit.Miss: this.miss(); this.carryBudget = true; break;
        default: throw new Error(`bad exit code ${code}`);
      }
    }
  }

  /** A direct exit whose chain slot was empty, or an indirect branch the jump cache missed. */
  private lookup(): void {
    const cpu = this.cpu;
    const slot = cpu.u32(CPU.exitSlot);
    const generation = this.cache.generation;
    const idx = this.find();
    if (idx < 0) return;
    const rip = Number(cpu.rip);
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
    this.cache.fillJumpCache(codeKey(rip, this.tag()), idx);
    if (cpu.u32(CPU.budget) <= 0) this.cache.growHot();
  }

  /**
   * A memory access left its region on a TLB miss (Exit.Miss): fill the TLB through the mode's
   * slow path (or record its fault), and the instruction runs again from rip. An access no TLB
   * entry can serve has its region recompiled with slow-path calls.
   */
  private miss(): void {
    const cpu = this.cpu;
    const info = cpu.u32(CPU.exitSlot);
    cpu.setU32(CPU.exitSlot, 0);
    const region = cpu.u32(CPU.exitRegion);
    cpu.setU32(CPU.exitRegion, 0);
    const addr = cpu.u64(CPU.exitArg), rip = cpu.rip;
    const got = this.mode.fillFor!(addr, info & 0xff, (info & 0x100) !== 0, rip);
    if (got === 'fault') this.pending = true;
    // Two accesses of one instruction whose pages share a TLB entry (65,536 pages apart) would
    // evict each other at every retry: the same instruction missing on a page it missed on one or
    // two misses ago is taken as that, and its region calls the slow path from then on.
    const page = addr >> 12n, seen = this.lastMisses;
    const again = seen.some((m) => m.rip === rip && m.page === page);
    seen.shift();
    seen.push({ rip, page });
    if (got === 'never' || (got === 'hit' && again)) {
      this.cache.missCalls(region);
      // Recompiling needs the decoder (a warm run may not have loaded it): the access runs again
      // once the scheduler has loaded it.
      if (this.cache.decoderWanted && !this.decoder.loaded) {
        this.cache.decoderWanted = false;
        throw new DecoderPending('a region must call the slow path');
      }
    }
  }

  /** The last two TLB misses (Exit.Miss): instruction and page. */
  private lastMisses: { rip: bigint; page: bigint }[] = [{ rip: -1n, page: -1n }, { rip: -1n, page: -1n }];

  private syscall(): void {
    const cpu = this.cpu;
    const mxcsr = cpu.u32(CPU.mxcsr);
    const r = this.syscalls.syscall(cpu);
    // ioctl(USM_ENTER) switched the CPU to the guest's state: rax is the guest's now.
    if (this.usm.justEntered) this.usm.justEntered = false;
    else cpu.set(0, r);
    // rt_sigreturn left MXCSR's fast control: from now on SSE arithmetic must honour it (only a
    // non-default control switches; the fast translations keep the sticky flags exact).
    const now = cpu.u32(CPU.mxcsr);
    if (now !== mxcsr && !isFastMxcsr(now) && !this.fp.precise) {
      checkPreciseAllowed();
      this.fp.precise = true;
    }
  }
}

