/**
 * Opening and closing: open, openat, openat2, creat, close, close_range.
 */
import { openSync } from 'node:fs';
import { int, ptr, size, uint } from '../args.js';
import { E, fail } from '../errno.js';
import {
  descriptionFlags, hostOpenFlags, O_ACCMODE, O_APPEND, O_CLOEXEC, O_CREAT, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK,
  O_RDONLY, O_TMPFILE, O_TRUNC, O_WRONLY,
} from '../flags.js';
import { HostFile } from '../host-file.js';
import { MemFile } from '../mem-file.js';
import type { OpenFile } from '../open-file.js';
import { AT_FDCWD, lookup } from '../paths.js';
import { PipeEnd } from '../pipe.js';
import { UsmDevice } from '../usm-device.js';
import { FdDir } from '../proc-fd-dir.js';
import type { Proc } from '../proc.js';
import { defineSyscalls } from '../table.js';
import { readPath, StructIn } from '../uaccess.js';

/** openat(2): opens `path` relative to dirfd and returns the new guest fd. */
export function openAt(p: Proc, dirfd: number, path: string, flags: number, mode: number): number {
  const host = hostOpenFlags(flags);
  if (host < 0) fail(E.EOPNOTSUPP);
  const t = lookup(p, dirfd, path, { follow: (flags & O_NOFOLLOW) === 0 });
  const acc = flags & O_ACCMODE;
  let file: OpenFile;
  if (t.kind === 'synth') {
    if (acc !== O_RDONLY || flags & (O_CREAT | O_TRUNC)) fail(E.EACCES);
    if (flags & O_DIRECTORY) fail(E.ENOTDIR);
    file = new MemFile(t.path, t.content());
  } else if (t.kind === 'file') {
    // /proc/self/fd/N of a pipe or a made-up file: a new description of the same thing.
    const f = t.file;
    if (f instanceof FdDir) {
      if (acc !== O_RDONLY) fail(E.EISDIR);
      file = new FdDir(f.proc);
    } else if (flags & O_DIRECTORY) fail(E.ENOTDIR);
    else if (f instanceof PipeEnd) file = new PipeEnd(f.pipe, acc === O_WRONLY ? 'w' : 'r', (flags & O_NONBLOCK) !== 0);
    else if (f instanceof MemFile) file = new MemFile(f.path, f.content);
    else if (f instanceof UsmDevice) file = new UsmDevice(f.usm, descriptionFlags(flags));
    else return fail(E.ENXIO);
  } else {
    const fd = openSync(t.path, host, mode & 0o7777);
    file = new HostFile(fd, descriptionFlags(flags), { path: t.path, hostAppend: (flags & O_APPEND) !== 0 });
  }
  try {
    return p.fds.alloc(file, (flags & O_CLOEXEC) !== 0);
  } catch (e) {
    file.release();
    throw e;
  }
}

/** RESOLVE_* flags of openat2 (accepted and not enforced; see the note in the handler). */
const RESOLVE_ALL = 0x1f | 0x20;

export const openSyscalls = defineSyscalls([
  {
    name: 'open', args: ['path', 'oflags', 'omode'],
    handler: (p, [path, flags, mode]) => openAt(p, AT_FDCWD, readPath(p.as, ptr(path)), int(flags), uint(mode)),
  },
  {
    name: 'openat', args: ['dirfd', 'path', 'oflags', 'omode'],
    handler: (p, [dirfd, path, flags, mode]) => openAt(p, int(dirfd), readPath(p.as, ptr(path)), int(flags), uint(mode)),
  },
  {
    name: 'creat', args: ['path', 'mode'],
    handler: (p, [path, mode]) => openAt(p, AT_FDCWD, readPath(p.as, ptr(path)), O_CREAT | O_WRONLY | O_TRUNC, uint(mode)),
  },
  {
    name: 'openat2', args: ['dirfd', 'path', 'p', 'u'],
    handler: (p, [dirfd, path, howPtr, howSize]) => {
      // struct open_how { u64 flags; u64 mode; u64 resolve; }
      const n = size(howSize);
      if (n < 24) fail(E.EINVAL);
      if (n > 4096) fail(E.E2BIG);
      const how = StructIn.read(p.as, ptr(howPtr), 24);
      const flags = how.u64(0), mode = how.u64(8), resolve = how.u64(16);
      if (flags > 0xffff_ffffn || mode > 0o7777n) fail(E.EINVAL);
      if (mode !== 0n && !(Number(flags) & O_CREAT) && (Number(flags) & O_TMPFILE) !== O_TMPFILE) fail(E.EINVAL);
      if (resolve & ~BigInt(RESOLVE_ALL)) fail(E.EINVAL);
      if (resolve !== 0n) p.warnOnce('openat2-resolve', 'openat2: RESOLVE_* restrictions are not enforced');
      return openAt(p, int(dirfd), readPath(p.as, ptr(path)), Number(flags), Number(mode));
    },
  },
  {
    name: 'close', args: ['fd'],
    handler: (p, [fd]) => {
      p.fds.close(int(fd));
      return 0;
    },
  },
  {
    name: 'close_range', args: ['d', 'd', 'x'],
    handler: (p, [first, last, flags]) => {
      const lo = uint(first), hi = uint(last), f = uint(flags);
      const CLOSE_RANGE_UNSHARE = 2, CLOSE_RANGE_CLOEXEC = 4;
      if (f & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC) || lo > hi) fail(E.EINVAL);
      for (const fd of [...p.fds.fds()]) {
        if (fd < lo || fd > hi) continue;
        if (f & CLOSE_RANGE_CLOEXEC) p.fds.entry(fd).cloexec = true;
        else p.fds.close(fd);
      }
      return 0;
    },
  },
]);
