import { readFileSync } from 'node:fs';
import { hostname, release } from 'node:os';
import { describe, expect, it } from 'vitest';
import { GuestExit } from '../../src/core/exits.js';
import { BUF, harness } from './harness.js';

const EINVAL = -22n, EFAULT = -14n, ENOSYS = -38n, EAGAIN = -11n, ETIMEDOUT = -110n, EPERM = -1n, ESRCH = -3n;
const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
const cstr = (b: Uint8Array, off: number) => Buffer.from(b.subarray(off, b.indexOf(0, off))).toString();

describe('process', () => {
  it('exit and exit_group throw GuestExit with the low 8 bits', () => {
    const h = harness();
    expect(() => h.sys('exit_group', 3)).toThrow(GuestExit);
    try { h.sys('exit_group', 0x1ff); } catch (e) { expect((e as GuestExit).status).toBe(0xff); }
    try { h.sys('exit', 7); } catch (e) { expect((e as GuestExit).status).toBe(7); }
  });

  it('identity calls', () => {
    const h = harness();
    expect(h.sys('getpid')).toBe(BigInt(process.pid));
    expect(h.sys('gettid')).toBe(BigInt(process.pid));
    expect(h.sys('getppid')).toBe(BigInt(process.ppid));
    expect(h.sys('getuid')).toBe(BigInt(process.getuid!()));
    expect(h.sys('geteuid')).toBe(BigInt(process.geteuid!()));
    expect(h.sys('getgid')).toBe(BigInt(process.getgid!()));
    expect(h.sys('getegid')).toBe(BigInt(process.getegid!()));
    // The host's own values (fields 5 and 6 of /proc/self/stat): a container's init can leave the
    // session id 0, so only the equality with the real process is meaningful.
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const [pgrp, session] = stat.slice(stat.lastIndexOf(')') + 2).split(' ').slice(2, 4).map(BigInt);
    expect(h.sys('getpgrp')).toBe(pgrp);
    expect(h.sys('getpgid', 0)).toBe(pgrp);
    expect(h.sys('getsid', 0)).toBe(session);
    expect(h.sys('set_tid_address', BUF)).toBe(BigInt(process.pid));
    expect(h.sys('set_robust_list', BUF, 24)).toBe(0n);
    expect(h.sys('set_robust_list', BUF, 23)).toBe(EINVAL);
    expect(h.sys('rseq', BUF, 32, 0, 0)).toBe(ENOSYS);
    expect(h.sys('getpgid', 0x7fff_fff0)).toBe(ESRCH);
  });

  it('uname', () => {
    const h = harness();
    expect(h.sys('uname', BUF)).toBe(0n);
    const b = h.bytes(BUF, 390);
    expect(cstr(b, 0)).toBe('Linux');
    expect(cstr(b, 65)).toBe(hostname());
    expect(cstr(b, 130)).toBe(release());
    expect(cstr(b, 260)).toBe('x86_64');
    expect(h.sys('uname', 0)).toBe(EFAULT);
  });

  it('arch_prctl sets and gets FS/GS bases', () => {
    const h = harness();
    expect(h.sys('arch_prctl', 0x1002, 0x7f00_1234_5000n)).toBe(0n);
    expect(h.cpu.fsBase).toBe(0x7f00_1234_5000n);
    expect(h.sys('arch_prctl', 0x1003, BUF)).toBe(0n);
    expect(h.as.readU64(BUF)).toBe(0x7f00_1234_5000n);
    expect(h.sys('arch_prctl', 0x1001, 0x1000)).toBe(0n);
    expect(h.cpu.gsBase).toBe(0x1000n);
    expect(h.sys('arch_prctl', 0x1004, BUF)).toBe(0n);
    expect(h.as.readU64(BUF)).toBe(0x1000n);
    expect(h.sys('arch_prctl', 0x1002, 0xffff_8000_0000_0000n)).toBe(EPERM);
    expect(h.sys('arch_prctl', 0x9999, 0)).toBe(EINVAL);
    expect(h.sys('arch_prctl', 0x1003, 0x10)).toBe(EFAULT);
  });

  it('prctl names the thread', () => {
    const h = harness();
    h.str(BUF, 'a-very-long-thread-name');
    expect(h.sys('prctl', 15, BUF)).toBe(0n);
    expect(h.sys('prctl', 16, BUF + 0x100)).toBe(0n);
    expect(cstr(h.bytes(BUF + 0x100, 16), 0)).toBe('a-very-long-thr');
    expect(h.sys('prctl', 12345)).toBe(EINVAL);
  });

  it('limits: RLIMIT_STACK 8 MiB, NOFILE 1024, setrlimit rules, fd allocation obeys NOFILE', () => {
    const h = harness();
    expect(h.sys('prlimit64', 0, 3, 0, BUF)).toBe(0n);
    expect(h.as.readU64(BUF)).toBe(8n << 20n);
    expect(h.sys('getrlimit', 7, BUF)).toBe(0n);
    expect(h.as.readU64(BUF)).toBe(1024n);
    const hard = h.as.readU64(BUF + 8);
    // Lower the soft limit to 5: the next fd would be 5, which is over.
    const nl = dv(new Uint8Array(16));
    nl.setBigUint64(0, 5n, true); nl.setBigUint64(8, hard, true);
    h.as.write(BUF + 0x100, new Uint8Array(nl.buffer));
    expect(h.sys('prlimit64', 0, 7, BUF + 0x100, BUF + 0x200)).toBe(0n);
    expect(h.as.readU64(BUF + 0x200)).toBe(1024n);
    expect(h.sys('dup', 1)).toBe(3n);
    expect(h.sys('dup', 1)).toBe(4n);
    expect(h.sys('dup', 1)).toBe(-24n); // EMFILE
    nl.setBigUint64(0, hard + 1n, true);
    h.as.write(BUF + 0x100, new Uint8Array(nl.buffer));
    expect(h.sys('setrlimit', 7, BUF + 0x100)).toBe(EINVAL); // cur > max
    expect(h.sys('prlimit64', 0, 99, 0, BUF)).toBe(EINVAL);
    expect(h.sys('prlimit64', 0x7fff_fff0, 3, 0, BUF)).toBe(ESRCH);
  });

  it('getrusage, sysinfo, times, sched_getaffinity, getrandom, umask', () => {
    const h = harness();
    expect(h.sys('getrusage', 0, BUF)).toBe(0n);
    expect(h.as.readU64(BUF + 32)).toBeGreaterThan(0n); // maxrss
    expect(h.sys('getrusage', 5, BUF)).toBe(EINVAL);
    expect(h.sys('sysinfo', BUF)).toBe(0n);
    const si = dv(h.bytes(BUF, 112));
    expect(si.getBigInt64(0, true)).toBeGreaterThan(0n);
    expect(si.getBigUint64(32, true)).toBeGreaterThan(0n);
    expect(si.getUint32(104, true)).toBe(1);
    expect(h.sys('times', BUF)).toBeGreaterThan(0n);
    expect(h.sys('sched_getaffinity', 0, 128, BUF)).toBe(8n);
    expect(h.as.readU64(BUF)).toBe(3n);
    expect(h.sys('sched_getaffinity', 0, 4, BUF)).toBe(EINVAL);
    expect(h.sys('sched_yield')).toBe(0n);
    h.as.write(BUF, new Uint8Array(64));
    expect(h.sys('getrandom', BUF, 64, 0)).toBe(64n);
    expect(h.bytes(BUF, 64).some((b) => b !== 0)).toBe(true);
    expect(h.sys('getrandom', BUF, 64, 0x80)).toBe(EINVAL);
    expect(h.sys('getrandom', 0x10, 64, 0)).toBe(EFAULT);
    const old = h.sys('umask', 0o27);
    expect(h.sys('umask', old)).toBe(0o27n);
  });
});

describe('time', () => {
  it('clock_gettime follows the host clocks', () => {
    const h = harness();
    const before = BigInt(Date.now()) * 1_000_000n;
    expect(h.sys('clock_gettime', 0, BUF)).toBe(0n);
    const after = BigInt(Date.now() + 1) * 1_000_000n;
    const ns = h.as.readU64(BUF) * 1_000_000_000n + h.as.readU64(BUF + 8);
    expect(ns).toBeGreaterThanOrEqual(before - 2_000_000n);
    expect(ns).toBeLessThanOrEqual(after + 2_000_000n);
    const m0 = process.hrtime.bigint();
    h.sys('clock_gettime', 1, BUF);
    const mono = h.as.readU64(BUF) * 1_000_000_000n + h.as.readU64(BUF + 8);
    expect(mono).toBeGreaterThanOrEqual(m0);
    for (const clk of [2, 3, 4, 5, 6, 7]) expect(h.sys('clock_gettime', clk, BUF)).toBe(0n);
    expect(h.sys('clock_gettime', 10, BUF)).toBe(EINVAL);
    expect(h.sys('clock_gettime', 0, 0)).toBe(EFAULT);
    expect(h.sys('clock_getres', 1, BUF)).toBe(0n);
    expect(h.as.readU64(BUF + 8)).toBe(1n);
    expect(h.sys('clock_getres', 5, BUF)).toBe(0n);
    expect(h.as.readU64(BUF + 8)).toBe(4_000_000n);
    expect(h.sys('gettimeofday', BUF, 0)).toBe(0n);
    expect(h.as.readU64(BUF + 8)).toBeLessThan(1_000_000n);
    const t = h.sys('time', BUF);
    expect(Number(t)).toBeCloseTo(Date.now() / 1000, -1);
    expect(h.as.readU64(BUF)).toBe(t);
  });

  it('nanosleep sleeps; bad timespecs are -EINVAL', () => {
    const h = harness();
    const ts = dv(new Uint8Array(16));
    ts.setBigInt64(0, 0n, true); ts.setBigInt64(8, 30_000_000n, true);
    h.as.write(BUF, new Uint8Array(ts.buffer));
    const t0 = process.hrtime.bigint();
    expect(h.sys('nanosleep', BUF, 0)).toBe(0n);
    expect(process.hrtime.bigint() - t0).toBeGreaterThanOrEqual(30_000_000n);
    // Absolute sleep into the past returns at once.
    expect(h.sys('clock_nanosleep', 1, 1, BUF, 0)).toBe(0n);
    ts.setBigInt64(8, 1_000_000_000n, true);
    h.as.write(BUF, new Uint8Array(ts.buffer));
    expect(h.sys('nanosleep', BUF, 0)).toBe(EINVAL);
    expect(h.sys('clock_nanosleep', 3, 0, BUF, 0)).toBe(EINVAL);
  });
});

describe('futex', () => {
  it('wake, wait on a changed value, timed wait, untimed wait', () => {
    const h = harness();
    h.as.writeU32(BUF, 5);
    expect(h.sys('futex', BUF, 1 /* WAKE */, 1)).toBe(0n);
    expect(h.sys('futex', BUF, 0x81 /* WAKE_PRIVATE */, 0x7fffffff)).toBe(0n);
    expect(h.sys('futex', BUF, 0, 4)).toBe(EAGAIN);
    const ts = dv(new Uint8Array(16));
    ts.setBigInt64(8, 5_000_000n, true);
    h.as.write(BUF + 0x100, new Uint8Array(ts.buffer));
    expect(h.sys('futex', BUF, 0, 5, BUF + 0x100)).toBe(ETIMEDOUT);
    expect(h.sys('futex', BUF, 0x80, 5, 0)).toBe(EINVAL);
    expect(h.log.some((l) => l.includes('futex wait'))).toBe(true);
    expect(h.sys('futex', BUF + 1, 0, 5, 0)).toBe(EINVAL);
    expect(h.sys('futex', 0x10, 0, 5, 0)).toBe(EFAULT);
    // WAKE_OP: *uaddr2 += 3
    h.as.writeU32(BUF + 8, 10);
    const op = (1 << 28) | (3 << 12);
    expect(h.sys('futex', BUF, 5, 1, 1, BUF + 8, op)).toBe(0n);
    expect(h.as.readU32(BUF + 8)).toBe(13);
    expect(h.sys('futex', BUF, 6 /* LOCK_PI */, 0)).toBe(ENOSYS);
  });
});
