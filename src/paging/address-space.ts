import { setPhysEpoch } from './phys-cache.js';
import { MemoryFault, PFERR } from '../core/exception.js';
import { type CodeWatch, NO_CODE } from './code-watch.js';
import { Vector } from '../core/exits.js';
import { PAGE_SIZE } from '../core/layout.js';
import { FrameAllocator, OutOfFrames } from './frames.js';
import type { FileObject, PageUser } from './file-object.js';
import type { Tlb } from './tlb.js';

export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const PROT_EXEC = 4;

/** What an access wants; also the bit tested in a region's prot. */
export const enum Access { Read = 1, Write = 2, Exec = 4 }

/** si_code values for SIGSEGV, as Linux reports them. */
export const SEGV_MAPERR = 1;
export const SEGV_ACCERR = 2;

/** A guest memory access that Linux would answer with SIGSEGV. */
export class GuestFault extends MemoryFault {
  constructor(readonly addr: number, readonly access: Access, readonly code: number) {
    super();
  }

  /** A user-mode #PF (the Linux layer derives si_code and the P bit from the address space). */
  exception(): { vector: number; error: number; cr2: bigint } {
    const error = PFERR.U | (this.access === Access.Write ? PFERR.W : 0) | (this.access === Access.Exec ? PFERR.ID : 0);
    return { vector: Vector.PF, error, cr2: BigInt(this.addr) };
  }

  get addr64(): bigint {
    return BigInt(this.addr);
  }
}

/**
 * An access to a page of a file mapping that lies entirely past the end of the file: Linux
 * answers it with SIGBUS (BUS_ADRERR). The Linux layer tells it from a SIGSEGV by asking
 * AddressSpace.pastEof when it delivers the page fault.
 */
export class BusFault extends GuestFault {}

/** A file mapping's backing: the file, and the file offset of the region's first byte. */
export interface FileBacking {
  obj: FileObject;
  offset: number;
  /** A shared mapping whose fd was open for writing (mprotect may add PROT_WRITE: Linux's VM_MAYWRITE). */
  mayWrite?: boolean;
}

/** One mapping (a Linux VMA): [start, end), page aligned. */
export interface Region {
  start: number;
  end: number;
  prot: number;
  /** What /proc/self/maps would name it: a path, '[heap]', '[stack]', or ''. */
  name: string;
  shared: boolean;
  /**
   * A file mapping: its pages are filled from the file on first touch (a private copy, or, for a
   * shared mapping, the file's shared frame: paging/file-object.ts).
   */
  file?: FileBacking;
}

const pageOf = (a: number) => a - (a % PAGE_SIZE);
const pageUp = (a: number) => Math.ceil(a / PAGE_SIZE) * PAGE_SIZE;

/** Linux x86-64 user address space bounds. */
export const USER_TOP = 0x7fff_ffff_f000;
export const MMAP_TOP = 0x7fff_f7ff_f000; // where top-down mmap placement starts (below the stack)

/**
 * The process address space (Linux mode): the list of regions with their permissions and the
 * page map from guest page to frame. Frames are allocated on first touch (demand zero), which is
 * what makes large PROT_NONE reservations and sparse heaps cheap.
 */
export class AddressSpace implements PageUser {
  readonly frames: FrameAllocator;
  /** Sorted, non-overlapping. */
  regions: Region[] = [];
  /** guest page number -> frame host address */
  private pages = new Map<number, number>();
  /** Pages whose frame belongs to a file's shared pages (MAP_SHARED): vpn -> the file and page index. */
  private borrowed = new Map<number, { obj: FileObject; index: number }>();
  /** Pages holding translated code (owned by the JIT): writes to them invalidate translations. */
  code: CodeWatch = NO_CODE;
  readonly tlbs: Tlb[] = [];
  /**
   * Set while the process runs in USM mode: its TLBs then cache the guest's own virtual
   * addresses, so a change to a (guest-physical) page here cannot be found by address and
   * flushes them whole.
   */
  tlbsVirtual = false;
  /**
   * Bumped whenever a page loses its frame or a region disappears (caches of frames check it,
   * the Wasm-side one through the word phys-cache.ts publishes).
   */
  private _epoch = 0;
  get epoch(): number {
    return this._epoch;
  }
  private bumpEpoch(): void {
    setPhysEpoch(this.frames.dv, ++this._epoch);
  }
  brkStart = 0;
  brkEnd = 0;
  mmapTop = MMAP_TOP;

  constructor(frames?: FrameAllocator) {
    this.frames = frames ?? new FrameAllocator();
    setPhysEpoch(this.frames.dv, this._epoch);
  }

  /**
   * fork: the same regions and page map (the child's frames are copies at the same offsets,
   * FrameAllocator.copyFrom). A MAP_SHARED file page becomes the child's private copy: each guest
   * process has its own memory, so the two can no longer share the frame (README: limitations).
   * Returns whether such pages were copied.
   */
  copyFrom(other: AddressSpace): boolean {
    this.regions = other.regions.map((r) => ({ ...r, file: r.file ? { ...r.file } : undefined }));
    this.pages = new Map(other.pages);
    this.brkStart = other.brkStart;
    this.brkEnd = other.brkEnd;
    this.mmapTop = other.mmapTop;
    if (other.borrowed.size === 0) return false;
    // The file's frame was copied with the rest of memory: at that offset the child has its own copy.
    for (const r of this.regions) if (r.shared && r.file) r.shared = false;
    return true;
  }

  // ---- regions -------------------------------------------------------------------------

  /** Index of the region containing addr, or -1. */
  findRegion(addr: number): number {
    let lo = 0, hi = this.regions.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = this.regions[mid];
      if (addr < r.start) hi = mid - 1;
      else if (addr >= r.end) lo = mid + 1;
      else return mid;
    }
    return -1;
  }

  regionAt(addr: number): Region | undefined {
    const i = this.findRegion(addr);
    return i < 0 ? undefined : this.regions[i];
  }

  /** True if no region overlaps [start, end). */
  isFree(start: number, end: number): boolean {
    for (const r of this.regions) if (r.start < end && start < r.end) return false;
    return true;
  }

  /** Highest free gap of len bytes below `below` (top-down, like Linux's mmap). */
  findFree(len: number, below = this.mmapTop): number {
    let top = below;
    for (let i = this.regions.length - 1; i >= 0; i--) {
      const r = this.regions[i];
      if (r.start >= top) continue;
      if (r.end <= top - len) return top - len;
      top = Math.min(top, r.start);
    }
    if (top - len >= 0x10000) return top - len;
    throw new OutOfFrames('no free address range');
  }

  /**
   * Maps [start, start+len) fresh, replacing whatever was there: zero pages, or with `file` the
   * file's pages from `file.offset` on.
   */
  map(start: number, len: number, prot: number, name = '', shared = false, file?: FileBacking): void {
    const end = pageUp(start + len);
    this.unmap(start, end - start);
    const r: Region = { start, end, prot, name, shared };
    if (file) r.file = { ...file };
    let i = 0;
    while (i < this.regions.length && this.regions[i].start < start) i++;
    this.regions.splice(i, 0, r);
  }

  /** Removes [start, start+len): splits regions at the edges, frees frames. */
  unmap(start: number, len: number): void {
    this.bumpEpoch();
    const end = pageUp(start + len);
    this.splitAt(start);
    this.splitAt(end);
    const kept: Region[] = [];
    for (const r of this.regions) {
      if (r.start >= start && r.end <= end) this.dropPages(r.start, r.end);
      else kept.push(r);
    }
    this.regions = kept;
  }

  /** Changes permissions of [start, start+len); returns false if part of it is unmapped. */
  protect(start: number, len: number, prot: number): boolean {
    const end = pageUp(start + len);
    if (!this.covered(start, end)) return false;
    this.splitAt(start);
    this.splitAt(end);
    // Only pages whose rights change lose their TLB entries: mremap and brk growing a mapping page
    // by page re-protect the whole of it to merge it with its neighbours (syscalls/mm.ts remerge),
    // which flushed every page of it each time (busybox sort: 994 mremaps of a growing array).
    for (const r of this.regions) {
      if (r.start >= start && r.end <= end && r.prot !== prot) {
        r.prot = prot;
        this.flushRange(r.start, r.end);
      }
    }
    this.merge();
    return true;
  }

  /** True if every byte of [start, end) is in some region. */
  covered(start: number, end: number): boolean {
    let a = start;
    while (a < end) {
      const r = this.regionAt(a);
      if (!r) return false;
      a = r.end;
    }
    return true;
  }

  private splitAt(addr: number): void {
    const i = this.findRegion(addr);
    if (i < 0) return;
    const r = this.regions[i];
    if (r.start === addr) return;
    const tail: Region = { ...r, start: addr };
    if (r.file) tail.file = { ...r.file, offset: r.file.offset + (addr - r.start) };
    r.end = addr;
    this.regions.splice(i + 1, 0, tail);
  }

  private merge(): void {
    const out: Region[] = [];
    for (const r of this.regions) {
      const p = out[out.length - 1];
      const sameFile = p && (p.file && r.file ? p.file.obj === r.file.obj && p.file.mayWrite === r.file.mayWrite && p.file.offset + (p.end - p.start) === r.file.offset : !p.file && !r.file);
      if (p && p.end === r.start && p.prot === r.prot && p.name === r.name && p.shared === r.shared && sameFile) p.end = r.end;
      else out.push(r);
    }
    this.regions = out;
  }

  private dropPages(start: number, end: number): void {
    // Iterate whichever is smaller: the range or the populated pages.
    const n = (end - start) / PAGE_SIZE;
    const gone: number[] = [];
    if (n <= this.pages.size) {
      for (let a = start; a < end; a += PAGE_SIZE) if (this.dropPage(a)) gone.push(a);
    } else {
      for (const vpn of [...this.pages.keys()]) {
        const a = vpn * PAGE_SIZE;
        if (a >= start && a < end && this.dropPage(a)) gone.push(a);
      }
    }
    if (gone.length === 0) return;
    this.bumpEpoch();
    // The TLBs once for the range past 4096 pages (a whole flush), not page by page: a 256 MiB
    // buffer freed spent ~45 ms there.
    if (gone.length > 4096) this.flushRange(start, end);
    else for (const a of gone) this.flushTlbPage(a);
  }

  /** Frees page `a`'s frame, if it has one (the caller flushes the TLBs and bumps the epoch). */
  private dropPage(a: number): boolean {
    const vpn = a / PAGE_SIZE;
    const f = this.pages.get(vpn);
    if (f !== undefined) {
      if (this.code.has(vpn)) this.code.written(a);
      this.pages.delete(vpn);
      const b = this.borrowed.get(vpn);
      if (b) {
        this.borrowed.delete(vpn);
        b.obj.unmap(b.index, this, vpn);
      } else {
        this.frames.release(f);
      }
      return true;
    }
    return false;
  }

  /**
   * Drops the pages of [start, end) but keeps the regions (madvise MADV_DONTNEED): anonymous
   * private pages read back as zeros, file pages are filled from the file again.
   */
  discard(start: number, end: number): void {
    this.bumpEpoch();
    this.dropPages(pageOf(start), pageUp(end));
  }

  /** PageUser: a shared file page was written back; its next write must be seen again. */
  cleaned(vpn: number): void {
    this.flushTlbPage(vpn * PAGE_SIZE);
  }

  /**
   * Whether a write to the (populated) page must take the slow path first: a clean shared file
   * page, so that its write marks it dirty (TLB fills give no write right until then).
   */
  writeTracked(pageAddr: number): boolean {
    if (!this.borrowed.size) return false;
    const b = this.borrowed.get(pageAddr / PAGE_SIZE);
    return b !== undefined && !b.obj.isDirty(b.index);
  }

  /** Whether the page's frame belongs to a file's shared pages (MAP_SHARED). */
  isBorrowed(pageAddr: number): boolean {
    return this.borrowed.size !== 0 && this.borrowed.has(pageAddr / PAGE_SIZE);
  }

  /**
   * Whether `addr` is in a file mapping, on a page wholly past the end of the file (an access
   * there is a SIGBUS), and the region allows `access`.
   */
  pastEof(addr: number, access: Access): boolean {
    const r = this.regionAt(addr);
    if (!r?.file || (r.prot & access) === 0) return false;
    return !r.file.obj.inFile((r.file.offset + (pageOf(addr) - r.start)) / PAGE_SIZE);
  }

  private flushTlbPage(a: number): void {
    if (this.tlbsVirtual) for (const t of this.tlbs) t.flushAll();
    else for (const t of this.tlbs) t.flushPage(a);
  }

  flushRange(start: number, end: number): void {
    if ((end - start) / PAGE_SIZE > 4096 || this.tlbsVirtual) {
      for (const t of this.tlbs) t.flushAll();
      return;
    }
    for (let a = start; a < end; a += PAGE_SIZE) for (const t of this.tlbs) t.flushPage(a);
  }

  // ---- pages ---------------------------------------------------------------------------

  /**
   * The frame backing page `pageAddr`, populating it if the page is mapped but new: a zero frame,
   * or the file's bytes for a file mapping (BusFault at `addr` for a page past the end of the file).
   */
  frameOf(pageAddr: number, addr = pageAddr, access = Access.Read): number {
    const vpn = pageAddr / PAGE_SIZE;
    let f = this.pages.get(vpn);
    if (f === undefined) {
      const r = this.regionAt(pageAddr);
      if (r?.file) return this.filePage(r, r.file, pageAddr, addr, access);
      f = this.frames.alloc();
      this.pages.set(vpn, f);
    }
    return f;
  }

  private filePage(r: Region, file: FileBacking, pageAddr: number, addr: number, access: Access): number {
    const vpn = pageAddr / PAGE_SIZE;
    const index = (file.offset + (pageAddr - r.start)) / PAGE_SIZE;
    if (!file.obj.inFile(index)) throw new BusFault(addr, access, 0);
    let f: number;
    if (r.shared) {
      f = file.obj.map(index, this, vpn);
      this.borrowed.set(vpn, { obj: file.obj, index });
    } else {
      f = this.frames.alloc();
      try {
        file.obj.copyInto(index, f, this.frames);
      } catch (e) {
        this.frames.release(f);
        throw e;
      }
    }
    this.pages.set(vpn, f);
    return f;
  }

  /** Whether a page has a frame yet (for mincore-like questions and tests). */
  isPopulated(pageAddr: number): boolean {
    return this.pages.has(pageAddr / PAGE_SIZE);
  }

  get populatedPages(): number {
    return this.pages.size;
  }

  /**
   * Translates a guest address for an access: the host address, or a GuestFault thrown.
   * `force` skips the permission check (the loader writing read-only segments).
   */
  translate(addr: number, access: Access, force = false): number {
    const r = this.regionAt(addr);
    if (!r) throw new GuestFault(addr, access, SEGV_MAPERR);
    if (!force && (r.prot & access) === 0) throw new GuestFault(addr, access, SEGV_ACCERR);
    const page = pageOf(addr);
    const h = this.frameOf(page, addr, access) + (addr - page);
    if (access === Access.Write) this.noteWrite(page);
    return h;
  }

  /** A write reaches the (populated) page: a shared file page becomes dirty. */
  noteWrite(pageAddr: number): void {
    if (!this.borrowed.size) return;
    const b = this.borrowed.get(pageAddr / PAGE_SIZE);
    if (b) b.obj.markDirty(b.index);
  }

  // ---- byte access for the runtime (syscalls, loader) ------------------------------------

  read(addr: number, len: number, force = false): Uint8Array {
    const out = new Uint8Array(len);
    let done = 0;
    while (done < len) {
      const a = addr + done;
      const n = Math.min(len - done, PAGE_SIZE - (a % PAGE_SIZE));
      const page = pageOf(a);
      const untouched = !this.pages.has(page / PAGE_SIZE);
      const r = untouched ? this.regionAt(a) : undefined;
      if (untouched && !r?.file) {
        // An untouched anonymous page reads as zeros: check access but do not allocate a frame for it.
        if (!r) throw new GuestFault(a, Access.Read, SEGV_MAPERR);
        if (!force && (r.prot & Access.Read) === 0) throw new GuestFault(a, Access.Read, SEGV_ACCERR);
      } else {
        const h = this.translate(a, Access.Read, force);
        out.set(this.frames.u8.subarray(h, h + n), done);
      }
      done += n;
    }
    return out;
  }

  write(addr: number, data: Uint8Array, force = false): void {
    // Translate every page first: a store split across pages whose second page faults writes
    // nothing (as mmu.ts writeV does).
    const parts: [number, number, number][] = [];
    let done = 0;
    while (done < data.length) {
      const a = addr + done;
      const n = Math.min(data.length - done, PAGE_SIZE - (a % PAGE_SIZE));
      parts.push([this.translate(a, Access.Write, force), done, n]);
      done += n;
    }
    for (const [h, off, n] of parts) {
      const page = pageOf(addr + off);
      if (this.code.has(page / PAGE_SIZE)) this.code.written(page);
      this.frames.u8.set(data.subarray(off, off + n), h);
    }
  }

  readU64(addr: number): bigint {
    return new DataView(this.read(addr, 8).buffer).getBigUint64(0, true);
  }
  readU32(addr: number): number {
    return new DataView(this.read(addr, 4).buffer).getUint32(0, true);
  }
  writeU64(addr: number, v: bigint): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v), true);
    this.write(addr, b);
  }
  writeU32(addr: number, v: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v >>> 0, true);
    this.write(addr, b);
  }

  /** A NUL-terminated string (at most max bytes), decoded as UTF-8. */
  readCString(addr: number, max = 4096): string {
    return Buffer.from(this.readCStringBytes(addr, max)).toString('utf8');
  }

  readCStringBytes(addr: number, max = 4096): Uint8Array {
    const chunks: Uint8Array[] = [];
    let total = 0;
    let a = addr;
    while (total < max) {
      const n = Math.min(max - total, PAGE_SIZE - (a % PAGE_SIZE));
      const h = this.translate(a, Access.Read);
      const bytes = this.frames.u8.subarray(h, h + n);
      const z = bytes.indexOf(0);
      if (z >= 0) {
        chunks.push(bytes.slice(0, z));
        break;
      }
      chunks.push(bytes.slice());
      total += n;
      a += n;
    }
    return Buffer.concat(chunks);
  }

  /** Releases every frame (process exit / exec). */
  clear(): void {
    for (const [vpn, f] of this.pages) {
      const b = this.borrowed.get(vpn);
      if (b) b.obj.unmap(b.index, this, vpn);
      else this.frames.release(f);
    }
    this.pages.clear();
    this.borrowed.clear();
    this.regions = [];
    for (const t of this.tlbs) t.flushAll();
  }
}
