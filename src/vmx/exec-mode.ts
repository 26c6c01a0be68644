import type { GuestException } from '../core/exception.js';
import type { Mode } from '../core/layout.js';
import type { GuestMemory } from '../paging/guest-memory.js';

/**
 * What differs between Linux mode and USM mode. The machine holds one of two implementations
 * (vmx/linux-mode.ts, vmx/usm-mode.ts) and swaps it when the guest enters or leaves USM, so no
 * access and no dispatcher step tests the mode.
 */
export interface ExecMode {
  // ---- memory: slow paths called from translated code on a TLB miss -----------------------
  // A fault is recorded in the CPU block (core/exception.ts) and CPU.fault set; the emitted code
  // leaves the region after the call. Nothing is thrown through the Wasm frames.
  read(a: bigint, size: number, rip: bigint): bigint;
  write(a: bigint, size: number, v: bigint, rip: bigint): void;
  /** 16 bytes into the CPU block's scratch area; returns its address. */
  read128(cpuBase: number, a: bigint, rip: bigint): number;
  /** 16 bytes from the CPU block's scratch area. */
  write128(cpuBase: number, a: bigint, rip: bigint): void;

  /**
   * After Exit.Miss (Linux mode): makes the access at `a` hit the TLB: 'hit' if it now will,
   * 'fault' if it faults (recorded as the slow paths do), 'never' if no TLB entry can serve it
   * (it crosses a page, or writes a page the slow path must see: translated code, a tracked file page).
   */
  fillFor?(a: bigint, size: number, write: boolean, rip: bigint): 'hit' | 'fault' | 'never';

  /** Guest memory for TypeScript-implemented instructions: throws MemoryFault. */
  readonly mem: GuestMemory;
  /** A guest byte's host address for an access within its page (JsEnv.hostAddr): throws MemoryFault. */
  hostAddr(a: number, write: boolean, len: number): number;

  // ---- code ----------------------------------------------------------------------------------
  /** Instruction bytes for translation mode `mode`; throws MemoryFault if `addr` is not executable. */
  fetch(addr: number, len: number, mode: Mode): { bytes: Uint8Array; pages: number[] };
  /** Throws the fault an instruction fetch at `addr` gets now. */
  fetchFault(addr: bigint): never;
  /** The translation mode for the code the CPU runs now. */
  translationMode(): Mode;
  /** USM data watchpoints are set (a translation input: jit/entry.ts TranslationKey). */
  readonly watching: boolean;
  /** USM CR0.TS is set: x87/SSE instructions raise #NM (a translation input too). */
  readonly fpuOff: boolean;

  // ---- events: the dispatcher's mode-specific steps -------------------------------------------
  /** Before running translated code: takes pending events; returns the block budget to run with. */
  beforeRun(budget: number): number;
  /** After translated code returned `code` to the dispatcher. */
  afterRun(code: number): void;
  /** The exception sink: delivers a guest exception (IDT, or a Linux signal). */
  deliver(x: GuestException): void;
}
