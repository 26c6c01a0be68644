/**
 * Time: clock_gettime, clock_getres, gettimeofday, time, nanosleep, clock_nanosleep, times,
 * clock_settime and settimeofday (EPERM: the guest may not set the host's clock).
 */
import { uptime } from 'node:os';
import { int, ptr } from '../args.js';
import {
  CLOCK_BOOTTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID, CLOCK_REALTIME, CLOCK_TAI, clockKind, clockNow,
  COARSE_RES_NS, monotonicNs, realtimeNs,
} from '../clock.js';
import { E, fail } from '../errno.js';
import type { Proc } from '../proc.js';
import { defineSyscalls } from '../table.js';
import { sleepUntil } from '../timers.js';
import { NS_PER_SEC, readTimespecNs, StructOut, writeTimespec, writeTimeval } from '../uaccess.js';

export const TIMER_ABSTIME = 1;
/** Clock ticks per second for times() (USER_HZ). */
export const USER_HZ = 100n;

function kind(p: Proc, clk: number) {
  return clockKind(clk, p.pid) ?? fail(E.EINVAL);
}

/**
 * Sleeps `ns` nanoseconds unless a signal that is not blocked arrives first (only a timer can send
 * one meanwhile): then EINTR, with the time left written to `rem` (if given).
 */
function sleepFor(p: Proc, ns: bigint, rem: number, absoluteEnd?: bigint): number {
  const end = absoluteEnd ?? (p.callStartNs || monotonicNs()) + ns;
  const interrupted = () => (p.signals.pending & ~p.signals.blocked) !== 0n;
  if (!sleepUntil(p.timers, end, interrupted, () => { throw new Error('unreachable'); }, p)) return 0;
  if (rem) writeTimespec(p.as, rem, end > monotonicNs() ? end - monotonicNs() : 0n);
  return fail(E.EINTR);
}

function clockNanosleep(p: Proc, clk: number, flags: number, req: number, rem: number): number {
  const allowed = [CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_TAI, CLOCK_PROCESS_CPUTIME_ID];
  if (!allowed.includes(clk)) fail(clk === 3 ? E.EINVAL : clockKind(clk, p.pid) ? E.ENOTSUP : E.EINVAL);
  const t = readTimespecNs(p.as, req);
  if (flags & TIMER_ABSTIME) {
    // The end on the monotonic clock (the same on every retry of a blocked call).
    const now = monotonicNs();
    return sleepFor(p, 0n, 0, now + (t - clockNow(kind(p, clk))));
  }
  return sleepFor(p, t, rem);
}

export const timeSyscalls = defineSyscalls([
  {
    name: 'clock_gettime', args: ['clock', 'ots'],
    handler: (p, [clk, tp]) => {
      writeTimespec(p.as, ptr(tp), clockNow(kind(p, int(clk))));
      return 0;
    },
  },
  {
    name: 'clock_getres', args: ['clock', 'ots'],
    handler: (p, [clk, res]) => {
      const k = kind(p, int(clk));
      if (ptr(res)) writeTimespec(p.as, ptr(res), k.startsWith('coarse') ? COARSE_RES_NS : 1n);
      return 0;
    },
  },
  {
    name: 'gettimeofday', args: ['p', 'p'],
    handler: (p, [tv, tz]) => {
      if (ptr(tv)) writeTimeval(p.as, ptr(tv), realtimeNs());
      if (ptr(tz)) new StructOut(8).write(p.as, ptr(tz)); // minuteswest 0, dsttime 0 (UTC, as Linux keeps it)
      return 0;
    },
  },
  {
    name: 'time', args: ['p'],
    handler: (p, [tloc]) => {
      const s = realtimeNs() / NS_PER_SEC;
      if (ptr(tloc)) p.as.writeU64(ptr(tloc), s);
      return s;
    },
  },
  {
    name: 'nanosleep', args: ['ts', 'p'],
    handler: (p, [req, rem]) => sleepFor(p, readTimespecNs(p.as, ptr(req)), ptr(rem)),
  },
  {
    name: 'clock_nanosleep', args: ['clock', 'd', 'ts', 'p'],
    handler: (p, [clk, flags, req, rem]) => clockNanosleep(p, int(clk), int(flags), ptr(req), ptr(rem)),
  },
  {
    name: 'times', args: ['p'],
    handler: (p, [buf]) => {
      // struct tms { clock_t tms_utime, tms_stime, tms_cutime, tms_cstime; } in USER_HZ ticks
      const u = process.cpuUsage();
      const ticks = (us: number) => (BigInt(us) * USER_HZ) / 1_000_000n;
      if (ptr(buf)) new StructOut(32).i64(0, ticks(u.user)).i64(8, ticks(u.system)).write(p.as, ptr(buf));
      return BigInt(Math.floor(uptime() * 100));
    },
  },
  { name: 'clock_settime', args: ['clock', 'ts'], handler: (p, [clk]) => { kind(p, int(clk)); return fail(E.EPERM); } },
  { name: 'settimeofday', args: ['p', 'p'], handler: () => fail(E.EPERM) },
]);
