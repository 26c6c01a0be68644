/**
 * /proc/self/fd as a directory: the guest's descriptors (the host's /proc/self/fd would list
 * usmjit's own, which every guest process shares). Entries are symlinks named by fd number;
 * following one is paths.ts's /proc/self/fd/N.
 */
import { E, fail } from './errno.js';
import { O_DIRECTORY, O_RDONLY } from './flags.js';
import { DT_DIR, DT_LNK } from './host-file.js';
import { type DirEntry, type FileStat, OpenFile } from './open-file.js';
import type { Proc } from './proc.js';

const S_IFDIR = 0o040000;

export class FdDir extends OpenFile {
  readonly kind = 'mem';
  private pos = 0;

  constructor(readonly proc: Proc) {
    super(O_RDONLY | O_DIRECTORY);
  }

  override get isDirectory(): boolean {
    return true;
  }

  override dirEntries(): { entries: DirEntry[]; start: number } {
    const ino = BigInt(this.proc.pid) << 16n;
    const all: DirEntry[] = [{ name: '.', ino, type: DT_DIR }, { name: '..', ino: ino + 1n, type: DT_DIR }];
    for (const fd of this.proc.fds.fds()) all.push({ name: String(fd), ino: ino + 2n + BigInt(fd), type: DT_LNK });
    return { entries: all.slice(this.pos), start: this.pos };
  }

  override dirAdvance(n: number): void {
    this.pos += n;
  }

  /** rewinddir / seekdir to a position getdents reported. */
  override seek(offset: bigint, whence: number): bigint {
    if (whence !== 0 || offset < 0n) fail(E.EINVAL);
    this.pos = Number(offset);
    return offset;
  }

  override read(): Uint8Array {
    return fail(E.EISDIR);
  }

  override stat(): FileStat {
    const t = BigInt(Date.now()) * 1_000_000n;
    return {
      dev: 22n, ino: BigInt(this.proc.pid) << 16n, mode: BigInt(S_IFDIR | 0o500), nlink: 2n,
      uid: BigInt(process.getuid?.() ?? 0), gid: BigInt(process.getgid?.() ?? 0), rdev: 0n,
      size: 0n, blksize: 1024n, blocks: 0n, atimeNs: t, mtimeNs: t, ctimeNs: t, birthtimeNs: 0n,
    };
  }

  override linkName(): string {
    return `/proc/${this.proc.pid}/fd`;
  }
}
