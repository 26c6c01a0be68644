/**
 * Resources and scheduling: prlimit64, getrlimit, setrlimit, getrusage, sysinfo,
 * sched_getaffinity, sched_setaffinity, sched_yield, getcpu, getpriority, setpriority,
 * sched_getscheduler, sched_getparam, sched_setscheduler, sched_get_priority_max/min.
 */
import { readFileSync } from 'node:fs';
import { freemem, loadavg, totalmem, uptime } from 'node:os';
import { int, ptr, size } from '../args.js';
import { E, fail } from '../errno.js';
import { NR_OPEN, RLIM_NLIMITS, RLIMIT_NOFILE, type RLimit } from '../limits.js';
import type { Proc } from '../proc.js';
import { defineSyscalls } from '../table.js';
import { StructIn, StructOut } from '../uaccess.js';

/** The guest sees 2 CPUs (affinity mask 0b11). */
export const GUEST_CPUS = 2;

function rlimit(p: Proc, pid: number, resource: number, newAddr: number, oldAddr: number): number {
  if (pid !== 0 && pid !== p.pid) fail(E.ESRCH);
  if (resource < 0 || resource >= RLIM_NLIMITS) fail(E.EINVAL);
  let next: RLimit | undefined;
  if (newAddr) {
    const s = StructIn.read(p.as, newAddr, 16);
    next = { cur: s.u64(0), max: s.u64(8) };
    if (next.cur > next.max) fail(E.EINVAL);
    const old = p.limits.get(resource);
    if (next.max > old.max && (process.geteuid?.() ?? 0) !== 0) fail(E.EPERM);
    if (resource === RLIMIT_NOFILE && next.max > NR_OPEN) fail(E.EPERM);
  }
  if (oldAddr) {
    const old = p.limits.get(resource);
    new StructOut(16).u64(0, old.cur).u64(8, old.max).write(p.as, oldAddr);
  }
  if (next) p.limits.set(resource, next);
  return 0;
}

/**
 * struct rusage: ru_utime, ru_stime (timeval), then 14 longs: maxrss (KiB), ixrss, idrss, isrss,
 * minflt, majflt, nswap, inblock, oublock, msgsnd, msgrcv, nsignals, nvcsw, nivcsw.
 */
function rusage(who: number): Uint8Array {
  const RUSAGE_SELF = 0, RUSAGE_CHILDREN = -1, RUSAGE_THREAD = 1;
  const s = new StructOut(144);
  if (who === RUSAGE_CHILDREN) return s.bytes;
  if (who !== RUSAGE_SELF && who !== RUSAGE_THREAD) fail(E.EINVAL);
  const r = process.resourceUsage();
  const tv = (off: number, us: number) => s.i64(off, Math.floor(us / 1e6)).i64(off + 8, us % 1e6);
  tv(0, r.userCPUTime);
  tv(16, r.systemCPUTime);
  [r.maxRSS, r.sharedMemorySize, r.unsharedDataSize, r.unsharedStackSize, r.minorPageFault, r.majorPageFault,
    r.swappedOut, r.fsRead, r.fsWrite, r.ipcSent, r.ipcReceived, r.signalsCount, r.voluntaryContextSwitches,
    r.involuntaryContextSwitches].forEach((v, i) => s.i64(32 + i * 8, v));
  return s.bytes;
}

function meminfo(): Map<string, bigint> {
  const m = new Map<string, bigint>();
  try {
    for (const line of readFileSync('/proc/meminfo', 'utf8').split('\n')) {
      const r = /^(\w+):\s+(\d+)/.exec(line);
      if (r) m.set(r[1], BigInt(r[2]) * 1024n);
    }
  } catch { /* not Linux */ }
  return m;
}

function processCount(): number {
  try {
    return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[3].split('/')[1]) || 1;
  } catch {
    return 1;
  }
}

/**
 * struct sysinfo (112 bytes): uptime, loads[3] (<<16), totalram, freeram, sharedram, bufferram,
 * totalswap, freeswap, u16 procs (+pad), totalhigh, freehigh, u32 mem_unit.
 */
function sysinfo(): Uint8Array {
  const mi = meminfo();
  const s = new StructOut(112);
  s.i64(0, Math.floor(uptime()));
  loadavg().forEach((l, i) => s.u64(8 + i * 8, Math.round(l * 65536)));
  s.u64(32, totalmem()).u64(40, freemem()).u64(48, mi.get('Shmem') ?? 0n).u64(56, mi.get('Buffers') ?? 0n);
  s.u64(64, mi.get('SwapTotal') ?? 0n).u64(72, mi.get('SwapFree') ?? 0n).u16(80, Math.min(processCount(), 0xffff));
  s.u64(88, 0).u64(96, 0).u32(104, 1);
  return s.bytes;
}

export const resourceSyscalls = defineSyscalls([
  {
    name: 'prlimit64', args: ['d', 'rlimit', 'p', 'p'],
    handler: (p, [pid, res, nw, old]) => rlimit(p, int(pid), int(res), ptr(nw), ptr(old)),
  },
  { name: 'getrlimit', args: ['rlimit', 'p'], handler: (p, [res, old]) => rlimit(p, 0, int(res), 0, ptr(old) || fail(E.EFAULT)) },
  { name: 'setrlimit', args: ['rlimit', 'p'], handler: (p, [res, nw]) => rlimit(p, 0, int(res), ptr(nw) || fail(E.EFAULT), 0) },
  { name: 'getrusage', args: ['d', 'p'], handler: (p, [who, buf]) => { p.as.write(ptr(buf), rusage(int(who))); return 0; } },
  { name: 'sysinfo', args: ['p'], handler: (p, [buf]) => { p.as.write(ptr(buf), sysinfo()); return 0; } },
  {
    name: 'sched_getaffinity', args: ['d', 'u', 'p'],
    handler: (p, [pid, len, mask]) => {
      if (int(pid) !== 0 && int(pid) !== p.pid) fail(E.ESRCH);
      const n = size(len);
      // Linux: the buffer must hold nr_cpu_ids bits and be a multiple of sizeof(long).
      if (n < 8 || n % 8 !== 0) fail(E.EINVAL);
      p.as.writeU64(ptr(mask), (1n << BigInt(GUEST_CPUS)) - 1n);
      return 8;
    },
  },
  {
    name: 'sched_setaffinity', args: ['d', 'u', 'p'],
    handler: (p, [pid, len, mask]) => {
      if (int(pid) !== 0 && int(pid) !== p.pid) fail(E.ESRCH);
      if (size(len) === 0) fail(E.EINVAL);
      const m = p.as.read(ptr(mask), Math.min(size(len), 8));
      if (!(m[0] & ((1 << GUEST_CPUS) - 1))) fail(E.EINVAL);
      return 0;
    },
  },
  { name: 'sched_yield', args: [], handler: (p) => { p.host?.yield(p); return 0; } },
  {
    name: 'getcpu', args: ['p', 'p', 'p'],
    handler: (p, [cpu, node]) => {
      if (ptr(cpu)) p.as.writeU32(ptr(cpu), 0);
      if (ptr(node)) p.as.writeU32(ptr(node), 0);
      return 0;
    },
  },
  {
    // The raw syscall returns 20 - nice (glibc converts).
    name: 'getpriority', args: ['d', 'd'],
    handler: (p, [which, who]) => {
      if (int(which) < 0 || int(which) > 2) fail(E.EINVAL);
      if (int(who) !== 0 && int(who) !== p.pid && int(which) === 0) fail(E.ESRCH);
      return 20 - p.nice;
    },
  },
  {
    name: 'setpriority', args: ['d', 'd', 'd'],
    handler: (p, [which, who, prio]) => {
      if (int(which) < 0 || int(which) > 2) fail(E.EINVAL);
      if (int(who) !== 0 && int(who) !== p.pid && int(which) === 0) fail(E.ESRCH);
      const n = Math.max(-20, Math.min(19, int(prio)));
      if (n < p.nice && (process.geteuid?.() ?? 0) !== 0) fail(E.EACCES);
      p.nice = n;
      return 0;
    },
  },
  { name: 'sched_getscheduler', args: ['d'], handler: () => 0 /* SCHED_OTHER */ },
  {
    name: 'sched_setscheduler', args: ['d', 'd', 'p'],
    handler: (_p, [, policy]) => (int(policy) === 0 || int(policy) === 3 || int(policy) === 5 ? 0 : fail(E.EPERM)),
  },
  { name: 'sched_getparam', args: ['d', 'p'], handler: (p, [, param]) => { p.as.writeU32(ptr(param), 0); return 0; } },
  { name: 'sched_setparam', args: ['d', 'p'], handler: (p, [, param]) => (p.as.readU32(ptr(param)) === 0 ? 0 : fail(E.EINVAL)) },
  { name: 'sched_get_priority_max', args: ['d'], handler: (_p, [policy]) => ([1, 2].includes(int(policy)) ? 99 : [0, 3, 5].includes(int(policy)) ? 0 : fail(E.EINVAL)) },
  { name: 'sched_get_priority_min', args: ['d'], handler: (_p, [policy]) => ([1, 2].includes(int(policy)) ? 1 : [0, 3, 5].includes(int(policy)) ? 0 : fail(E.EINVAL)) },
]);
