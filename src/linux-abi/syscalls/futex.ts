/**
 * futex(2) for a process with one thread: nobody else can wake a waiter or change the word.
 *   FUTEX_WAKE*: 0 woken.  FUTEX_WAIT*: -EAGAIN if the word differs; else the wait can only end
 *   by its timeout (slept out, then -ETIMEDOUT) or never (-EINVAL and a warning, rather than
 *   hanging). FUTEX_WAKE_OP does its operation on the second word. Requeues wake nobody.
 */
import { Access } from '../../paging/address-space.js';
import { int, ptr, uint } from '../args.js';
import { clockNow } from '../clock.js';
import { E, fail } from '../errno.js';
import type { Proc } from '../proc.js';
import { sleepNs } from '../sleep.js';
import { defineSyscalls } from '../table.js';
import { checkAccess, readTimespecNs } from '../uaccess.js';

export const FUTEX_WAIT = 0, FUTEX_WAKE = 1, FUTEX_FD = 2, FUTEX_REQUEUE = 3, FUTEX_CMP_REQUEUE = 4,
  FUTEX_WAKE_OP = 5, FUTEX_LOCK_PI = 6, FUTEX_UNLOCK_PI = 7, FUTEX_TRYLOCK_PI = 8, FUTEX_WAIT_BITSET = 9,
  FUTEX_WAKE_BITSET = 10, FUTEX_WAIT_REQUEUE_PI = 11, FUTEX_CMP_REQUEUE_PI = 12, FUTEX_LOCK_PI2 = 13;
export const FUTEX_PRIVATE_FLAG = 128, FUTEX_CLOCK_REALTIME = 256;
const FUTEX_CMD_MASK = ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);

function aligned(addr: number): void {
  if (addr % 4 !== 0) fail(E.EINVAL);
}

/** The futex word; EFAULT if unreadable. */
function word(p: Proc, addr: number): number {
  aligned(addr);
  return p.as.readU32(addr);
}

/** WAIT and WAIT_BITSET. The timeout is relative for WAIT, absolute for WAIT_BITSET. */
function wait(p: Proc, addr: number, val: number, timeoutAddr: number, op: number, bitset: number): number {
  const cmd = op & FUTEX_CMD_MASK;
  if (cmd === FUTEX_WAIT_BITSET && bitset === 0) fail(E.EINVAL);
  const timeout = timeoutAddr ? readTimespecNs(p.as, timeoutAddr) : null;
  if (word(p, addr) !== val) fail(E.EAGAIN);
  if (timeout === null) {
    p.warn('futex wait with no timeout in a single-threaded process would block forever; returning EINVAL');
    return fail(E.EINVAL);
  }
  // FUTEX_WAIT's timeout is relative (also with FUTEX_CLOCK_REALTIME); WAIT_BITSET's is absolute.
  const absolute = cmd === FUTEX_WAIT_BITSET;
  if (absolute) {
    const clock = op & FUTEX_CLOCK_REALTIME ? clockNow('real') : clockNow('mono');
    sleepNs(timeout - clock);
  } else {
    sleepNs(timeout);
  }
  return fail(E.ETIMEDOUT);
}

/** FUTEX_WAKE_OP: *uaddr2 = op(*uaddr2, oparg); the comparison only decides whom to wake: nobody. */
function wakeOp(p: Proc, addr2: number, encoded: number): number {
  aligned(addr2);
  checkAccess(p.as, addr2, 4, Access.Write);
  const op = (encoded >>> 28) & 0xf;
  const cmp = (encoded >>> 24) & 0xf;
  let oparg = (encoded << 8) >> 20; // sign-extended 12 bits
  const FUTEX_OP_OPARG_SHIFT = 8;
  if (op & FUTEX_OP_OPARG_SHIFT) {
    if (oparg < 0 || oparg > 31) p.warnOnce('futex-op-shift', 'futex: FUTEX_WAKE_OP shift out of range');
    oparg = 1 << (oparg & 31);
  }
  const old = p.as.readU32(addr2);
  let next: number;
  switch (op & 7) {
    case 0: next = oparg; break; // SET
    case 1: next = old + oparg; break; // ADD
    case 2: next = old | oparg; break; // OR
    case 3: next = old & ~oparg; break; // ANDN
    case 4: next = old ^ oparg; break; // XOR
    default: return fail(E.ENOSYS);
  }
  if (cmp > 5) fail(E.ENOSYS);
  p.as.writeU32(addr2, next >>> 0);
  return 0;
}

function futex(p: Proc, a: readonly bigint[]): number {
  const addr = ptr(a[0]), op = int(a[1]), val = uint(a[2]);
  const cmd = op & FUTEX_CMD_MASK;
  if (op & FUTEX_CLOCK_REALTIME && cmd !== FUTEX_WAIT && cmd !== FUTEX_WAIT_BITSET && cmd !== FUTEX_WAIT_REQUEUE_PI && cmd !== FUTEX_LOCK_PI2) {
    fail(E.ENOSYS);
  }
  switch (cmd) {
    case FUTEX_WAIT: return wait(p, addr, val, ptr(a[3]), op, 0xffff_ffff);
    case FUTEX_WAIT_BITSET: return wait(p, addr, val, ptr(a[3]), op, uint(a[5]));
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET:
      aligned(addr);
      if (cmd === FUTEX_WAKE_BITSET && uint(a[5]) === 0) fail(E.EINVAL);
      return 0;
    case FUTEX_REQUEUE: aligned(addr); return 0;
    case FUTEX_CMP_REQUEUE:
      if (word(p, addr) !== uint(a[5])) fail(E.EAGAIN);
      return 0;
    case FUTEX_WAKE_OP:
      aligned(addr);
      return wakeOp(p, ptr(a[4]), uint(a[5]));
    default:
      return fail(E.ENOSYS);
  }
}

export const futexSyscalls = defineSyscalls([
  { name: 'futex', args: ['p', 'futex', 'u', 'p', 'p', 'x'], handler: (p, a) => futex(p, a) },
]);
