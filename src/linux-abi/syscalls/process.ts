/**
 * The process itself: exit, exit_group, identity (getpid ... getsid, setpgid, setsid, the uid/gid
 * calls), uname, arch_prctl, prctl, set_tid_address, set_robust_list, get_robust_list, rseq,
 * umask, getrandom, personality.
 */
import { randomFillSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname, release, version } from 'node:os';
import { Access, USER_TOP } from '../../paging/address-space.js';
import { GuestExit, ThreadExit } from '../../core/exits.js';
import { int, ptr, size, uint, ulong } from '../args.js';
import { E, fail } from '../errno.js';
import type { Proc } from '../proc.js';
import { defineSyscalls } from '../table.js';
import { prctlSetSeccomp } from './seccomp.js';
import { accessiblePrefix, StructOut } from '../uaccess.js';

export const ARCH_SET_GS = 0x1001, ARCH_SET_FS = 0x1002, ARCH_GET_FS = 0x1003, ARCH_GET_GS = 0x1004,
  ARCH_GET_CPUID = 0x1011, ARCH_SET_CPUID = 0x1012;

export const PR_SET_PDEATHSIG = 1, PR_GET_PDEATHSIG = 2, PR_GET_DUMPABLE = 3, PR_SET_DUMPABLE = 4,
  PR_GET_KEEPCAPS = 7, PR_SET_KEEPCAPS = 8, PR_SET_NAME = 15, PR_GET_NAME = 16, PR_GET_SECCOMP = 21, PR_SET_SECCOMP = 22,
  PR_CAPBSET_READ = 23, PR_SET_TIMERSLACK = 29, PR_GET_TIMERSLACK = 30, PR_SET_CHILD_SUBREAPER = 36,
  PR_GET_CHILD_SUBREAPER = 37, PR_SET_NO_NEW_PRIVS = 38, PR_GET_NO_NEW_PRIVS = 39, PR_SET_THP_DISABLE = 41,
  PR_GET_THP_DISABLE = 42, PR_SET_VMA = 0x53564d41;

export const GRND_NONBLOCK = 1, GRND_RANDOM = 2, GRND_INSECURE = 4;

const uid = (): number => process.getuid?.() ?? 0;
const euid = (): number => process.geteuid?.() ?? uid();
const gid = (): number => process.getgid?.() ?? 0;
const egid = (): number => process.getegid?.() ?? gid();

/** Process group and session of another process, from /proc/PID/stat. */
function otherStat(pid: number): [number, number] {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return [Number(f[2]), Number(f[3])];
  } catch {
    return fail(E.ESRCH);
  }
}

/** Another live guest process (process-host.ts), if `pid` is one. */
const guest = (p: Proc, pid: number): Proc | undefined => {
  const q = p.host?.process(pid);
  return q && q.exitStatus === undefined ? q : undefined;
};

/** struct utsname: six 65-byte strings. */
function utsname(): Uint8Array {
  const s = new StructOut(6 * 65);
  ['Linux', hostname(), release(), version(), 'x86_64', '(none)'].forEach((v, i) => s.str(i * 65, v, 65));
  return s.bytes;
}

function archPrctl(p: Proc, code: number, addr: bigint): number {
  const cpu = p.cpu;
  switch (code) {
    case ARCH_SET_FS:
    case ARCH_SET_GS:
      if (ulong(addr) >= BigInt(USER_TOP)) fail(E.EPERM);
      if (code === ARCH_SET_FS) cpu.fsBase = addr;
      else cpu.gsBase = addr;
      return 0;
    case ARCH_GET_FS: p.as.writeU64(ptr(addr), cpu.fsBase); return 0;
    case ARCH_GET_GS: p.as.writeU64(ptr(addr), cpu.gsBase); return 0;
    case ARCH_GET_CPUID: return 1;
    case ARCH_SET_CPUID: return ulong(addr) === 0n ? fail(E.ENODEV) : 0;
    default: return fail(E.EINVAL);
  }
}

function prctl(p: Proc, a: readonly bigint[]): number {
  const op = int(a[0]);
  const arg2 = a[1];
  switch (op) {
    case PR_SET_NAME: {
      const name = Buffer.from(p.as.readCStringBytes(ptr(arg2), 16)).subarray(0, 15);
      p.threadName = name.toString('utf8');
      return 0;
    }
    case PR_GET_NAME: new StructOut(16).str(0, p.threadName, 16).write(p.as, ptr(arg2)); return 0;
    case PR_SET_PDEATHSIG: {
      const s = int(arg2);
      if (s < 0 || s > 64) fail(E.EINVAL);
      return 0;
    }
    case PR_GET_PDEATHSIG: p.as.writeU32(ptr(arg2), 0); return 0;
    case PR_GET_DUMPABLE: return 1;
    case PR_SET_DUMPABLE: return ulong(arg2) > 1n ? fail(E.EINVAL) : 0;
    case PR_GET_KEEPCAPS: return 0;
    case PR_SET_KEEPCAPS: return 0;
    case PR_GET_SECCOMP: return p.seccomp.mode;
    case PR_SET_SECCOMP: return prctlSetSeccomp(p, arg2, a[2]);
    case PR_CAPBSET_READ: return int(arg2) >= 0 && int(arg2) <= 40 ? 1 : fail(E.EINVAL);
    case PR_SET_TIMERSLACK: return 0;
    case PR_GET_TIMERSLACK: return 50_000;
    case PR_SET_CHILD_SUBREAPER: return 0;
    case PR_GET_CHILD_SUBREAPER: p.as.writeU32(ptr(arg2), 0); return 0;
    case PR_SET_NO_NEW_PRIVS:
      if (ulong(arg2) !== 1n || a[2] || a[3] || a[4]) fail(E.EINVAL);
      p.noNewPrivs = true;
      return 0;
    case PR_GET_NO_NEW_PRIVS: return a[1] || a[2] || a[3] || a[4] ? fail(E.EINVAL) : p.noNewPrivs ? 1 : 0;
    case PR_SET_THP_DISABLE: return 0;
    case PR_GET_THP_DISABLE: return 0;
    case PR_SET_VMA: return 0; // naming anonymous mappings: accepted, not shown in maps
    default: return fail(E.EINVAL);
  }
}

function getrandom(p: Proc, buf: number, len: number, flags: number): number {
  if (flags & ~(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE)) fail(E.EINVAL);
  if ((flags & (GRND_RANDOM | GRND_INSECURE)) === (GRND_RANDOM | GRND_INSECURE)) fail(E.EINVAL);
  const n = Math.min(len, 0x7fff_ffff, 32 << 20);
  if (n === 0) return 0;
  const room = accessiblePrefix(p.as, buf, n, Access.Write);
  if (room === 0) fail(E.EFAULT);
  for (let done = 0; done < room;) {
    const k = Math.min(room - done, 1 << 16);
    p.as.write(buf + done, randomFillSync(new Uint8Array(k)));
    done += k;
  }
  return room;
}

/** setuid-style calls: keeping the current ids is fine; changing them is not possible here. */
function keepIds(p: Proc, what: string, ids: bigint[], current: number[]): number {
  for (const v of ids) {
    const n = uint(v);
    if (n === 0xffff_ffff || current.includes(n)) continue;
    p.warnOnce(what, `${what}: changing ids is not supported`);
    return fail(E.EPERM);
  }
  return 0;
}

export const processSyscalls = defineSyscalls([
  { name: 'exit', args: ['d'], handler: (_p, [status]) => { throw new ThreadExit(int(status) & 0xff); } },
  { name: 'exit_group', args: ['d'], handler: (_p, [status]) => { throw new GuestExit(int(status) & 0xff); } },
  { name: 'getpid', args: [], handler: (p) => p.pid },
  { name: 'gettid', args: [], handler: (p) => p.tid },
  { name: 'getppid', args: [], handler: (p) => p.ppid },
  { name: 'getuid', args: [], handler: () => uid() },
  { name: 'geteuid', args: [], handler: () => euid() },
  { name: 'getgid', args: [], handler: () => gid() },
  { name: 'getegid', args: [], handler: () => egid() },
  {
    name: 'getresuid', args: ['p', 'p', 'p'],
    handler: (p, [r, e, s]) => { for (const a of [r, e, s]) p.as.writeU32(ptr(a), a === e ? euid() : uid()); return 0; },
  },
  {
    name: 'getresgid', args: ['p', 'p', 'p'],
    handler: (p, [r, e, s]) => { for (const a of [r, e, s]) p.as.writeU32(ptr(a), a === e ? egid() : gid()); return 0; },
  },
  {
    name: 'getgroups', args: ['d', 'p'],
    handler: (p, [n, list]) => {
      const groups = process.getgroups?.() ?? [];
      const count = int(n);
      if (count < 0) fail(E.EINVAL);
      if (count === 0) return groups.length;
      if (count < groups.length) fail(E.EINVAL);
      const s = new StructOut(4 * groups.length);
      groups.forEach((g, i) => s.u32(i * 4, g));
      if (groups.length) s.write(p.as, ptr(list));
      return groups.length;
    },
  },
  { name: 'setuid', args: ['d'], handler: (p, [u]) => keepIds(p, 'setuid', [u], [uid(), euid()]) },
  { name: 'setgid', args: ['d'], handler: (p, [g]) => keepIds(p, 'setgid', [g], [gid(), egid()]) },
  { name: 'setreuid', args: ['d', 'd'], handler: (p, [r, e]) => keepIds(p, 'setreuid', [r, e], [uid(), euid()]) },
  { name: 'setregid', args: ['d', 'd'], handler: (p, [r, e]) => keepIds(p, 'setregid', [r, e], [gid(), egid()]) },
  { name: 'setresuid', args: ['d', 'd', 'd'], handler: (p, [r, e, s]) => keepIds(p, 'setresuid', [r, e, s], [uid(), euid()]) },
  { name: 'setresgid', args: ['d', 'd', 'd'], handler: (p, [r, e, s]) => keepIds(p, 'setresgid', [r, e, s], [gid(), egid()]) },
  { name: 'setfsuid', args: ['d'], handler: () => euid() },
  { name: 'setfsgid', args: ['d'], handler: () => egid() },
  { name: 'getpgrp', args: [], handler: (p) => p.pgid },
  {
    name: 'getpgid', args: ['d'],
    handler: (p, [pid]) => (int(pid) === 0 || int(pid) === p.pid ? p.pgid : guest(p, int(pid))?.pgid ?? otherStat(int(pid))[0]),
  },
  {
    name: 'getsid', args: ['d'],
    handler: (p, [pid]) => (int(pid) === 0 || int(pid) === p.pid ? p.sid : guest(p, int(pid))?.sid ?? otherStat(int(pid))[1]),
  },
  {
    name: 'setpgid', args: ['d', 'd'],
    handler: (p, [pid, pgid]) => {
      const who = int(pid), to = int(pgid);
      if (to < 0) fail(E.EINVAL);
      // Ourselves or one of our children (a shell putting a job in its own group).
      const t = who === 0 || who === p.pid ? p : [...p.children].find((c) => c.pid === who);
      if (!t || t.exitStatus !== undefined) return fail(E.ESRCH);
      if (t !== p && t.sid !== p.sid) fail(E.EPERM);
      if (t.sid === t.pid) fail(E.EPERM); // a session leader cannot move
      t.pgid = to === 0 ? t.pid : to;
      return 0;
    },
  },
  {
    name: 'setsid', args: [],
    handler: (p) => {
      if (p.pgid === p.pid) fail(E.EPERM);
      p.sid = p.pid;
      p.pgid = p.pid;
      return p.pid;
    },
  },
  {
    name: 'uname', args: ['p'],
    handler: (p, [buf]) => { p.as.write(ptr(buf), utsname()); return 0; },
  },
  { name: 'arch_prctl', args: ['arch', 'x'], handler: (p, [code, addr]) => archPrctl(p, int(code), addr) },
  { name: 'prctl', args: ['d', 'x', 'x', 'x', 'x'], handler: (p, a) => prctl(p, a) },
  {
    name: 'set_tid_address', args: ['p'],
    handler: (p, [addr]) => { p.clearChildTid = ulong(addr); return p.tid; },
  },
  {
    name: 'set_robust_list', args: ['p', 'u'],
    handler: (p, [head, len]) => {
      if (ulong(len) !== 24n) fail(E.EINVAL); // sizeof(struct robust_list_head)
      p.robustList = ulong(head);
      return 0;
    },
  },
  {
    name: 'get_robust_list', args: ['d', 'p', 'p'],
    handler: (p, [pid, head, len]) => {
      if (int(pid) !== 0 && int(pid) !== p.tid) fail(E.ESRCH);
      p.as.writeU64(ptr(head), p.robustList);
      p.as.writeU64(ptr(len), 24n);
      return 0;
    },
  },
  // glibc registers rseq when the kernel has it and copes without: not offering it is simplest.
  { name: 'rseq', args: ['p', 'u', 'x', 'x'], handler: () => fail(E.ENOSYS) },
  {
    name: 'umask', args: ['mode'], ret: 'o',
    handler: (_p, [mask]) => process.umask(uint(mask) & 0o777),
  },
  {
    name: 'getrandom', args: ['rbuf', 'u', 'x'],
    handler: (p, [buf, len, flags]) => getrandom(p, ptr(buf), size(len), uint(flags)),
  },
  {
    name: 'personality', args: ['x'],
    handler: (_p, [persona]) => {
      const v = uint(persona);
      if (v !== 0xffff_ffff && (v & 0xff) !== 0) fail(E.EINVAL); // only PER_LINUX
      return 0;
    },
  },
]);

