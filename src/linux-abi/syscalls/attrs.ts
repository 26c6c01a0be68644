/**
 * Changing files: chmod, fchmod, fchmodat, chown, fchown, lchown, fchownat, utimensat, utimes,
 * utime, truncate, ftruncate, fallocate, fsync, fdatasync, sync, syncfs, fadvise64, flock, and
 * the extended attribute calls (not supported: -ENOTSUP).
 */
import {
  chmodSync, chownSync, fchmodSync, fstatSync, fchownSync, fdatasyncSync, fsyncSync, ftruncateSync, futimesSync, lchownSync,
  lstatSync, lutimesSync, statSync, truncateSync, utimesSync,
} from 'node:fs';
import { int, long, ptr, uint } from '../args.js';
import { E, fail } from '../errno.js';
import { HostFile } from '../host-file.js';
import type { OpenFile } from '../open-file.js';
import { AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW, hostPathOf, lookup } from '../paths.js';
import type { Proc } from '../proc.js';
import { defineSyscalls, type SyscallDef } from '../table.js';
import { NS_PER_SEC, readPath, StructIn } from '../uaccess.js';

const path = (p: Proc, a: bigint): string => readPath(p.as, ptr(a));

/** The host fd behind a description, or undefined for pipes and made-up files. */
const hostFd = (f: OpenFile): number | undefined => (f instanceof HostFile ? f.fd : undefined);

/** uid/gid arguments: (uid_t)-1 means "leave unchanged", which Node spells -1. */
const id = (v: bigint): number => {
  const u = uint(v);
  return u === 0xffff_ffff ? -1 : u;
};

function chownAt(p: Proc, dirfd: number, pathStr: string, uid: number, gid: number, flags: number): number {
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) fail(E.EINVAL);
  const follow = (flags & AT_SYMLINK_NOFOLLOW) === 0;
  const t = lookup(p, dirfd, pathStr, { follow, emptyPath: (flags & AT_EMPTY_PATH) !== 0 });
  if (t.kind === 'file') {
    const fd = hostFd(t.file);
    if (fd !== undefined) fchownSync(fd, uid, gid);
    return 0;
  }
  if (t.kind === 'synth') fail(E.EPERM);
  if (follow) chownSync(t.path, uid, gid);
  else lchownSync(t.path, uid, gid);
  return 0;
}

const UTIME_NOW = (1n << 30n) - 1n;
const UTIME_OMIT = (1n << 30n) - 2n;

/** A time for Node's utimes: seconds as a number (Node keeps about microsecond precision). */
const seconds = (ns: bigint): number => Number(ns / 1000n) / 1e6;

/**
 * utimensat and friends. `times` is [atime, mtime] in ns, or 'now' / 'omit' per entry.
 * Target: a path (follow or not) or an open file.
 */
function setTimes(p: Proc, t: { path?: string; fd?: number; follow: boolean }, times: (bigint | 'now' | 'omit')[]): number {
  if (times[0] === 'omit' && times[1] === 'omit') return 0;
  const now = BigInt(Date.now()) * 1_000_000n;
  let cur: { atimeNs: bigint; mtimeNs: bigint } | undefined;
  const current = () => {
    if (!cur) {
      if (t.fd !== undefined) cur = fstatSync(t.fd, { bigint: true });
      else cur = t.follow ? statSync(t.path!, { bigint: true }) : lstatSync(t.path!, { bigint: true });
    }
    return cur;
  };
  const val = (v: bigint | 'now' | 'omit', which: 'atimeNs' | 'mtimeNs'): number =>
    seconds(v === 'now' ? now : v === 'omit' ? current()[which] : v);
  const at = val(times[0], 'atimeNs'), mt = val(times[1], 'mtimeNs');
  if (t.fd !== undefined) futimesSync(t.fd, at, mt);
  else if (t.follow) utimesSync(t.path!, at, mt);
  else lutimesSync(t.path!, at, mt);
  return 0;
}

function utimensAt(p: Proc, dirfd: number, pathAddr: number, timesAddr: number, flags: number): number {
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) fail(E.EINVAL);
  let times: (bigint | 'now' | 'omit')[] = ['now', 'now'];
  if (timesAddr !== 0) {
    const s = StructIn.read(p.as, timesAddr, 32);
    times = [0, 1].map((i) => {
      const sec = s.i64(i * 16), nsec = s.i64(i * 16 + 8);
      if (nsec === UTIME_NOW) return 'now';
      if (nsec === UTIME_OMIT) return 'omit';
      if (nsec < 0n || nsec >= NS_PER_SEC) fail(E.EINVAL);
      return sec * NS_PER_SEC + nsec;
    });
  }
  const follow = (flags & AT_SYMLINK_NOFOLLOW) === 0;
  if (pathAddr === 0) {
    // utimensat(fd, NULL, ...) is futimens(fd).
    if (dirfd === AT_FDCWD) fail(E.EFAULT);
    return timesOfFile(p, p.fds.get(dirfd), times);
  }
  const t = lookup(p, dirfd, path(p, BigInt(pathAddr)), { follow, emptyPath: (flags & AT_EMPTY_PATH) !== 0 });
  if (t.kind === 'file') return timesOfFile(p, t.file, times);
  if (t.kind === 'synth') fail(E.EPERM);
  return setTimes(p, { path: t.path, follow }, times);
}

function timesOfFile(p: Proc, f: OpenFile, times: (bigint | 'now' | 'omit')[]): number {
  const fd = hostFd(f);
  if (fd === undefined) return 0;
  return setTimes(p, { fd, follow: true }, times);
}

/** utimes(2)/utime(2) style: NULL means now, else [atime, mtime]. */
function timevalTimes(p: Proc, pathStr: string, addr: number, usec: boolean): number {
  let times: (bigint | 'now')[] = ['now', 'now'];
  if (addr !== 0) {
    if (usec) {
      const s = StructIn.read(p.as, addr, 32);
      times = [0, 1].map((i) => {
        const sec = s.i64(i * 16), us = s.i64(i * 16 + 8);
        if (us < 0n || us >= 1_000_000n) fail(E.EINVAL);
        return sec * NS_PER_SEC + us * 1000n;
      });
    } else {
      const s = StructIn.read(p.as, addr, 16);
      times = [s.i64(0) * NS_PER_SEC, s.i64(8) * NS_PER_SEC];
    }
  }
  return setTimes(p, { path: hostPathOf(p, AT_FDCWD, pathStr), follow: true }, times);
}

function needHostFd(f: OpenFile): number {
  const fd = hostFd(f);
  if (fd === undefined) fail(E.EINVAL);
  return fd;
}

const xattr = (name: string, args: SyscallDef['args']): SyscallDef => ({
  name, args, handler: () => fail(E.ENOTSUP),
});

export const attrSyscalls = defineSyscalls([
  { name: 'chmod', args: ['path', 'mode'], handler: (p, [a, m]) => { chmodSync(hostPathOf(p, AT_FDCWD, path(p, a)), uint(m) & 0o7777); return 0; } },
  {
    name: 'fchmodat', args: ['dirfd', 'path', 'mode'],
    handler: (p, [d, a, m]) => { chmodSync(hostPathOf(p, int(d), path(p, a)), uint(m) & 0o7777); return 0; },
  },
  {
    name: 'fchmod', args: ['fd', 'mode'],
    handler: (p, [fd, m]) => {
      const h = hostFd(p.fds.get(int(fd)));
      if (h !== undefined) fchmodSync(h, uint(m) & 0o7777);
      return 0;
    },
  },
  { name: 'chown', args: ['path', 'd', 'd'], handler: (p, [a, u, g]) => chownAt(p, AT_FDCWD, path(p, a), id(u), id(g), 0) },
  { name: 'lchown', args: ['path', 'd', 'd'], handler: (p, [a, u, g]) => chownAt(p, AT_FDCWD, path(p, a), id(u), id(g), AT_SYMLINK_NOFOLLOW) },
  {
    name: 'fchown', args: ['fd', 'd', 'd'],
    handler: (p, [fd, u, g]) => {
      const h = hostFd(p.fds.get(int(fd)));
      if (h !== undefined) fchownSync(h, id(u), id(g));
      return 0;
    },
  },
  {
    name: 'fchownat', args: ['dirfd', 'path', 'd', 'd', 'atflags'],
    handler: (p, [d, a, u, g, f]) => chownAt(p, int(d), path(p, a), id(u), id(g), int(f)),
  },
  {
    name: 'utimensat', args: ['dirfd', 'path', 'p', 'atflags'],
    handler: (p, [d, a, t, f]) => utimensAt(p, int(d), ptr(a), ptr(t), int(f)),
  },
  { name: 'utimes', args: ['path', 'p'], handler: (p, [a, t]) => timevalTimes(p, path(p, a), ptr(t), true) },
  { name: 'utime', args: ['path', 'p'], handler: (p, [a, t]) => timevalTimes(p, path(p, a), ptr(t), false) },
  {
    name: 'truncate', args: ['path', 'ld'],
    handler: (p, [a, len]) => {
      const n = long(len);
      if (n < 0n) fail(E.EINVAL);
      truncateSync(hostPathOf(p, AT_FDCWD, path(p, a)), Number(n));
      return 0;
    },
  },
  {
    name: 'ftruncate', args: ['fd', 'ld'],
    handler: (p, [fd, len]) => {
      const n = long(len);
      if (n < 0n) fail(E.EINVAL);
      const f = p.fds.get(int(fd));
      if (!f.writable || !f.isRegular) fail(E.EINVAL);
      ftruncateSync(needHostFd(f), Number(n));
      return 0;
    },
  },
  {
    name: 'fallocate', args: ['fd', 'd', 'ld', 'ld'],
    handler: (p, [fd, mode, off, len]) => {
      const f = p.fds.get(int(fd));
      const o = long(off), l = long(len);
      if (o < 0n || l <= 0n) fail(E.EINVAL);
      if (!f.writable) fail(E.EBADF);
      if (int(mode) !== 0) fail(E.EOPNOTSUPP);
      if (f.isDirectory) fail(E.EISDIR);
      if (!f.isRegular) fail(E.ENODEV);
      if (f.stat().size < o + l) ftruncateSync(needHostFd(f), Number(o + l));
      return 0;
    },
  },
  {
    name: 'fsync', args: ['fd'],
    handler: (p, [fd]) => {
      const f = p.fds.get(int(fd));
      const h = hostFd(f);
      if (h === undefined) return f.kind === 'pipe' ? fail(E.EINVAL) : 0;
      fsyncSync(h);
      return 0;
    },
  },
  {
    name: 'fdatasync', args: ['fd'],
    handler: (p, [fd]) => {
      const f = p.fds.get(int(fd));
      const h = hostFd(f);
      if (h === undefined) return f.kind === 'pipe' ? fail(E.EINVAL) : 0;
      fdatasyncSync(h);
      return 0;
    },
  },
  { name: 'sync', args: [], handler: () => 0 },
  { name: 'syncfs', args: ['fd'], handler: (p, [fd]) => { p.fds.get(int(fd)); return 0; } },
  {
    name: 'fadvise64', args: ['fd', 'ld', 'ld', 'd'],
    handler: (p, [fd, , len, advice]) => {
      const f = p.fds.get(int(fd));
      if (f.kind === 'pipe') fail(E.ESPIPE);
      if (long(len) < 0n || int(advice) < 0 || int(advice) > 5) fail(E.EINVAL);
      return 0;
    },
  },
  {
    name: 'flock', args: ['fd', 'd'],
    handler: (p, [fd, op]) => {
      p.fds.get(int(fd));
      const LOCK_SH = 1, LOCK_EX = 2, LOCK_NB = 4, LOCK_UN = 8;
      const o = int(op) & ~LOCK_NB;
      if (o !== LOCK_SH && o !== LOCK_EX && o !== LOCK_UN) fail(E.EINVAL);
      return 0; // one process: its own locks never conflict
    },
  },
  xattr('setxattr', ['path', 'str', 'p', 'u', 'x']),
  xattr('lsetxattr', ['path', 'str', 'p', 'u', 'x']),
  xattr('fsetxattr', ['fd', 'str', 'p', 'u', 'x']),
  xattr('getxattr', ['path', 'str', 'p', 'u']),
  xattr('lgetxattr', ['path', 'str', 'p', 'u']),
  xattr('fgetxattr', ['fd', 'str', 'p', 'u']),
  xattr('listxattr', ['path', 'p', 'u']),
  xattr('llistxattr', ['path', 'p', 'u']),
  xattr('flistxattr', ['fd', 'p', 'u']),
  xattr('removexattr', ['path', 'str']),
  xattr('lremovexattr', ['path', 'str']),
  xattr('fremovexattr', ['fd', 'str']),
]);
