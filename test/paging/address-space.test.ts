import { describe, expect, it } from 'vitest';
import { AddressSpace, GuestFault, PROT_READ, PROT_WRITE, Access, SEGV_ACCERR, SEGV_MAPERR } from '../../src/paging/address-space.js';
import { FrameAllocator } from '../../src/paging/frames.js';
import { Tlb } from '../../src/paging/tlb.js';
import { cpuBlockBase, CPU, TLB, TLB_ENTRY_SHIFT, TLB_ENTRIES, TLB_INVALID } from '../../src/core/layout.js';

const RW = PROT_READ | PROT_WRITE;

function fresh() {
  const frames = new FrameAllocator();
  const as = new AddressSpace(frames);
  const tlb = new Tlb(frames, cpuBlockBase(0));
  as.tlbs.push(tlb);
  return { frames, as, tlb };
}

function entry(frames: FrameAllocator, vaddr: number) {
  const dv = new DataView(frames.memory.buffer);
  const e = cpuBlockBase(0) + CPU.tlb + ((Math.floor(vaddr / 4096) % TLB_ENTRIES) << TLB_ENTRY_SHIFT);
  return {
    read: dv.getBigInt64(e + TLB.readTag, true),
    write: dv.getBigInt64(e + TLB.writeTag, true),
    addend: dv.getBigInt64(e + TLB.addend, true),
  };
}

describe('AddressSpace regions', () => {
  it('maps, splits on mprotect and merges back', () => {
    const { as } = fresh();
    as.map(0x10000, 0x10000, RW, 'a');
    expect(as.protect(0x14000, 0x2000, PROT_READ)).toBe(true);
    expect(as.regions.map((r) => [r.start, r.end, r.prot])).toEqual([
      [0x10000, 0x14000, RW], [0x14000, 0x16000, PROT_READ], [0x16000, 0x20000, RW],
    ]);
    expect(as.protect(0x14000, 0x2000, RW)).toBe(true);
    expect(as.regions.map((r) => [r.start, r.end])).toEqual([[0x10000, 0x20000]]);
  });

  it('keeps the TLB entries of pages whose rights a protect leaves unchanged (growing a mapping page by page re-protects all of it)', () => {
    const { as, tlb, frames } = fresh();
    as.map(0x10000, 0x4000, RW, 'heap');
    tlb.fill(0x10000, 0x700000, true, true);
    tlb.fill(0x13000, 0x701000, true, true);
    // brk/mremap growth: map the next page, then merge it with the rest (syscalls/mm.ts remerge).
    as.map(0x14000, 0x1000, RW, 'heap');
    expect(as.protect(0x10000, 0x5000, RW)).toBe(true);
    expect(as.regions.map((r) => [r.start, r.end])).toEqual([[0x10000, 0x15000]]);
    expect(entry(frames, 0x10000).read).toBe(0x10000n);
    expect(entry(frames, 0x13000).write).toBe(0x13000n);
    // A real change drops the entries of the pages it changes, and only those.
    expect(as.protect(0x13000, 0x1000, PROT_READ)).toBe(true);
    expect(entry(frames, 0x13000).read).toBe(TLB_INVALID);
    expect(entry(frames, 0x13000).write).toBe(TLB_INVALID);
    expect(entry(frames, 0x10000).read).toBe(0x10000n);
  });

  it('munmap in the middle leaves two regions and frees their frames', () => {
    const { as, frames } = fresh();
    as.map(0x10000, 0x4000, RW);
    for (let a = 0x10000; a < 0x14000; a += 4096) as.write(a, new Uint8Array([1]));
    const used = frames.inUse;
    as.unmap(0x11000, 0x2000);
    expect(as.regions.map((r) => [r.start, r.end])).toEqual([[0x10000, 0x11000], [0x13000, 0x14000]]);
    expect(frames.inUse).toBe(used - 2);
    expect(() => as.read(0x11000, 1)).toThrow(GuestFault);
  });

  it('protect over a hole fails like Linux (ENOMEM) and changes nothing', () => {
    const { as } = fresh();
    as.map(0x10000, 0x1000, RW);
    as.map(0x12000, 0x1000, RW);
    expect(as.protect(0x10000, 0x3000, PROT_READ)).toBe(false);
    expect(as.regions.every((r) => r.prot === RW)).toBe(true);
  });

  it('reports unmapped vs permission faults with the SIGSEGV codes', () => {
    const { as } = fresh();
    as.map(0x10000, 0x1000, PROT_READ);
    try { as.write(0x10000, new Uint8Array([1])); expect.unreachable(); } catch (e) {
      expect((e as GuestFault).code).toBe(SEGV_ACCERR);
    }
    try { as.read(0x20000, 1); expect.unreachable(); } catch (e) {
      expect((e as GuestFault).code).toBe(SEGV_MAPERR);
      expect((e as GuestFault).addr).toBe(0x20000);
    }
  });

  it('allocates frames on first touch only and zero-fills recycled frames', () => {
    const { as, frames } = fresh();
    as.map(0x100000, 64 << 20, RW); // a large reservation costs nothing
    expect(as.populatedPages).toBe(0);
    as.write(0x100000 + 5 * 4096, new Uint8Array([0xaa, 0xbb]));
    expect(as.populatedPages).toBe(1);
    as.unmap(0x100000, 64 << 20);
    expect(frames.inUse).toBe(0);
    as.map(0x100000, 4096, RW);
    expect([...as.read(0x100000, 4)]).toEqual([0, 0, 0, 0]);
  });

  it('reads and writes across page boundaries', () => {
    const { as } = fresh();
    as.map(0x10000, 0x2000, RW);
    const data = Uint8Array.from({ length: 100 }, (_, i) => i);
    as.write(0x10fd0, data);
    expect([...as.read(0x10fd0, 100)]).toEqual([...data]);
    as.writeU64(0x10ffc, 0x1122334455667788n);
    expect(as.readU64(0x10ffc)).toBe(0x1122334455667788n);
    as.write(0x10800, new TextEncoder().encode('hello\0'));
    expect(as.readCString(0x10800)).toBe('hello');
  });

  it('finds free ranges top-down below the mmap base', () => {
    const { as } = fresh();
    const a = as.findFree(0x10000);
    as.map(a, 0x10000, RW);
    const b = as.findFree(0x10000);
    expect(b).toBe(a - 0x10000);
    expect(as.isFree(b, b + 0x10000)).toBe(true);
  });
});

describe('TLB', () => {
  it('fills tags and addend, flushes a page and all', () => {
    const { frames, tlb } = fresh();
    tlb.fill(0x401000, 0x2000000, true, false);
    let e = entry(frames, 0x401000);
    expect(e.read).toBe(0x401000n);
    expect(e.write).toBe(TLB_INVALID);
    expect(e.addend).toBe(0x2000000n - 0x401000n);
    tlb.fill(0x402000, 0x2001000, true, true);
    tlb.flushPage(0x401000);
    expect(entry(frames, 0x401000).read).toBe(TLB_INVALID);
    expect(entry(frames, 0x402000).write).toBe(0x402000n);
    tlb.flushAll();
    e = entry(frames, 0x402000);
    expect(e.read).toBe(TLB_INVALID);
    expect(e.write).toBe(TLB_INVALID);
  });

  it('flushPage leaves an entry alone when another page owns the slot', () => {
    const { frames, tlb } = fresh();
    const other = 0x401000 + TLB_ENTRIES * 4096; // same slot, different page
    tlb.fill(other, 0x2000000, true, true);
    tlb.flushPage(0x401000);
    expect(entry(frames, other).read).toBe(BigInt(other));
  });

  it('mprotect and munmap invalidate cached translations', () => {
    const { frames, as, tlb } = fresh();
    as.map(0x10000, 0x1000, RW);
    tlb.fill(0x10000, as.frameOf(0x10000), true, true);
    as.protect(0x10000, 0x1000, PROT_READ);
    expect(entry(frames, 0x10000).write).toBe(TLB_INVALID);
    tlb.fill(0x10000, as.frameOf(0x10000), true, false);
    as.unmap(0x10000, 0x1000);
    expect(entry(frames, 0x10000).read).toBe(TLB_INVALID);
  });

  it('a write to a code page calls the invalidation hook', () => {
    const { as } = fresh();
    as.map(0x10000, 0x1000, RW | 4);
    const seen: number[] = [];
    as.code = { has: (page) => page === 0x10, written: (p) => seen.push(p) };
    as.write(0x10010, new Uint8Array([0x90]));
    expect(seen).toEqual([0x10000]);
    void Access.Read;
  });
});
