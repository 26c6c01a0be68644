/**
 * futex(2): WAIT/WAIT_BITSET block the calling thread on the process's wait queue; WAKE,
 * WAKE_BITSET, REQUEUE, CMP_REQUEUE and WAKE_OP wake and move waiters (threads of one process run
 * in turn on one JS thread, process/scheduler.ts, so the word checks are atomic). PI futexes:
 * ENOSYS.
 */
import { Access } from '../../paging/address-space.js';
import { int, ptr, uint } from '../args.js';
import { clockNow } from '../clock.js';
import { E, fail } from '../errno.js';
import type { Proc } from '../proc.js';
import { sleepNs } from '../sleep.js';
import { block } from '../block.js';
import { monotonicNs } from '../clock.js';
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

/**
 * WAIT and WAIT_BITSET: the thread joins the process's wait queue and blocks (block.ts) until a
 * WAKE takes it out (0), its timeout passes (-ETIMEDOUT) or a signal interrupts it. The timeout
 * is relative for WAIT, absolute for WAIT_BITSET. The queue is the process's: guest processes do
 * not share memory, so a futex word belongs to one process (shared futexes are private ones).
 * Without a scheduler (one thread, nobody to wake it) a wait without a timeout warns and returns
 * EINVAL rather than hanging; one with a timeout sleeps it out.
 */
function wait(p: Proc, addr: number, val: number, timeoutAddr: number, op: number, bitset: number): number {
  const cmd = op & FUTEX_CMD_MASK;
  if (cmd === FUTEX_WAIT_BITSET && bitset === 0) fail(E.EINVAL);
  const t = p.thread;
  const w = t.futex;
  if (w) {
    // A retry of the blocked call.
    if (w.woken) {
      t.futex = undefined;
      return 0;
    }
    if (w.deadlineNs !== undefined && monotonicNs() >= w.deadlineNs) {
      dequeue(p, t);
      return fail(E.ETIMEDOUT);
    }
    return block(`futex wait on 0x${w.addr.toString(16)}`, w.deadlineNs, () => dequeue(p, t));
  }
  const timeout = timeoutAddr ? readTimespecNs(p.as, timeoutAddr) : null;
  if (word(p, addr) !== val) fail(E.EAGAIN);
  // FUTEX_WAIT's timeout is relative (also with FUTEX_CLOCK_REALTIME); WAIT_BITSET's is absolute.
  let deadline: bigint | undefined;
  if (timeout !== null) {
    const now = monotonicNs();
    if (cmd === FUTEX_WAIT_BITSET) deadline = now + (timeout - (op & FUTEX_CLOCK_REALTIME ? clockNow('real') : clockNow('mono')));
    else deadline = (p.callStartNs || now) + timeout;
  }
  if (!p.blockable) {
    if (deadline === undefined) {
      p.warn('futex wait with no timeout in a single-threaded process would block forever; returning EINVAL');
      return fail(E.EINVAL);
    }
    sleepNs(deadline - monotonicNs());
    return fail(E.ETIMEDOUT);
  }
  if (deadline !== undefined && monotonicNs() >= deadline) fail(E.ETIMEDOUT);
  const entry = { addr, bitset, woken: false, deadlineNs: deadline, thread: t };
  t.futex = entry;
  p.futexWaiters.push(entry);
  return block(`futex wait on 0x${addr.toString(16)}`, deadline, () => dequeue(p, t));
}

/** Takes the thread's wait out of the queue (timeout, signal). */
function dequeue(p: Proc, t: Proc['thread']): void {
  const i = p.futexWaiters.findIndex((e) => e.thread === t);
  if (i >= 0) p.futexWaiters.splice(i, 1);
  t.futex = undefined;
}

/** Wakes up to `n` waiters on `addr` whose bitset meets `bitset`; returns how many. */
export function wake(p: Proc, addr: number, n: number, bitset = 0xffff_ffff): number {
  let woken = 0;
  for (let i = 0; i < p.futexWaiters.length && woken < n;) {
    const e = p.futexWaiters[i];
    if (e.addr === addr && (e.bitset & bitset) !== 0) {
      e.woken = true;
      p.futexWaiters.splice(i, 1);
      woken++;
    } else i++;
  }
  return woken;
}

/** REQUEUE / CMP_REQUEUE: wakes `n` waiters on addr, moves up to `m` of the rest to addr2. */
function requeue(p: Proc, addr: number, n: number, m: number, addr2: number): number {
  aligned(addr2);
  const woken = wake(p, addr, n);
  let moved = 0;
  for (const e of p.futexWaiters) {
    if (moved >= m) break;
    if (e.addr === addr) {
      e.addr = addr2;
      moved++;
    }
  }
  return woken + moved;
}

/** FUTEX_WAKE_OP: *uaddr2 = op(*uaddr2, oparg); wakes n1 on uaddr, and n2 on uaddr2 if cmp(old, cmparg). */
function wakeOp(p: Proc, addr: number, n1: number, n2: number, addr2: number, encoded: number): number {
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
  const cmparg = encoded & 0xfff;
  const o = old >>> 0;
  const hit = [o === cmparg, o !== cmparg, o < cmparg, o <= cmparg, o > cmparg, o >= cmparg][cmp];
  return wake(p, addr, n1) + (hit ? wake(p, addr2, n2) : 0);
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
      return wake(p, addr, val, cmd === FUTEX_WAKE_BITSET ? uint(a[5]) : 0xffff_ffff);
    // The timeout argument carries the requeue count (val2) for these.
    case FUTEX_REQUEUE:
      aligned(addr);
      return requeue(p, addr, val, uint(a[3]), ptr(a[4]));
    case FUTEX_CMP_REQUEUE:
      if (word(p, addr) !== uint(a[5])) fail(E.EAGAIN);
      return requeue(p, addr, val, uint(a[3]), ptr(a[4]));
    case FUTEX_WAKE_OP:
      aligned(addr);
      return wakeOp(p, addr, val, uint(a[3]), ptr(a[4]), uint(a[5]));
    default:
      return fail(E.ENOSYS);
  }
}

export const futexSyscalls = defineSyscalls([
  { name: 'futex', args: ['p', 'futex', 'u', 'p', 'p', 'x'], handler: (p, a) => futex(p, a) },
]);

const FUTEX_WAITERS = 0x8000_0000, FUTEX_OWNER_DIED = 0x4000_0000, FUTEX_TID_MASK = 0x3fff_ffff;
/** Entries walked at most (Linux's ROBUST_LIST_LIMIT). */
const ROBUST_LIST_LIMIT = 2048;

/**
 * A thread ends: every robust futex it still holds (set_robust_list's list, and the pending
 * operation) gets FUTEX_OWNER_DIED and one waiter is woken, as Linux's exit_robust_list does, so
 * the next pthread_mutex_lock of a robust mutex returns EOWNERDEAD instead of hanging.
 */
export function exitRobustList(p: Proc, th: Proc['thread']): void {
  const head = Number(th.robustList);
  if (!head) return;
  try {
    const offset = Number(BigInt.asIntN(64, p.as.readU64(head + 8)));
    const pending = Number(p.as.readU64(head + 16));
    const release = (entry: number) => {
      const addr = entry + offset;
      if (addr % 4 !== 0) return;
      const w = p.as.readU32(addr) >>> 0;
      if ((w & FUTEX_TID_MASK) !== th.tid) return;
      p.as.writeU32(addr, ((w & FUTEX_WAITERS) | FUTEX_OWNER_DIED) >>> 0);
      if (w & FUTEX_WAITERS) wake(p, addr, 1);
    };
    let entry = Number(p.as.readU64(head));
    for (let n = 0; entry !== head && entry !== 0 && n < ROBUST_LIST_LIMIT; n++) {
      const next = Number(p.as.readU64(entry));
      if (entry !== pending) release(entry);
      entry = next;
    }
    if (pending) release(pending);
  } catch { /* a bad list: Linux stops walking it too */ }
}
