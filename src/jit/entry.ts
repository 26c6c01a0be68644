/**
 * How translations are named and found, shared by the TypeScript side (code-cache.ts) and the
 * Wasm it emits (emitter.ts, runtime.ts), so the two cannot disagree:
 * - a **translation key** is what decides how guest bytes are translated besides the bytes (like
 *   QEMU's tb->flags): the mode (CPL, single step), the SSE FP flavour, USM data watchpoints,
 *   USM CR0.TS (x87/SSE instructions raise #NM). It
 *   is folded into a small **tag**, and a translation is named rip + tag * MODE_STRIDE, so a change
 *   of any input selects other translations instead of flushing the cache;
 * - an **entry** names a block inside a region: (table index << ENTRY_PC_BITS) | pc;
 * - the **jump cache** (core/layout.ts JC_*) is indexed by a hash of the target rip.
 */
import { JC_BASE, JC_ENTRIES, JC_ENTRY_SIZE, type Mode, MODE_STRIDE } from '../core/layout.js';
import { type Fn, T } from './wasm/encoder.js';

export interface TranslationKey {
  mode: Mode;
  /** SSE FP translated exactly (MXCSR honoured: isa/sse-precise.ts). */
  preciseFp: boolean;
  /** USM data watchpoints are set: leave the region after every memory access. */
  watching: boolean;
  /** USM CR0.TS is set: x87/SSE instructions translate to #NM (isa/privilege.ts emitInsn). */
  fpuOff: boolean;
}

const TAG_MODE = 7, TAG_PRECISE = 8, TAG_WATCHING = 16, TAG_FPU_OFF = 32;
/** Tags stay below 64: rip (< 2^47) + tag * 2^47 < 2^53 is an exact JS number. */
export const tagFor = (mode: Mode, preciseFp: boolean, watching: boolean, fpuOff = false): number =>
  mode | (preciseFp ? TAG_PRECISE : 0) | (watching ? TAG_WATCHING : 0) | (fpuOff ? TAG_FPU_OFF : 0);
export const tagOf = (k: TranslationKey): number => tagFor(k.mode, k.preciseFp, k.watching, k.fpuOff);
export const keyOfTag = (tag: number): TranslationKey => ({
  mode: (tag & TAG_MODE) as Mode, preciseFp: (tag & TAG_PRECISE) !== 0, watching: (tag & TAG_WATCHING) !== 0,
  fpuOff: (tag & TAG_FPU_OFF) !== 0,
});

/** A translation's name: its address and its translation key's tag. */
export const codeKey = (rip: number, tag: number): number => rip + tag * MODE_STRIDE;

export const ENTRY_PC_BITS = 8;
export const ENTRY_PC_MASK = (1 << ENTRY_PC_BITS) - 1;
export const entryOf = (tableIndex: number, pc: number): number => (tableIndex << ENTRY_PC_BITS) | pc;

/** Emits, for an entry in i32 local `e`: its pc, then its table index (the operands of a region call). */
export function emitEntrySplit(f: Fn, e: number): void {
  f.get(e).i32(ENTRY_PC_MASK).i32_and().get(e).i32(ENTRY_PC_BITS).i32_shr_u();
}

/** Byte offset of rip's jump-cache entry from JC_BASE: ((rip ^ rip >> 12) mod 2^32) mod JC_ENTRIES, times the entry size. */
export function jumpCacheOffset(rip: number): number {
  // rip < 2^47: 32-bit halves, no BigInt on this path.
  const lo = rip % 0x1_0000_0000, hi = Math.floor(rip / 0x1_0000_0000);
  const shifted = (lo >>> 12) | ((hi & 0xfff) << 20);
  return (((lo ^ shifted) >>> 0) & (JC_ENTRIES - 1)) * JC_ENTRY_SIZE;
}

/** Emits the same for the i64 rip in local `t`: leaves the i32 offset on the stack. */
export function emitJumpCacheOffset(f: Fn, t: number): void {
  f.get(t).get(t).i64(12).i64_shr_u().i64_xor().i32_wrap_i64().i32(JC_ENTRIES - 1).i32_and().i32(Math.log2(JC_ENTRY_SIZE)).i32_shl();
}

/**
 * The jump cache is 2-way set associative: rip's entry offset with bit JC_ENTRY_SIZE cleared names
 * a set of two entries, most recently filled first. (Direct-mapped, hot targets that hash alike
 * evicted each other: busybox awk's two return sites of one hot function, 0x566106 and 0x568108,
 * cost two dispatcher round trips per loop iteration.)
 */
export const jumpCacheSet = (rip: number): number => jumpCacheOffset(rip) & ~JC_ENTRY_SIZE;

/** Records `key` -> table entry `index` in its set, as its first entry (the first moves on). */
export function fillJumpCacheEntry(dv: DataView, key: number, index: number): void {
  const e = JC_BASE + jumpCacheSet(key % MODE_STRIDE);
  const lo = key % 0x1_0000_0000, hi = Math.floor(key / 0x1_0000_0000);
  if (dv.getUint32(e, true) !== lo || dv.getUint32(e + 4, true) !== hi) {
    dv.setBigInt64(e + JC_ENTRY_SIZE, dv.getBigInt64(e, true), true);
    dv.setInt32(e + JC_ENTRY_SIZE + 8, dv.getInt32(e + 8, true), true);
  }
  dv.setUint32(e, lo, true);
  dv.setUint32(e + 4, hi, true);
  dv.setInt32(e + 8, index, true);
}

/**
 * Emits the lookup of i64 local `key` (hashed by the rip in i64 local `rip`) in the jump cache:
 * leaves the entry's table index on the stack, 0 for a miss. `t` is an i32 scratch local.
 */
export function emitJumpCacheFind(f: Fn, rip: number, key: number, t: number): void {
  emitJumpCacheOffset(f, rip);
  f.i32(~JC_ENTRY_SIZE).i32_and().set(t);
  f.get(t).i64_load(JC_BASE).get(key).i64_eq().if_(T.i32);
  f.get(t).i32_load(JC_BASE + 8);
  f.else_();
  f.get(t).i64_load(JC_BASE + JC_ENTRY_SIZE).get(key).i64_eq().if_(T.i32);
  f.get(t).i32_load(JC_BASE + JC_ENTRY_SIZE + 8);
  f.else_().i32(0).end();
  f.end();
}
