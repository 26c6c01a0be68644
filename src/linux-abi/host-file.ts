/**
 * A file description backed by a host fd, used through node:fs synchronous calls.
 *
 * Node has no lseek, so the position of a seekable file the guest opened is kept here and every
 * access is a pread/pwrite at it. Descriptions inherited from the host (stdio) start out using the
 * host's own file offset instead (position null), because the host may share that offset with
 * other processes or fds (`prog >out 2>&1`); an lseek that moves it switches to a private one.
 */
import { closeSync, fstatSync, lstatSync, opendirSync, readFileSync, readlinkSync, readSync, statSync, writeSync, type Dirent } from 'node:fs';
import { isatty } from 'node:tty';
import { E, errnoFromNode, fail } from './errno.js';
import { O_APPEND, O_NONBLOCK } from './flags.js';
import { type DirEntry, type FileStat, OpenFile, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFMT, S_IFREG, S_IFSOCK } from './open-file.js';
import { hostLseek } from './host-seek.js';
import { mappedFiles } from './mapped-files.js';
import { sleepMs } from './sleep.js';

export const SEEK_SET = 0;
export const SEEK_CUR = 1;
export const SEEK_END = 2;
export const SEEK_DATA = 3;
export const SEEK_HOLE = 4;

/** d_type values. */
export const DT_UNKNOWN = 0, DT_FIFO = 1, DT_CHR = 2, DT_DIR = 4, DT_BLK = 6, DT_REG = 8, DT_LNK = 10, DT_SOCK = 12;

export type HostFileType = 'reg' | 'dir' | 'chr' | 'blk' | 'fifo' | 'sock' | 'other';

function typeOf(mode: number): HostFileType {
  switch (mode & S_IFMT) {
    case S_IFREG: return 'reg';
    case S_IFDIR: return 'dir';
    case S_IFCHR: return 'chr';
    case S_IFBLK: return 'blk';
    case S_IFIFO: return 'fifo';
    case S_IFSOCK: return 'sock';
    default: return 'other';
  }
}

function dtype(d: Dirent): number {
  if (d.isFile()) return DT_REG;
  if (d.isDirectory()) return DT_DIR;
  if (d.isSymbolicLink()) return DT_LNK;
  if (d.isFIFO()) return DT_FIFO;
  if (d.isSocket()) return DT_SOCK;
  if (d.isCharacterDevice()) return DT_CHR;
  if (d.isBlockDevice()) return DT_BLK;
  return DT_UNKNOWN;
}

/** The buffer transient reads reuse (see OpenFile.read), grown to the largest one (at most 1 MiB). */
let scratchBuf = Buffer.allocUnsafe(0);
function scratch(len: number): Buffer {
  if (scratchBuf.length < len) scratchBuf = Buffer.allocUnsafe(Math.max(len, 65536));
  return scratchBuf;
}

const codeOf = (e: unknown): string | undefined => (e as { code?: string } | null)?.code;

/** The host's file offset of `fd`, from /proc/self/fdinfo (Linux hosts). */
export function hostOffset(fd: number): number | undefined {
  try {
    const m = /^pos:\s*(\d+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The host's open flags of `fd` (octal "flags:" in /proc/self/fdinfo), without O_CLOEXEC. */
export function hostFlags(fd: number): number | undefined {
  try {
    const m = /^flags:\s*([0-7]+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
    return m ? parseInt(m[1], 8) & ~0o2000000 : undefined;
  } catch {
    return undefined;
  }
}

export interface HostFileOptions {
  /** The path it was opened by (a fallback name when /proc/self/fd cannot be read). */
  path?: string;
  /** Inherited from the host (stdio): use the host's offset and never close the host fd. */
  inherited?: boolean;
  /** The host fd was opened with O_APPEND. */
  hostAppend?: boolean;
}

export class HostFile extends OpenFile {
  readonly kind = 'host';
  readonly type: HostFileType;
  private readonly tty: boolean;
  /** Private file position, or null to use the host's offset (streams and inherited fds). */
  private pos: number | null;
  private dir?: DirEntry[];
  private dirIndex = 0;
  private readonly path: string;
  private readonly inherited: boolean;
  private readonly hostAppend: boolean;

  constructor(readonly fd: number, flags: number, opts: HostFileOptions = {}) {
    super(flags);
    this.path = opts.path ?? `/proc/self/fd/${fd}`;
    this.inherited = !!opts.inherited;
    this.hostAppend = opts.hostAppend ?? (flags & O_APPEND) !== 0;
    let mode = 0;
    try { mode = Number(fstatSync(fd, { bigint: true }).mode); } catch { /* a closed host fd: reads fail later */ }
    this.type = typeOf(mode);
    this.tty = this.type === 'chr' && isatty(fd);
    const seekable = this.type === 'reg' || this.type === 'blk' || this.type === 'dir';
    this.pos = seekable && !this.inherited ? 0 : null;
  }

  override get isRegular(): boolean {
    return this.type === 'reg' || this.type === 'blk';
  }
  override get isDirectory(): boolean {
    return this.type === 'dir';
  }
  override get positional(): boolean {
    return this.type === 'reg' || this.type === 'blk' || this.type === 'dir' || (this.type === 'chr' && !this.tty);
  }
  override isTty(): boolean {
    return this.tty;
  }

  /**
   * Runs a host read or write, waiting out EAGAIN (a host fd left non-blocking by someone else)
   * unless the guest itself asked for O_NONBLOCK, and retrying EINTR.
   */
  private io(op: () => number, partial: number): number {
    let wait = 1;
    for (;;) {
      try {
        return op();
      } catch (e) {
        const code = codeOf(e);
        if (code === 'EINTR') continue;
        if (code === 'EAGAIN' || code === 'EWOULDBLOCK') {
          if (this.nonblocking) {
            if (partial > 0) return -1;
            fail(E.EAGAIN);
          }
          sleepMs(wait);
          wait = Math.min(wait * 2, 50);
          continue;
        }
        throw e;
      }
    }
  }

  override read(len: number, pos: number | null, transient = false): Uint8Array {
    if (this.type === 'dir') fail(E.EISDIR);
    if (!this.readable) fail(E.EBADF);
    if (len === 0) return new Uint8Array(0);
    if (this.type === 'reg' && mappedFiles.active) {
      const st = this.stat();
      mappedFiles.beforeRead(st.dev, st.ino); // what shared mappings wrote, first
    }
    const buf = transient ? scratch(len) : Buffer.allocUnsafe(len);
    const at = pos ?? this.pos;
    const n = this.io(() => readSync(this.fd, buf, 0, len, at), 0);
    if (pos === null && this.pos !== null) this.pos += n;
    return buf.subarray(0, n);
  }

  override write(data: Uint8Array, pos: number | null): number {
    if (!this.writable) fail(E.EBADF);
    const append = (this.flags & O_APPEND) !== 0;
    let at: number | null = pos ?? this.pos;
    if (pos === null && this.pos !== null && append) {
      // Append: the host appends by itself if its fd has O_APPEND, else write at the end.
      at = this.hostAppend ? null : Number(this.stat().size);
    }
    // A file shared mappings hold: their dirty pages first, then they see the new bytes.
    const mapped = this.type === 'reg' && mappedFiles.active ? this.stat() : undefined;
    if (mapped) mappedFiles.beforeWrite(mapped.dev, mapped.ino);
    let done = 0;
    while (done < data.length) {
      const off = done;
      const n = this.io(() => writeSync(this.fd, data, off, data.length - off, at === null ? null : at + off), done);
      if (n <= 0) break; // -1: EAGAIN after a partial write
      done += n;
    }
    if (mapped) mappedFiles.afterWrite(mapped.dev, mapped.ino);
    if (pos === null && this.pos !== null) {
      this.pos = append ? Number(this.stat().size) : this.pos + done;
    }
    return done;
  }

  override seek(offset: bigint, whence: number): bigint {
    if (this.type === 'dir') return this.seekDir(offset, whence);
    if (this.type === 'fifo' || this.type === 'sock' || this.tty) fail(E.ESPIPE);
    if (this.type === 'chr' || this.type === 'other') return 0n; // like /dev/null's lseek
    let base: bigint;
    switch (whence) {
      case SEEK_SET: base = 0n; break;
      case SEEK_CUR: base = BigInt(this.pos ?? hostOffset(this.fd) ?? 0); break;
      case SEEK_END: base = this.stat().size; break;
      case SEEK_DATA:
      case SEEK_HOLE: {
        const size = this.stat().size;
        if (offset < 0n || offset >= size) fail(E.ENXIO);
        base = 0n;
        if (whence === SEEK_HOLE) offset = size;
        break;
      }
      default: return fail(E.EINVAL);
    }
    const to = base + offset;
    if (to < 0n || to > BigInt(Number.MAX_SAFE_INTEGER)) fail(E.EINVAL);
    if (this.pos === null) {
      // A host-managed offset: asking where it is changes nothing; moving it moves the host's
      // (shared with other processes); if that cannot be done, go on with a private position.
      if (whence === SEEK_CUR && offset === 0n) return to;
      if (hostLseek(this.fd, to, SEEK_SET) === to) return to;
    }
    this.pos = Number(to);
    return to;
  }

  private seekDir(offset: bigint, whence: number): bigint {
    let to: bigint;
    if (whence === SEEK_SET) to = offset;
    else if (whence === SEEK_CUR) to = BigInt(this.dirIndex) + offset;
    else return fail(E.EINVAL);
    if (to < 0n || to > 0x7fff_ffffn) fail(E.EINVAL);
    if (to === 0n) this.dir = undefined; // rewinddir sees a fresh listing
    this.dirIndex = Number(to);
    return to;
  }

  override stat(): FileStat {
    return fstatSync(this.fd, { bigint: true });
  }

  override linkName(): string {
    try {
      return readlinkSync(`/proc/self/fd/${this.fd}`);
    } catch {
      return this.path;
    }
  }

  override hostPath(): string {
    return process.platform === 'linux' ? `/proc/self/fd/${this.fd}` : this.path;
  }

  override dirEntries(): { entries: DirEntry[]; start: number } {
    if (this.type !== 'dir') fail(E.ENOTDIR);
    if (!this.dir) this.dir = this.list();
    return { entries: this.dir.slice(this.dirIndex), start: this.dirIndex };
  }

  override dirAdvance(n: number): void {
    this.dirIndex += n;
  }

  /**
   * A snapshot of the directory, with "." and "..", real inode numbers and d_type, in the host's
   * own order (what getdents returns natively: `ls -f`, find and tar print in it). Node's Dir
   * reads it in that order but drops "." and "..", whose place Node cannot see; they come first,
   * where most Linux filesystems put them (tmpfs, btrfs, xfs, overlayfs, indexed ext4
   * directories; small ext4 directories place them by name hash among the others).
   * Names are bytes, as the kernel gives them (not necessarily UTF-8).
   */
  private list(): DirEntry[] {
    const base = this.hostPath();
    const self = this.stat().ino;
    let parent = self;
    try { parent = statSync(`${base}/..`, { bigint: true }).ino; } catch { /* keep self */ }
    const out: DirEntry[] = [{ name: '.', ino: self, type: DT_DIR }, { name: '..', ino: parent, type: DT_DIR }];
    let dir;
    try {
      dir = opendirSync(base, { encoding: 'buffer' as BufferEncoding, bufferSize: 256 });
    } catch (e) {
      const errno = errnoFromNode(e);
      return errno === undefined ? out : fail(errno);
    }
    const prefix = Buffer.from(`${base}/`);
    try {
      for (let d = dir.readSync(); d; d = dir.readSync()) {
        const name = d.name as unknown as Buffer;
        let ino = 0n;
        try { ino = lstatSync(Buffer.concat([prefix, name]), { bigint: true }).ino; } catch { /* vanished meanwhile */ }
        out.push({ name, ino, type: dtype(d) });
      }
    } finally {
      dir.closeSync();
    }
    return out;
  }

  override available(): number {
    if (this.type !== 'reg') return 0;
    const pos = this.pos ?? hostOffset(this.fd) ?? 0;
    return Math.max(0, Number(this.stat().size) - pos);
  }

  override release(): void {
    if (this.inherited && this.fd <= 2) return; // the emulator keeps its own stdio
    try { closeSync(this.fd); } catch { /* already gone */ }
  }

  /** The guest asked for O_NONBLOCK (F_SETFL/FIONBIO): recorded; the host fd is left as it is. */
  setNonblocking(on: boolean): void {
    this.flags = on ? this.flags | O_NONBLOCK : this.flags & ~O_NONBLOCK;
  }
}
