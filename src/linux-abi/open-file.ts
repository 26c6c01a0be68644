/**
 * An open file description (Linux's `struct file`): what a guest fd points to. Several fds (dup,
 * dup2) share one description and with it the file position and status flags. Kinds:
 * host-file.ts (a host fd), pipe.ts (an in-process pipe end), mem-file.ts (synthesized content
 * such as /proc/self/maps).
 */
import { E, fail } from './errno.js';
import { O_ACCMODE, O_NONBLOCK, O_RDONLY, O_RDWR, O_WRONLY } from './flags.js';

/** What fstat reports: the fields of Node's BigIntStats that struct stat/statx need. */
export interface FileStat {
  dev: bigint;
  ino: bigint;
  mode: bigint;
  nlink: bigint;
  uid: bigint;
  gid: bigint;
  rdev: bigint;
  size: bigint;
  blksize: bigint;
  blocks: bigint;
  atimeNs: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  birthtimeNs: bigint;
}

/** File type bits of st_mode. */
export const S_IFMT = 0o170000;
export const S_IFSOCK = 0o140000;
export const S_IFLNK = 0o120000;
export const S_IFREG = 0o100000;
export const S_IFBLK = 0o060000;
export const S_IFDIR = 0o040000;
export const S_IFCHR = 0o020000;
export const S_IFIFO = 0o010000;

/** poll(2) event bits. */
export const POLLIN = 0x1;
export const POLLPRI = 0x2;
export const POLLOUT = 0x4;
export const POLLERR = 0x8;
export const POLLHUP = 0x10;
export const POLLNVAL = 0x20;
export const POLLRDNORM = 0x40;
export const POLLWRNORM = 0x100;

/** A directory entry as getdents reports it. */
export interface DirEntry {
  /** The name: a string (UTF-8) or the bytes the host gave. */
  name: string | Uint8Array;
  ino: bigint;
  type: number; // DT_*
}

export abstract class OpenFile {
  /** How many fd table slots point here; the description is released when it drops to 0. */
  refs = 0;

  /** @param flags the F_GETFL value: access mode and status flags, Linux numbering. */
  constructor(public flags: number) {}

  abstract readonly kind: 'host' | 'pipe' | 'mem' | 'device';

  get readable(): boolean {
    const m = this.flags & O_ACCMODE;
    return m === O_RDONLY || m === O_RDWR;
  }
  get writable(): boolean {
    const m = this.flags & O_ACCMODE;
    return m === O_WRONLY || m === O_RDWR;
  }
  get nonblocking(): boolean {
    return (this.flags & O_NONBLOCK) !== 0;
  }

  /** True for files whose reads return what is there now (regular files): reads may be split. */
  get isRegular(): boolean {
    return false;
  }

  /** Whether this is a directory (getdents works, read fails with EISDIR). */
  get isDirectory(): boolean {
    return false;
  }

  /**
   * Reads up to `len` bytes at `pos`, or at (and advancing) the file position when pos is null.
   * An empty result is end of file. With `transient`, the result may be a view of a buffer the
   * next read reuses: for a caller that copies it out at once (read(2) into guest memory), so that
   * a program reading 4 KiB at a time does not allocate (and collect) a host buffer per call.
   */
  read(_len: number, _pos: number | null, _transient = false): Uint8Array {
    return fail(E.EINVAL);
  }

  /** Writes `data` at `pos`, or at (and advancing) the file position; returns bytes written. */
  write(_data: Uint8Array, _pos: number | null): number {
    return fail(E.EINVAL);
  }

  /** lseek: returns the new position. */
  seek(_offset: bigint, _whence: number): bigint {
    return fail(E.ESPIPE);
  }

  /** Whether pread/pwrite are allowed (not a pipe, socket or tty). */
  get positional(): boolean {
    return false;
  }

  abstract stat(): FileStat;

  /** The poll(2) mask of conditions that hold now. */
  pollMask(): number {
    return POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;
  }

  /** What readlink("/proc/self/fd/N") says. */
  abstract linkName(): string;

  /** A host path that reaches this very file (used for *at() relative lookups and fstatfs). */
  hostPath(): string | undefined {
    return undefined;
  }

  /** Whether this is a terminal (ioctl TCGETS works). */
  isTty(): boolean {
    return false;
  }

  /** The next directory entries from the directory position (getdents). */
  dirEntries(): { entries: DirEntry[]; start: number } {
    return fail(E.ENOTDIR);
  }

  /** Moves the directory position past `n` entries after a getdents. */
  dirAdvance(_n: number): void {}

  /** Bytes a read could get now without blocking (FIONREAD). */
  available(): number {
    return 0;
  }

  /** Called once when the last fd referring to the description closes. */
  release(): void {}
}
