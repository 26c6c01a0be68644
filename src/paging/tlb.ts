import { CPU, PAGE_MASK, PAGE_SHIFT, TLB, TLB_ENTRIES, TLB_ENTRY_SHIFT, TLB_INVALID } from '../jit/layout.js';
import type { FrameAllocator } from './frames.js';

/**
 * One CPU's software TLB, living in Wasm memory where the JIT's inline probes read it
 * (entry shape: jit/layout.ts). This class fills and flushes it from the TypeScript side.
 */
export class Tlb {
  /** Pages currently cached, so a full flush touches only live entries. */
  private live = new Set<number>();

  constructor(private readonly frames: FrameAllocator, readonly cpuBase: number) {
    this.flushAll(true);
  }

  private view(): DataView {
    return new DataView(this.frames.memory.buffer);
  }

  private entryAddr(vaddr: number): number {
    const idx = Math.floor(vaddr / 4096) % TLB_ENTRIES;
    return this.cpuBase + CPU.tlb + (idx << TLB_ENTRY_SHIFT);
  }

  /** Caches vaddr's page -> host page with the given rights. */
  fill(vaddr: number, hostPage: number, readable: boolean, writable: boolean): void {
    const page = vaddr - (vaddr % 4096);
    const e = this.entryAddr(page);
    const v = this.view();
    v.setBigInt64(e + TLB.readTag, readable ? BigInt(page) : TLB_INVALID, true);
    v.setBigInt64(e + TLB.writeTag, writable ? BigInt(page) : TLB_INVALID, true);
    v.setBigInt64(e + TLB.addend, BigInt(hostPage) - BigInt(page), true);
    this.live.add(Math.floor(page / 4096) % TLB_ENTRIES);
  }

  flushPage(vaddr: number): void {
    const idx = Math.floor(vaddr / 4096) % TLB_ENTRIES;
    const e = this.cpuBase + CPU.tlb + (idx << TLB_ENTRY_SHIFT);
    const v = this.view();
    const tag = BigInt(vaddr - (vaddr % 4096));
    // Only drop the entry if it caches this page (another page may share the slot).
    if (v.getBigInt64(e + TLB.readTag, true) === tag || v.getBigInt64(e + TLB.writeTag, true) === tag) {
      v.setBigInt64(e + TLB.readTag, TLB_INVALID, true);
      v.setBigInt64(e + TLB.writeTag, TLB_INVALID, true);
    }
  }

  /** Drops write permission for a page (it now holds translated code). */
  dropWrite(vaddr: number): void {
    const e = this.entryAddr(vaddr);
    const v = this.view();
    if (v.getBigInt64(e + TLB.writeTag, true) === BigInt(vaddr - (vaddr % 4096))) {
      v.setBigInt64(e + TLB.writeTag, TLB_INVALID, true);
    }
  }

  flushAll(everything = false): void {
    const v = this.view();
    const base = this.cpuBase + CPU.tlb;
    const clear = (idx: number) => {
      const e = base + (idx << TLB_ENTRY_SHIFT);
      v.setBigInt64(e + TLB.readTag, TLB_INVALID, true);
      v.setBigInt64(e + TLB.writeTag, TLB_INVALID, true);
    };
    if (everything) {
      // TLB_INVALID is all ones: fill the whole table (addends too, which are then unused).
      new Uint8Array(this.frames.memory.buffer, this.cpuBase + CPU.tlb, TLB_ENTRIES * 32).fill(0xff);
    } else {
      for (const i of this.live) clear(i);
    }
    this.live.clear();
  }
}

export { PAGE_MASK, PAGE_SHIFT };
