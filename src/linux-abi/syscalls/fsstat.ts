/**
 * Asking about files: stat, fstat, lstat, newfstatat, statx, statfs, fstatfs, access, faccessat,
 * faccessat2, readlink, readlinkat.
 */
import { accessSync, lstatSync, readlinkSync, statfsSync, statSync } from 'node:fs';
import { int, ptr, uint } from '../args.js';
import { E, fail } from '../errno.js';
import { MemFile } from '../mem-file.js';
import { type FileStat, S_IFLNK, S_IFMT } from '../open-file.js';
import {
  AT_EACCESS, AT_EMPTY_PATH, AT_FDCWD, AT_NO_AUTOMOUNT, AT_STATX_SYNC_TYPE, AT_SYMLINK_NOFOLLOW, lookup, type Target,
} from '../paths.js';
import { PipeEnd } from '../pipe.js';
import type { Proc } from '../proc.js';
import { encodeStat, encodeStatx, STATX__RESERVED } from '../stat.js';
import { defineSyscalls } from '../table.js';
import { readPath, StructOut } from '../uaccess.js';

/** stat of a lookup result; `follow` picks stat or lstat for a host path. */
export function statOf(t: Target, follow: boolean): FileStat {
  switch (t.kind) {
    case 'host': return follow ? statSync(t.path, { bigint: true }) : lstatSync(t.path, { bigint: true });
    case 'file': return t.file.stat();
    case 'synth': return new MemFile(t.path, new Uint8Array(0)).stat();
  }
}

/** The path argument of an *at() call that may be NULL with AT_EMPTY_PATH (Linux 6.11+). */
function pathArg(p: Proc, addr: bigint, flags: number): string {
  if (ptr(addr) === 0 && flags & AT_EMPTY_PATH) return '';
  return readPath(p.as, ptr(addr));
}

function statAt(p: Proc, dirfd: number, path: string, flags: number): FileStat {
  const follow = (flags & AT_SYMLINK_NOFOLLOW) === 0;
  return statOf(lookup(p, dirfd, path, { follow, emptyPath: (flags & AT_EMPTY_PATH) !== 0 }), follow);
}

/** PROC_SUPER_MAGIC and PIPEFS_MAGIC, for statfs of files that are not on a host file system. */
const PROC_MAGIC = 0x9fa0n, PIPEFS_MAGIC = 0x50495045n;

/**
 * struct statfs (x86-64, 120 bytes): f_type f_bsize f_blocks f_bfree f_bavail f_files f_ffree
 * f_fsid[2] f_namelen f_frsize f_flags f_spare[4].
 */
function statfsOf(t: Target): Uint8Array {
  const out = new StructOut(120);
  let hostPath: string | undefined;
  if (t.kind === 'host') hostPath = t.path;
  else if (t.kind === 'file') hostPath = t.file.hostPath();
  if (hostPath === undefined) {
    const type = t.kind === 'file' && t.file instanceof PipeEnd ? PIPEFS_MAGIC : PROC_MAGIC;
    return out.i64(0, type).i64(8, 4096).i64(64, 255).i64(72, 4096).i64(80, 0x20).bytes;
  }
  const s = statfsSync(hostPath, { bigint: true });
  const ST_VALID = 0x20;
  return out.i64(0, s.type).i64(8, s.bsize).u64(16, s.blocks).u64(24, s.bfree).u64(32, s.bavail)
    .u64(40, s.files).u64(48, s.ffree).i64(64, 255).i64(72, s.bsize).i64(80, ST_VALID).bytes;
}

const F_OK = 0, X_OK = 1, W_OK = 2, R_OK = 4;

function accessAt(p: Proc, dirfd: number, path: string, mode: number, flags: number): number {
  if (mode & ~(R_OK | W_OK | X_OK)) fail(E.EINVAL);
  if (flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) fail(E.EINVAL);
  const follow = (flags & AT_SYMLINK_NOFOLLOW) === 0;
  const t = lookup(p, dirfd, path, { follow, emptyPath: (flags & AT_EMPTY_PATH) !== 0 });
  if (t.kind === 'synth') return mode & (W_OK | X_OK) ? fail(E.EACCES) : 0;
  if (t.kind === 'file') {
    const hp = t.file.hostPath();
    if (hp === undefined) return 0;
    accessSync(hp, mode);
    return 0;
  }
  if (!follow && (Number(lstatSync(t.path, { bigint: true }).mode) & S_IFMT) === S_IFLNK) return 0; // links are 0777
  accessSync(t.path, mode === F_OK ? 0 : mode);
  return 0;
}

function readlinkAt(p: Proc, dirfd: number, path: string, buf: number, bufsiz: number): number {
  if (bufsiz <= 0) fail(E.EINVAL);
  const t = lookup(p, dirfd, path, { follow: false });
  let target: string;
  if (t.link !== undefined) target = t.link;
  else if (t.kind === 'host') target = readlinkSync(t.path);
  else return fail(E.EINVAL);
  const bytes = Buffer.from(target, 'utf8').subarray(0, bufsiz);
  p.as.write(buf, bytes);
  return bytes.length;
}

export const fsstatSyscalls = defineSyscalls([
  {
    name: 'stat', args: ['path', 'stat'],
    handler: (p, [path, buf]) => {
      p.as.write(ptr(buf), encodeStat(statAt(p, AT_FDCWD, readPath(p.as, ptr(path)), 0)));
      return 0;
    },
  },
  {
    name: 'lstat', args: ['path', 'stat'],
    handler: (p, [path, buf]) => {
      p.as.write(ptr(buf), encodeStat(statAt(p, AT_FDCWD, readPath(p.as, ptr(path)), AT_SYMLINK_NOFOLLOW)));
      return 0;
    },
  },
  {
    name: 'fstat', args: ['fd', 'stat'],
    handler: (p, [fd, buf]) => {
      p.as.write(ptr(buf), encodeStat(p.fds.get(int(fd)).stat()));
      return 0;
    },
  },
  {
    name: 'newfstatat', args: ['dirfd', 'path', 'stat', 'atflags'],
    handler: (p, [dirfd, path, buf, flags]) => {
      const f = int(flags);
      if (f & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT)) fail(E.EINVAL);
      p.as.write(ptr(buf), encodeStat(statAt(p, int(dirfd), pathArg(p, path, f), f)));
      return 0;
    },
  },
  {
    name: 'statx', args: ['dirfd', 'path', 'atflags', 'x', 'p'],
    handler: (p, [dirfd, path, flags, mask, buf]) => {
      const f = int(flags);
      if (f & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE)) fail(E.EINVAL);
      if ((f & AT_STATX_SYNC_TYPE) === AT_STATX_SYNC_TYPE) fail(E.EINVAL);
      if (uint(mask) & STATX__RESERVED) fail(E.EINVAL);
      p.as.write(ptr(buf), encodeStatx(statAt(p, int(dirfd), pathArg(p, path, f), f)));
      return 0;
    },
  },
  {
    name: 'statfs', args: ['path', 'p'],
    handler: (p, [path, buf]) => {
      p.as.write(ptr(buf), statfsOf(lookup(p, AT_FDCWD, readPath(p.as, ptr(path)))));
      return 0;
    },
  },
  {
    name: 'fstatfs', args: ['fd', 'p'],
    handler: (p, [fd, buf]) => {
      p.as.write(ptr(buf), statfsOf({ kind: 'file', file: p.fds.get(int(fd)) }));
      return 0;
    },
  },
  {
    name: 'access', args: ['path', 'amode'],
    handler: (p, [path, mode]) => accessAt(p, AT_FDCWD, readPath(p.as, ptr(path)), int(mode), 0),
  },
  {
    name: 'faccessat', args: ['dirfd', 'path', 'amode'],
    handler: (p, [dirfd, path, mode]) => accessAt(p, int(dirfd), readPath(p.as, ptr(path)), int(mode), 0),
  },
  {
    name: 'faccessat2', args: ['dirfd', 'path', 'amode', 'atflags'],
    handler: (p, [dirfd, path, mode, flags]) => accessAt(p, int(dirfd), pathArg(p, path, int(flags)), int(mode), int(flags)),
  },
  {
    name: 'readlink', args: ['path', 'rbuf', 'd'],
    handler: (p, [path, buf, bufsiz]) => readlinkAt(p, AT_FDCWD, readPath(p.as, ptr(path)), ptr(buf), int(bufsiz)),
  },
  {
    name: 'readlinkat', args: ['dirfd', 'path', 'rbuf', 'd'],
    handler: (p, [dirfd, path, buf, bufsiz]) => readlinkAt(p, int(dirfd), readPath(p.as, ptr(path)), ptr(buf), int(bufsiz)),
  },
]);
