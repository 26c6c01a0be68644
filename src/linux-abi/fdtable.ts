/**
 * The guest's file descriptor table: small integers -> (open file description, close-on-exec).
 * Several fds may share a description (dup); it is released when the last one closes.
 */
import { E, fail } from './errno.js';
import type { OpenFile } from './open-file.js';

export interface FdEntry {
  file: OpenFile;
  cloexec: boolean;
}

export class FdTable {
  private slots: (FdEntry | undefined)[] = [];

  /** @param limit the current RLIMIT_NOFILE soft limit: fds must stay below it. */
  constructor(private readonly limit: () => number) {}

  /** The entry for fd, or EBADF. */
  entry(fd: number): FdEntry {
    const e = Number.isInteger(fd) && fd >= 0 ? this.slots[fd] : undefined;
    return e ?? fail(E.EBADF);
  }

  get(fd: number): OpenFile {
    return this.entry(fd).file;
  }

  has(fd: number): boolean {
    return fd >= 0 && this.slots[fd] !== undefined;
  }

  /** Puts `file` in the lowest free slot >= min; EMFILE when none is below the limit. */
  alloc(file: OpenFile, cloexec = false, min = 0): number {
    const limit = this.limit();
    if (min >= limit) fail(E.EINVAL);
    let fd = min;
    while (fd < limit && this.slots[fd] !== undefined) fd++;
    if (fd >= limit) fail(E.EMFILE);
    this.set(fd, file, cloexec);
    return fd;
  }

  /** Puts `file` at exactly `fd` (dup2), closing what was there. EBADF if fd is out of range. */
  install(fd: number, file: OpenFile, cloexec = false): void {
    if (!Number.isInteger(fd) || fd < 0 || fd >= this.limit()) fail(E.EBADF);
    // Take the new reference first, so installing a description over itself keeps it alive.
    file.refs++;
    const old = this.slots[fd];
    this.slots[fd] = { file, cloexec };
    if (old) this.unref(old.file);
  }

  private set(fd: number, file: OpenFile, cloexec: boolean): void {
    file.refs++;
    this.slots[fd] = { file, cloexec };
  }

  close(fd: number): void {
    const e = this.entry(fd);
    this.slots[fd] = undefined;
    this.unref(e.file);
  }

  private unref(file: OpenFile): void {
    if (--file.refs === 0) file.release();
  }

  /** Open fds in increasing order. */
  *fds(): IterableIterator<number> {
    for (let i = 0; i < this.slots.length; i++) if (this.slots[i]) yield i;
  }

  /** fork: the same descriptions under the same numbers (each gains a reference). */
  copyFrom(other: FdTable): void {
    other.slots.forEach((e, fd) => { if (e) this.set(fd, e.file, e.cloexec); });
  }

  /** execve: close-on-exec descriptors are closed. */
  closeOnExec(): void {
    for (const fd of [...this.fds()]) if (this.slots[fd]!.cloexec) this.close(fd);
  }

  closeAll(): void {
    for (const fd of [...this.fds()]) this.close(fd);
  }
}
