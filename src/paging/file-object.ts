import { PAGE_SIZE } from '../core/layout.js';
import type { FrameAllocator } from './frames.js';

/** The I/O a mapped file needs; the Linux layer implements it over a host file. */
export interface FileIo {
  /** Reads into `dst` from file offset `off`; returns the bytes read (short at the end of the file). */
  read(dst: Uint8Array, off: number): number;
  /** Writes `src` at file offset `off` (MAP_SHARED write-back). */
  write(src: Uint8Array, off: number): void;
  /** The file's size now. */
  size(): number;
}

/** Where a cached page is mapped: an address space (with its TLBs) and a virtual page. */
export interface PageUser {
  /** Drops the TLB write rights of virtual page `vpn` (the page is clean again). */
  cleaned(vpn: number): void;
}

interface CachedPage {
  frame: number;
  dirty: boolean;
  /** The (user, vpn) pairs mapping the frame (MAP_SHARED mappings). */
  maps: [PageUser, number][];
}

/**
 * One file as Linux's page cache holds it: the pages its MAP_SHARED mappings share (every such
 * mapping of page i, in any address space, is the same frame), and the source of the private
 * mappings' first copy of a page.
 *
 * A shared page is *dirty* once written through a mapping: the address spaces let the first write
 * to a clean page take the slow path (AddressSpace.translate marks it), so only pages the guest
 * wrote are written back: on msync, when the last mapping of the page goes away (munmap), and when
 * the process ends (Linux writes them back eventually; a program reading the file afterwards sees
 * them). Written-back pages are clean again and their write rights dropped.
 */
export class FileObject {
  private cache = new Map<number, CachedPage>();
  private dirtyCount = 0;

  constructor(readonly io: FileIo, private readonly frames: FrameAllocator, readonly dev: bigint, readonly ino: bigint) {}

  /** Whether page `index` holds bytes of the file (it starts before the end of the file, rounded up to a page). */
  inFile(index: number): boolean {
    return index * PAGE_SIZE < this.io.size();
  }

  /**
   * Copies page `index` of the file (the cached page if there is one) into the frame `frame` of
   * `into` (default: this object's memory; a forked process's private mapping names its own).
   */
  copyInto(index: number, frame: number, into: FrameAllocator = this.frames): void {
    const c = this.cache.get(index);
    const u8 = into.u8;
    if (c) {
      u8.set(this.frames.u8.subarray(c.frame, c.frame + PAGE_SIZE), frame);
      return;
    }
    const n = this.io.read(u8.subarray(frame, frame + PAGE_SIZE), index * PAGE_SIZE);
    u8.fill(0, frame + n, frame + PAGE_SIZE);
  }

  /** The shared frame of page `index`, loaded if needed, now also mapped at (user, vpn). */
  map(index: number, user: PageUser, vpn: number): number {
    let c = this.cache.get(index);
    if (!c) {
      const frame = this.frames.alloc();
      try {
        this.copyInto(index, frame);
      } catch (e) {
        this.frames.release(frame);
        throw e;
      }
      c = { frame, dirty: false, maps: [] };
      this.cache.set(index, c);
    }
    c.maps.push([user, vpn]);
    return c.frame;
  }

  /** (user, vpn) no longer maps page `index`; the last mapping writes it back and frees it. */
  unmap(index: number, user: PageUser, vpn: number): void {
    const c = this.cache.get(index);
    if (!c) return;
    const k = c.maps.findIndex(([u, v]) => u === user && v === vpn);
    if (k >= 0) c.maps.splice(k, 1);
    if (c.maps.length) return;
    if (c.dirty) this.writePage(index, c);
    this.cache.delete(index);
    this.frames.release(c.frame);
  }

  isDirty(index: number): boolean {
    return this.cache.get(index)?.dirty ?? false;
  }

  markDirty(index: number): void {
    const c = this.cache.get(index);
    if (c && !c.dirty) {
      c.dirty = true;
      this.dirtyCount++;
    }
  }

  get hasDirty(): boolean {
    return this.dirtyCount > 0;
  }

  /** Whether any page is cached (the file is mapped shared somewhere). */
  get cached(): boolean {
    return this.cache.size > 0;
  }

  /** Writes back the dirty pages in [first, end) (page indexes; all by default). */
  writeBack(first = 0, end = Infinity): void {
    if (!this.dirtyCount) return;
    for (const [index, c] of this.cache) {
      if (c.dirty && index >= first && index < end) this.writePage(index, c);
    }
  }

  /** The file changed under the cache (a write() of it): clean pages are read again. */
  reload(): void {
    for (const [index, c] of this.cache) {
      if (c.dirty) continue;
      const u8 = this.frames.u8;
      const n = this.io.read(u8.subarray(c.frame, c.frame + PAGE_SIZE), index * PAGE_SIZE);
      u8.fill(0, c.frame + n, c.frame + PAGE_SIZE);
    }
  }

  /**
   * Writes a page back and cleans it. As on Linux, no further than the end of the file, and the
   * part of the page past the end is zeroed (a program that wrote there through a mapping sees
   * zeros after the write-back).
   */
  private writePage(index: number, c: CachedPage): void {
    const off = index * PAGE_SIZE;
    const len = Math.max(0, Math.min(PAGE_SIZE, this.io.size() - off));
    if (len > 0) this.io.write(this.frames.u8.subarray(c.frame, c.frame + len), off);
    if (len < PAGE_SIZE) this.frames.u8.fill(0, c.frame + len, c.frame + PAGE_SIZE);
    c.dirty = false;
    this.dirtyCount--;
    for (const [u, vpn] of c.maps) u.cleaned(vpn);
  }
}
