/**
 * Data transfer on file descriptors: read, write, readv, writev, pread64, pwrite64, preadv,
 * pwritev, lseek, sendfile, copy_file_range.
 *
 * Like Linux, a transfer stops at the first guest byte it cannot access: -EFAULT if that is the
 * very first one, else the count done so far. The kernel moves data in 1 MiB pieces so a huge
 * count never means a huge host buffer.
 */
import { Access } from '../../paging/address-space.js';
import { int, long, MAX_RW_COUNT, ptr, size } from '../args.js';
import { E, errnoFromNode, fail, SysError } from '../errno.js';
import type { OpenFile } from '../open-file.js';
import type { Proc } from '../proc.js';
import { SI_USER, SIGPIPE } from '../signals.js';
import { defineSyscalls } from '../table.js';
import { accessiblePrefix, StructIn } from '../uaccess.js';

const CHUNK = 1 << 20;
export const IOV_MAX = 1024;

/** A piece of guest memory: one iovec, or the one buffer of read/write. */
export interface Seg {
  addr: number;
  len: number;
}

/** Reads an iovec array; EINVAL for a bad count or a total over SSIZE_MAX. */
export function readIovecs(p: Proc, addr: number, count: number): Seg[] {
  if (count < 0 || count > IOV_MAX) fail(E.EINVAL);
  if (count === 0) return [];
  const s = StructIn.read(p.as, addr, 16 * count);
  const out: Seg[] = [];
  let total = 0n;
  for (let i = 0; i < count; i++) {
    const base = s.u64(i * 16), len = s.u64(i * 16 + 8);
    if (len > 0x7fff_ffff_ffff_ffffn) fail(E.EINVAL);
    total += len;
    if (total > 0x7fff_ffff_ffff_ffffn) fail(E.EINVAL);
    out.push({ addr: Number(base), len: Number(len) });
  }
  return out;
}

/** The accessible part of `segs` (up to the first inaccessible byte), capped at MAX_RW_COUNT. */
function accessible(p: Proc, segs: Seg[], access: Access): { segs: Seg[]; total: number; wanted: number } {
  const out: Seg[] = [];
  let total = 0, wanted = 0;
  for (const s of segs) {
    const len = Math.min(s.len, MAX_RW_COUNT - total);
    wanted += len;
    if (len <= 0) break;
    const ok = accessiblePrefix(p.as, s.addr, len, access);
    if (ok > 0) out.push({ addr: s.addr, len: ok });
    total += ok;
    if (ok < len) break;
  }
  return { segs: out, total, wanted };
}

/** Copies `data` into the segments starting at logical offset `at`. */
function scatter(p: Proc, segs: Seg[], at: number, data: Uint8Array): void {
  let off = 0, base = 0;
  for (const s of segs) {
    if (off >= data.length) return;
    const end = base + s.len;
    if (at + off < end) {
      const into = at + off - base;
      const n = Math.min(s.len - into, data.length - off);
      p.as.write(s.addr + into, data.subarray(off, off + n));
      off += n;
    }
    base = end;
  }
}

/** Copies `len` bytes out of the segments starting at logical offset `at`. */
function gather(p: Proc, segs: Seg[], at: number, len: number): Uint8Array {
  const out = new Uint8Array(len);
  let off = 0, base = 0;
  for (const s of segs) {
    if (off >= len) break;
    const end = base + s.len;
    if (at + off < end) {
      const from = at + off - base;
      const n = Math.min(s.len - from, len - off);
      out.set(p.as.read(s.addr + from, n), off);
      off += n;
    }
    base = end;
  }
  return out;
}

function checkReadable(file: OpenFile): void {
  if (!file.readable) fail(E.EBADF);
  if (file.isDirectory) fail(E.EISDIR);
}

/** read/readv/pread/preadv: reads into `segs` at `pos` (null: the file position). */
export function readSegs(p: Proc, file: OpenFile, segs: Seg[], pos: number | null): number {
  checkReadable(file);
  const a = accessible(p, segs, Access.Write);
  if (a.wanted === 0) return 0;
  if (a.total === 0) fail(E.EFAULT);
  let done = 0;
  while (done < a.total) {
    const want = Math.min(a.total - done, CHUNK);
    let data: Uint8Array;
    try {
      data = file.read(want, pos === null ? null : pos + done, true); // scatter copies it at once
    } catch (e) {
      if (done > 0) return done; // report the partial transfer; the error shows next time
      throw e;
    }
    scatter(p, a.segs, done, data);
    done += data.length;
    // Only files whose data is all there may be read in several pieces; a pipe or tty read
    // returns what it has.
    if (data.length < want || !file.isRegular) break;
  }
  return done;
}

/**
 * Writes to a file, turning EPIPE into SIGPIPE + EPIPE as Linux does (the signal acts when the
 * call returns: by default it ends the process, like `yes | head` expects).
 */
export function writeFile(p: Proc, file: OpenFile, data: Uint8Array, pos: number | null): number {
  try {
    return file.write(data, pos);
  } catch (e) {
    const errno = e instanceof SysError ? e.errno : errnoFromNode(e);
    if (errno === E.EPIPE) p.signals.send({ signo: SIGPIPE, code: SI_USER, pid: p.pid, uid: process.getuid?.() ?? 0 });
    throw e;
  }
}

/** write/writev/pwrite/pwritev: writes what `segs` hold at `pos` (null: the file position). */
export function writeSegs(p: Proc, file: OpenFile, segs: Seg[], pos: number | null): number {
  if (!file.writable) fail(E.EBADF);
  const a = accessible(p, segs, Access.Read);
  if (a.wanted === 0) {
    return 0;
  }
  if (a.total === 0) fail(E.EFAULT);
  let done = 0;
  while (done < a.total) {
    const n = Math.min(a.total - done, CHUNK);
    const data = gather(p, a.segs, done, n);
    let w: number;
    try {
      w = writeFile(p, file, data, pos === null ? null : pos + done);
    } catch (e) {
      if (done > 0) return done; // report the partial transfer; the error shows next time
      throw e;
    }
    done += w;
    if (w < n) break;
  }
  return done;
}

/** pread/pwrite offset: non-negative, and the file must allow positioned I/O. */
function position(file: OpenFile, off: bigint): number {
  if (!file.positional) fail(E.ESPIPE);
  if (off < 0n) fail(E.EINVAL);
  return Number(off);
}

/** preadv/pwritev pass the offset split in two registers; x86-64 puts it all in pos_l. */
function splitPos(lo: bigint): bigint {
  return long(lo);
}

const one = (buf: bigint, count: bigint): Seg[] => [{ addr: ptr(buf), len: size(count) }];

/** sendfile/copy_file_range: moves up to `count` bytes from `src` to `dst`. */
function copyBetween(p: Proc, src: OpenFile, srcPos: number | null, dst: OpenFile, dstPos: number | null, count: number): number {
  let done = 0;
  while (done < count) {
    const want = Math.min(count - done, CHUNK);
    const data = src.read(want, srcPos === null ? null : srcPos + done);
    if (data.length === 0) break;
    const w = writeFile(p, dst, data, dstPos === null ? null : dstPos + done);
    done += w;
    if (w < data.length) {
      // The rest was read but not written: put a positional source back where the write stopped.
      if (srcPos === null && src.positional) src.seek(BigInt(w - data.length), 1);
      break;
    }
    if (data.length < want) break;
  }
  return done;
}

export const ioSyscalls = defineSyscalls([
  {
    name: 'read', args: ['fd', 'rbuf', 'u'],
    handler: (p, [fd, buf, count]) => readSegs(p, p.fds.get(int(fd)), one(buf, count), null),
  },
  {
    name: 'write', args: ['fd', 'wbuf', 'u'],
    handler: (p, [fd, buf, count]) => writeSegs(p, p.fds.get(int(fd)), one(buf, count), null),
  },
  {
    name: 'readv', args: ['fd', 'riov', 'd'],
    handler: (p, [fd, iov, cnt]) => {
      const file = p.fds.get(int(fd));
      return readSegs(p, file, readIovecs(p, ptr(iov), int(cnt)), null);
    },
  },
  {
    name: 'writev', args: ['fd', 'iov', 'd'],
    handler: (p, [fd, iov, cnt]) => {
      const file = p.fds.get(int(fd));
      return writeSegs(p, file, readIovecs(p, ptr(iov), int(cnt)), null);
    },
  },
  {
    name: 'pread64', args: ['fd', 'rbuf', 'u', 'ld'],
    handler: (p, [fd, buf, count, off]) => {
      const file = p.fds.get(int(fd));
      checkReadable(file);
      return readSegs(p, file, one(buf, count), position(file, long(off)));
    },
  },
  {
    name: 'pwrite64', args: ['fd', 'wbuf', 'u', 'ld'],
    handler: (p, [fd, buf, count, off]) => {
      const file = p.fds.get(int(fd));
      if (!file.writable) fail(E.EBADF);
      return writeSegs(p, file, one(buf, count), position(file, long(off)));
    },
  },
  {
    name: 'preadv', args: ['fd', 'riov', 'd', 'ld'],
    handler: (p, [fd, iov, cnt, lo]) => {
      const file = p.fds.get(int(fd));
      checkReadable(file);
      const pos = position(file, splitPos(lo));
      return readSegs(p, file, readIovecs(p, ptr(iov), int(cnt)), pos);
    },
  },
  {
    name: 'pwritev', args: ['fd', 'iov', 'd', 'ld'],
    handler: (p, [fd, iov, cnt, lo]) => {
      const file = p.fds.get(int(fd));
      if (!file.writable) fail(E.EBADF);
      const pos = position(file, splitPos(lo));
      return writeSegs(p, file, readIovecs(p, ptr(iov), int(cnt)), pos);
    },
  },
  {
    name: 'lseek', args: ['fd', 'ld', 'whence'],
    handler: (p, [fd, off, whence]) => {
      const file = p.fds.get(int(fd));
      const w = int(whence);
      if (w < 0 || w > 4) fail(E.EINVAL);
      return file.seek(long(off), w);
    },
  },
  {
    name: 'sendfile', args: ['fd', 'fd', 'p', 'u'],
    handler: (p, [outFd, inFd, offPtr, count]) => {
      const src = p.fds.get(int(inFd));
      const dst = p.fds.get(int(outFd));
      if (!src.readable || !dst.writable) fail(E.EBADF);
      if (src.isDirectory || !src.isRegular) fail(E.EINVAL);
      const n = Math.min(size(count), MAX_RW_COUNT);
      const at = ptr(offPtr);
      if (at === 0) return copyBetween(p, src, null, dst, null, n);
      const start = p.as.readU64(at);
      if (BigInt.asIntN(64, start) < 0n) fail(E.EINVAL);
      const done = copyBetween(p, src, Number(start), dst, null, n);
      p.as.writeU64(at, start + BigInt(done));
      return done;
    },
  },
  {
    name: 'copy_file_range', args: ['fd', 'p', 'fd', 'p', 'u', 'x'],
    handler: (p, [inFd, inOff, outFd, outOff, len, flags]) => {
      if (int(flags) !== 0) fail(E.EINVAL);
      const src = p.fds.get(int(inFd));
      const dst = p.fds.get(int(outFd));
      if (!src.readable || !dst.writable) fail(E.EBADF);
      if (src.isDirectory || dst.isDirectory) fail(E.EISDIR);
      if (!src.isRegular || !dst.isRegular) fail(E.EINVAL);
      const n = Math.min(size(len), MAX_RW_COUNT);
      const ip = ptr(inOff), op = ptr(outOff);
      const sPos = ip ? p.as.readU64(ip) : null;
      const dPos = op ? p.as.readU64(op) : null;
      if ((sPos !== null && BigInt.asIntN(64, sPos) < 0n) || (dPos !== null && BigInt.asIntN(64, dPos) < 0n)) fail(E.EINVAL);
      const done = copyBetween(p, src, sPos === null ? null : Number(sPos), dst, dPos === null ? null : Number(dPos), n);
      if (ip) p.as.writeU64(ip, sPos! + BigInt(done));
      if (op) p.as.writeU64(op, dPos! + BigInt(done));
      return done;
    },
  },
]);
