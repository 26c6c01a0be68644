import { CPU, PAGE_MASK, PAGE_SHIFT, TLB, TLB_BANK_SIZE, TLB_ENTRIES, TLB_ENTRY_SHIFT, TLB_INVALID, TLB_LOG_GLOBAL, TLB_LOG_SIZE } from '../core/layout.js';
import type { FrameAllocator } from './frames.js';

/** An entry kept aside while its PCID is not current (see switchPcid). */
interface SavedEntry { idx: number; read: bigint; write: bigint; addend: bigint }

const IDX_MASK = BigInt(TLB_ENTRIES - 1);
const LOW_HALF = 1n << 47n;
const LOW_HALF_N = 2 ** 47;
const TWO32 = 0x1_0000_0000;

/**
 * Lower-half addresses are handled in plain numbers, each i64 field as two 32-bit halves: a BigInt
 * per field made filling and flushing page by page (first touches, munmap of a large buffer)
 * allocate enough to keep the collector busy. `n` is any integer of magnitude below 2^53.
 */
const slotOfN = (v: number): number => Math.floor(v / 4096) & (TLB_ENTRIES - 1);
function setI64(dv: DataView, at: number, n: number): void {
  const hi = Math.floor(n / TWO32);
  dv.setUint32(at, n - hi * TWO32, true);
  dv.setInt32(at + 4, hi, true);
}
function isI64(dv: DataView, at: number, n: number): boolean {
  const hi = Math.floor(n / TWO32);
  return dv.getUint32(at, true) === n - hi * TWO32 && dv.getInt32(at + 4, true) === hi;
}
const PAGE_TAG = ~0xfffn;

/**
 * One TLB bank of one CPU, living in Wasm memory where the JIT's inline probes read it (entry
 * shape: core/layout.ts). This class fills and flushes it from the TypeScript side.
 *
 * In USM mode it also models what the guest may rely on: entries remember whether they are
 * global (survive CR3 writes) and belong to the current PCID; entries of other PCIDs are set
 * aside and come back on a no-flush CR3 write to their PCID, as a PCID-tagged TLB would.
 */
export class Tlb {
  /** Slots currently filled -> whether the entry is global. A flush touches only these. */
  private live = new Map<number, boolean>();
  private readonly base: number;
  private saved = new Map<number, SavedEntry[]>();
  /** CPU.tlbLog of this bank: slots the Wasm page walk filled (drained into `live`). */
  private readonly log: number;

  /**
   * A bank in memory that is still zero (a new machine's: VCpu is made right after its memory).
   * An all-zero entry has tag 0, which only an access ending in page 0 can match, and only two
   * slots see such accesses: slot 0 (page 0) and the last slot (an access wrapping around from the
   * top page). Invalidating those two is the whole flush; writing 4 MiB of 0xff (two banks) cost
   * ~20 ms of every start-up, page faults mostly.
   */
  constructor(private readonly frames: FrameAllocator, readonly cpuBase: number, readonly bank = 0) {
    this.base = cpuBase + CPU.tlb + bank * TLB_BANK_SIZE;
    this.log = cpuBase + CPU.tlbLog + bank * TLB_LOG_SIZE;
    this.clear(0);
    this.clear(TLB_ENTRIES - 1);
  }

  /**
   * Takes the slots the Wasm page walk filled into `live` (before anything reads or changes it;
   * paging/mmu.ts also at every walk, so that a full log never stops the Wasm walk for long).
   */
  drain(): void {
    const dv = this.view();
    const n = dv.getInt32(this.log, true);
    if (n === 0) return;
    for (let k = 0; k < n; k++) {
      const v = dv.getInt32(this.log + 4 + k * 4, true);
      this.live.set(v & (TLB_ENTRIES - 1), (v & TLB_LOG_GLOBAL) !== 0);
    }
    dv.setInt32(this.log, 0, true);
  }

  /**
   * Publishes whether entries are set aside for other PCIDs (CPU.pcidSaved, a bit per bank): the
   * Wasm invlpg leaves that case to flushPage, which also drops the page from the saved lists.
   */
  private syncSaved(): void {
    const dv = this.view();
    const at = this.cpuBase + CPU.pcidSaved;
    const bit = 1 << this.bank;
    dv.setInt32(at, this.saved.size !== 0 ? dv.getInt32(at, true) | bit : dv.getInt32(at, true) & ~bit, true);
  }

  private view(): DataView {
    return this.frames.dv;
  }

  private slot(vpage: bigint): number {
    return Number((vpage >> 12n) & IDX_MASK);
  }

  private entry(idx: number): number {
    return this.base + (idx << TLB_ENTRY_SHIFT);
  }

  /**
   * The host address for an access to `vaddr` that stays within its page, if this bank caches
   * the page with the needed right; else -1 (the runtime's own accesses use the TLB too).
   */
  probe(vaddr: bigint, write: boolean): number {
    if (vaddr >= 0n && vaddr < LOW_HALF) {
      const v = Number(vaddr);
      const e = this.entry(slotOfN(v));
      const dv = this.view();
      if (!isI64(dv, e + (write ? TLB.writeTag : TLB.readTag), v - (v % 4096))) return -1;
      return ((v % TWO32) + dv.getUint32(e + TLB.addend, true)) >>> 0;
    }
    const page = BigInt.asIntN(64, vaddr & PAGE_TAG);
    const e = this.entry(this.slot(vaddr));
    const v = this.view();
    if (v.getBigInt64(e + (write ? TLB.writeTag : TLB.readTag), true) !== page) return -1;
    return Number(BigInt.asUintN(32, vaddr + v.getBigInt64(e + TLB.addend, true)));
  }

  /** Caches vaddr's page -> host page with the given rights (Linux mode). */
  fill(vaddr: number, hostPage: number, readable: boolean, writable: boolean): void {
    const page = vaddr - (vaddr % 4096);
    if (!(page >= 0 && page < LOW_HALF_N)) { this.fillPage(BigInt(page), hostPage, readable, writable, false); return; }
    this.drain();
    const idx = slotOfN(page);
    const e = this.entry(idx);
    const v = this.view();
    setI64(v, e + TLB.readTag, readable ? page : -1); // -1: TLB_INVALID
    setI64(v, e + TLB.writeTag, writable ? page : -1);
    setI64(v, e + TLB.addend, hostPage - page);
    this.live.set(idx, false);
  }

  /** Caches a page (a canonical 64-bit page address) -> host page. */
  fillPage(vpage: bigint, hostPage: number, readable: boolean, writable: boolean, global: boolean): void {
    this.drain();
    const idx = this.slot(vpage);
    const e = this.entry(idx);
    const v = this.view();
    const tag = BigInt.asIntN(64, vpage);
    v.setBigInt64(e + TLB.readTag, readable ? tag : TLB_INVALID, true);
    v.setBigInt64(e + TLB.writeTag, writable ? tag : TLB_INVALID, true);
    v.setBigInt64(e + TLB.addend, BigInt.asIntN(64, BigInt(hostPage) - vpage), true);
    this.live.set(idx, global);
  }

  private clear(idx: number): void {
    const e = this.entry(idx);
    const v = this.view();
    setI64(v, e + TLB.readTag, -1); // TLB_INVALID
    setI64(v, e + TLB.writeTag, -1);
    this.live.delete(idx);
  }

  /** Drops the entry for the page of `vaddr`, if that is what its slot caches. */
  flushPage(vaddr: number | bigint): void {
    if (typeof vaddr === 'number' && vaddr >= 0 && vaddr < LOW_HALF_N) {
      this.drain();
      const page = vaddr - (vaddr % 4096);
      const idx = slotOfN(page);
      if (!this.live.has(idx) && this.saved.size === 0) return;
      const e = this.entry(idx);
      const v = this.view();
      if (isI64(v, e + TLB.readTag, page) || isI64(v, e + TLB.writeTag, page)) this.clear(idx);
      if (this.saved.size !== 0) this.forgetSaved(idx, BigInt(page));
      return;
    }
    this.drain();
    const tag = BigInt.asIntN(64, BigInt(vaddr) & PAGE_TAG);
    const idx = this.slot(BigInt(vaddr));
    const e = this.entry(idx);
    const v = this.view();
    // Only drop the entry if it caches this page (another page may share the slot).
    if (v.getBigInt64(e + TLB.readTag, true) === tag || v.getBigInt64(e + TLB.writeTag, true) === tag) this.clear(idx);
    this.forgetSaved(idx, tag);
  }

  /** Drops page `tag` at slot `idx` from the entries set aside for other PCIDs. */
  private forgetSaved(idx: number, tag: bigint): void {
    for (const list of this.saved.values()) {
      const k = list.findIndex((s) => s.idx === idx && (s.read === tag || s.write === tag));
      if (k >= 0) list.splice(k, 1);
    }
  }

  /** Drops write permission for a page (it now holds translated code). */
  dropWrite(vaddr: number): void {
    const e = this.entry(this.slot(BigInt(vaddr)));
    const v = this.view();
    if (v.getBigInt64(e + TLB.writeTag, true) === BigInt(vaddr - (vaddr % 4096))) {
      v.setBigInt64(e + TLB.writeTag, TLB_INVALID, true);
    }
  }

  /**
   * Drops write permission from every entry, including those set aside for other PCIDs: some
   * page they map now holds translated code (USM mode cannot tell which virtual pages alias it).
   */
  dropAllWrites(): void {
    this.drain();
    const v = this.view();
    for (const idx of this.live.keys()) v.setBigInt64(this.entry(idx) + TLB.writeTag, TLB_INVALID, true);
    for (const list of this.saved.values()) for (const s of list) s.write = TLB_INVALID;
  }

  /** Drops every entry (and, with `everything`, rewrites the whole bank). */
  flushAll(everything = false): void {
    this.drain();
    if (everything) {
      // TLB_INVALID is all ones: fill the whole bank (addends too, which are then unused).
      new Uint8Array(this.frames.memory.buffer, this.base, TLB_BANK_SIZE).fill(0xff);
      this.live.clear();
    } else {
      for (const i of [...this.live.keys()]) this.clear(i);
    }
    this.saved.clear();
    this.syncSaved();
  }

  /** Drops the non-global entries of the current PCID (a CR3 write without the no-flush bit). */
  flushNonGlobal(): void {
    this.drain();
    for (const [i, global] of [...this.live]) if (!global) this.clear(i);
  }

  /** Drops every PCID's non-global entries (invpcid type 2, or PCIDs turned off). */
  flushAllPcids(): void {
    this.flushNonGlobal();
    this.saved.clear();
    this.syncSaved();
  }

  /** Drops the non-global entries set aside for `pcid` (invpcid type 1 for another PCID). */
  forgetPcid(pcid: number): void {
    this.saved.delete(pcid);
    this.syncSaved();
  }

  /**
   * A CR3 write moving from PCID `from` to `to`: the current non-global entries are set aside
   * under `from`; `to`'s entries come back if `keep` (bit 63 of the written value), else go.
   */
  switchPcid(from: number, to: number, keep: boolean): void {
    this.drain();
    if (from === to) {
      if (!keep) this.flushNonGlobal();
      return;
    }
    const v = this.view();
    const out: SavedEntry[] = [];
    for (const [idx, global] of [...this.live]) {
      if (global) continue;
      const e = this.entry(idx);
      out.push({ idx, read: v.getBigInt64(e + TLB.readTag, true), write: v.getBigInt64(e + TLB.writeTag, true), addend: v.getBigInt64(e + TLB.addend, true) });
      this.clear(idx);
    }
    this.saved.set(from, out);
    const back = this.saved.get(to);
    this.saved.delete(to);
    this.syncSaved();
    if (!keep || !back) return;
    for (const s of back) {
      if (this.live.has(s.idx)) continue; // a global entry took the slot meanwhile
      const e = this.entry(s.idx);
      v.setBigInt64(e + TLB.readTag, s.read, true);
      v.setBigInt64(e + TLB.writeTag, s.write, true);
      v.setBigInt64(e + TLB.addend, s.addend, true);
      this.live.set(s.idx, false);
    }
  }

  /** Entries currently filled (tests, statistics). */
  get size(): number {
    this.drain();
    return this.live.size;
  }
}

export { PAGE_MASK, PAGE_SHIFT };
