/**
 * Unit tests of the timer engine (linux-abi/timers.ts) and seccomp's filter checker and verdicts
 * (linux-abi/seccomp.ts). End to end, with the native kernel as the reference: test/guest/timers.c,
 * test/guest/seccomp.c and test/usm/linbench.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { GuestKilled } from '../../src/core/exits.js';
import { parseFilter, runFilter, Seccomp, SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO, SECCOMP_RET_KILL_PROCESS,
  SECCOMP_RET_TRAP } from '../../src/linux-abi/seccomp.js';
import { SI_TIMER, SignalState, SIGALRM, SIGSYS } from '../../src/linux-abi/signals.js';
import { Timer, Timers } from '../../src/linux-abi/timers.js';

describe('timers', () => {
  it('fires a periodic timer once per poll, counting the expiries it missed', () => {
    const counts: bigint[] = [];
    const t = new Timer('mono', (n) => counts.push(n));
    t.set(100n, 10n, 1000n); // first expiry at 1100, then every 10
    t.poll(1099n);
    expect(counts).toEqual([]);
    t.poll(1100n);
    t.poll(1135n); // 1110, 1120, 1130
    expect(counts).toEqual([1n, 3n]);
    expect(t.deadline).toBe(1140n);
    expect(t.remaining(1139n)).toBe(1n);
    t.set(0n, 10n);
    expect(t.armed).toBe(false);
  });

  it('queues a POSIX timer signal once and counts overruns while it is pending', () => {
    const st = new SignalState();
    const timers = new Timers(st);
    const armed: boolean[] = [];
    timers.onArmed = (a) => armed.push(a);
    const id = timers.create(1 /* CLOCK_MONOTONIC */, 0 /* SIGEV_SIGNAL */, SIGALRM, 0x55n, 1, 1);
    const pt = timers.get(id);
    timers.settime(pt, 0, 1n, 1n); // due at once, every nanosecond
    expect(armed).toEqual([true]);
    expect(st.timerDue).not.toBe(Infinity);
    pt.timer.deadline -= 1000n; // pretend 1000 periods went by
    timers.poll();
    const info = st.infoOf(SIGALRM);
    expect(info?.code).toBe(SI_TIMER);
    expect(info?.value).toBe(0x55n);
    expect(info?.timer?.overrun).toBeGreaterThanOrEqual(1000);
    const before = info!.timer!.overrun;
    pt.timer.deadline -= 10n;
    timers.poll(); // still pending: more overruns, the same siginfo
    expect(st.infoOf(SIGALRM)).toBe(info);
    expect(info!.timer!.overrun).toBeGreaterThan(before);
    timers.delete(id);
    expect(armed).toEqual([true, false]);
    expect(st.timerDue).toBe(Infinity);
  });
});

/** Little-endian sock_filter bytes from [code, jt, jf, k] tuples. */
function prog(...insns: [number, number, number, number][]): Uint8Array {
  const b = new Uint8Array(insns.length * 8);
  const v = new DataView(b.buffer);
  insns.forEach(([code, jt, jf, k], i) => {
    v.setUint16(i * 8, code, true);
    v.setUint8(i * 8 + 2, jt);
    v.setUint8(i * 8 + 3, jf);
    v.setUint32(i * 8 + 4, k >>> 0, true);
  });
  return b;
}

const LD_NR: [number, number, number, number] = [0x20, 0, 0, 0];
const ret = (k: number): [number, number, number, number] => [0x06, 0, 0, k];
const jeq = (k: number, jt: number, jf: number): [number, number, number, number] => [0x15, jt, jf, k];

describe('seccomp', () => {
  it('rejects what the kernel rejects', () => {
    expect(() => parseFilter(prog(LD_NR))).toThrow(); // no return at the end
    expect(() => parseFilter(prog([0x20, 0, 0, 2], ret(SECCOMP_RET_ALLOW)))).toThrow(); // misaligned
    expect(() => parseFilter(prog(jeq(0, 3, 0), ret(SECCOMP_RET_ALLOW)))).toThrow(); // jumps out
    expect(() => parseFilter(prog([0x34, 0, 0, 0], ret(SECCOMP_RET_ALLOW)))).toThrow(); // div by 0
    expect(() => parseFilter(new Uint8Array(0))).toThrow();
  });

  it('runs filters: the most restrictive verdict wins', () => {
    const f = parseFilter(prog(LD_NR, jeq(39, 0, 1), ret(SECCOMP_RET_ERRNO | 1), ret(SECCOMP_RET_ALLOW)));
    const data = new Uint32Array(16);
    data[0] = 39;
    expect(runFilter(f, data) >>> 0).toBe((SECCOMP_RET_ERRNO | 1) >>> 0);
    data[0] = 40;
    expect(runFilter(f, data) >>> 0).toBe(SECCOMP_RET_ALLOW);

    const st = new SignalState();
    const sc = new Seccomp(st);
    sc.addFilter(f);
    const args = [0n, 0n, 0n, 0n, 0n, 0n];
    const log = () => {};
    expect(sc.enter(39, 0x401000n, args, log)).toEqual({ run: false, rax: -1n });
    expect(sc.enter(40, 0x401000n, args, log)).toEqual({ run: true });
    sc.addFilter(parseFilter(prog(LD_NR, jeq(39, 0, 1), ret(SECCOMP_RET_TRAP | 9), ret(SECCOMP_RET_ALLOW))));
    expect(sc.enter(39, 0x401000n, args, log)).toEqual({ run: false, rax: 39n }); // TRAP beats ERRNO
    const info = st.infoOf(SIGSYS);
    expect(info?.sys).toEqual({ nr: 39, arch: 0xc000003e, errno: 9 });
    expect(info?.addr).toBe(0x401000n);
    sc.addFilter(parseFilter(prog(ret(SECCOMP_RET_KILL_PROCESS))));
    expect(() => sc.enter(40, 0x401000n, args, log)).toThrow(GuestKilled);
  });
});
