/**
 * Timers that send signals: the interval timers (setitimer, getitimer, alarm) and POSIX timers
 * (timer_create & co), as Linux's kernel/time/itimer.c and posix-timers.c.
 *
 * Nothing runs asynchronously: the emulator is one JS thread running the guest. A timer is a
 * deadline; `Timers.poll()` fires the ones that are due (the signal becomes pending, a periodic
 * timer moves to its next expiry and counts the ones missed as overruns). Who polls:
 *  - the dispatcher, through SignalState.pollTimers() in the delivery engine's hasWork(), at every
 *    exit from translated code (system calls, budget exits, lookups, exceptions). While a timer is
 *    armed `onArmed` asks the machine for a smaller budget (cli.ts), so that a guest spinning in
 *    translated code still returns to the dispatcher often: a signal arrives at the first exit
 *    after its deadline, which is what a timer interrupt is to a Linux process;
 *  - sleeping calls (nanosleep, clock_nanosleep, pause, rt_sigsuspend, rt_sigtimedwait) sleep
 *    until the next deadline at most, fire it, and are interrupted as on Linux (`sleepUntil`).
 *    Other blocking calls (poll, select, futex, reads) see a timer only when they return.
 *
 * Clocks: ITIMER_REAL and the wall/monotonic POSIX clocks run on the host's CLOCK_MONOTONIC (a
 * CLOCK_REALTIME absolute deadline is converted once, when the timer is set). ITIMER_VIRTUAL,
 * ITIMER_PROF and the CPU-time clocks use the emulator process's CPU time (user, or user+system),
 * which includes V8's own threads: an approximation of the guest's.
 */
import { performance } from 'node:perf_hooks';
import { clockKind, CLOCK_BOOTTIME_ALARM, CLOCK_MONOTONIC_RAW, CLOCK_REALTIME_ALARM, CLOCK_REALTIME_COARSE,
  CLOCK_MONOTONIC_COARSE, monotonicNs, realtimeNs } from './clock.js';
import { E, fail } from './errno.js';
import { NSIG, SI_KERNEL, SI_TIMER, type SigInfo, SIGALRM, SIGPROF, SIGVTALRM, type SignalState } from './signals.js';
import { block } from './block.js';
import { sleepNs } from './sleep.js';

export const ITIMER_REAL = 0, ITIMER_VIRTUAL = 1, ITIMER_PROF = 2;
export const SIGEV_SIGNAL = 0, SIGEV_NONE = 1, SIGEV_THREAD = 2, SIGEV_THREAD_ID = 4;
export const TIMER_ABSTIME = 1;

/** What a timer counts: monotonic time, process user CPU time, or user+system CPU time. */
export type TimeBase = 'mono' | 'user' | 'cpu';

/** Linux's limit on POSIX timers is RLIMIT_SIGPENDING-ish; ours is a sanity bound. */
const MAX_POSIX_TIMERS = 4096;

function cpuNs(base: 'user' | 'cpu'): bigint {
  const u = process.cpuUsage();
  return BigInt(base === 'user' ? u.user : u.user + u.system) * 1000n;
}

export function baseNow(base: TimeBase): bigint {
  return base === 'mono' ? monotonicNs() : cpuNs(base);
}

/** One timer: a deadline on its time base (0n: disarmed) and a period (0n: one-shot). */
export class Timer {
  deadline = 0n;
  interval = 0n;
  constructor(readonly base: TimeBase, private readonly expire: (count: bigint) => void) {}

  get armed(): boolean {
    return this.deadline !== 0n;
  }

  /** Arms (value > 0: relative to now) or disarms (value 0) the timer. */
  set(value: bigint, interval: bigint, now = baseNow(this.base)): void {
    this.deadline = value > 0n ? now + value : 0n;
    this.interval = value > 0n ? interval : 0n;
  }

  /** Arms at an absolute time on the base's clock (a time already past expires at the next poll). */
  setAbsolute(at: bigint, interval: bigint): void {
    this.deadline = at > 0n ? at : 1n;
    this.interval = interval;
  }

  /** Time left until the next expiry (0n if disarmed; at least 1n while armed, as Linux reports). */
  remaining(now = baseNow(this.base)): bigint {
    if (!this.armed) return 0n;
    const left = this.deadline - now;
    return left > 0n ? left : 1n;
  }

  /** Fires if due: one signal for this expiry and the missed ones (their count goes to `expire`). */
  poll(now: bigint): void {
    if (!this.armed || now < this.deadline) return;
    let count = 1n;
    if (this.interval > 0n) {
      count += (now - this.deadline) / this.interval;
      this.deadline += count * this.interval;
    } else {
      this.deadline = 0n;
    }
    this.expire(count);
  }
}

/** A POSIX timer (timer_create): its clock, how it notifies, and the signal it has pending. */
export interface PosixTimer {
  id: number;
  timer: Timer;
  /** The clock it was created on (for CLOCK_REALTIME absolute settings). */
  clock: number;
  notify: number;
  signo: number;
  value: bigint;
  /** The siginfo of its last signal: while that is still pending, expiries only add overruns. */
  queued?: SigInfo & { timer: { id: number; overrun: number } };
  /** si_overrun of the last signal delivered (timer_getoverrun). */
  overrunLast: number;
}

export class Timers {
  /** ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF. */
  readonly itimers: Timer[];
  readonly posix = new Map<number, PosixTimer>();
  private nextId = 0;
  /** Told when the first timer is armed and when the last one is disarmed (the machine's budget). */
  onArmed?: (armed: boolean) => void;
  private anyArmed = false;

  constructor(private readonly st: SignalState) {
    const itimerSignal = (signo: number) => () => this.st.send({ signo, code: SI_KERNEL, pid: 0, uid: 0 });
    this.itimers = [
      new Timer('mono', itimerSignal(SIGALRM)),
      new Timer('user', itimerSignal(SIGVTALRM)),
      new Timer('cpu', itimerSignal(SIGPROF)),
    ];
    st.fireTimers = () => this.poll();
  }

  private *all(): Generator<Timer> {
    yield* this.itimers;
    for (const t of this.posix.values()) yield t.timer;
  }

  /** Fires every timer that is due, then schedules the next check. */
  poll(): void {
    let mono: bigint | undefined, user: bigint | undefined, cpu: bigint | undefined;
    for (const t of this.all()) {
      if (!t.armed) continue;
      const now = t.base === 'mono' ? (mono ??= monotonicNs()) : t.base === 'user' ? (user ??= cpuNs('user')) : (cpu ??= cpuNs('cpu'));
      t.poll(now);
    }
    this.schedule();
  }

  /**
   * Recomputes when the next timer may be due (SignalState.timerDue, in performance.now()
   * milliseconds). A CPU-time deadline is taken as at least as far away in wall time (it is
   * checked against the CPU clock then, and pushed back if it is not reached yet).
   */
  schedule(): void {
    let next: bigint | undefined;
    let mono: bigint | undefined, user: bigint | undefined, cpu: bigint | undefined;
    for (const t of this.all()) {
      if (!t.armed) continue;
      const now = t.base === 'mono' ? (mono ??= monotonicNs()) : t.base === 'user' ? (user ??= cpuNs('user')) : (cpu ??= cpuNs('cpu'));
      const left = t.deadline - now;
      if (next === undefined || left < next) next = left;
    }
    const armed = next !== undefined;
    this.st.timerDue = armed ? performance.now() + Math.max(0, Number(next)) / 1e6 : Infinity;
    if (armed !== this.anyArmed) {
      this.anyArmed = armed;
      this.onArmed?.(armed);
    }
  }

  /** Nanoseconds of monotonic time until the next deadline (undefined: no timer armed). */
  untilNext(): bigint | undefined {
    const due = this.st.timerDue;
    if (due === Infinity) return undefined;
    return BigInt(Math.max(0, Math.ceil((due - performance.now()) * 1e6)));
  }

  // ---- POSIX timers -------------------------------------------------------------------------

  /** timer_create's checks (good_sigevent) and the new timer's id. */
  create(clock: number, notify: number, signo: number, value: bigint | undefined, pid: number, tid: number): number {
    const kind = clockKind(clock, pid);
    const noTimer = [CLOCK_MONOTONIC_RAW, CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE];
    if (kind === undefined) fail(E.EINVAL);
    if (noTimer.includes(clock)) fail(E.EOPNOTSUPP); // a clock without timers
    if (clock === CLOCK_REALTIME_ALARM || clock === CLOCK_BOOTTIME_ALARM) fail(E.EPERM); // needs CAP_WAKE_ALARM
    switch (notify) {
      case SIGEV_SIGNAL | SIGEV_THREAD_ID: // to one thread: ours is the only one
      case SIGEV_SIGNAL:
      case SIGEV_THREAD: // glibc runs SIGEV_THREAD itself; the kernel takes it as SIGEV_SIGNAL
        if (notify & SIGEV_THREAD_ID && tid !== pid) fail(E.EINVAL);
        if (signo < 1 || signo > NSIG) fail(E.EINVAL);
        break;
      case SIGEV_NONE:
        break;
      default:
        fail(E.EINVAL);
    }
    if (this.posix.size >= MAX_POSIX_TIMERS) fail(E.EAGAIN);
    const id = this.nextId++;
    const base: TimeBase = kind === 'cpu' ? 'cpu' : 'mono';
    const pt: PosixTimer = { id, clock, notify, signo, value: value ?? BigInt(id), timer: new Timer(base, (n) => this.expirePosix(pt, n)), overrunLast: 0 };
    this.posix.set(id, pt);
    return id;
  }

  get(id: number): PosixTimer {
    return this.posix.get(id) ?? fail(E.EINVAL);
  }

  /** Whether the timer's last signal is still pending (not yet delivered). */
  private stillQueued(pt: PosixTimer): boolean {
    const q = pt.queued;
    return q !== undefined && this.st.infoOf(q.signo) === q && (this.st.pending & (1n << BigInt(q.signo - 1))) !== 0n;
  }

  /** timer_getoverrun: the overrun count of the last signal delivered. */
  overrun(pt: PosixTimer): number {
    if (pt.queued && !this.stillQueued(pt)) {
      pt.overrunLast = pt.queued.timer.overrun;
    }
    return pt.overrunLast;
  }

  private expirePosix(pt: PosixTimer, count: bigint): void {
    if (pt.notify === SIGEV_NONE) return;
    const more = Number(count > 0x7fff_ffffn ? 0x7fff_ffffn : count);
    const q = pt.queued;
    // Still pending: Linux does not queue the timer's signal twice, it counts overruns.
    if (q && this.stillQueued(pt)) {
      q.timer.overrun = Math.min(0x7fff_ffff, q.timer.overrun + more);
      return;
    }
    if (q) pt.overrunLast = q.timer.overrun;
    pt.queued = undefined;
    const info = { signo: pt.signo, code: SI_TIMER, pid: 0, uid: 0, value: pt.value, timer: { id: pt.id, overrun: more - 1 } };
    pt.queued = info;
    this.st.send(info);
  }

  /** timer_settime: the old setting, then the new one (absolute times on the timer's clock). */
  settime(pt: PosixTimer, flags: number, value: bigint, interval: bigint): void {
    const t = pt.timer;
    if (value === 0n) t.set(0n, 0n);
    else if (flags & TIMER_ABSTIME) {
      const kind = clockKind(pt.clock, 0);
      // A wall-clock deadline becomes a monotonic one (clock changes after this are not seen).
      const at = kind === 'real' || kind === 'coarse-real' ? value - realtimeNs() + monotonicNs() : value;
      t.setAbsolute(at, interval);
    } else t.set(value, interval);
    this.schedule();
  }

  delete(id: number): void {
    const pt = this.get(id);
    // A signal it still has pending stays (Linux drops it; harmless for one thread).
    this.posix.delete(id);
    void pt;
    this.schedule();
  }
}

/**
 * Sleeps until `endNs` on the monotonic clock (undefined: no end), firing timers as they come
 * due, until `wake()` says the sleep is over. Returns true if woken, false at the end time.
 * `forever` is called when nothing can wake the sleeper (no end, no timer armed).
 * With a scheduler (`task.blockable`) the call blocks instead (block.ts): other tasks run, and
 * the call is retried when a signal may have come or at its next timer or end time.
 */
export function sleepUntil(timers: Timers, endNs: bigint | undefined, wake: () => boolean, forever: () => never,
  task?: { blockable: boolean }): boolean {
  for (;;) {
    timers.poll();
    if (wake()) return true;
    const now = monotonicNs();
    if (endNs !== undefined && now >= endNs) return false;
    const next = timers.untilNext();
    let nap = endNs === undefined ? undefined : endNs - now;
    if (next !== undefined && (nap === undefined || next < nap)) nap = next;
    if (task?.blockable) block('sleep', nap === undefined ? undefined : now + nap);
    if (nap === undefined) forever();
    sleepNs(nap > 0n ? nap : 0n);
  }
}
