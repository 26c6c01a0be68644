/**
 * The layout of usmjit's single WebAssembly.Memory. This file is the one source of truth for
 * every address and offset that both the TypeScript runtime and the emitted Wasm use.
 *
 *   0x0000_0000  64 KiB   reserved (a host null pointer never aliases guest data)
 *   0x0001_0000  64 KiB   jump cache: guest rip -> table index, for indirect branches
 *   0x0002_0000  256 KiB  chain slots: one i32 per direct block exit, the successor's table index
 *   0x0006_0000  64 KiB   region entry counters (how hot a region is), one i32 per table slot
 *   0x0007_0000  16 KiB   linked flags: one byte per table slot, 1 while it runs a linked module's function
 *   0x0008_0000  64 KiB   region transition counters (branches inside it), one i32 per table slot
 *   0x0009_0000  4 bytes  USM: the address space's epoch, for the frame cache
 *   0x000a_0000  128 KiB  USM: filter of virtual pages that may hold translated code
 *   0x000c_0000  256 KiB  USM: guest-physical frame cache for the Wasm page walk
 *   0x0010_0000  ...      the CPU block, CPU_BLOCK_SIZE (state + its TLB banks, ~4 MiB)
 *   FRAMES_BASE  ...      guest page frames, 4 KiB each, grown on demand (6 MiB: after the CPU block)
 *
 * Emitted code addresses CPU fields relative to a `cpu` parameter (the CPU block's base), so one
 * translation serves every thread; the jump cache and chain slots are shared (code is shared).
 */

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
export const PAGE_MASK = PAGE_SIZE - 1;

/** Jump cache: JC_ENTRIES entries of { rip: i64, tableIndex: i32, pad: i32 }. */
export const JC_BASE = 0x0001_0000;
export const JC_BITS = 12;
export const JC_ENTRIES = 1 << JC_BITS;
export const JC_ENTRY_SIZE = 16;

/** Chain slots: i32 table index of the successor block (0 = unknown, go through the dispatcher). */
export const SLOTS_BASE = 0x0002_0000;
export const SLOTS_COUNT = 0x1_0000;

/** Region entry counters: one i32 per table slot, incremented by each region's prologue. */
export const COUNTERS_BASE = 0x0006_0000;
export const COUNTERS_COUNT = 0x4000;
/**
 * Linked flags, one byte per table slot: 1 while the slot holds a function of a module of linked
 * regions (the persistent cache's, a relink's), which that module's other regions may then call
 * directly (jit/emitter.ts emitDirectChain); 0 once the region is recompiled (grown, promoted) or
 * dropped, so that its callers chain to the new code instead of the old copy.
 */
export const LINKED_BASE = 0x0007_0000;

/**
 * Region transition counters, parallel to the entry counters (same index, TRANSITIONS_OFFSET
 * further): a region with its registers in memory adds the block transitions it made at each
 * exit, which tells a loop that stays inside it from code that is entered and left
 * (jit/code-cache.ts promote).
 */
export const TRANSITIONS_OFFSET = 0x0002_0000;
export const TRANSITIONS_BASE = COUNTERS_BASE + TRANSITIONS_OFFSET;

export const CPU_BLOCKS_BASE = 0x0010_0000;

/**
 * Offsets inside a CPU block. GPRs are in x86 encoding order (rax rcx rdx rbx rsp rbp rsi rdi
 * r8..r15) so a register number from the decoder is directly an index.
 *
 * Arithmetic flags are lazy: the last flag-setting operation leaves (ccOp, ccRes, ccA, ccB) and the
 * flags are computed only when read (see jit/flags.ts). `rflags` holds the other bits (DF, IF, TF,
 * ID, AC, bit 1) and, when ccOp == CC_EFLAGS, ccRes holds the arithmetic flags themselves.
 */
export const CPU = {
  gpr: 0x000, // 16 x i64
  rip: 0x080,
  rflags: 0x088,
  ccOp: 0x090, // i32
  ccRes: 0x098,
  ccA: 0x0a0,
  ccB: 0x0a8,
  fsBase: 0x0b0,
  gsBase: 0x0b8,
  /** Exit protocol: a block returning to the dispatcher leaves details here. */
  exitArg: 0x0c0, // i64 (e.g. exception vector / faulting address)
  exitSlot: 0x0c8, // i32: address of the chain slot to patch once the successor is translated
  budget: 0x0cc, // i32: blocks left before the dispatcher must look at pending events
  exitInsn: 0x0d0, // i64: rip of the instruction that caused an exception exit
  exitRegion: 0x0d8, // i32: table slot of the region whose indirect branch missed the jump cache
  /** Segment selectors the guest can read (mov %cs/%ss): CPL = cs & 3. Linux mode: 0x33, 0x2b. */
  cs: 0x0e0, // i32
  ss: 0x0e4, // i32
  /**
   * USM mode: set by a slow-path access that faulted (the exit fields describe the exception);
   * translated code checks it after the call and leaves, so a guest page fault crosses no host
   * exception. faultAddr is CR2 for a #PF.
   */
  fault: 0x0e8, // i32
  faultAddr: 0x0f0, // i64
  /** SSE: 16 x 16 bytes, then MXCSR. */
  xmm: 0x100,
  mxcsr: 0x200, // i32
  /** Scratch: bounce buffer for slow-path 128-bit accesses and helper results. */
  scratch: 0x300, // 64 bytes
  /**
   * x87: 8 physical registers of 80-bit extended precision, each stored in 16 bytes (10 used,
   * little-endian significand then sign/exponent, as in fxsave), ST(i) = fpr[(top + i) & 7].
   */
  fpr: 0x400, // 8 x 16 bytes
  fpTop: 0x480, // i32
  fpCw: 0x484, // i32 (control word)
  fpSw: 0x488, // i32 (status word without TOP)
  fpTag: 0x48c, // i32 (abridged tag: bit i set = physical register i valid)
  fpIp: 0x490, // i64 last x87 instruction pointer (fnstenv/fxsave)
  fpDp: 0x498, // i64 last x87 data pointer
  fpOp: 0x4a0, // i32 last x87 opcode
  /**
   * USM mode: the supervisor state that the Wasm fast paths (vmx/usm-fast/) read and write
   * (vmx/usm-state.ts is the TypeScript view of the same fields). Outside USM mode usmFast is 0.
   */
  usmFast: 0x500, // i32: non-zero while the Wasm fast paths may run (USM mode, no watchpoints)
  cpl: 0x504, // i32
  fpPrecise: 0x508, // i32: the process translates SSE FP exactly (the TAG_PRECISE bit, jit/entry.ts)
  pcidSaved: 0x50c, // i32: TLB entries are set aside for other PCIDs (paging/tlb.ts switchPcid)
  cr0: 0x510,
  cr2: 0x518,
  cr3: 0x520,
  cr4: 0x528,
  efer: 0x530,
  idtrBase: 0x538,
  idtrLimit: 0x540, // i32
  tssBase: 0x548,
  kernelGsBase: 0x550,
  star: 0x558,
  lstar: 0x560,
  sfmask: 0x568,
  /**
   * Per TLB bank, the slots the Wasm page walk filled since TypeScript last looked (paging/tlb.ts
   * keeps the set of live slots): an i32 count, then up to TLB_LOG_CAP i32 entries
   * (slot | TLB_LOG_GLOBAL when the entry is global).
   */
  tlbLog: 0x600,
  /**
   * The TLBs follow the state: bank 0 serves Linux mode and USM CPL0 code, bank 1 (at
   * tlb + TLB_BANK_SIZE) USM CPL3 code, so a ring transition never flushes (see paging/tlb.ts).
   */
  tlb: 0x1000,
} as const;

export const GPR_NAMES = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi',
  'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'] as const;
export const RSP = 4;

/**
 * Software TLB: direct mapped, TLB_ENTRIES entries of TLB_ENTRY_SIZE bytes, indexed by
 * (vaddr >> 12) & (TLB_ENTRIES - 1):
 *   +0  readTag  i64  page address if the page is readable, else TLB_INVALID
 *   +8  writeTag i64  page address if writable and holds no translated code, else TLB_INVALID
 *   +16 addend   i64  host address - guest page address (host = wrap32(vaddr + addend))
 *   +24 pad
 * The inline probe compares a tag with ((vaddr + size - 1) & ~0xfff) while indexing with vaddr's
 * page, so an access that crosses a page boundary never matches and takes the slow path.
 */
export const TLB_BITS = 16; // 65536 entries: 256 MiB of guest memory without a miss
export const TLB_ENTRIES = 1 << TLB_BITS;
export const TLB_ENTRY_SIZE = 32;
export const TLB_ENTRY_SHIFT = 5;
export const TLB_INVALID = -1n; // never equal to a page-aligned address
export const TLB = { readTag: 0, writeTag: 8, addend: 16 } as const;

export const TLB_BANK_SIZE = TLB_ENTRIES * TLB_ENTRY_SIZE;
/** CPU.tlbLog: bytes per bank, entries per bank, the global bit. */
export const TLB_LOG_SIZE = 0x400;
export const TLB_LOG_CAP = TLB_LOG_SIZE / 4 - 1;
export const TLB_LOG_GLOBAL = 1 << 30;
export const TLB_BANKS = 2;

/**
 * Translation modes: code is translated separately for each (a key = rip + mode * MODE_STRIDE
 * names a translation), so privilege checks are decided at translation time and a CPL3
 * translation never reaches CPL0 code through a chained jump.
 */
export const enum Mode { Linux = 0, Cpl0 = 1, Cpl3 = 2, Cpl0Step = 3, Cpl3Step = 4 }
export const MODE_STRIDE = 2 ** 47;
/** USM CPL3 code (privileged instructions #GP, vmcall #UD). */
export const isUserMode = (mode: Mode): boolean => mode === Mode.Cpl3 || mode === Mode.Cpl3Step;
/** Single-step translations (RFLAGS.TF in USM mode): one instruction per block, no chaining. */
export const isStepMode = (mode: Mode): boolean => mode >= Mode.Cpl0Step;
/** The TLB bank a mode's memory accesses probe. */
export const tlbBank = (mode: Mode): number => (isUserMode(mode) ? 1 : 0);

export const CPU_BLOCK_SIZE = CPU.tlb + TLB_BANKS * TLB_BANK_SIZE;
/**
 * One CPU block: the threads of a process take turns in it (process/scheduler.ts switches them).
 * Room for more would be committed memory in every machine (8 blocks made each 64 MiB where
 * 22 MiB do: V8 counts it as external memory and collects garbage for it, ~20% of a fork).
 */
export const MAX_CPUS = 1;
export const FRAMES_BASE = 0x0060_0000;

/**
 * USM mode: a direct-mapped cache of guest-physical page -> host frame for the Wasm page walk
 * (vmx/usm-fast/), filled by paging/mmu.ts (paging/phys-cache.ts writes it). PHYS_CACHE_ENTRIES
 * entries of { page: i64 guest-physical page address, frame: i32 host address,
 * stamp: i32 = (epoch << 1) | no-write }, valid while stamp >> 1 equals the i32 at PHYS_EPOCH
 * (the address space's epoch + 1, so a zeroed entry never matches). no-write: the page holds
 * translated code, so writes must go through TypeScript.
 */
export const PHYS_CACHE_BASE = 0x000c_0000;
export const PHYS_CACHE_BITS = 14; // 64 MiB of guest-physical memory without a conflict
export const PHYS_CACHE_ENTRIES = 1 << PHYS_CACHE_BITS;
export const PHYS_CACHE_ENTRY_SIZE = 16;
/** i32: the address space's epoch (paging/address-space.ts), which cache entries must match. */
export const PHYS_EPOCH = 0x0009_0000;
/**
 * USM mode: a filter of virtual pages that may hold translated code, one bit per (vpn mod 2^20),
 * set by jit/code-pages.ts and never cleared while a session lasts: invlpg in Wasm defers to
 * TypeScript for a page whose bit is set.
 */
export const CODE_FILTER_BASE = 0x000a_0000;
export const CODE_FILTER_BITS = 20;

/** Wasm pages (64 KiB) for the initial memory and the hard maximum (4 GiB for memory32). */
export const WASM_PAGE = 65536;
export const INITIAL_WASM_PAGES = (FRAMES_BASE + 16 * 1024 * 1024) / WASM_PAGE;
export const MAX_WASM_PAGES = 65536;

export function cpuBlockBase(index: number): number {
  return CPU_BLOCKS_BASE + index * CPU_BLOCK_SIZE;
}

if (cpuBlockBase(MAX_CPUS) > FRAMES_BASE) throw new Error('layout: CPU blocks overlap the frames');
if (COUNTERS_BASE + 4 * COUNTERS_COUNT > LINKED_BASE || LINKED_BASE + COUNTERS_COUNT > TRANSITIONS_BASE) throw new Error('layout: the linked flags overlap the counters');
if (TRANSITIONS_BASE + 4 * COUNTERS_COUNT > PHYS_EPOCH) throw new Error('layout: the transition counters overlap the epoch');
if (PHYS_CACHE_BASE + PHYS_CACHE_ENTRIES * PHYS_CACHE_ENTRY_SIZE > CPU_BLOCKS_BASE) throw new Error('layout: the frame cache overlaps the CPU blocks');
