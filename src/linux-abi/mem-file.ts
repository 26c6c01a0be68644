/**
 * A read-only file whose content the kernel makes up when it is opened, such as
 * /proc/self/maps. Like procfs files it reports size 0 and reads sequentially.
 */
import { E, fail } from './errno.js';
import { O_LARGEFILE, O_RDONLY } from './flags.js';
import { SEEK_CUR, SEEK_END, SEEK_SET } from './host-file.js';
import { type FileStat, OpenFile, S_IFREG } from './open-file.js';

let nextIno = 0x4000_0000n;

export class MemFile extends OpenFile {
  readonly kind = 'mem';
  private pos = 0;
  private readonly ino = nextIno++;
  private readonly made = BigInt(Date.now()) * 1_000_000n;

  constructor(readonly path: string, readonly content: Uint8Array) {
    super(O_RDONLY | O_LARGEFILE);
  }

  override get isRegular(): boolean {
    return true;
  }
  override get positional(): boolean {
    return true;
  }

  override read(len: number, pos: number | null): Uint8Array {
    const at = pos ?? this.pos;
    const out = this.content.slice(Math.min(at, this.content.length), Math.min(at + len, this.content.length));
    if (pos === null) this.pos += out.length;
    return out;
  }

  override write(): number {
    return fail(E.EBADF);
  }

  override seek(offset: bigint, whence: number): bigint {
    const base = whence === SEEK_SET ? 0n : whence === SEEK_CUR ? BigInt(this.pos) : whence === SEEK_END ? BigInt(this.content.length) : -1n;
    if (base < 0n) fail(E.EINVAL);
    const to = base + offset;
    if (to < 0n || to > 0x7fff_ffffn) fail(E.EINVAL);
    this.pos = Number(to);
    return to;
  }

  override stat(): FileStat {
    return {
      dev: 22n, ino: this.ino, mode: BigInt(S_IFREG | 0o444), nlink: 1n,
      uid: BigInt(process.getuid?.() ?? 0), gid: BigInt(process.getgid?.() ?? 0), rdev: 0n,
      size: 0n, blksize: 1024n, blocks: 0n, atimeNs: this.made, mtimeNs: this.made, ctimeNs: this.made, birthtimeNs: 0n,
    };
  }

  override linkName(): string {
    return this.path;
  }

  override available(): number {
    return Math.max(0, this.content.length - this.pos);
  }
}
