/**
 * Timers that send signals: getitimer, setitimer, alarm, timer_create, timer_settime,
 * timer_gettime, timer_getoverrun, timer_delete. The timers themselves (deadlines, expiry,
 * overruns, when they fire) are linux-abi/timers.ts.
 */
import { int, ptr, uint } from '../args.js';
import { E, fail } from '../errno.js';
import type { Proc } from '../proc.js';
import { SIGALRM } from '../signals.js';
import { defineSyscalls } from '../table.js';
import { baseNow, ITIMER_PROF, ITIMER_REAL, type PosixTimer, SIGEV_SIGNAL, type Timer } from '../timers.js';
import { NS_PER_SEC, readTimespecNs, readTimevalNs, StructIn, StructOut } from '../uaccess.js';

function itimer(p: Proc, which: number): Timer {
  if (which < ITIMER_REAL || which > ITIMER_PROF) fail(E.EINVAL);
  return p.timers.itimers[which];
}

/** struct itimerval { timeval it_interval; timeval it_value; } (an armed timer shows at least 1 us). */
function writeItimerval(p: Proc, addr: number, t: Timer): void {
  const rem = t.remaining() / 1000n;
  const value = t.armed && rem === 0n ? 1n : rem, interval = t.interval / 1000n;
  new StructOut(32)
    .i64(0, interval / 1_000_000n).i64(8, interval % 1_000_000n)
    .i64(16, value / 1_000_000n).i64(24, value % 1_000_000n)
    .write(p.as, addr);
}

function setitimer(p: Proc, which: number, newAddr: number, oldAddr: number): number {
  const t = itimer(p, which);
  let interval = 0n, value = 0n;
  if (newAddr) {
    interval = readTimevalNs(p.as, newAddr);
    value = readTimevalNs(p.as, newAddr + 16);
  }
  if (oldAddr) writeItimerval(p, oldAddr, t);
  t.set(value, interval);
  p.timers.schedule();
  return 0;
}

/** alarm: ITIMER_REAL for `seconds`; returns the seconds left of the previous one, rounded. */
function alarm(p: Proc, seconds: number): number {
  const t = p.timers.itimers[ITIMER_REAL];
  const left = t.remaining();
  let ret = Number(left / NS_PER_SEC);
  const usec = (left % NS_PER_SEC) / 1000n;
  if ((ret === 0 && left > 0n) || usec >= 500_000n) ret++;
  t.set(BigInt(seconds) * NS_PER_SEC, 0n);
  p.timers.schedule();
  return ret;
}

/** struct sigevent: sigev_value @0, sigev_signo @8, sigev_notify @12, sigev_notify_thread_id @16. */
function timerCreate(p: Proc, clock: number, sevAddr: number, idAddr: number): number {
  let notify = SIGEV_SIGNAL, signo = SIGALRM, tid = 0;
  let value: bigint | undefined;
  if (sevAddr) {
    const s = StructIn.read(p.as, sevAddr, 64);
    value = s.u64(0);
    signo = s.i32(8);
    notify = s.i32(12);
    tid = s.i32(16);
  }
  const id = p.timers.create(clock, notify, signo, value, p.pid, tid);
  try {
    p.as.writeU32(idAddr, id);
  } catch (e) {
    p.timers.delete(id);
    throw e;
  }
  return 0;
}

/** struct itimerspec { timespec it_interval; timespec it_value; }. */
function writeItimerspec(p: Proc, addr: number, pt: PosixTimer): void {
  const t = pt.timer;
  const value = t.remaining(baseNow(t.base));
  new StructOut(32)
    .i64(0, t.interval / NS_PER_SEC).i64(8, t.interval % NS_PER_SEC)
    .i64(16, value / NS_PER_SEC).i64(24, value % NS_PER_SEC)
    .write(p.as, addr);
}

function timerSettime(p: Proc, id: number, flags: number, newAddr: number, oldAddr: number): number {
  const interval = readTimespecNs(p.as, newAddr);
  const value = readTimespecNs(p.as, newAddr + 16);
  const pt = p.timers.get(id);
  if (oldAddr) writeItimerspec(p, oldAddr, pt);
  p.timers.settime(pt, flags, value, interval);
  return 0;
}

export const timerSyscalls = defineSyscalls([
  {
    name: 'getitimer', args: ['d', 'p'],
    handler: (p, [which, cur]) => {
      writeItimerval(p, ptr(cur), itimer(p, int(which)));
      return 0;
    },
  },
  {
    name: 'setitimer', args: ['d', 'p', 'p'],
    handler: (p, [which, nv, ov]) => setitimer(p, int(which), ptr(nv), ptr(ov)),
  },
  { name: 'alarm', args: ['u'], handler: (p, [s]) => alarm(p, uint(s)) },
  {
    name: 'timer_create', args: ['clock', 'p', 'p'],
    handler: (p, [clk, sev, id]) => timerCreate(p, int(clk), ptr(sev), ptr(id)),
  },
  {
    name: 'timer_settime', args: ['d', 'd', 'p', 'p'],
    handler: (p, [id, flags, nv, ov]) => timerSettime(p, int(id), int(flags), ptr(nv), ptr(ov)),
  },
  {
    name: 'timer_gettime', args: ['d', 'p'],
    handler: (p, [id, cur]) => {
      writeItimerspec(p, ptr(cur), p.timers.get(int(id)));
      return 0;
    },
  },
  { name: 'timer_getoverrun', args: ['d'], handler: (p, [id]) => p.timers.overrun(p.timers.get(int(id))) },
  {
    name: 'timer_delete', args: ['d'],
    handler: (p, [id]) => {
      p.timers.delete(int(id));
      return 0;
    },
  },
]);
