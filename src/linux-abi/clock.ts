/**
 * The clocks clock_gettime reads, in nanoseconds. CLOCK_MONOTONIC is the host's (Node's hrtime
 * reads CLOCK_MONOTONIC); CLOCK_REALTIME is the monotonic clock plus an offset to wall time, taken
 * at startup with sub-millisecond precision and retaken when the host's wall clock drifts away.
 */
import { performance } from 'node:perf_hooks';

export const CLOCK_REALTIME = 0, CLOCK_MONOTONIC = 1, CLOCK_PROCESS_CPUTIME_ID = 2, CLOCK_THREAD_CPUTIME_ID = 3,
  CLOCK_MONOTONIC_RAW = 4, CLOCK_REALTIME_COARSE = 5, CLOCK_MONOTONIC_COARSE = 6, CLOCK_BOOTTIME = 7,
  CLOCK_REALTIME_ALARM = 8, CLOCK_BOOTTIME_ALARM = 9, CLOCK_TAI = 11;

/** Resolution Linux reports for the *_COARSE clocks (one tick at HZ=250). */
export const COARSE_RES_NS = 4_000_000n;

let realtimeOffset = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6)) - process.hrtime.bigint();

export const monotonicNs = (): bigint => process.hrtime.bigint();
let lastRealtime = 0n;
export function realtimeNs(): bigint {
  const mono = process.hrtime.bigint();
  let t = mono + realtimeOffset;
  // The host's wall clock is slewed or stepped against the monotonic one (NTP, a VM's clock):
  // follow it once the two drift apart by more than Date.now()'s millisecond, but never back in
  // time (gettimeofday then time() must not go backwards): the clock stands still instead.
  const wall = BigInt(Date.now()) * 1_000_000n;
  if (t < wall - 1_000_000n || t > wall + 2_000_000n) {
    realtimeOffset = wall + 500_000n - mono;
    t = wall + 500_000n;
  }
  if (t <= lastRealtime) t = lastRealtime + 1n;
  lastRealtime = t;
  return t;
}

/** CPU time used by the process (user + system). */
export function cpuTimeNs(): bigint {
  const u = process.cpuUsage();
  return BigInt(u.user + u.system) * 1000n;
}

/**
 * Whether a clock id names a clock of this process: the fixed ids, or a CPU clock id made by
 * clock_getcpuclockid/pthread_getcpuclockid for pid/tid 0 or our own (negative ids).
 */
export function clockKind(clk: number, pid: number): 'real' | 'mono' | 'cpu' | 'coarse-real' | 'coarse-mono' | undefined {
  switch (clk) {
    case CLOCK_REALTIME: case CLOCK_REALTIME_ALARM: case CLOCK_TAI: return 'real';
    case CLOCK_MONOTONIC: case CLOCK_MONOTONIC_RAW: case CLOCK_BOOTTIME: case CLOCK_BOOTTIME_ALARM: return 'mono';
    case CLOCK_REALTIME_COARSE: return 'coarse-real';
    case CLOCK_MONOTONIC_COARSE: return 'coarse-mono';
    case CLOCK_PROCESS_CPUTIME_ID: case CLOCK_THREAD_CPUTIME_ID: return 'cpu';
  }
  if (clk < 0) {
    const who = ~clk >> 3;
    const type = clk & 3;
    if (type !== 3 && (who === 0 || who === pid)) return 'cpu';
  }
  return undefined;
}

export function clockNow(kind: NonNullable<ReturnType<typeof clockKind>>): bigint {
  switch (kind) {
    case 'real': case 'coarse-real': return realtimeNs();
    case 'mono': case 'coarse-mono': return monotonicNs();
    case 'cpu': return cpuTimeNs();
  }
}
