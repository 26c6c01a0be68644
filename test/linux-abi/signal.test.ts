import { describe, expect, it } from 'vitest';
import { GuestKilled } from '../../src/core/exits.js';
import { BUF, harness } from './harness.js';

const EINVAL = -22n, ESRCH = -3n, ENOMEM = -12n, EPIPE = -32n;
const SIGINT = 2, SIGABRT = 6, SIGKILL = 9, SIGUSR1 = 10, SIGSEGV = 11, SIGPIPE = 13, SIGTERM = 15, SIGCHLD = 17;
const SIG_BLOCK = 0, SIG_UNBLOCK = 1, SIG_SETMASK = 2;
const bit = (s: number) => 1n << BigInt(s - 1);

function sigaction(handler: bigint, flags = 0x04000000n, restorer = 0x401000n, mask = 0n): Uint8Array {
  const b = new Uint8Array(32);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, handler, true);
  v.setBigUint64(8, flags, true);
  v.setBigUint64(16, restorer, true);
  v.setBigUint64(24, mask, true);
  return b;
}

function killedBy(f: () => unknown): number | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof GuestKilled) return e.signo;
    throw e;
  }
  return undefined;
}

describe('rt_sigaction / rt_sigprocmask / sigaltstack', () => {
  it('installs actions and writes the old one back', () => {
    const h = harness();
    h.as.write(BUF, sigaction(0x401234n, 0x04000004n, 0x401000n, bit(SIGTERM) | bit(SIGKILL)));
    expect(h.sys('rt_sigaction', SIGUSR1, BUF, BUF + 0x100, 8)).toBe(0n);
    expect(h.as.readU64(BUF + 0x100)).toBe(0n); // was SIG_DFL
    h.as.write(BUF, sigaction(1n));
    expect(h.sys('rt_sigaction', SIGUSR1, BUF, BUF + 0x100, 8)).toBe(0n);
    expect(h.as.readU64(BUF + 0x100)).toBe(0x401234n);
    expect(h.as.readU64(BUF + 0x108)).toBe(0x04000004n);
    expect(h.as.readU64(BUF + 0x110)).toBe(0x401000n);
    expect(h.as.readU64(BUF + 0x118)).toBe(bit(SIGTERM)); // SIGKILL cannot be masked
    // Same buffer for act and oldact: the new action is read first.
    h.as.write(BUF, sigaction(0x405000n));
    expect(h.sys('rt_sigaction', SIGUSR1, BUF, BUF, 8)).toBe(0n);
    expect(h.as.readU64(BUF)).toBe(1n);
    expect(h.kernel.proc.signals.action(SIGUSR1).handler).toBe(0x405000n);
    expect(h.sys('rt_sigaction', SIGKILL, BUF, 0, 8)).toBe(EINVAL);
    expect(h.sys('rt_sigaction', SIGKILL, 0, BUF, 8)).toBe(0n);
    expect(h.sys('rt_sigaction', 65, 0, BUF, 8)).toBe(EINVAL);
    expect(h.sys('rt_sigaction', SIGUSR1, BUF, 0, 4)).toBe(EINVAL);
    expect(h.sys('rt_sigaction', SIGUSR1, 0x10, 0, 8)).toBe(-14n);
  });

  it('blocks, unblocks and reports the old mask', () => {
    const h = harness();
    h.as.writeU64(BUF, bit(SIGINT) | bit(SIGKILL));
    expect(h.sys('rt_sigprocmask', SIG_BLOCK, BUF, BUF + 8, 8)).toBe(0n);
    expect(h.as.readU64(BUF + 8)).toBe(0n);
    h.as.writeU64(BUF, bit(SIGTERM));
    expect(h.sys('rt_sigprocmask', SIG_BLOCK, BUF, BUF + 8, 8)).toBe(0n);
    expect(h.as.readU64(BUF + 8)).toBe(bit(SIGINT));
    h.as.writeU64(BUF, bit(SIGINT));
    expect(h.sys('rt_sigprocmask', SIG_UNBLOCK, BUF, 0, 8)).toBe(0n);
    expect(h.sys('rt_sigprocmask', SIG_SETMASK, 0, BUF + 8, 8)).toBe(0n);
    expect(h.as.readU64(BUF + 8)).toBe(bit(SIGTERM));
    expect(h.sys('rt_sigprocmask', 7, BUF, 0, 8)).toBe(EINVAL);
    expect(h.sys('rt_sigprocmask', SIG_SETMASK, BUF, 0, 16)).toBe(EINVAL);
  });

  it('sigaltstack', () => {
    const h = harness();
    expect(h.sys('sigaltstack', 0, BUF)).toBe(0n);
    expect(h.as.readU32(BUF + 8)).toBe(2); // SS_DISABLE
    const ss = new Uint8Array(24);
    const v = new DataView(ss.buffer);
    v.setBigUint64(0, 0x7000_0000n, true);
    v.setInt32(8, 0, true);
    v.setBigUint64(16, 0x4000n, true);
    h.as.write(BUF + 0x100, ss);
    expect(h.sys('sigaltstack', BUF + 0x100, BUF)).toBe(0n);
    expect(h.sys('sigaltstack', 0, BUF)).toBe(0n);
    expect(h.as.readU64(BUF)).toBe(0x7000_0000n);
    expect(h.as.readU32(BUF + 8)).toBe(0);
    expect(h.as.readU64(BUF + 16)).toBe(0x4000n);
    v.setBigUint64(16, 100n, true);
    h.as.write(BUF + 0x100, ss);
    expect(h.sys('sigaltstack', BUF + 0x100, 0)).toBe(ENOMEM);
    v.setInt32(8, 99, true);
    h.as.write(BUF + 0x100, ss);
    expect(h.sys('sigaltstack', BUF + 0x100, 0)).toBe(EINVAL);
  });
});

describe('kill / tgkill of itself', () => {
  it('signal 0 checks; default-fatal signals kill; ignored ones do nothing', () => {
    const h = harness();
    const pid = process.pid;
    expect(h.sys('kill', pid, 0)).toBe(0n);
    expect(h.sys('kill', pid, SIGCHLD)).toBe(0n); // default: ignore
    expect(killedBy(() => h.sys('kill', pid, SIGTERM))).toBe(SIGTERM);
    const h2 = harness();
    h2.as.write(BUF, sigaction(1n)); // SIG_IGN
    h2.sys('rt_sigaction', SIGTERM, BUF, 0, 8);
    expect(h2.sys('kill', pid, SIGTERM)).toBe(0n);
    expect(h2.sys('tgkill', pid, pid, SIGTERM)).toBe(0n);
    expect(killedBy(() => h2.sys('tkill', pid, SIGKILL))).toBe(SIGKILL);
    expect(h2.sys('kill', pid, 65)).toBe(EINVAL);
    expect(h2.sys('tgkill', pid, pid + 1, SIGTERM)).toBe(ESRCH);
  });

  it('abort(): a blocked SIGABRT stays pending and kills when unblocked', () => {
    const h = harness();
    const pid = process.pid;
    h.as.writeU64(BUF, ~0n);
    h.sys('rt_sigprocmask', SIG_BLOCK, BUF, BUF + 8, 8);
    expect(h.sys('tgkill', pid, pid, SIGABRT)).toBe(0n);
    h.as.writeU64(BUF + 0x10, bit(SIGABRT));
    expect(h.sys('rt_sigpending', BUF + 0x18, 8)).toBe(0n);
    expect(h.as.readU64(BUF + 0x18)).toBe(bit(SIGABRT));
    expect(killedBy(() => h.sys('rt_sigprocmask', SIG_SETMASK, BUF + 8, 0, 8))).toBe(SIGABRT);
  });

  it('a handler leaves the signal pending (delivery comes later)', () => {
    const h = harness();
    h.as.write(BUF, sigaction(0x401234n));
    h.sys('rt_sigaction', SIGSEGV, BUF, 0, 8);
    expect(h.sys('kill', process.pid, SIGSEGV)).toBe(0n);
    expect(h.kernel.proc.signals.pending).toBe(bit(SIGSEGV));
    expect(h.kernel.proc.signals.deliverable()).toEqual([SIGSEGV]);
    expect(h.log.some((l) => l.includes('SIGSEGV'))).toBe(true);
  });

  it('writing to a pipe with no reader raises SIGPIPE, which kills by default', () => {
    const h = harness();
    h.sys('pipe', BUF);
    const r = h.as.readU32(BUF), w = h.as.readU32(BUF + 4);
    h.sys('close', r);
    expect(killedBy(() => h.sys('write', w, BUF, 1))).toBe(SIGPIPE);
    const h2 = harness();
    h2.sys('pipe', BUF);
    h2.sys('close', h2.as.readU32(BUF));
    h2.as.writeU64(BUF + 0x10, bit(SIGPIPE));
    h2.sys('rt_sigprocmask', SIG_BLOCK, BUF + 0x10, 0, 8);
    expect(h2.sys('write', h2.as.readU32(BUF + 4), BUF, 1)).toBe(EPIPE);
  });
});
