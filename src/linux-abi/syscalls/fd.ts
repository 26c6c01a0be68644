/**
 * File descriptor management: dup, dup2, dup3, fcntl, pipe, pipe2, ioctl.
 */
import { Access } from '../../paging/address-space.js';
import { int, ptr, uint } from '../args.js';
import { E, fail } from '../errno.js';
import { O_APPEND, O_ASYNC, O_CLOEXEC, O_DIRECT, O_NONBLOCK, SETFL_MASK } from '../flags.js';
import { HostFile } from '../host-file.js';
import { PipeEnd } from '../pipe.js';
import { UsmDevice } from '../usm-device.js';
import type { Proc } from '../proc.js';
import { defineSyscalls } from '../table.js';
import { TERMIOS_SIZE } from '../tty.js';
import { checkAccess, StructIn, StructOut } from '../uaccess.js';

export const F_DUPFD = 0, F_GETFD = 1, F_SETFD = 2, F_GETFL = 3, F_SETFL = 4, F_GETLK = 5, F_SETLK = 6,
  F_SETLKW = 7, F_SETOWN = 8, F_GETOWN = 9, F_SETSIG = 10, F_GETSIG = 11, F_OFD_GETLK = 36, F_OFD_SETLK = 37,
  F_OFD_SETLKW = 38, F_SETLEASE = 1024, F_GETLEASE = 1025, F_DUPFD_CLOEXEC = 1030, F_SETPIPE_SZ = 1031,
  F_GETPIPE_SZ = 1032, F_ADD_SEALS = 1033, F_GET_SEALS = 1034;
export const FD_CLOEXEC = 1;
const F_RDLCK = 0, F_WRLCK = 1, F_UNLCK = 2;

export const TCGETS = 0x5401, TCSETS = 0x5402, TCSETSW = 0x5403, TCSETSF = 0x5404, TCSBRK = 0x5409,
  TCXONC = 0x540a, TCFLSH = 0x540b, TIOCSCTTY = 0x540e, TIOCGPGRP = 0x540f, TIOCSPGRP = 0x5410,
  TIOCOUTQ = 0x5411, TIOCGWINSZ = 0x5413, TIOCSWINSZ = 0x5414, FIONREAD = 0x541b, FIONBIO = 0x5421,
  TIOCNOTTY = 0x5422, TIOCGSID = 0x5429, FIONCLEX = 0x5450, FIOCLEX = 0x5451, FIOASYNC = 0x5452;

/** /proc/sys/fs/pipe-max-size default. */
const PIPE_MAX = 1 << 20;

function setNonblock(file: { flags: number }, on: boolean): void {
  file.flags = on ? file.flags | O_NONBLOCK : file.flags & ~O_NONBLOCK;
}

/** struct flock: i16 l_type, i16 l_whence, i64 l_start, i64 l_len, i32 l_pid (32 bytes). */
function lockCmd(p: Proc, fd: number, cmd: number, addr: number): number {
  const file = p.fds.get(fd);
  const fl = StructIn.read(p.as, addr, 32);
  const type = fl.i16(0);
  if (type !== F_RDLCK && type !== F_WRLCK && type !== F_UNLCK) fail(E.EINVAL);
  if (cmd === F_GETLK || cmd === F_OFD_GETLK) {
    // One process holds every lock there is, and its own locks never conflict with it.
    new StructOut(2).u16(0, F_UNLCK).write(p.as, addr);
    return 0;
  }
  if (type === F_RDLCK && !file.readable) fail(E.EBADF);
  if (type === F_WRLCK && !file.writable) fail(E.EBADF);
  return 0;
}

function fcntl(p: Proc, fd: number, cmd: number, arg: bigint): number {
  const entry = p.fds.entry(fd);
  const file = entry.file;
  switch (cmd) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC: {
      const min = int(arg);
      if (min < 0 || min >= p.limits.nofile) fail(E.EINVAL);
      return p.fds.alloc(file, cmd === F_DUPFD_CLOEXEC, min);
    }
    case F_GETFD: return entry.cloexec ? FD_CLOEXEC : 0;
    case F_SETFD: entry.cloexec = (int(arg) & FD_CLOEXEC) !== 0; return 0;
    case F_GETFL: return file.flags;
    case F_SETFL: {
      const want = int(arg) & SETFL_MASK;
      if ((file.flags & O_APPEND) && !(want & O_APPEND) && file instanceof HostFile) {
        p.warnOnce('setfl-append', 'fcntl(F_SETFL): clearing O_APPEND is recorded, but the host fd keeps appending');
      }
      file.flags = (file.flags & ~SETFL_MASK) | want;
      return 0;
    }
    case F_GETLK: case F_SETLK: case F_SETLKW: case F_OFD_GETLK: case F_OFD_SETLK: case F_OFD_SETLKW:
      return lockCmd(p, fd, cmd, ptr(arg));
    case F_GETOWN: return 0;
    case F_SETOWN: return 0;
    case F_GETSIG: return 0;
    case F_SETSIG: {
      const s = int(arg);
      if (s < 0 || s > 64) fail(E.EINVAL);
      return 0;
    }
    case F_GETLEASE: return F_UNLCK;
    case F_GETPIPE_SZ:
      if (!(file instanceof PipeEnd)) fail(E.EBADF);
      return file.pipe.capacity;
    case F_SETPIPE_SZ: {
      if (!(file instanceof PipeEnd)) fail(E.EBADF);
      const want = uint(arg);
      if (want > PIPE_MAX) fail(E.EPERM);
      let cap = 4096;
      while (cap < want) cap *= 2;
      if (cap < file.pipe.size) fail(E.EBUSY);
      file.pipe.capacity = cap;
      return cap;
    }
    case F_ADD_SEALS: case F_GET_SEALS: return fail(E.EINVAL);
    default: return fail(E.EINVAL);
  }
}

function ioctl(p: Proc, fd: number, req: number, arg: number): number {
  const entry = p.fds.entry(fd);
  const file = entry.file;
  if (file instanceof UsmDevice) return file.ioctl(req, arg, p.as);
  switch (req) {
    case FIOCLEX: entry.cloexec = true; return 0;
    case FIONCLEX: entry.cloexec = false; return 0;
    case FIONBIO: setNonblock(file, p.as.readU32(arg) !== 0); return 0;
    case FIOASYNC: {
      const on = p.as.readU32(arg) !== 0;
      file.flags = on ? file.flags | O_ASYNC : file.flags & ~O_ASYNC;
      return 0;
    }
    case FIONREAD:
      if (file.isDirectory) fail(E.ENOTTY);
      p.as.writeU32(arg, Math.min(file.available(), 0x7fff_ffff));
      return 0;
  }
  // Everything else is a terminal request: a non-tty answers ENOTTY, as on Linux.
  if (!file.isTty()) fail(E.ENOTTY);
  const tty = p.tty;
  switch (req) {
    case TCGETS: p.as.write(arg, tty.termios); return 0;
    case TCSETS: case TCSETSW: case TCSETSF:
      tty.termios = p.as.read(arg, TERMIOS_SIZE);
      p.warnOnce('tcsets', 'terminal modes set by the guest are recorded but not applied to the host terminal');
      return 0;
    case TIOCGWINSZ: {
      const w = tty.size(file instanceof HostFile ? file.fd : -1);
      new StructOut(8).u16(0, w.rows).u16(2, w.cols).u16(4, w.xpixel).u16(6, w.ypixel).write(p.as, arg);
      return 0;
    }
    case TIOCSWINSZ: {
      const s = StructIn.read(p.as, arg, 8);
      tty.winsize = { rows: s.u16(0), cols: s.u16(2), xpixel: s.u16(4), ypixel: s.u16(6) };
      return 0;
    }
    case TIOCGPGRP: new StructOut(4).i32(0, tty.fgPgrp ?? p.pgid).write(p.as, arg); return 0;
    case TIOCSPGRP: tty.fgPgrp = new StructIn(p.as.read(arg, 4)).i32(0); return 0;
    case TIOCGSID: new StructOut(4).i32(0, p.sid).write(p.as, arg); return 0;
    case TIOCOUTQ: p.as.writeU32(arg, 0); return 0;
    case TCSBRK: case TCXONC: case TCFLSH: case TIOCSCTTY: case TIOCNOTTY: return 0;
    default: return fail(E.ENOTTY);
  }
}

function pipe2(p: Proc, addr: number, flags: number): number {
  if (flags & ~(O_CLOEXEC | O_NONBLOCK | O_DIRECT)) fail(E.EINVAL);
  checkAccess(p.as, addr, 8, Access.Write);
  const [r, w] = PipeEnd.create((flags & O_NONBLOCK) !== 0);
  const cloexec = (flags & O_CLOEXEC) !== 0;
  let rfd = -1, wfd = -1;
  try {
    rfd = p.fds.alloc(r, cloexec);
    wfd = p.fds.alloc(w, cloexec);
    new StructOut(8).i32(0, rfd).i32(4, wfd).write(p.as, addr);
  } catch (e) {
    if (rfd >= 0) p.fds.close(rfd);
    else r.release();
    if (wfd >= 0) p.fds.close(wfd);
    else w.release();
    throw e;
  }
  return 0;
}

export const fdSyscalls = defineSyscalls([
  { name: 'dup', args: ['fd'], handler: (p, [fd]) => p.fds.alloc(p.fds.get(int(fd)), false) },
  {
    name: 'dup2', args: ['fd', 'fd'],
    handler: (p, [oldfd, newfd]) => {
      const file = p.fds.get(int(oldfd));
      if (int(oldfd) === int(newfd)) return int(newfd);
      p.fds.install(int(newfd), file, false);
      return int(newfd);
    },
  },
  {
    name: 'dup3', args: ['fd', 'fd', 'oflags'],
    handler: (p, [oldfd, newfd, flags]) => {
      if (int(flags) & ~O_CLOEXEC) fail(E.EINVAL);
      const file = p.fds.get(int(oldfd));
      if (int(oldfd) === int(newfd)) fail(E.EINVAL);
      p.fds.install(int(newfd), file, (int(flags) & O_CLOEXEC) !== 0);
      return int(newfd);
    },
  },
  { name: 'fcntl', args: ['fd', 'fcntl', 'farg'], handler: (p, [fd, cmd, arg]) => fcntl(p, int(fd), int(cmd), arg) },
  { name: 'ioctl', args: ['fd', 'ioctl', 'p'], handler: (p, [fd, req, arg]) => ioctl(p, int(fd), uint(req), ptr(arg)) },
  { name: 'pipe', args: ['fdpair'], handler: (p, [fds]) => pipe2(p, ptr(fds), 0) },
  { name: 'pipe2', args: ['fdpair', 'oflags'], handler: (p, [fds, flags]) => pipe2(p, ptr(fds), int(flags)) },
]);
