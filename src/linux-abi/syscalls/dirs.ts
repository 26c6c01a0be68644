/**
 * Directories and names: getdents64, getdents, getcwd, chdir, fchdir, mkdir, mkdirat, rmdir,
 * unlink, unlinkat, rename, renameat, renameat2, link, linkat, symlink, symlinkat.
 */
import { accessSync, constants, linkSync, lstatSync, mkdirSync, realpathSync, renameSync, rmdirSync, statSync, symlinkSync, unlinkSync } from 'node:fs';
import { int, ptr, size, uint } from '../args.js';
import { E, errnoFromNode, fail } from '../errno.js';
import { AT_EMPTY_PATH, AT_FDCWD, AT_REMOVEDIR, AT_SYMLINK_FOLLOW, hostPathOf } from '../paths.js';
import type { Proc } from '../proc.js';
import { defineSyscalls } from '../table.js';
import { readPath, StructOut } from '../uaccess.js';

const align8 = (n: number): number => (n + 7) & ~7;

/**
 * Fills a getdents buffer from the directory position. `legacy` selects struct linux_dirent
 * (d_type in the record's last byte) over linux_dirent64. EINVAL if not even one entry fits.
 */
function getdents(p: Proc, fd: number, buf: number, count: number, legacy: boolean): number {
  const file = p.fds.get(fd);
  if (!file.isDirectory) fail(E.ENOTDIR);
  const { entries, start } = file.dirEntries();
  const out = new StructOut(Math.min(count, 1 << 20));
  let off = 0, n = 0;
  for (const e of entries) {
    const name = typeof e.name === 'string' ? Buffer.from(e.name, 'utf8') : e.name;
    // linux_dirent64: u64 d_ino, i64 d_off, u16 d_reclen, u8 d_type, char d_name[]
    // linux_dirent:   u64 d_ino, u64 d_off, u16 d_reclen, char d_name[], ..., u8 d_type (last byte)
    const reclen = legacy ? align8(18 + name.length + 2) : align8(19 + name.length + 1);
    if (off + reclen > out.bytes.length) {
      if (n === 0) fail(E.EINVAL);
      break;
    }
    out.u64(off, e.ino).i64(off + 8, start + n + 1).u16(off + 16, reclen);
    if (legacy) {
      out.bytes.set(name, off + 18);
      out.u8(off + reclen - 1, e.type);
    } else {
      out.u8(off + 18, e.type);
      out.bytes.set(name, off + 19);
    }
    off += reclen;
    n++;
  }
  if (off > 0) p.as.write(buf, out.bytes.subarray(0, off));
  file.dirAdvance(n);
  return off;
}

/** chdir to a host path: must be a searchable directory; the cwd becomes its canonical path. */
function changeDir(p: Proc, hostPath: string): number {
  const st = statSync(hostPath);
  if (!st.isDirectory()) fail(E.ENOTDIR);
  accessSync(hostPath, constants.X_OK);
  p.cwd = realpathSync.native(hostPath);
  return 0;
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch (e) {
    if (errnoFromNode(e) === E.ENOENT) return false;
    throw e;
  }
}

const RENAME_NOREPLACE = 1, RENAME_EXCHANGE = 2, RENAME_WHITEOUT = 4;

function renameAt(p: Proc, oldDir: number, oldPath: string, newDir: number, newPath: string, flags: number): number {
  if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT)) fail(E.EINVAL);
  if (flags & RENAME_EXCHANGE && flags & (RENAME_NOREPLACE | RENAME_WHITEOUT)) fail(E.EINVAL);
  const from = hostPathOf(p, oldDir, oldPath, { follow: false });
  const to = hostPathOf(p, newDir, newPath, { follow: false });
  if (flags & (RENAME_EXCHANGE | RENAME_WHITEOUT)) {
    p.warnOnce('renameat2', 'renameat2: RENAME_EXCHANGE/RENAME_WHITEOUT are not supported');
    fail(E.EINVAL);
  }
  if (flags & RENAME_NOREPLACE) {
    lstatSync(from); // ENOENT for a missing source comes first
    if (exists(to)) fail(E.EEXIST);
  }
  renameSync(from, to);
  return 0;
}

function linkAt(p: Proc, oldDir: number, oldPath: string, newDir: number, newPath: string, flags: number): number {
  if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)) fail(E.EINVAL);
  let from = hostPathOf(p, oldDir, oldPath, { follow: (flags & AT_SYMLINK_FOLLOW) !== 0, emptyPath: (flags & AT_EMPTY_PATH) !== 0 });
  if (flags & AT_SYMLINK_FOLLOW || (flags & AT_EMPTY_PATH && oldPath === '')) from = realpathSync.native(from);
  linkSync(from, hostPathOf(p, newDir, newPath, { follow: false }));
  return 0;
}

function unlinkAt(p: Proc, dirfd: number, path: string, flags: number): number {
  if (flags & ~AT_REMOVEDIR) fail(E.EINVAL);
  const hp = hostPathOf(p, dirfd, path, { follow: false });
  if (flags & AT_REMOVEDIR) rmdirSync(hp);
  else unlinkSync(hp);
  return 0;
}

function mkdirAt(p: Proc, dirfd: number, path: string, mode: number): number {
  mkdirSync(hostPathOf(p, dirfd, path, { follow: false }), { mode: mode & 0o7777 });
  return 0;
}

function symlinkAt(p: Proc, target: string, dirfd: number, path: string): number {
  symlinkSync(target, hostPathOf(p, dirfd, path, { follow: false }));
  return 0;
}

const path = (p: Proc, a: bigint): string => readPath(p.as, ptr(a));

export const dirSyscalls = defineSyscalls([
  {
    name: 'getdents64', args: ['fd', 'p', 'u'],
    handler: (p, [fd, buf, count]) => getdents(p, int(fd), ptr(buf), Math.min(size(count), 0x7fff_ffff), false),
  },
  {
    name: 'getdents', args: ['fd', 'p', 'u'],
    handler: (p, [fd, buf, count]) => getdents(p, int(fd), ptr(buf), Math.min(uint(count), 0x7fff_ffff), true),
  },
  {
    name: 'getcwd', args: ['opath', 'u'],
    handler: (p, [buf, len]) => {
      const bytes = Buffer.from(p.cwd + '\0', 'utf8');
      if (size(len) < bytes.length) fail(E.ERANGE);
      p.as.write(ptr(buf), bytes);
      return bytes.length;
    },
  },
  {
    name: 'chdir', args: ['path'],
    handler: (p, [a]) => changeDir(p, hostPathOf(p, AT_FDCWD, path(p, a))),
  },
  {
    name: 'fchdir', args: ['fd'],
    handler: (p, [fd]) => {
      const file = p.fds.get(int(fd));
      if (!file.isDirectory) fail(E.ENOTDIR);
      return changeDir(p, file.hostPath() ?? fail(E.ENOTDIR));
    },
  },
  { name: 'mkdir', args: ['path', 'mode'], handler: (p, [a, mode]) => mkdirAt(p, AT_FDCWD, path(p, a), uint(mode)) },
  { name: 'mkdirat', args: ['dirfd', 'path', 'mode'], handler: (p, [d, a, mode]) => mkdirAt(p, int(d), path(p, a), uint(mode)) },
  { name: 'rmdir', args: ['path'], handler: (p, [a]) => unlinkAt(p, AT_FDCWD, path(p, a), AT_REMOVEDIR) },
  { name: 'unlink', args: ['path'], handler: (p, [a]) => unlinkAt(p, AT_FDCWD, path(p, a), 0) },
  { name: 'unlinkat', args: ['dirfd', 'path', 'atflags'], handler: (p, [d, a, f]) => unlinkAt(p, int(d), path(p, a), int(f)) },
  {
    name: 'rename', args: ['path', 'path'],
    handler: (p, [a, b]) => renameAt(p, AT_FDCWD, path(p, a), AT_FDCWD, path(p, b), 0),
  },
  {
    name: 'renameat', args: ['dirfd', 'path', 'dirfd', 'path'],
    handler: (p, [d1, a, d2, b]) => renameAt(p, int(d1), path(p, a), int(d2), path(p, b), 0),
  },
  {
    name: 'renameat2', args: ['dirfd', 'path', 'dirfd', 'path', 'x'],
    handler: (p, [d1, a, d2, b, f]) => renameAt(p, int(d1), path(p, a), int(d2), path(p, b), uint(f)),
  },
  {
    name: 'link', args: ['path', 'path'],
    handler: (p, [a, b]) => linkAt(p, AT_FDCWD, path(p, a), AT_FDCWD, path(p, b), 0),
  },
  {
    name: 'linkat', args: ['dirfd', 'path', 'dirfd', 'path', 'atflags'],
    handler: (p, [d1, a, d2, b, f]) => linkAt(p, int(d1), path(p, a), int(d2), path(p, b), int(f)),
  },
  { name: 'symlink', args: ['path', 'path'], handler: (p, [t, a]) => symlinkAt(p, path(p, t), AT_FDCWD, path(p, a)) },
  {
    name: 'symlinkat', args: ['path', 'dirfd', 'path'],
    handler: (p, [t, d, a]) => symlinkAt(p, path(p, t), int(d), path(p, a)),
  },
]);

