/**
 * Guest memory in USM mode: virtual addresses translated by the guest's own page tables
 * (pagewalk.ts) to guest-physical addresses, which are the process's Linux-mode addresses in
 * the AddressSpace. Fills the JIT's TLB banks after each walk so the next access to the page is an
 * inline probe, exactly as fast as in Linux mode.
 */
import { PAGE_SIZE } from '../core/layout.js';
import { AddressSpace } from './address-space.js';
import { physCacheFill } from './phys-cache.js';
import type { GuestMemory } from './guest-memory.js';
import { MemoryFault } from '../core/exception.js';
import { Vector } from '../core/exits.js';
import { canonical, PageFault, PhysFault, walk, walkOrFault, type PagingControl, type PhysicalMemory, type Translation } from './pagewalk.js';
import type { Tlb } from './tlb.js';
import { pageWatched, watchHits, type Watch } from './watch.js';

/** Pages backed ahead of a first touch (see backAhead). */
const BACK_AHEAD = 15;

/** A non-canonical address: #GP(0) (or #SS for stack accesses, which usmjit reports as #GP). */
export class NonCanonical extends MemoryFault {
  constructor(readonly addr: bigint) {
    super();
  }
  exception(): { vector: number; error: number } {
    return { vector: Vector.GP, error: 0 };
  }
  get addr64(): bigint {
    return this.addr;
  }
}

/** tryAccess's result for a non-canonical address (#GP); a #PF comes back as ~errorCode. */
export const TRY_GP = -0x1_0001;

export interface MmuControl extends PagingControl {
  /** Current privilege level: 3 makes accesses user accesses. */
  cpl: number;
}

export class Mmu implements GuestMemory, PhysicalMemory {
  /** Walks done (statistics). */
  walks = 0;
  /** Data watchpoints (vmx/debug-regs.ts): their pages are never cached in the TLB. */
  watches: Watch[] = [];
  /** Called with DR6 bits when a guest access hits a watchpoint. */
  onWatch: (bits: bigint) => void = () => {};

  constructor(
    private readonly as: AddressSpace,
    private readonly ctl: MmuControl,
    /** TLB banks by index: 0 for CPL0, 1 for CPL3 (core/layout.ts tlbBank). */
    private readonly tlbs: Tlb[],
  ) {}

  // ---- guest-physical memory ----------------------------------------------------------

  /** Recently used guest-physical pages -> frames (page tables, mostly); valid for one AS epoch. */
  private frameCache = new Map<number, number>();
  private frameEpoch = -1;

  /** Host address of guest-physical `pa` (any Linux protection; the page must be mapped). */
  hostOf(pa: number): number {
    const page = pa - (pa % PAGE_SIZE);
    if (this.frameEpoch !== this.as.epoch) {
      this.frameCache.clear();
      this.frameEpoch = this.as.epoch;
    }
    let f = this.frameCache.get(page);
    if (f === undefined) {
      const r = this.as.regionAt(page);
      if (!r) throw new PhysFault(BigInt(pa));
      const fresh = !r.file && !r.shared && !this.as.isPopulated(page);
      f = this.as.frameOf(page);
      if (this.frameCache.size > 4096) this.frameCache.clear();
      this.frameCache.set(page, f);
      if (fresh) this.backAhead(page, r.end);
    }
    // The Wasm page walk's cache (a MAP_SHARED file page stays out: its writes must be seen here).
    if (!this.as.isBorrowed(page)) physCacheFill(this.as.frames.dv, page, f, this.as.code.has(page / PAGE_SIZE));
    return f + (pa - page);
  }

  /**
   * The first touch of an anonymous page backs the next few untouched pages of its region too
   * and puts them in the Wasm walk's frame cache: a supervisor handing out fresh pages in order
   * (libusm's pool, demand paging) then finds them backed without a call into TypeScript per
   * fault. Untouched anonymous memory reads as zeros either way.
   */
  private backAhead(page: number, end: number): void {
    for (let p = page + PAGE_SIZE, n = 0; p < end && n < BACK_AHEAD; p += PAGE_SIZE, n++) {
      if (this.as.isPopulated(p)) continue;
      const f = this.as.frameOf(p);
      this.frameCache.set(p, f);
      physCacheFill(this.as.frames.dv, p, f, false); // (after frameOf: growing the memory detaches views)
    }
  }

  private view(): DataView {
    return this.as.frames.dv;
  }

  get dv(): DataView {
    return this.as.frames.dv;
  }

  /** A page-table entry half (signed 32-bit, so NX is the sign of the high half). */
  readPhys32(pa: number): number {
    if (pa % 4 !== 0) throw new PhysFault(BigInt(pa));
    return this.view().getInt32(this.hostOf(pa), true);
  }

  writePhys32(pa: number, v: number): void {
    const h = this.hostOf(pa);
    const page = pa - (pa % PAGE_SIZE);
    if (this.as.code.has(page / PAGE_SIZE)) this.as.code.written(page);
    this.view().setInt32(h, v, true);
  }

  // ---- translation ----------------------------------------------------------------------

  translate(vaddr: bigint, write: boolean, fetch = false, user = this.ctl.cpl === 3): Translation {
    if (!canonical(vaddr)) throw new NonCanonical(vaddr);
    this.walks++;
    for (const t of this.tlbs) t.drain();
    return walk(this, this.ctl, vaddr, { write, user, fetch });
  }

  /**
   * Caches the translation of `vaddr` in the TLB bank of the current CPL, with write permission
   * only if the walk granted it (D set) and the physical page holds no translated code.
   */
  private fill(vaddr: bigint, t: Translation): void {
    const page = BigInt.asUintN(64, vaddr) & ~0xfffn;
    if (this.watches.length && pageWatched(this.watches, page)) return;
    const host = this.hostOf(t.phys);
    const writable = t.writable && !this.as.code.has(t.phys / PAGE_SIZE) && !this.as.writeTracked(t.phys);
    const bank = this.ctl.cpl === 3 ? 1 : 0;
    this.tlbs[bank].fillPage(BigInt.asUintN(64, vaddr) & ~0xfffn, host, true, writable, t.global);
  }

  /** Host address for an access of `n` bytes within one page, filling the TLB. */
  private access(vaddr: bigint, write: boolean, user?: boolean, fill = true): number {
    // What the TLB already holds needs no walk: the bank of the access's privilege (implicit
    // supervisor accesses such as IDT reads use bank 0 whatever the CPL).
    const bank = user === undefined ? (this.ctl.cpl === 3 ? 1 : 0) : user ? 1 : 0;
    const hit = this.tlbs[bank].probe(vaddr, write);
    if (hit >= 0) return hit;
    const t = this.translate(vaddr, write, false, user);
    const off = Number(BigInt.asUintN(64, vaddr) & 0xfffn);
    const host = this.hostOf(t.phys + off); // PhysFault (at the exact address) if the process has no such page
    if (write) this.as.noteWrite(t.phys);
    if (fill && user === undefined) this.fill(vaddr, t);
    if (write && this.as.code.has(t.phys / PAGE_SIZE)) this.as.code.written(t.phys);
    return host;
  }

  /**
   * The current CPL's access of `len` bytes at `vaddr` within one page, without exceptions for
   * guest faults: the host address (>= 0), ~errorCode for a #PF, or TRY_GP for a non-canonical
   * address. PhysFault is still thrown (it ends the session). No watchpoints here: callers take the
   * general path while any is set.
   */
  tryAccess(vaddr: bigint, write: boolean): number {
    const bank = this.ctl.cpl === 3 ? 1 : 0;
    const hit = this.tlbs[bank].probe(vaddr, write);
    if (hit >= 0) return hit;
    if (!canonical(vaddr)) return TRY_GP;
    this.walks++;
    for (const t of this.tlbs) t.drain();
    const t = walkOrFault(this, this.ctl, vaddr, { write, user: bank === 1, fetch: false });
    if (typeof t === 'number') return ~t;
    const off = Number(BigInt.asUintN(12, vaddr));
    const host = this.hostOf(t.phys + off);
    if (write) this.as.noteWrite(t.phys);
    this.fill(vaddr, t);
    if (write && this.as.code.has(t.phys / PAGE_SIZE)) this.as.code.written(t.phys);
    return host;
  }

  /**
   * The host address of [vaddr, vaddr+len) if it lies within one page, for an access with the
   * given privilege (implicit supervisor accesses: user = false); -1 if it crosses a page.
   */
  hostRange(vaddr: bigint, len: number, write: boolean, user?: boolean): number {
    if (Number(BigInt.asUintN(12, vaddr)) + len > PAGE_SIZE) return -1;
    return this.access(vaddr, write, user);
  }

  /** The host address of one guest byte for an access by the current CPL (fills the TLB). */
  hostFor(vaddr: bigint, write: boolean, len = 1): number {
    if (this.watches.length) this.watch(vaddr, len, write);
    return this.access(vaddr, write);
  }

  /** Reads `len` bytes at virtual `vaddr` (page crossings split). `user` overrides the CPL. */
  private watch(vaddr: bigint, len: number, write: boolean): void {
    const bits = watchHits(this.watches, BigInt.asUintN(64, vaddr), len, write);
    if (bits) this.onWatch(bits);
  }

  readV(vaddr: bigint, len: number, user?: boolean): Uint8Array {
    if (this.watches.length && user === undefined) this.watch(vaddr, len, false);
    const out = new Uint8Array(len);
    let done = 0;
    const u8 = this.as.frames.u8;
    while (done < len) {
      const a = BigInt.asUintN(64, vaddr + BigInt(done));
      const n = Math.min(len - done, PAGE_SIZE - Number(a & 0xfffn));
      const h = this.access(a, false, user);
      out.set(this.as.frames.u8.subarray(h, h + n), done);
      void u8;
      done += n;
    }
    return out;
  }

  writeV(vaddr: bigint, data: Uint8Array, user?: boolean): void {
    // Translate every page first: a faulting access must not have written its first part.
    const parts: [number, number, number][] = [];
    let done = 0;
    while (done < data.length) {
      const a = BigInt.asUintN(64, vaddr + BigInt(done));
      const n = Math.min(data.length - done, PAGE_SIZE - Number(a & 0xfffn));
      parts.push([this.access(a, true, user), done, n]);
      done += n;
    }
    for (const [h, off, n] of parts) this.as.frames.u8.set(data.subarray(off, off + n), h);
    if (this.watches.length && user === undefined) this.watch(vaddr, data.length, true);
  }

  readV64(vaddr: bigint, user?: boolean): bigint {
    return new DataView(this.readV(vaddr, 8, user).buffer).getBigUint64(0, true);
  }

  writeV64(vaddr: bigint, v: bigint, user?: boolean): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v), true);
    this.writeV(vaddr, b, user);
  }

  /** Instruction bytes: the host address of `vaddr` if executable at the current CPL. */
  fetchHost(vaddr: number): { host: number; phys: number } {
    const t = this.translate(BigInt(vaddr), false, true);
    return { host: this.hostOf(t.phys) + (vaddr % PAGE_SIZE), phys: t.phys };
  }

  // ---- GuestMemory (the runtime's view: syscall-free instructions such as string ops) -----

  read(addr: number, len: number): Uint8Array {
    return this.readV(BigInt(addr), len);
  }
  write(addr: number, data: Uint8Array): void {
    this.writeV(BigInt(addr), data);
  }
  readU64(addr: number): bigint {
    return this.readV64(BigInt(addr));
  }
  readU32(addr: number): number {
    return new DataView(this.readV(BigInt(addr), 4).buffer).getUint32(0, true);
  }
  writeU64(addr: number, v: bigint): void {
    this.writeV64(BigInt(addr), v);
  }
  writeU32(addr: number, v: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v >>> 0, true);
    this.writeV(BigInt(addr), b);
  }
  readCString(addr: number, max = 4096): string {
    const out: number[] = [];
    for (let a = addr; out.length < max; a++) {
      const b = this.readV(BigInt(a), 1)[0];
      if (b === 0) break;
      out.push(b);
    }
    return Buffer.from(out).toString('utf8');
  }
}

export { PageFault, PhysFault };
