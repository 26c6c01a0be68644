/**
 * Path lookup for the guest: relative paths against the guest's working directory or a dirfd, and
 * the /proc/self entries that must describe the guest rather than the emulator.
 *
 * Lookups relative to a directory fd go through the host's /proc/self/fd/N/..., which makes the
 * host kernel start at that very directory even if it was renamed, exactly as openat does.
 */
import { E, fail } from './errno.js';
import type { OpenFile } from './open-file.js';
import type { Proc } from './proc.js';
import { mapsText } from './procfs.js';
import { FdDir } from './proc-fd-dir.js';
import { accessSync, constants, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { USM_DEVICE_PATH, UsmDevice } from './usm-device.js';

export const AT_FDCWD = -100;
export const AT_SYMLINK_NOFOLLOW = 0x100;
export const AT_REMOVEDIR = 0x200;
export const AT_EACCESS = 0x200;
export const AT_SYMLINK_FOLLOW = 0x400;
export const AT_NO_AUTOMOUNT = 0x800;
export const AT_EMPTY_PATH = 0x1000;
export const AT_STATX_SYNC_TYPE = 0x6000;

/** Where a guest path leads. */
export type Target =
  /** A host path; `link` is what readlink answers when the kernel knows better than the host. */
  | { kind: 'host'; path: string; link?: string }
  /** An open description (AT_EMPTY_PATH, or /proc/self/fd/N of something with no host path). */
  | { kind: 'file'; file: OpenFile; link?: string }
  /** A file made up by the kernel (/proc/self/maps). */
  | { kind: 'synth'; path: string; content: () => Uint8Array; link?: string };

export interface LookupOptions {
  /** AT_EMPTY_PATH: "" names dirfd itself. */
  emptyPath?: boolean;
  /** Follow a final symlink (false for lstat, readlink, O_NOFOLLOW). */
  follow?: boolean;
}

export function joinPath(dir: string, rel: string): string {
  return dir.endsWith('/') ? dir + rel : `${dir}/${rel}`;
}

/** Resolves (dirfd, path) the way the *at() calls do. */
export function lookup(p: Proc, dirfd: number, path: string, opts: LookupOptions = {}): Target {
  if (path === '') {
    if (!opts.emptyPath) fail(E.ENOENT);
    if (dirfd === AT_FDCWD) return { kind: 'host', path: p.cwd };
    return { kind: 'file', file: p.fds.get(dirfd) };
  }
  const absolute = path.startsWith('/');
  if (!absolute) {
    if (dirfd !== AT_FDCWD) {
      const dir = p.fds.get(dirfd);
      if (!dir.isDirectory) fail(E.ENOTDIR);
      return { kind: 'host', path: joinPath(dir.hostPath() ?? fail(E.ENOTDIR), path) };
    }
    path = joinPath(p.cwd, path);
  }
  if (p.usm && posix.normalize(path) === USM_DEVICE_PATH) return { kind: 'file', file: new UsmDevice(p.usm), link: USM_DEVICE_PATH };
  return procSelf(p, path, opts.follow ?? true) ?? { kind: 'host', path: absolute && p.sysroot ? underSysroot(p.sysroot, path) : path };
}

/**
 * `-L PREFIX`, as qemu-user's path(): an absolute path the guest names is PREFIX + path if that
 * exists (access F_OK: a dangling symlink under the prefix does not count), else the path itself.
 * Relative paths and the working directory are not prefixed.
 */
export function underSysroot(sysroot: string, path: string): string {
  const full = sysroot + path;
  try {
    accessSync(full, constants.F_OK);
    return full;
  } catch {
    return path;
  }
}

/** The host path for a lookup that must end at a path (not an fd): mkdir, unlink, rename... */
export function hostPathOf(p: Proc, dirfd: number, path: string, opts: LookupOptions = {}): string {
  const t = lookup(p, dirfd, path, opts);
  if (t.kind === 'host') return t.path;
  if (t.kind === 'file') return t.file.hostPath() ?? fail(E.ENOENT);
  return fail(E.EACCES); // made-up /proc files cannot be changed
}

/**
 * /proc/self/status: the host's (memory and capability lines are usmjit's, close enough), with
 * the guest process's name, ids, thread count and signal sets.
 */
function statusText(p: Proc): string {
  let host = '';
  try { host = readFileSync('/proc/self/status', 'utf8'); } catch { /* none */ }
  const hex = (v: bigint) => BigInt.asUintN(64, v).toString(16).padStart(16, '0');
  const st = p.signals;
  let ign = 0n, cgt = 0n;
  for (let s = 1; s <= 64; s++) {
    const h = st.action(s).handler;
    if (h === 1n) ign |= 1n << BigInt(s - 1);
    else if (h !== 0n) cgt |= 1n << BigInt(s - 1);
  }
  const set: Record<string, string> = {
    Name: p.threadName, State: 'R (running)', Tgid: String(p.pid), Pid: String(p.tid), PPid: String(p.ppid),
    Threads: String(p.threadCount), SigPnd: hex(st.own), ShdPnd: hex(st.shared), SigBlk: hex(st.blocked),
    SigIgn: hex(ign), SigCgt: hex(cgt),
  };
  return host.split('\n').map((line) => {
    const k = line.slice(0, line.indexOf(':'));
    return k in set ? `${k}:\t${set[k]}` : line;
  }).join('\n');
}

const PROC_SELF = /^\/proc\/(self|thread-self|(\d+)(?:\/task\/(\d+))?)(\/.*)?$/;

function procSelf(self: Proc, path: string, follow: boolean): Target | undefined {
  const m = PROC_SELF.exec(path);
  if (!m) return undefined;
  // /proc/PID of any guest process is the guest's (the first one has the host's pid); another
  // pid is the host's.
  const p = m[2] === undefined || Number(m[2]) === self.pid ? self : self.host?.process(Number(m[2]));
  if (!p || p.exitStatus !== undefined) return undefined;
  if (m[3] !== undefined && !p.threads.has(Number(m[3]))) return undefined;
  const rest = (m[4] ?? '').replace(/\/+$/, '');
  if (rest === '/exe') {
    // lstat sees the host's magic link (a symlink, as it should be); everything else the program.
    return { kind: 'host', path: follow ? p.exePath : '/proc/self/exe', link: p.exePath };
  }
  if (rest === '/maps') {
    return { kind: 'synth', path: '/proc/self/maps', content: () => Buffer.from(mapsText(p.as)) };
  }
  const img = p.image;
  if (img && (rest === '/cmdline' || rest === '/environ' || rest === '/auxv')) {
    // Like Linux: cmdline and environ are read from the guest's stack at open time (a program
    // that rewrites its argv strings sees the change); auxv is the vector the loader wrote.
    const content = () => {
      if (rest === '/auxv') {
        const b = Buffer.alloc(img.auxv.length * 16);
        img.auxv.forEach(([k, v], i) => { b.writeBigUInt64LE(BigInt(k), i * 16); b.writeBigUInt64LE(BigInt(v), i * 16 + 8); });
        return b;
      }
      const [start, end] = rest === '/cmdline' ? [img.argStart, img.argEnd] : [img.envStart, img.envEnd];
      try {
        return Buffer.from(p.as.read(start, end - start));
      } catch {
        return Buffer.alloc(0);
      }
    };
    return { kind: 'synth', path: '/proc/self' + rest, content };
  }
  const cwd = /^\/cwd(\/.*)?$/.exec(rest);
  if (cwd) {
    if (!cwd[1] && !follow) return { kind: 'host', path: '/proc/self/cwd', link: p.cwd };
    return { kind: 'host', path: p.cwd + (cwd[1] ?? ''), link: p.cwd };
  }
  if (rest === '/fd') return { kind: 'file', file: new FdDir(p), link: `/proc/${p.pid}/fd` };
  if (rest === '/status') return { kind: 'synth', path: '/proc/self/status', content: () => Buffer.from(statusText(p)) };
  const fd = /^\/fd\/(\d+)(\/.*)?$/.exec(rest);
  if (fd) {
    const n = Number(fd[1]);
    if (!p.fds.has(n)) fail(E.ENOENT);
    const file = p.fds.get(n);
    const host = file.hostPath();
    if (host !== undefined) return { kind: 'host', path: host + (fd[2] ?? ''), link: file.linkName() };
    if (fd[2]) fail(E.ENOTDIR);
    return { kind: 'file', file, link: file.linkName() };
  }
  return undefined;
}
