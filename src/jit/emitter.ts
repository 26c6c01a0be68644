import type { Insn, MemOperand, Operand, RegOperand } from '../decoder/ir.js';
import { Exit, Vector } from '../core/exits.js';
import { CC, ccOp, emitAllFlags, emitAllFlagsOfAnyKind, emitCF, emitCFOfAnyKind, emitCondDirect, emitCondFromFlags, FlagInputs } from './flags.js';
import { COUNTERS_BASE, CPU, JC_BASE, JC_ENTRIES, LINKED_BASE, Mode, MODE_STRIDE, SLOTS_BASE, TLB, TLB_BANK_SIZE, TLB_ENTRIES, TLB_ENTRY_SHIFT, tlbBank, TRANSITIONS_OFFSET } from '../core/layout.js';
import { Bytes, Fn, Reloc, SIMD, T } from './wasm/encoder.js';
import { emitJumpCacheFind, ENTRY_PC_BITS, ENTRY_PC_MASK } from './entry.js';

/** A runtime function as a region calls it: its slot in the runtime table and its type index. */
export interface RtCall { slot: number; type: number }

/**
 * The runtime functions a region calls (jit/runtime-table.ts), each through the small runtime
 * table (`call_indirect` with a constant slot) rather than as a function import.
 */
export interface RuntimeImports {
  /** rd(cpu, addr, size, rip) -> i64: slow-path load (TLB miss, page crossing, fault). */
  rd: RtCall;
  /** wr(cpu, addr, size, value, rip): slow-path store. */
  wr: RtCall;
  /** rd128(cpu, addr, rip): slow-path 16-byte load into the CPU scratch area. */
  rd128: RtCall;
  /** wr128(cpu, addr, rip): slow-path 16-byte store from the CPU scratch area. */
  wr128: RtCall;
  /** flagsOf(op, a, b, r) -> i32: materialises lazy arithmetic flags (a Wasm runtime function). */
  getFlags: RtCall;
  /** op(cpu, id) -> i32: runs a JS-implemented instruction; -1 = continue, else an Exit code. */
  op: RtCall;
  /** chain(cpu, index): tail-calls a block of another module through the shared table. */
  chain: RtCall;
  /** USM (vmx/usm-fast): raise(cpu) delivers the recorded exception through the IDT and continues, else returns Exit.Exception. */
  usmRaise: RtCall;
  /** iret(cpu) / syscall(cpu, next) -> 0 when done in Wasm (continue with resume), else run the TypeScript handler. */
  usmIret: RtCall;
  usmSyscall: RtCall;
  /** resume(cpu): continues at cpu.rip in the current CPL's translation (jump cache, then chain). */
  usmResume: RtCall;
  /** invlpg(cpu, addr) -> 0 when done in Wasm (no translated code involved), else run the TypeScript handler. */
  usmInvlpg: RtCall;
}

/** What the emitter needs from the code cache: chain slots and JS-implemented instructions. */
export interface EmitHost {
  allocSlot(target: number): number;
  /** The index of `target`'s block in the region being built, else -1. */
  localBlock(target: number): number;
  /** The function index of the region itself (for periodic re-entry). */
  regionFunc: number;
  /** The region's slot in the shared table (reported on indirect exits, so the region can grow). */
  regionSlot: number;
  /** Known targets of the region's indirect branches, with their pc in the region. */
  indirectTargets: { target: number; pc: number }[];
  /** Registers a JS-implemented op for the instruction at `insnAddr`; returns its id. */
  registerOp(impl: JsOp, insnAddr: number): number;
  /** The translation mode (core/layout.ts Mode): which TLB bank probes use, what privilege allows. */
  mode: Mode;
  /** The translation key's tag (jit/entry.ts): how the jump cache entries this code probes are tagged. */
  tag: number;
  /** SSE FP is translated exactly (the translation key's preciseFp). */
  preciseFp: boolean;
  /** USM CR0.TS is set (the translation key's fpuOff): x87/SSE instructions raise #NM. */
  fpuOff?: boolean;
  /** Data watchpoints are set (USM): leave the region after every memory access (vmx/debug-regs.ts). */
  watch?: boolean;
  /**
   * Guest GPRs stay in the CPU block (loaded and stored at each use) instead of living in Wasm
   * locals for the whole region: entering and leaving then costs nothing, and the region counts
   * its transitions (see code-cache.ts promote).
   */
  regsInMemory?: boolean;
  /**
   * A memory access that misses the TLB leaves the region (Exit.Miss: the dispatcher fills the
   * TLB and the instruction runs again) instead of calling the slow path: a call clobbers every
   * host register, so V8 keeps the values live across it (register locals, lazy flags, addresses)
   * in stack slots around each access.
   */
  missExit?: boolean;
}

/** What TypeScript-implemented instructions can use (see vmx/machine.ts). */
export interface JsEnv {
  cpu(base: number): import('../core/cpu-state.js').CpuState;
  /** Guest memory as the current mode sees it; throws MemoryFault like a real access would. */
  mem: import('../paging/guest-memory.js').GuestMemory;
  /** The materialised arithmetic flags of a CPU (RFLAGS bit positions). */
  getFlags(base: number): number;
  /** Replaces the arithmetic flags (ccOp = EFLAGS). */
  setFlags(base: number, flags: number): void;
  /** CPUID leaf/subleaf -> [eax, ebx, ecx, edx]. */
  cpuid(leaf: number, sub: number): [number, number, number, number];
  /** Virtual time-stamp counter. */
  rdtsc(): bigint;
  /**
   * USM mode: runs a privileged (or privilege-changing) instruction at the CPU's current level
   * (vmx/privileged.ts); memory operands' addresses are in CPU.scratch. Returns like a JsOp.
   */
  privileged?: (insn: import('../decoder/ir.js').Insn, cpuBase: number) => number;
  /**
   * The host address (offset in the Wasm memory) of guest byte `addr` for an access that stays in
   * its page, checking rights and filling the TLB as a slow-path access would; throws the guest's
   * fault. Lets bulk instructions (rep movs/stos) work on host memory directly.
   */
  hostAddr(addr: number, write: boolean, len?: number): number;
  /** Throws the fault an instruction fetch at `addr` gets in the current mode (a block that ends in unfetchable bytes). */
  fetchFault?(addr: number): never;
  /** The whole Wasm memory as bytes (valid until the next call that may grow it). */
  bytes(): Uint8Array;
  /**
   * SSE floating-point mode (isa/sse-precise.ts): `precise` once the guest has written MXCSR, from
   * then on SSE FP instructions are translated exactly (rounding control, DAZ/FTZ, exception
   * flags). `enable` switches (flushing the code cache) and returns the Exit code with which the
   * calling instruction's region must leave (rip = `next`), or -1 if already precise.
   */
  fp?: { precise: boolean; enable(cpuBase: number, next: number): number };
  /** USM debug registers (vmx/debug-regs.ts): breakpoints compiled into translations. */
  debug?: {
    /** Whether an enabled instruction breakpoint is at `addr`. */
    breakAt(addr: number): boolean;
    /** The check before such an instruction: -1 to run it, else an exception exit. */
    check(insn: import('../decoder/ir.js').Insn): number;
  };
}

/** An instruction implemented in TypeScript: returns -1 to continue, or an Exit code. */
export type JsOp = (cpuBase: number) => number;

const PAGE_TAG_MASK = ~0xfffn;

/** Static knowledge about the lazy flags inside the block being emitted. */
type FlagState =
  | { where: 'memory' }
  /** Pending in locals lA/lB/lR/lOp; `kind` known statically unless -1. */
  | { where: 'locals'; kind: CC | -1; size: number };

/**
 * Emits one block's Wasm function. Holds the per-block emission state (the function builder,
 * scratch locals, the lazy-flag state) and the primitives every instruction family uses:
 * register and memory access with the inline TLB probe, flags, and block exits.
 */
export class Emitter {
  /** A region function: (param cpu i32) (param pc i32) (result i32); pc selects the entry block. */
  readonly f = new Fn([T.i32, T.i32], [T.i32]);
  readonly cpu = 0;
  readonly pc = 1;
  /** Local copy of the CPU budget: counted down at each transition between blocks of the region. */
  readonly budget: number;
  /** Exit locals read by the shared exit tail. */
  readonly xKind: number;
  readonly xTarget: number;
  readonly xSlot: number;
  /** The exit's chain slot ordinal in this region (Reloc.DirectEntry: direct chaining when linked). */
  readonly xSite: number;
  /** Chain slots allocated so far (the next exit's ordinal). */
  private slotCount = 0;
  readonly xCode: number;
  /** The address a missing access wanted (Exit.Miss). */
  private xEa = -1;
  insn!: Insn;
  /** Whether the flags the current instruction produces may be read later (jit/liveness.ts). */
  flagsLive = true;
  /** Alignment a 16-byte memory operand of the current instruction must have (its table entry's). */
  align = 16;
  /** Set when the current instruction may have written memory (see endInsn). */
  wroteMemory = false;
  /** Locals holding the pending flag producer's a, b, r and op. */
  readonly lA: number;
  readonly lB: number;
  readonly lR: number;
  readonly lOp: number;
  private flags: FlagState = { where: 'memory' };
  /**
   * The lazy-flag kinds (ccOp) branches inside the region bring to each block, as far as emitted
   * (forward branches), -1 for one not known statically; and the kind predicted for the block
   * being emitted (the one its known predecessors agree on), or -1.
   */
  private incoming = new Map<number, number[]>();
  private predicted = -1;
  /** Set when the instruction just emitted ended the block (an exit was emitted on every path). */
  ended = false;

  constructor(readonly rt: RuntimeImports, readonly host: EmitHost) {
    this.lA = this.f.local(T.i64);
    this.lB = this.f.local(T.i64);
    this.lR = this.f.local(T.i64);
    this.lOp = this.f.local(T.i32);
    this.budget = this.f.local(T.i32);
    this.xKind = this.f.local(T.i32);
    this.xTarget = this.f.local(T.i64);
    this.xSlot = this.f.local(T.i32);
    this.xSite = this.f.local(T.i32);
    this.xCode = this.f.local(T.i32);
    this.budgetAtEntry = host.regsInMemory ? this.f.local(T.i32) : -1;
  }

  /** Pushes the address of this region's entry counter (relocated: jit/relocation.ts). */
  counterAddress(): void {
    this.f.i32_reloc(Reloc.Counter, COUNTERS_BASE + this.host.regionSlot * 4);
  }

  /** The budget when the region was entered (registers in memory only): transitions = it - budget. */
  readonly budgetAtEntry: number;

  /** A new block of the region starts here: the flags come from whichever block ran before. */
  startBlock(): void {
    this.flags = { where: 'locals', kind: -1, size: 0 };
    const known = new Set((this.incoming.get(this.blockIndex) ?? []).filter((k) => k >= 0));
    this.predicted = known.size === 1 ? [...known][0] : -1;
  }

  /** Where the current instruction's code starts, to roll back a half-emitted instruction. */
  mark(): { fn: ReturnType<Fn['mark']>; flags: FlagState } { return { fn: this.f.mark(), flags: this.flags }; }
  rollback(m: { fn: ReturnType<Fn['mark']>; flags: FlagState }): void { this.f.rollback(m.fn); this.flags = m.flags; }

  tmp64(): number { return this.f.temp(T.i64); }
  tmp32(): number { return this.f.temp(T.i32); }
  free64(...ls: number[]): void { for (let k = 0; k < ls.length; k++) this.f.free(T.i64, ls[k]); }
  free32(...ls: number[]): void { for (let k = 0; k < ls.length; k++) this.f.free(T.i32, ls[k]); }

  // ---- CPU state fields --------------------------------------------------------------------

  /** Pushes an i64 field of the CPU block. */
  ld64(off: number): void { this.f.get(this.cpu).i64_load(off); }
  /** Stores local `l` (i64) into a CPU field. */
  st64(off: number, l: number): void { this.f.get(this.cpu).get(l).i64_store(off); }
  st64c(off: number, v: bigint | number): void { this.f.get(this.cpu).i64(v).i64_store(off); }
  st32c(off: number, v: number): void { this.f.get(this.cpu).i32(v).i32_store(off); }

  // ---- general registers -------------------------------------------------------------------

  /**
   * Guest GPRs live in Wasm locals while a block runs: loaded once in the prologue (only those the
   * block touches), written back to the CPU block on every path that leaves it (exits, and the slow
   * path of a memory access, which may fault). `dirty` only ever grows within a block, so a
   * register written on any path is written back on every later exit.
   */
  private regLocal: number[] = new Array(16).fill(-1);
  private dirty = 0;
  /** XMM registers, cached the same way in v128 locals. */
  private xmmLocal: number[] = new Array(16).fill(-1);
  private xdirty = 0;

  /** The v128 local caching XMM register n (loaded in the prologue). */
  xmm(n: number): number {
    let l = this.xmmLocal[n];
    if (l < 0) {
      l = this.xmmLocal[n] = this.f.local(T.v128);
      const p = this.f.prologue;
      p.u8(0x20); p.u32(this.cpu); // local.get cpu
      p.u8(0xfd); p.u32(SIMD.v128_load); p.u32(4); p.u32(CPU.xmm + n * 16);
      p.u8(0x21); p.u32(l); // local.set
    }
    return l;
  }

  /** Marks XMM register n as written (it is stored back when leaving the region). */
  xmmDirty(n: number): void {
    this.xdirty |= 1 << n;
  }

  private regL(n: number): number {
    let l = this.regLocal[n];
    if (l < 0) {
      l = this.regLocal[n] = this.f.local(T.i64);
      const p = this.f.prologue;
      p.u8(0x20); p.u32(this.cpu); // local.get cpu
      p.u8(0x29); p.u32(3); p.u32(CPU.gpr + n * 8); // i64.load
      p.u8(0x21); p.u32(l); // local.set
    }
    return l;
  }

  /** Pushes the full 64-bit GPR n. */
  gpr(n: number): void {
    if (this.host.regsInMemory) { this.f.get(this.cpu).i64_load(CPU.gpr + n * 8); return; }
    this.f.get(this.regL(n));
  }
  /** Writes local `l` to the full 64-bit GPR n. */
  setGpr(n: number, l: number): void {
    if (this.host.regsInMemory) { this.f.get(this.cpu).get(l).i64_store(CPU.gpr + n * 8); return; }
    this.f.get(l).set(this.regL(n));
    this.dirty |= 1 << n;
  }

  /**
   * Emits stores of dirty registers and the budget (used on paths that leave the region). Which
   * registers are dirty is only known when the whole region is emitted (a block emitted later may
   * run first and branch back), so the stores are generated then, for the final dirty set.
   */
  spillRegs(): void {
    this.f.placeholder(() => {
      const b = new Bytes(64);
      const st = (local: number, op: number, align: number, off: number) => {
        b.u8(0x20); b.u32(this.cpu); b.u8(0x20); b.u32(local); b.u8(op); b.u32(align); b.u32(off);
      };
      for (let n = 0; n < 16; n++) if (this.dirty & (1 << n)) st(this.regLocal[n], 0x37, 3, CPU.gpr + n * 8);
      for (let n = 0; n < 16; n++) {
        if (!(this.xdirty & (1 << n))) continue;
        b.u8(0x20); b.u32(this.cpu); b.u8(0x20); b.u32(this.xmmLocal[n]);
        b.u8(0xfd); b.u32(SIMD.v128_store); b.u32(4); b.u32(CPU.xmm + n * 16);
      }
      st(this.budget, 0x36, 2, CPU.budget);
      return b;
    });
  }

  /**
   * Reloads registers `mask` (bit n = GPR n) from memory after TypeScript code changed them. Each
   * is allocated if needed, so a register first used later in the region is not taken from the
   * (older) prologue load.
   */
  reloadRegs(mask: number, xmm = false): void {
    for (let n = 0; n < 16; n++) {
      if (!this.host.regsInMemory && mask & (1 << n)) this.f.get(this.cpu).i64_load(CPU.gpr + n * 8).set(this.regL(n));
    }
    // An instruction that changes XMM state in TypeScript (fxrstor): reload all of them.
    if (xmm) for (let n = 0; n < 16; n++) this.f.get(this.cpu).v128_load(CPU.xmm + n * 16).set(this.xmm(n));
  }

  /** Pushes a register operand's value, zero-extended to i64. */
  getReg(r: RegOperand): void {
    const f = this.f;
    if (this.host.regsInMemory && (r.file === 'gprh' || (r.file === 'gpr' && r.size < 8))) {
      // Only the bytes read, zero-extended by the load (one instruction instead of a load and a
      // mask; an earlier 8-byte store of the register still forwards to it).
      const at = CPU.gpr + r.n * 8;
      f.get(this.cpu);
      if (r.file === 'gprh') f.i64_load8_u(at + 1);
      else if (r.size === 4) f.i64_load32_u(at);
      else if (r.size === 2) f.i64_load16_u(at);
      else f.i64_load8_u(at);
      return;
    }
    // Narrow values in i32, zero-extended (see alu.ts truncate).
    if (r.file === 'gprh') {
      this.gpr(r.n);
      f.i32_wrap_i64().i32(8).i32_shr_u().i32(0xff).i32_and().i64_extend_i32_u();
      return;
    }
    if (r.file !== 'gpr') throw new Unsupported(`register ${r.name}`);
    this.gpr(r.n);
    if (r.size === 4) f.i32_wrap_i64().i64_extend_i32_u();
    else if (r.size < 8) f.i32_wrap_i64().i32(r.size === 2 ? 0xffff : 0xff).i32_and().i64_extend_i32_u();
  }

  /** Writes local `l` to a register operand with x86 rules: 32-bit writes zero-extend, 8/16 merge. */
  setReg(r: RegOperand, l: number, size = r.size): void {
    const f = this.f;
    if (r.file !== 'gpr' && r.file !== 'gprh') throw new Unsupported(`register ${r.name}`);
    // Pushes the register's new 64-bit value (in either placement, gpr() reads the old one).
    const merged = (): void => {
      if (r.file === 'gprh') { this.gpr(r.n); f.i64(~0xff00n).i64_and().get(l).i64(0xff).i64_and().i64(8).i64_shl().i64_or(); return; }
      switch (size) {
        case 1: this.gpr(r.n); f.i64(~0xffn).i64_and().get(l).i64(0xff).i64_and().i64_or(); break;
        case 2: this.gpr(r.n); f.i64(~0xffffn).i64_and().get(l).i64(0xffff).i64_and().i64_or(); break;
        case 4: f.get(l).i32_wrap_i64().i64_extend_i32_u(); break; // see alu.ts truncate
        default: f.get(l);
      }
    };
    if (this.host.regsInMemory) {
      f.get(this.cpu);
      merged();
      f.i64_store(CPU.gpr + r.n * 8);
      return;
    }
    merged();
    f.set(this.regL(r.n));
    this.dirty |= 1 << r.n;
  }

  // ---- memory ------------------------------------------------------------------------------

  /** Computes an operand's effective address into a new i64 local (caller frees it). */
  /** Offset of this mode's TLB bank in the CPU block. */
  private get tlbOffset(): number {
    return CPU.tlb + tlbBank(this.host.mode) * TLB_BANK_SIZE;
  }

  /**
   * The value of the address local the next load or store gets, when it is a constant (set by
   * read, write and rmw around that one call only, so no other use of the local can see it).
   */
  private constEa: bigint | undefined;

  /** The address of a memory operand that names no register (rip-relative, absolute), or undefined. */
  private static constantAddress(m: MemOperand): bigint | undefined {
    if (m.base >= 0 || m.index >= 0 || m.seg) return undefined;
    return m.addr32 ? BigInt.asUintN(32, m.disp) : BigInt.asUintN(64, m.disp);
  }

  ea(m: MemOperand): number {
    const f = this.f;
    const l = this.tmp64();
    let first = true;
    const plus = () => { if (!first) f.i64_add(); first = false; };
    if (m.base >= 0) { this.gpr(m.base); plus(); }
    if (m.index >= 0) {
      this.gpr(m.index);
      if (m.scale > 1) f.i64(BigInt(Math.log2(m.scale))).i64_shl();
      plus();
    }
    if (m.disp !== 0n || first) { f.i64(m.disp); plus(); }
    if (m.seg) { this.ld64(m.seg === 'fs' ? CPU.fsBase : CPU.gsBase); f.i64_add(); }
    if (m.addr32) f.i32_wrap_i64().i64_extend_i32_u();
    f.set(l);
    return l;
  }

  /**
   * The inline TLB probe: leaves the entry address in local `e` and pushes i32 "hit" for an
   * access of `size` bytes at the address in local `ea`, using the read or write tag.
   */
  private probe(ea: number, size: number, write: boolean, e: number): void {
    const c = this.constEa;
    if (c !== undefined) {
      // A constant address (rip-relative, absolute): its entry's offset and its last byte's page
      // are known now. TurboFan folds them either way; this spares Liftoff (cold code), the
      // validator and the store ~10 bytes an access.
      const slot = Number((c >> 12n) & BigInt(TLB_ENTRIES - 1)) << TLB_ENTRY_SHIFT;
      this.f.i32(slot).get(this.cpu).i32_add().tee(e)
        .i64_load(this.tlbOffset + (write ? TLB.writeTag : TLB.readTag))
        .i64(BigInt.asIntN(64, (c + BigInt(size - 1)) & PAGE_TAG_MASK)).i64_eq();
      return;
    }
    this.probeRange(ea, () => {
      this.f.get(ea);
      if (size > 1) this.f.i64(size - 1).i64_add();
    }, write, e);
  }

  /**
   * The TLB probe for the bytes from local `ea` to the address `pushLast` pushes (i64, at most a
   * page on): pushes i32 "hit" when ea's entry is tagged with the last byte's page, so a range
   * that leaves its page never hits; leaves the entry address in local `e`. Bulk instructions
   * (isa/string.ts) probe whole ranges with it.
   */
  probeRange(ea: number, pushLast: () => void, write: boolean, e: number): void {
    const f = this.f;
    // The entry's offset, ((ea >> 12) & (TLB_ENTRIES - 1)) << TLB_ENTRY_SHIFT, in one shift and mask.
    f.get(ea).i32_wrap_i64().i32(12 - TLB_ENTRY_SHIFT).i32_shr_u().i32((TLB_ENTRIES - 1) << TLB_ENTRY_SHIFT).i32_and()
      .get(this.cpu).i32_add().tee(e)
      .i64_load(this.tlbOffset + (write ? TLB.writeTag : TLB.readTag));
    pushLast();
    f.i64(PAGE_TAG_MASK).i64_and().i64_eq();
  }

  /** Pushes the host address (i32) for a probed hit. */
  hostAddr(ea: number, e: number): void {
    // In i32 (the Wasm address is the sum mod 2^32): an i32 add zero-extends by itself, where a
    // wrapped i64 sum costs a `movl` before every access.
    const c = this.constEa;
    if (c !== undefined) this.f.i32(Number(BigInt.asIntN(32, c)));
    else this.f.get(ea).i32_wrap_i64();
    this.f.get(e).i32_load(this.tlbOffset + TLB.addend).i32_add();
  }

  /**
   * Pushes the i64 value of `size` bytes at guest address local `ea`, zero-extended (sign-extended
   * with `signed`). `rmw`: the read of a read-modify-write, checked for write access (below).
   */
  load(ea: number, size: number, rmw = false, signed = false): void {
    const f = this.f;
    if (this.host.watch) this.wroteMemory = true;
    const e = this.tmp32();
    // A read-modify-write reads through the write tag: the instruction changes registers and
    // flags before its store, so the store must not be the access that misses or faults (the
    // instruction runs again, or the fault sees it half done).
    this.probe(ea, size, rmw, e);
    f.if_(T.i64);
    this.hostAddr(ea, e);
    switch (size) {
      case 1: if (signed) f.i64_load8_s(); else f.i64_load8_u(); break;
      case 2: if (signed) f.i64_load16_s(); else f.i64_load16_u(); break;
      case 4: if (signed) f.i64_load32_s(); else f.i64_load32_u(); break;
      default: f.i64_load();
    }
    f.else_();
    if (this.host.missExit) this.missed(ea, size, rmw);
    else {
      f.get(this.cpu).get(ea).i32(size).i64(this.insn.addr).call_rt(this.rt.rd);
      if (signed) { if (size === 1) f.i64_extend8_s(); else if (size === 2) f.i64_extend16_s(); else if (size === 4) f.i64_extend32_s(); }
      this.faultCheck();
      // A watched read zeroed the budget (pending #DB): endInsn leaves after this instruction.
      if (this.host.watch) f.get(this.cpu).i32_load(CPU.budget).set(this.budget);
      if (rmw) {
        // Write the value back first (nothing else changes it meanwhile): a write that faults
        // does so before the instruction has changed anything.
        const v = this.tmp64();
        f.set(v);
        f.get(this.cpu).get(ea).i32(size).get(v).i64(this.insn.addr).call_rt(this.rt.wr);
        this.faultCheck();
        f.get(this.cpu).i32_load(CPU.budget).set(this.budget); // zeroed if the write hit translated code
        f.get(v);
        this.free64(v);
      }
    }
    f.end();
    this.free32(e);
  }

  /** Stores the low `size` bytes of local `v` (i64) at guest address local `ea`. */
  store(ea: number, size: number, v: number): void {
    const f = this.f;
    // Only the slow path can write translated code (no TLB entry has write rights to such a page):
    // without the call (missExit) the budget stays as it was, and endInsn has nothing to check.
    if (!this.host.missExit) this.wroteMemory = true;
    const e = this.tmp32();
    this.probe(ea, size, true, e);
    f.if_();
    this.hostAddr(ea, e);
    f.get(v);
    switch (size) {
      case 1: f.i64_store8(); break;
      case 2: f.i64_store16(); break;
      case 4: f.i64_store32(); break;
      default: f.i64_store();
    }
    f.else_();
    if (this.host.missExit) this.missed(ea, size, true);
    else {
      f.get(this.cpu).get(ea).i32(size).get(v).i64(this.insn.addr).call_rt(this.rt.wr);
      this.faultCheck();
      f.get(this.cpu).i32_load(CPU.budget).set(this.budget); // zeroed if the write hit translated code
    }
    f.end();
    this.free32(e);
  }

  /**
   * A missing access in a missExit region: to the shared $miss label with the instruction's
   * address, the access's address and its size | 0x100 for a write (emitMissExit).
   */
  private missed(ea: number, size: number, write: boolean): void {
    const f = this.f;
    if (this.xEa < 0) this.xEa = f.local(T.i64);
    f.i64(this.insn.addr).set(this.xTarget).get(ea).set(this.xEa).i32(size | (write ? 0x100 : 0)).set(this.xSlot);
    f.br(f.depth - this.missDepth);
  }

  /** The code after the region's $miss block: leave with Exit.Miss (the instruction runs again). */
  emitMissExit(): void {
    const f = this.f;
    if (this.xEa < 0) { f.unreachable(); return; } // no access missed here
    this.st64(CPU.rip, this.xTarget);
    this.st64(CPU.exitArg, this.xEa);
    f.get(this.cpu).get(this.xSlot).i32_store(CPU.exitSlot);
    f.get(this.cpu).i32_reloc(Reloc.Region, this.host.regionSlot).i32_store(CPU.exitRegion);
    f.i32(Exit.Miss).set(this.xCode);
    this.branchToExit(Emitter.X_CODE);
  }

  /**
   * After a slow-path call: a faulting access returned with CPU.fault set and the exception
   * recorded (core/exception.ts); leave the region (the dispatcher delivers it).
   */
  private faultCheck(): void {
    // To the region's shared $fault label (translateRegion), which leaves with Exit.Exception:
    // 7 bytes per memory access instead of 17.
    this.f.get(this.cpu).i32_load(CPU.fault).br_if(this.f.depth - this.faultDepth);
  }

  /** The code after the region's $fault block: a faulting slow-path access leaves from here. */
  emitFaultExit(): void {
    this.f.i32(Exit.Exception).set(this.xCode);
    this.branchToExit(Emitter.X_CODE);
  }

  /** Pushes a v128 loaded from guest address local `ea`. */
  load128(ea: number): void {
    const f = this.f;
    if (this.host.watch) this.wroteMemory = true;
    const e = this.tmp32();
    this.probe(ea, 16, false, e);
    f.if_(T.i32);
    this.hostAddr(ea, e);
    f.else_();
    if (this.host.missExit) this.missed(ea, 16, false);
    else {
      f.get(this.cpu).get(ea).i64(this.insn.addr).call_rt(this.rt.rd128);
      this.faultCheck();
      if (this.host.watch) f.get(this.cpu).i32_load(CPU.budget).set(this.budget);
    }
    f.end();
    f.v128_load();
    this.free32(e);
  }

  /** Stores v128 local `v` at guest address local `ea`. */
  store128(ea: number, v: number): void {
    const f = this.f;
    if (!this.host.missExit) this.wroteMemory = true; // (see store)
    const e = this.tmp32();
    this.probe(ea, 16, true, e);
    f.if_();
    this.hostAddr(ea, e);
    f.get(v).v128_store();
    f.else_();
    if (this.host.missExit) this.missed(ea, 16, true);
    else {
      f.get(this.cpu).get(v).v128_store(CPU.scratch);
      f.get(this.cpu).get(ea).i64(this.insn.addr).call_rt(this.rt.wr128);
      this.faultCheck();
      f.get(this.cpu).i32_load(CPU.budget).set(this.budget);
    }
    f.end();
    this.free32(e);
  }

  // ---- operands ----------------------------------------------------------------------------

  /** Pushes an operand's value zero-extended to i64 (immediates masked to `size`). */
  read(op: Operand, size = op.size): void {
    const f = this.f;
    if (op.kind === 'reg') { this.getReg(op); return; }
    if (op.kind === 'imm') { f.i64(mask(op.value, size)); return; }
    const ea = this.ea(op);
    this.constEa = Emitter.constantAddress(op);
    this.load(ea, size);
    this.constEa = undefined;
    this.free64(ea);
  }

  /** Reads an operand into a new i64 local (caller frees). */
  readL(op: Operand, size = op.size): number {
    this.read(op, size);
    const l = this.tmp64();
    this.f.set(l);
    return l;
  }

  /** Writes local `v` to a register or memory operand. */
  write(op: Operand, v: number, size = op.size): void {
    if (op.kind === 'reg') { this.setReg(op, v, size); return; }
    if (op.kind === 'imm') throw new Unsupported('write to immediate');
    const ea = this.ea(op);
    this.constEa = Emitter.constantAddress(op);
    this.store(ea, size, v);
    this.constEa = undefined;
    this.free64(ea);
  }

  /**
   * Read-modify-write helper: reads `op` into a local, lets `body` compute the result into
   * another local, writes it back (computing a memory address only once).
   */
  rmw(op: Operand, body: (val: number) => number, size = op.size): void {
    if (op.kind === 'mem') {
      const ea = this.ea(op);
      const c = Emitter.constantAddress(op);
      this.constEa = c;
      this.load(ea, size, true);
      this.constEa = undefined;
      const v = this.tmp64();
      this.f.set(v);
      const r = body(v);
      this.constEa = c;
      this.store(ea, size, r);
      this.constEa = undefined;
      this.free64(ea, v, r);
    } else {
      const v = this.readL(op, size);
      const r = body(v);
      this.write(op, r, size);
      this.free64(v, r);
    }
  }

  // ---- flags -------------------------------------------------------------------------------

  /** Records a flag producer: a, b, r locals (zero-extended to size) of statically known kind. */
  setFlags(kind: CC, size: number, a: number | null, b: number | null, r: number): void {
    const f = this.f;
    if (a !== null) f.get(a).set(this.lA);
    if (b !== null) f.get(b).set(this.lB);
    f.get(r).set(this.lR);
    f.i32(ccOp(kind, size)).set(this.lOp);
    this.flags = { where: 'locals', kind, size };
  }

  /** Like setFlags, but the op (i32) is on the stack: the kind is only known at run time. */
  setFlagsDynamic(a: number, b: number, r: number): void {
    const f = this.f;
    f.set(this.lOp);
    f.get(a).set(this.lA).get(b).set(this.lB).get(r).set(this.lR);
    this.flags = { where: 'locals', kind: -1, size: 0 };
  }

  /** Makes the pending-flags locals valid (loading them from memory if flags live there). */
  flagsToLocals(): void {
    if (this.flags.where === 'locals') return;
    const f = this.f;
    this.ld64(CPU.ccA); f.set(this.lA);
    this.ld64(CPU.ccB); f.set(this.lB);
    this.ld64(CPU.ccRes); f.set(this.lR);
    f.get(this.cpu).i32_load(CPU.ccOp).set(this.lOp);
    this.flags = { where: 'locals', kind: -1, size: 0 };
  }

  /** Marks the static kind unknown (after a conditional update of the locals). */
  flagsDynamic(): void {
    if (this.flags.where === 'locals') this.flags = { where: 'locals', kind: -1, size: 0 };
  }

  /**
   * Emits stores of pending flags to the CPU state without changing the static state: used on
   * paths that leave the block (exits, slow paths that may fault), so other paths keep them pending.
   */
  spillFlags(): void {
    if (this.flags.where !== 'locals') return;
    this.st64(CPU.ccA, this.lA);
    this.st64(CPU.ccB, this.lB);
    this.st64(CPU.ccRes, this.lR);
    this.f.get(this.cpu).get(this.lOp).i32_store(CPU.ccOp);
  }

  /** Writes back registers and pending flags: the CPU block is then complete. */
  spillAll(): void {
    this.spillFlags();
    this.spillRegs();
  }

  /**
   * Pushes the six arithmetic flags (i32, RFLAGS positions). Of a producer of unknown kind: by a
   * call to the runtime's flags_of, or with `inline` by a switch over the kinds (~1 KB of Wasm).
   */
  materialize(inline = false): void {
    const s = this.flags;
    if (s.where === 'locals' && s.kind >= 0) {
      emitAllFlags(this.f, s.kind as CC, s.size, this.inputs());
      return;
    }
    if (inline && s.where === 'locals') {
      const c = this.tmp32();
      this.predictedKind((kind, size) => emitAllFlags(this.f, kind, size, this.inputs()),
        () => emitAllFlagsOfAnyKind(this.f, this.inputs(), this.lOp, c));
      this.free32(c);
      return;
    }
    this.predictedKind((kind, size) => emitAllFlags(this.f, kind, size, this.inputs()),
      () => this.f.get(this.lOp).get(this.lA).get(this.lB).get(this.lR).call_rt(this.rt.getFlags));
  }

  /**
   * Flags of a kind not known statically (a block's start): when the block's in-region
   * predecessors agree on one (`predicted`), `known(kind, size)` inline if the pending op is that
   * one, else `other()` (which calls the runtime's flags_of: ~10 ns, and V8 saves every live value
   * around a call). Both push one i32.
   */
  private predictedKind(known: (kind: CC, size: number) => void, other: () => void): void {
    const f = this.f, p = this.predicted;
    if (p < 0 || this.flags.where !== 'locals') { other(); return; }
    f.get(this.lOp).i32(p).i32_eq().if_(T.i32);
    known((p >> 2) as CC, 1 << (p & 3));
    f.else_();
    other();
    f.end();
  }

  /** Pushes CF as i32. */
  carry(): void {
    const s = this.flags;
    if (s.where === 'locals' && s.kind >= 0) { emitCF(this.f, s.kind as CC, s.size, this.inputs()); return; }
    if (s.where === 'locals') {
      // (no flags_of call: see emitCFOfAnyKind)
      const c = this.tmp32();
      this.predictedKind((kind, size) => emitCF(this.f, kind, size, this.inputs()), () => emitCFOfAnyKind(this.f, this.inputs(), this.lOp, c));
      this.free32(c);
      return;
    }
    this.materialize();
    this.f.i32(1).i32_and();
  }

  /** Pushes condition cc (x86 nibble) as i32 0/1. */
  cond(cc: number): void {
    const s = this.flags;
    if (s.where === 'locals' && s.kind >= 0 && emitCondDirect(this.f, cc, s.kind as CC, s.size, this.inputs())) return;
    const fl = this.tmp32();
    const fromFlags = (push: () => void) => { push(); this.f.set(fl); emitCondFromFlags(this.f, cc, fl); };
    if (s.where === 'locals' && s.kind >= 0) fromFlags(() => this.materialize());
    else {
      this.predictedKind((kind, size) => {
        if (!emitCondDirect(this.f, cc, kind, size, this.inputs())) fromFlags(() => emitAllFlags(this.f, kind, size, this.inputs()));
      }, () => fromFlags(() => this.f.get(this.lOp).get(this.lA).get(this.lB).get(this.lR).call_rt(this.rt.getFlags)));
    }
    this.free32(fl);
  }

  /** Replaces the arithmetic flags by the i32 on the stack (RFLAGS positions). */
  setEflagsFromStack(): void {
    const f = this.f;
    f.i64_extend_i32_u().set(this.lR);
    f.i32(CC.EFLAGS).set(this.lOp);
    this.flags = { where: 'locals', kind: CC.EFLAGS, size: 8 };
  }

  private inputs(): FlagInputs {
    return { a: this.lA, b: this.lB, r: this.lR };
  }

  // ---- exits -------------------------------------------------------------------------------
  //
  // Every path out of a region goes through one shared exit tail (emitExitTail): an exit site
  // only sets xKind/xTarget/xSlot/xCode and branches to the $exit label, so the write-back of
  // registers and flags exists once per region instead of once per exit.

  /** Exit kinds the tail understands. */
  static readonly X_SLOT = 0; // xTarget constant, chain through slot xSlot
  static readonly X_JUMP = 1; // xTarget computed, chain through the jump cache
  static readonly X_CODE = 2; // return xCode (rip and exit fields already stored)
  static readonly X_REENTER = 3; // tail-call the region itself at pc xSlot (see exitTo)
  static readonly X_RESUME = 4; // USM: continue at cpu.rip in the current CPL's translation (usmResume)

  /** Nesting depth of the region's $exit block and $top loop (set by translateRegion). */
  exitDepth = 1;
  /** The nesting depth of the region's $budget block (transition branches to its end). */
  budgetDepth = 2;
  /** The nesting depth of the region's $wrote block (endInsn branches to its end). */
  wroteDepth = 3;
  /** The nesting depth of the region's $fault block (faultCheck branches to its end). */
  faultDepth = 4;
  /** The nesting depth of the region's $miss block (missExit's accesses branch to its end). */
  missDepth = 5;
  loopDepth = 3;
  /** The region's block whose code is being emitted, and the nesting depth of each block's case
   * label (the block whose end starts its code: translateRegion). */
  blockIndex = 0;
  caseDepth: number[] = [];

  private branchToExit(kind: number): void {
    this.f.i32(kind).set(this.xKind).br(this.f.depth - this.exitDepth);
  }

  /**
   * Continues at a constant guest address: a branch back to the region's dispatch loop if the
   * target block is in this region (registers and flags stay in locals), else leaves the region,
   * chaining through a slot when the target is known.
   */
  exitTo(target: number): void {
    const f = this.f;
    const local = this.host.localBlock(target);
    if (local >= 0) {
      this.transition(target, local);
      return;
    }
    const slot = SLOTS_BASE + this.host.allocSlot(target) * 4;
    f.i64(target).set(this.xTarget);
    f.i32_reloc(Reloc.Slot, slot).set(this.xSlot);
    f.i32(this.slotCount++).set(this.xSite);
    this.branchToExit(Emitter.X_SLOT);
  }

  /** Branches to block `pc` of this region (guest address `target`). */
  private transition(target: number, pc: number): void {
    const f = this.f;
    const fl = this.flags;
    let into = this.incoming.get(pc);
    if (!into) this.incoming.set(pc, (into = []));
    into.push(fl.where === 'locals' && fl.kind >= 0 ? ccOp(fl.kind as CC, fl.size) : -1);
    // Every 4096 transitions: leave (budget exhausted) or re-enter the region by a fresh call.
    // V8 has no on-stack replacement for Wasm, so a loop that never leaves its call would run
    // Liftoff code forever; a new call picks up the optimised code once it exists.
    // Which of the two is decided at the region's shared $budget label (emitBudgetExit).
    f.get(this.budget).i32(1).i32_sub().tee(this.budget).i32(0xfff).i32_and().i32_eqz().if_();
    f.i64(target).set(this.xTarget).i32(pc).set(this.xSlot).br(f.depth - this.budgetDepth);
    f.end();
    // Forward, with registers in memory: straight to the block's case label, no pc dispatch. With
    // registers in locals the extra merges at every case label cost more than the indirect jump
    // (docs/architecture.md, "Tiers").
    if (this.host.regsInMemory && pc > this.blockIndex) {
      f.br(f.depth - this.caseDepth[pc]);
      return;
    }
    f.i32(pc).set(this.pc);
    f.br(f.depth - this.loopDepth);
  }

  /**
   * The code after the region's $budget block (a transition's 4096th): leave for the dispatcher
   * with rip = xTarget if the budget is spent, else re-enter the region at block xSlot.
   */
  emitBudgetExit(): void {
    const f = this.f;
    f.get(this.budget).i32(0).i32_le_s().if_();
    this.st64(CPU.rip, this.xTarget);
    f.i32(Exit.Budget).set(this.xCode);
    this.branchToExit(Emitter.X_CODE);
    f.end();
    this.branchToExit(Emitter.X_REENTER);
  }

  /**
   * Continues at the guest address in local `t` (i64): a compare against each indirect target
   * this region already holds (see code-cache.ts, region growth), else out through the jump cache.
   */
  exitToLocal(t: number): void {
    const f = this.f;
    for (const { target, pc } of this.host.indirectTargets) {
      f.get(t).i64(target).i64_eq().if_();
      this.transition(target, pc);
      f.end();
    }
    f.get(t).set(this.xTarget);
    this.branchToExit(Emitter.X_JUMP);
  }

  /** Leaves the region with a guest exception at the current instruction. */
  raise(vector: Vector, arg: bigint = 0n): void {
    this.st64c(CPU.rip, this.insn.addr);
    this.st64c(CPU.exitInsn, this.insn.addr);
    this.st64c(CPU.exitArg, BigInt(vector) | (arg << 8n));
    this.f.i32(Exit.Exception).set(this.xCode);
    this.branchToExit(Emitter.X_CODE);
  }

  /** Leaves the region with an exit code, rip set to `rip`. */
  exitWith(code: Exit, rip: number): void {
    this.st64c(CPU.rip, rip);
    this.f.i32(code).set(this.xCode);
    this.branchToExit(Emitter.X_CODE);
  }

  /**
   * After an instruction that wrote memory: if the write hit a page holding translated code, the
   * runtime zeroed the budget; leave the region before the next instruction, so that code written
   * just ahead (even in this very block) is re-translated before it runs, as on a real CPU.
   */
  endInsn(next: number): void {
    if (!this.wroteMemory) return;
    this.wroteMemory = false;
    const f = this.f;
    f.get(this.budget).i32_eqz().if_();
    // To the region's shared $wrote label (emitWroteExit): 15 bytes here instead of 37.
    f.i64(next).set(this.xTarget).br(f.depth - this.wroteDepth);
    f.end();
  }

  /** The code after the region's $wrote block: leave for the lookup of rip = xTarget. */
  emitWroteExit(): void {
    this.st64(CPU.rip, this.xTarget);
    this.st32c(CPU.exitSlot, 0);
    this.f.i32(Exit.Lookup).set(this.xCode);
    this.branchToExit(Emitter.X_CODE);
  }

  /**
   * In a module of linked regions (relocation.ts linkImages), an exit whose chain slot holds the
   * entry of a region in the same module calls it directly, by a `return_call` to a known
   * function, instead of through the runtime's `chain` (two indirect calls, one shared by every
   * crossing). `t` holds the slot's entry. Compiled alone the region has no such target: the
   * guard is the constant 0 and the code is dead.
   */
  private emitDirectChain(t: number): void {
    const f = this.f, n = this.slotCount;
    if (n === 0) return;
    f.i32_reloc(Reloc.Linked, 0).if_();
    const out = f.depth;
    f.block(); // $out: no direct target for this slot
    for (let k = 0; k < n; k++) f.block();
    f.get(this.xSite).br_table([...Array(n).keys()], n);
    for (let k = 0; k < n; k++) {
      f.end(); // case k
      // The target must still run this module's copy (not regrown, promoted or dropped since).
      f.get(t).i32_reloc(Reloc.DirectEntry, 0, k).i32_eq().get(t).i32(ENTRY_PC_BITS).i32_shr_u().i32_load8_u(LINKED_BASE).i32_and().if_();
      f.get(this.cpu).get(t).i32(ENTRY_PC_MASK).i32_and().return_call_reloc(this.host.regionFunc, Reloc.DirectFunc, k);
      f.end();
      f.br(f.depth - out - 1);
    }
    f.end(); // $out
    f.end(); // if linked
  }

  /** The shared exit tail, placed after the region's $exit block (see translateRegion). */
  emitExitTail(): void {
    const f = this.f;
    this.spillAll();
    if (this.host.regsInMemory) {
      // This region's transition counter += the transitions made since it was entered.
      this.counterAddress();
      this.counterAddress();
      f.i32_load(TRANSITIONS_OFFSET);
      f.get(this.budgetAtEntry).get(this.budget).i32_sub().i32_add().i32_store(TRANSITIONS_OFFSET);
    }
    // X_CODE: the exit fields are stored; return the code. In USM modes an exception is
    // delivered through the guest's IDT in Wasm when it can be (vmx/usm-fast).
    f.get(this.xKind).i32(Emitter.X_CODE).i32_eq().if_();
    if (this.usmFast) {
      f.get(this.xCode).i32(Exit.Exception).i32_eq().if_();
      f.get(this.cpu).return_call_rt(this.rt.usmRaise);
      f.end();
    }
    f.get(this.xCode).return_();
    f.end();
    if (this.usmFast) {
      f.get(this.xKind).i32(Emitter.X_RESUME).i32_eq().if_();
      f.get(this.cpu).return_call_rt(this.rt.usmResume);
      f.end();
    }
    f.get(this.xKind).i32(Emitter.X_REENTER).i32_eq().if_();
    f.get(this.cpu).get(this.xSlot).return_call_reloc(this.host.regionFunc);
    f.end();
    // Leaving the region counts against the budget; when it runs out the dispatcher gets control
    // (rip = target; a slot still gets patched).
    f.get(this.cpu).get(this.budget).i32(1).i32_sub().tee(this.budget).i32_store(CPU.budget);
    const t = this.tmp32();
    f.get(this.xKind).i32(Emitter.X_SLOT).i32_eq().if_();
    // Two tests and branches (the two conditions and-ed were materialised as setcc pairs).
    f.block();
    f.get(this.budget).i32(0).i32_le_s().br_if(0);
    f.get(this.xSlot).i32_load(0).tee(t).i32_eqz().br_if(0);
    this.emitDirectChain(t);
    f.get(this.cpu).get(t).return_call_rt(this.rt.chain);
    f.end();
    f.get(this.cpu).get(this.xSlot).i32_store(CPU.exitSlot);
    f.else_();
    // X_JUMP: probe the jump cache. Entries are tagged with the translation key (layout.ts Mode);
    // a hit needs a non-zero entry too: a cleared entry's rip (-1) is a possible jump target.
    const key = this.tmp64(), e = this.tmp32();
    f.get(this.xTarget);
    if (this.host.tag !== 0) f.i64(BigInt(this.host.tag) * BigInt(MODE_STRIDE)).i64_add();
    f.set(key);
    f.block();
    f.get(this.budget).i32(0).i32_le_s().br_if(0);
    emitJumpCacheFind(f, this.xTarget, key, t);
    f.tee(e).i32_eqz().br_if(0);
    f.get(this.cpu).get(e).return_call_rt(this.rt.chain);
    f.end();
    this.free64(key);
    this.free32(e);
    this.st32c(CPU.exitSlot, 0);
    this.f.get(this.cpu).i32_reloc(Reloc.Region, this.host.regionSlot).i32_store(CPU.exitRegion);
    f.end();
    this.free32(t);
    this.st64(CPU.rip, this.xTarget);
    f.i32(Exit.Lookup).return_();
  }

  /** USM translations that are not single-step ones: the Wasm fast paths apply (vmx/usm-fast). */
  get usmFast(): boolean {
    const m = this.host.mode;
    return m === Mode.Cpl0 || m === Mode.Cpl3;
  }

  /**
   * A control transfer done by a Wasm runtime function (`call` pushes its arguments after cpu; it
   * returns 0 when done): registers and flags go to memory first, and on success the region
   * leaves for cpu.rip in the current CPL's translation. Otherwise the code emitted next runs.
   */
  usmTransfer(call: RtCall, args: () => void = () => {}): void {
    const f = this.f;
    this.spillFlags();
    this.spillRegs();
    this.st64c(CPU.rip, this.insn.addr);
    f.get(this.cpu);
    args();
    f.call_rt(call).i32_eqz().if_();
    this.reloadForExit();
    this.branchToExit(Emitter.X_RESUME);
    f.end();
  }

  /**
   * Registers and flags changed in memory on the way out of the region (iretq, syscall): the exit
   * tail writes the locals back, so they must hold the new values.
   */
  private reloadForExit(): void {
    const f = this.f;
    this.reloadRegs(0xffff);
    this.ld64(CPU.ccA); f.set(this.lA);
    this.ld64(CPU.ccB); f.set(this.lB);
    this.ld64(CPU.ccRes); f.set(this.lR);
    f.get(this.cpu).i32_load(CPU.ccOp).set(this.lOp);
  }

  /**
   * Runs `impl` (TypeScript) for the current instruction. Registers and flags are in memory while
   * it runs; it returns -1 to continue with the next instruction or an Exit code to leave.
   * `keepsFlags` says it never changes the arithmetic flags, `writesRegs` which GPRs it may change,
   * `writesXmm` whether it may change XMM registers (they are written back before it runs).
   */
  callJs(impl: JsOp, keepsFlags = false, writesRegs = 0xffff, writesXmm = false, changesStateOnExit = false): void {
    const f = this.f;
    this.spillFlags();
    this.spillRegs();
    const id = this.host.registerOp(impl, this.insn.addr);
    // rip names the instruction while it runs: a fault it raises is reported there.
    this.st64c(CPU.rip, this.insn.addr);
    f.get(this.cpu).i32_reloc(Reloc.Op, id).call_rt(this.rt.op).tee(this.xCode).i32(0).i32_ge_s().if_();
    if (changesStateOnExit) this.reloadForExit();
    this.branchToExit(Emitter.X_CODE);
    f.end();
    this.reloadRegs(writesRegs, writesXmm);
    // The op may have written translated code (which zeroes the budget): see endInsn.
    f.get(this.cpu).i32_load(CPU.budget).set(this.budget);
    this.wroteMemory = true;
    if (!keepsFlags) {
      // The op may have changed the flags in memory: the region keeps them in locals.
      this.flags = { where: 'memory' };
      this.flagsToLocals();
    }
  }
}

/** An instruction (or operand form) the translator does not implement: becomes #UD. */
export class Unsupported extends Error {}

export function mask(v: bigint, size: number): bigint {
  return BigInt.asUintN(size * 8, v);
}
