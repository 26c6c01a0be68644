/**
 * In-kernel pipes: guest processes share one usmjit kernel (process-host.ts), so a pipe between
 * them is a byte queue here, with counts of open read and write descriptions; PipeEnd is the
 * description of one end.
 *
 * A read of an empty pipe whose write end is open blocks (block.ts) until a writer writes or the
 * last writer closes. A blocking write blocks while the pipe is full (64 KiB); a write that finds
 * room is accepted whole (the queue may then hold up to one write more than the capacity), so a
 * write is never split across two attempts.
 */
import { block } from './block.js';
import { E, fail } from './errno.js';
import { O_NONBLOCK, O_RDONLY, O_WRONLY } from './flags.js';
import { type FileStat, OpenFile, POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM, S_IFIFO } from './open-file.js';

/** Linux's default pipe capacity. */
export const PIPE_CAPACITY = 65536;

let nextIno = 0x10000n;
/** The device number pipefs shows (0:14 on current kernels; any fixed value is fine). */
const PIPEFS_DEV = 14n;

export class Pipe {
  private chunks: Uint8Array[] = [];
  size = 0;
  readers = 0;
  writers = 0;
  capacity = PIPE_CAPACITY;
  readonly ino = nextIno++;
  readonly createdNs = BigInt(Date.now()) * 1_000_000n;

  take(max: number): Uint8Array {
    const n = Math.min(max, this.size);
    const out = new Uint8Array(n);
    let done = 0;
    while (done < n) {
      const c = this.chunks[0];
      const k = Math.min(c.length, n - done);
      out.set(c.subarray(0, k), done);
      done += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    this.size -= n;
    return out;
  }

  put(data: Uint8Array): void {
    if (data.length === 0) return;
    this.chunks.push(data.slice());
    this.size += data.length;
  }
}

export class PipeEnd extends OpenFile {
  readonly kind = 'pipe';

  constructor(readonly pipe: Pipe, readonly end: 'r' | 'w', nonblock = false) {
    super((end === 'r' ? O_RDONLY : O_WRONLY) | (nonblock ? O_NONBLOCK : 0));
    if (end === 'r') pipe.readers++;
    else pipe.writers++;
  }

  /** A new pipe: [read end, write end]. */
  static create(nonblock = false): [PipeEnd, PipeEnd] {
    const p = new Pipe();
    return [new PipeEnd(p, 'r', nonblock), new PipeEnd(p, 'w', nonblock)];
  }

  override read(len: number, _pos: number | null): Uint8Array {
    if (this.end !== 'r') fail(E.EBADF);
    const p = this.pipe;
    if (len === 0) return new Uint8Array(0);
    if (p.size > 0) return p.take(len);
    if (p.writers === 0) return new Uint8Array(0);
    if (this.nonblocking) fail(E.EAGAIN);
    return block(`read on pipe:[${p.ino}]`);
  }

  override write(data: Uint8Array, _pos: number | null): number {
    if (this.end !== 'w') fail(E.EBADF);
    const p = this.pipe;
    if (p.readers === 0) fail(E.EPIPE);
    if (data.length === 0) return 0;
    if (this.nonblocking) {
      const room = p.capacity - p.size;
      if (room <= 0) fail(E.EAGAIN);
      // Writes of at most PIPE_BUF (4096) bytes are atomic: all or EAGAIN.
      if (data.length <= 4096 && room < data.length) fail(E.EAGAIN);
      const n = Math.min(room, data.length);
      p.put(data.subarray(0, n));
      return n;
    }
    if (p.size >= p.capacity) return block(`write on pipe:[${p.ino}]`);
    p.put(data);
    return data.length;
  }

  override stat(): FileStat {
    const t = this.pipe.createdNs;
    return {
      dev: PIPEFS_DEV, ino: this.pipe.ino, mode: BigInt(S_IFIFO | 0o600), nlink: 1n,
      uid: BigInt(process.getuid?.() ?? 0), gid: BigInt(process.getgid?.() ?? 0), rdev: 0n,
      size: 0n, blksize: 4096n, blocks: 0n, atimeNs: t, mtimeNs: t, ctimeNs: t, birthtimeNs: 0n,
    };
  }

  override pollMask(): number {
    const p = this.pipe;
    if (this.end === 'r') {
      let m = p.size > 0 ? POLLIN | POLLRDNORM : 0;
      if (p.writers === 0) m |= POLLHUP;
      return m;
    }
    if (p.readers === 0) return POLLERR;
    return p.size < p.capacity ? POLLOUT | POLLWRNORM : 0;
  }

  override linkName(): string {
    return `pipe:[${this.pipe.ino}]`;
  }

  override available(): number {
    return this.end === 'r' ? this.pipe.size : 0;
  }

  override release(): void {
    if (this.end === 'r') this.pipe.readers--;
    else this.pipe.writers--;
  }
}
