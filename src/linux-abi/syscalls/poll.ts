/**
 * Readiness: poll, ppoll, select, pselect6.
 *
 * Files and host streams are reported ready (as Linux does for regular files; for a host tty or
 * pipe the following read simply blocks until data comes). In-kernel pipes report their real
 * state. A call with nothing ready blocks (block.ts) until its timeout, retried whenever other
 * tasks ran; without a scheduler (nothing else can change the state) it sleeps out its timeout
 * and returns 0, and one with no timeout warns and returns 0.
 */
import { int, ptr, uint } from '../args.js';
import { E, fail } from '../errno.js';
import { POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLPRI, POLLRDNORM, POLLWRNORM } from '../open-file.js';
import type { Proc } from '../proc.js';
import { block } from '../block.js';
import { monotonicNs } from '../clock.js';
import { sleepNs } from '../sleep.js';
import { defineSyscalls } from '../table.js';
import { readTimespecNs, readTimevalNs, StructIn, StructOut, writeTimespec, writeTimeval } from '../uaccess.js';

/** Waits out a timeout with nothing ready (null: forever, which one thread cannot survive). */
function idle(p: Proc, what: string, timeoutNs: bigint | null): void {
  if (p.blockable) {
    if (timeoutNs === null) return block(what);
    const deadline = (p.callStartNs || monotonicNs()) + timeoutNs;
    if (monotonicNs() < deadline) block(what, deadline);
    return;
  }
  if (timeoutNs === null) {
    p.warnOnce(`${what}-forever`, `${what} with no timeout and nothing ready would block forever (one thread); returning 0`);
    return;
  }
  sleepNs(timeoutNs);
}

function doPoll(p: Proc, addr: number, nfds: number, timeoutNs: bigint | null, what: string): number {
  if (nfds > p.limits.nofile) fail(E.EINVAL);
  if (nfds === 0) {
    idle(p, what, timeoutNs);
    return 0;
  }
  const s = StructIn.read(p.as, addr, 8 * nfds);
  const out = new StructOut(8 * nfds);
  out.bytes.set(s.bytes);
  let ready = 0;
  for (let i = 0; i < nfds; i++) {
    const fd = s.i32(i * 8);
    const events = s.u16(i * 8 + 4);
    let rev = 0;
    if (fd >= 0) {
      rev = p.fds.has(fd) ? p.fds.get(fd).pollMask() & (events | POLLERR | POLLHUP) : POLLNVAL;
    }
    out.u16(i * 8 + 6, rev);
    if (rev) ready++;
  }
  if (ready === 0 && timeoutNs !== 0n) idle(p, what, timeoutNs);
  out.write(p.as, addr);
  return ready;
}

const POLLIN_SET = POLLIN | POLLRDNORM | POLLHUP | POLLERR;
const POLLOUT_SET = POLLOUT | POLLWRNORM | POLLERR;

/** select/pselect6 on fd_set bitmaps (64-bit words). */
function doSelect(p: Proc, nfds: number, rAddr: number, wAddr: number, eAddr: number, timeoutNs: bigint | null, what: string): number {
  if (nfds < 0) fail(E.EINVAL);
  nfds = Math.min(nfds, p.limits.nofile);
  const words = Math.ceil(nfds / 64);
  const read = (a: number): bigint[] | undefined => {
    if (a === 0 || words === 0) return undefined;
    const s = StructIn.read(p.as, a, words * 8);
    return Array.from({ length: words }, (_, i) => s.u64(i * 8));
  };
  const sets = [read(rAddr), read(wAddr), read(eAddr)];
  const outs = sets.map((s) => (s ? s.map(() => 0n) : undefined));
  let count = 0;
  for (let fd = 0; fd < nfds; fd++) {
    const w = fd >> 6, b = 1n << BigInt(fd & 63);
    const wanted = sets.map((s) => (s ? (s[w] & b) !== 0n : false));
    if (!wanted.some((x) => x)) continue;
    if (!p.fds.has(fd)) fail(E.EBADF);
    const mask = p.fds.get(fd).pollMask();
    const hits = [mask & POLLIN_SET, mask & POLLOUT_SET, mask & POLLPRI];
    for (let k = 0; k < 3; k++) {
      if (wanted[k] && hits[k]) {
        outs[k]![w] |= b;
        count++;
      }
    }
  }
  if (count === 0 && timeoutNs !== 0n) idle(p, what, timeoutNs);
  [rAddr, wAddr, eAddr].forEach((a, k) => {
    const o = outs[k];
    if (!o) return;
    const st = new StructOut(words * 8);
    o.forEach((v, i) => st.u64(i * 8, v));
    st.write(p.as, a);
  });
  return count;
}

/** The sigmask argument of ppoll/pselect6 (applied for the call's duration on Linux; here only checked). */
function checkSigmask(sigsetsize: number): void {
  if (sigsetsize !== 8) fail(E.EINVAL);
}

export const pollSyscalls = defineSyscalls([
  {
    name: 'poll', args: ['p', 'u', 'ms'],
    handler: (p, [fds, nfds, timeout]) => {
      const ms = int(timeout);
      return doPoll(p, ptr(fds), uint(nfds), ms < 0 ? null : BigInt(ms) * 1_000_000n, 'poll');
    },
  },
  {
    name: 'ppoll', args: ['p', 'u', 'ts', 'sigset', 'u'],
    handler: (p, [fds, nfds, tsp, sigmask, sigsetsize]) => {
      const t = ptr(tsp) ? readTimespecNs(p.as, ptr(tsp)) : null;
      if (ptr(sigmask)) checkSigmask(Number(sigsetsize));
      const n = doPoll(p, ptr(fds), uint(nfds), t, 'ppoll');
      if (t !== null && n === 0) writeTimespec(p.as, ptr(tsp), 0n);
      return n;
    },
  },
  {
    name: 'select', args: ['d', 'p', 'p', 'p', 'p'],
    handler: (p, [nfds, r, w, e, tv]) => {
      const t = ptr(tv) ? readTimevalNs(p.as, ptr(tv)) : null;
      const n = doSelect(p, int(nfds), ptr(r), ptr(w), ptr(e), t, 'select');
      if (t !== null && n === 0) writeTimeval(p.as, ptr(tv), 0n);
      return n;
    },
  },
  {
    name: 'pselect6', args: ['d', 'p', 'p', 'p', 'ts', 'p'],
    handler: (p, [nfds, r, w, e, tsp, sig]) => {
      const t = ptr(tsp) ? readTimespecNs(p.as, ptr(tsp)) : null;
      if (ptr(sig)) {
        // struct { const sigset_t *ss; size_t ss_len; }
        const s = StructIn.read(p.as, ptr(sig), 16);
        if (s.u64(0) !== 0n) checkSigmask(Number(s.u64(8)));
      }
      const n = doSelect(p, int(nfds), ptr(r), ptr(w), ptr(e), t, 'pselect6');
      if (t !== null && n === 0) writeTimespec(p.as, ptr(tsp), 0n);
      return n;
    },
  },
]);
