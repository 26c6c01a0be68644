/**
 * The files the guest has mapped, one paging/file-object.ts FileObject per host file (device and
 * inode): Linux's page cache as far as this process sees it. A mapping keeps its own host fd of
 * the file (the guest may close its fd right after mmap, as ld.so does), opened read-write when a
 * MAP_SHARED mapping may write through it.
 *
 * Coherence with read()/write() of the same file by the guest (through any fd): a read first
 * writes back the pages shared mappings dirtied; a write does too, then refreshes the cached
 * pages, so mappings see the new bytes. Changes made to the file by other processes are seen by
 * pages not yet touched, not by pages already in memory.
 */
import { closeSync, fstatSync, openSync, readSync, statSync, writeSync, constants } from 'node:fs';
import type { AddressSpace } from '../paging/address-space.js';
import { FileObject, type FileIo } from '../paging/file-object.js';
import type { FrameAllocator } from '../paging/frames.js';

class HostIo implements FileIo {
  constructor(public fd: number, public writable: boolean) {}

  read(dst: Uint8Array, off: number): number {
    let done = 0;
    while (done < dst.length) {
      const n = readSync(this.fd, dst, done, dst.length - done, off + done);
      if (n === 0) break;
      done += n;
    }
    return done;
  }

  write(src: Uint8Array, off: number): void {
    let done = 0;
    while (done < src.length) done += writeSync(this.fd, src, done, src.length - done, off + done);
  }

  size(): number {
    return Number(fstatSync(this.fd, { bigint: true }).size);
  }
}

interface Entry { obj: FileObject; io: HostIo }

const key = (dev: bigint, ino: bigint) => `${dev}:${ino}`;

/**
 * Every guest process has its own memory, so each has its own page cache of a file: entries are
 * per FrameAllocator. (Shared mappings of one file in two processes therefore meet only through
 * the file: each writes back what it wrote. Noted in the README.)
 */
export class MappedFiles {
  /** dev:ino -> the file's object in each process memory. */
  private byKey = new Map<string, Map<FrameAllocator, Entry>>();

  private *entries(): IterableIterator<Entry> {
    for (const m of this.byKey.values()) yield* m.values();
  }

  /** Whether any mapped file has pages shared mappings hold (the read/write hooks have work). */
  get active(): boolean {
    for (const e of this.entries()) if (e.obj.cached) return true;
    return false;
  }

  /**
   * The FileObject of the host file reachable at `hostPath` (the guest fd's /proc/self/fd/N), for
   * a mapping that writes the file if `write` (MAP_SHARED with an fd open for writing).
   */
  objectFor(hostPath: string, write: boolean, frames: FrameAllocator): FileObject {
    const st = statSync(hostPath, { bigint: true });
    const k = key(st.dev, st.ino);
    let m = this.byKey.get(k);
    if (!m) this.byKey.set(k, (m = new Map()));
    let e = m.get(frames);
    if (e && write && !e.io.writable) {
      const fd = openSync(hostPath, constants.O_RDWR);
      closeSync(e.io.fd);
      e.io.fd = fd;
      e.io.writable = true;
    }
    if (!e) {
      const io = new HostIo(openSync(hostPath, write ? constants.O_RDWR : constants.O_RDONLY), write);
      e = { obj: new FileObject(io, frames, st.dev, st.ino), io };
      m.set(frames, e);
    }
    return e.obj;
  }

  /** Before the guest reads the file (dev, ino): pages its shared mappings wrote reach it first. */
  beforeRead(dev: bigint, ino: bigint): void {
    for (const e of this.byKey.get(key(dev, ino))?.values() ?? []) e.obj.writeBack();
  }

  /** Around a guest write of the file: dirty pages first, then the cached pages read again. */
  beforeWrite(dev: bigint, ino: bigint): void {
    for (const e of this.byKey.get(key(dev, ino))?.values() ?? []) e.obj.writeBack();
  }

  afterWrite(dev: bigint, ino: bigint): void {
    for (const e of this.byKey.get(key(dev, ino))?.values() ?? []) e.obj.reload();
  }

  /** Writes back every dirty shared page (msync of everything; the process ends). */
  syncAll(): void {
    for (const e of this.entries()) e.obj.writeBack();
  }

  /**
   * Closes the files no region of `as` maps any more (after munmap and friends; `gone`: the
   * process ended or replaced its image, so nothing of `as` maps anything).
   */
  prune(as: AddressSpace, gone = false): void {
    if (!this.byKey.size) return;
    const used = new Set<FileObject>();
    if (!gone) for (const r of as.regions) if (r.file) used.add(r.file.obj);
    for (const [k, m] of this.byKey) {
      const e = m.get(as.frames);
      if (!e || used.has(e.obj) || (!gone && e.obj.cached)) continue;
      if (gone) e.obj.writeBack();
      try { closeSync(e.io.fd); } catch { /* already gone */ }
      m.delete(as.frames);
      if (!m.size) this.byKey.delete(k);
    }
  }
}

/** The guest processes' mapped files (the page cache they see). */
export const mappedFiles = new MappedFiles();
