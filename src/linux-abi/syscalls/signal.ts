/**
 * Signals: rt_sigaction, rt_sigprocmask, rt_sigpending, sigaltstack, kill, tkill, tgkill,
 * rt_sigqueueinfo, rt_tgsigqueueinfo, rt_sigreturn, rt_sigsuspend, pause, rt_sigtimedwait.
 *
 * The calls record into the process's SignalState (signals.ts). A signal sent to the process
 * becomes pending; on the way back to the guest the delivery engine (linux-abi/signal-delivery.ts) runs
 * its handler, ignores it or applies the default action (without an engine, the kernel applies
 * the fatal default actions itself, kernel.ts). rt_sigreturn undoes a handler's frame
 * (linux-abi/sigframe.ts).
 */
import { RSP } from '../../core/layout.js';
import { GuestFault, USER_TOP } from '../../paging/address-space.js';
import { int, ptr, ulong } from '../args.js';
import { E, fail } from '../errno.js';
import type { Proc } from '../proc.js';
import {
  cpuView, decodeUcontext, encodeSiginfo, FPSTATE_SIZE, FRAME_SIZE, FRAME_UC, initFpu, restoreFpstate, restoreSigcontext,
  UC_MCONTEXT,
} from '../sigframe.js';
import {
  NSIG, SI_KERNEL, SI_TKILL, SI_USER, type SigAction, type SigInfo, SIGKILL, signalName, SIGSEGV, SIGSTOP,
} from '../signals.js';
import { monotonicNs } from '../clock.js';
import { sleepUntil } from '../timers.js';
import { defineSyscalls } from '../table.js';
import { readTimespecNs, StructIn, StructOut } from '../uaccess.js';

export const SIG_BLOCK = 0, SIG_UNBLOCK = 1, SIG_SETMASK = 2;
const SIGSET_SIZE = 8;

function validSignal(sig: number): void {
  if (sig < 1 || sig > NSIG) fail(E.EINVAL);
}

function rtSigaction(p: Proc, sig: number, actAddr: number, oldAddr: number, setsize: number): number {
  if (setsize !== SIGSET_SIZE) fail(E.EINVAL);
  validSignal(sig);
  let act: SigAction | undefined;
  if (actAddr) {
    if (sig === SIGKILL || sig === SIGSTOP) fail(E.EINVAL);
    const s = StructIn.read(p.as, actAddr, 32);
    act = { handler: s.u64(0), flags: s.u64(8), restorer: s.u64(16), mask: s.u64(24) };
  }
  const old = p.signals.action(sig);
  if (act) p.signals.setAction(sig, act);
  if (oldAddr) {
    new StructOut(32).u64(0, old.handler).u64(8, old.flags).u64(16, old.restorer).u64(24, old.mask).write(p.as, oldAddr);
  }
  return 0;
}

function rtSigprocmask(p: Proc, how: number, setAddr: number, oldAddr: number, setsize: number): number {
  if (setsize !== SIGSET_SIZE) fail(E.EINVAL);
  const st = p.signals;
  const old = st.blocked;
  if (setAddr) {
    const set = p.as.readU64(setAddr);
    switch (how) {
      case SIG_BLOCK: st.setBlocked(old | set); break;
      case SIG_UNBLOCK: st.setBlocked(old & ~set); break;
      case SIG_SETMASK: st.setBlocked(set); break;
      default: fail(E.EINVAL);
    }
  }
  if (oldAddr) p.as.writeU64(oldAddr, old);
  return 0;
}

/** stack_t: void *ss_sp; int ss_flags; (pad); size_t ss_size — 24 bytes (Linux's do_sigaltstack). */
function sigaltstack(p: Proc, ssAddr: number, oldAddr: number): number {
  const st = p.signals;
  const sp = p.cpu ? p.cpu.get(RSP) : 0n;
  const old = st.reportAltstack(sp);
  if (ssAddr) {
    const s = StructIn.read(p.as, ssAddr, 24);
    const errno = st.setAltstack({ sp: s.u64(0), flags: s.i32(8), size: s.u64(16) }, sp);
    if (errno) fail(errno);
  }
  if (oldAddr) new StructOut(24).u64(0, old.sp).i32(8, old.flags).u64(16, old.size).write(p.as, oldAddr);
  return 0;
}

const uid = (): number => process.getuid?.() ?? 0;

/** Sends `sig` to this process (sig 0 only checks). */
function signalSelf(p: Proc, sig: number, code: number): number {
  if (sig === 0) return 0;
  p.signals.send({ signo: sig, code, pid: p.pid, uid: uid() });
  return 0;
}

/**
 * kill: guest processes (process-host.ts) by pid, by process group (0: ours, -pgid) or all but
 * ourselves (-1, which reaches only guest processes: usmjit does not signal the user's other
 * processes). A pid that is not a guest's is the host's (process.kill).
 */
function kill(p: Proc, pid: number, sig: number): number {
  if (sig < 0 || sig > NSIG) fail(E.EINVAL);
  if (pid === -0x8000_0000) fail(E.ESRCH);
  const live = p.host ? [...p.host.processes()].filter((q) => q.exitStatus === undefined) : [p];
  let targets: Proc[];
  if (pid > 0) {
    const t = pid === p.pid ? p : p.host?.process(pid);
    if (t && t.exitStatus !== undefined) return 0; // a zombie: nothing happens
    targets = t ? [t] : [];
  } else if (pid === 0) targets = live.filter((q) => q.pgid === p.pgid);
  else if (pid === -1) targets = live.filter((q) => q !== p);
  else targets = live.filter((q) => q.pgid === -pid);
  if (targets.length > 0) {
    if (sig === 0) return 0;
    for (const t of targets) t.signals.send({ signo: sig, code: SI_USER, pid: p.pid, uid: uid() });
    return 0;
  }
  if (pid <= 0) return fail(E.ESRCH);
  try {
    process.kill(pid, sig);
  } catch (e) {
    const code = (e as { code?: string }).code;
    fail(code === 'EPERM' ? E.EPERM : code === 'EINVAL' ? E.EINVAL : E.ESRCH);
  }
  return 0;
}

function tgkill(p: Proc, tgid: number, tid: number, sig: number): number {
  if (sig < 0 || sig > NSIG || tid <= 0 || (tgid !== -1 && tgid <= 0)) fail(E.EINVAL);
  const t = tid === p.tid ? p : p.host?.process(tid);
  const th = t?.threads.get(tid);
  if (!t || !th || t.exitStatus !== undefined || (tgid !== -1 && tgid !== t.pid)) fail(E.ESRCH);
  if (sig === 0) return 0;
  t.signalThread(th, { signo: sig, code: SI_TKILL, pid: p.pid, uid: uid() });
  return 0;
}

/** rt_sigqueueinfo / rt_tgsigqueueinfo to ourselves: the caller's siginfo, as given. */
function sigqueue(p: Proc, tgid: number, tid: number, sig: number, infoAddr: number): number {
  if (sig < 0 || sig > NSIG) fail(E.EINVAL);
  const s = StructIn.read(p.as, infoAddr, 32);
  const code = s.i32(8);
  const self = tgid === p.pid && (tid === -1 || tid === p.tid);
  if (!self) {
    if (tid !== -1) fail(E.ESRCH);
    if (code >= 0 || code === SI_TKILL) fail(E.EPERM);
    p.warn(`rt_sigqueueinfo to process ${tgid}: only signals to the guest itself are supported`);
    fail(E.ESRCH);
  }
  if (sig === 0) return 0;
  p.signals.send({ signo: sig, code, pid: s.i32(16), uid: s.u32(20), value: s.u64(24) });
  return 0;
}

/**
 * rt_sigreturn: the handler returned (through sa_restorer) with rsp just above pretcode. Restores
 * the blocked mask, the registers, the FP state and the alternate stack from the frame, and
 * returns the restored rax (so the syscall return leaves it intact). A frame that cannot be read
 * gets SIGSEGV, as Linux's signal_fault().
 */
function rtSigreturn(p: Proc): bigint {
  const cpu = p.cpu;
  const st = p.signals;
  const frame = BigInt.asUintN(64, cpu.get(RSP) - 8n);
  try {
    if (frame > BigInt(USER_TOP - FRAME_SIZE)) throw new BadFrame();
    const uc = p.as.read(Number(frame) + FRAME_UC, FRAME_SIZE - FRAME_UC);
    const { flags, stack, mask } = decodeUcontext(uc);
    void flags; // UC_STRICT_RESTORE_SS: there is no SS to fix up
    st.setBlocked(mask);
    const fp = restoreSigcontext(cpuView(cpu, p.as), uc.subarray(UC_MCONTEXT, UC_MCONTEXT + 192));
    let ok = fp === 0n;
    if (!ok) {
      try {
        const image = fp % 16n === 0n && fp <= BigInt(USER_TOP - FPSTATE_SIZE) ? p.as.read(Number(fp), FPSTATE_SIZE) : undefined;
        ok = image !== undefined && restoreFpstate(cpuView(cpu, p.as), image);
      } catch (e) {
        if (!(e instanceof GuestFault)) throw e;
      }
    }
    if (!ok || fp === 0n) initFpu(cpuView(cpu, p.as)); // no FP state in the frame: the initial one
    if (!ok) throw new BadFrame();
    st.setAltstack(stack, cpu.get(RSP)); // errors are ignored, as Linux's restore_altstack does
    return cpu.get(0);
  } catch (e) {
    if (!(e instanceof BadFrame || e instanceof GuestFault)) throw e;
    st.force({ signo: SIGSEGV, code: SI_KERNEL, pid: 0, uid: 0 });
    return 0n;
  }
}

class BadFrame extends Error {}

const idle = new Int32Array(new SharedArrayBuffer(4));

/** Waiting for a signal that nothing can send any more (no timer armed, no other processes we know). */
function sleepForever(p: Proc, call: string): never {
  p.warn(`${call}: no signal can arrive; the guest sleeps forever (interrupt the emulator to stop it)`);
  for (;;) Atomics.wait(idle, 0, 0);
}

/** Whether a pending signal is unblocked, so a sleeping call is interrupted at once. */
const interrupted = (p: Proc): boolean => (p.signals.pending & ~p.signals.blocked) !== 0n;

function rtSigsuspend(p: Proc, maskAddr: number, setsize: number): number {
  if (setsize !== SIGSET_SIZE) fail(E.EINVAL);
  const st = p.signals;
  const mask = p.as.readU64(maskAddr);
  // (A retry of the blocked call finds the temporary mask in place already.)
  if (st.savedMask === undefined) {
    st.savedMask = st.blocked;
    st.setBlocked(mask);
  }
  // Until a signal that is not blocked is pending (a timer's, when one is armed).
  sleepUntil(p.timers, undefined, () => interrupted(p), () => sleepForever(p, 'rt_sigsuspend'), p);
  return fail(E.EINTR);
}

function rtSigtimedwait(p: Proc, setAddr: number, infoAddr: number, tsAddr: number, setsize: number): number {
  if (setsize !== SIGSET_SIZE) fail(E.EINVAL);
  const st = p.signals;
  const these = p.as.readU64(setAddr) & ~(SignalBit(SIGKILL) | SignalBit(SIGSTOP));
  const timeout = tsAddr ? readTimespecNs(p.as, tsAddr) : undefined;
  if (timeout !== undefined && timeout < 0n) fail(E.EINVAL);
  const take = (): number => {
    const set = st.pending & these;
    if (set === 0n) return 0;
    // Synchronous signals first, then the lowest: the same order as delivery.
    const saved = st.blocked;
    st.blocked = ~these;
    const sig = st.next();
    st.blocked = saved;
    return sig;
  };
  let sig = take();
  if (!sig) {
    // Only timers can send while we sleep: one of these signals arrives, another signal that is
    // not blocked interrupts, the timeout runs out; without a timeout or a timer it is forever.
    if (interrupted(p)) fail(E.EINTR);
    const end = timeout === undefined ? undefined : (p.callStartNs || monotonicNs()) + timeout;
    sleepUntil(p.timers, end, () => (sig = take()) !== 0 || interrupted(p), () => sleepForever(p, 'rt_sigtimedwait'), p);
    if (!sig) fail(interrupted(p) ? E.EINTR : E.EAGAIN);
  }
  const info: SigInfo = st.dequeue(sig);
  if (infoAddr) p.as.write(infoAddr, encodeSiginfo(info));
  return sig;
}

const SignalBit = (sig: number): bigint => 1n << BigInt(sig - 1);

export const signalSyscalls = defineSyscalls([
  {
    name: 'rt_sigaction', args: ['sig', 'p', 'p', 'u'],
    handler: (p, [sig, act, old, setsize]) => rtSigaction(p, int(sig), ptr(act), ptr(old), Number(ulong(setsize))),
  },
  {
    name: 'rt_sigprocmask', args: ['sighow', 'sigset', 'p', 'u'],
    handler: (p, [how, set, old, setsize]) => rtSigprocmask(p, int(how), ptr(set), ptr(old), Number(ulong(setsize))),
  },
  {
    name: 'rt_sigpending', args: ['p', 'u'],
    handler: (p, [set, setsize]) => {
      if (ulong(setsize) > BigInt(SIGSET_SIZE)) fail(E.EINVAL);
      p.as.writeU64(ptr(set), p.signals.pending & p.signals.blocked);
      return 0;
    },
  },
  { name: 'sigaltstack', args: ['p', 'p'], handler: (p, [ss, old]) => sigaltstack(p, ptr(ss), ptr(old)) },
  { name: 'kill', args: ['d', 'sig'], handler: (p, [pid, sig]) => kill(p, int(pid), int(sig)) },
  {
    name: 'tkill', args: ['d', 'sig'],
    handler: (p, [tid, sig]) => tgkill(p, -1, int(tid), int(sig)),
  },
  {
    name: 'tgkill', args: ['d', 'd', 'sig'],
    handler: (p, [tgid, tid, sig]) => tgkill(p, int(tgid), int(tid), int(sig)),
  },
  {
    name: 'rt_sigqueueinfo', args: ['d', 'sig', 'p'],
    handler: (p, [tgid, sig, info]) => sigqueue(p, int(tgid), -1, int(sig), ptr(info)),
  },
  {
    name: 'rt_tgsigqueueinfo', args: ['d', 'd', 'sig', 'p'],
    handler: (p, [tgid, tid, sig, info]) => sigqueue(p, int(tgid), int(tid), int(sig), ptr(info)),
  },
  { name: 'rt_sigreturn', args: [], handler: (p) => rtSigreturn(p) },
  {
    name: 'rt_sigsuspend', args: ['sigset', 'u'],
    handler: (p, [mask, setsize]) => rtSigsuspend(p, ptr(mask), Number(ulong(setsize))),
  },
  {
    name: 'pause', args: [],
    handler: (p) => {
      sleepUntil(p.timers, undefined, () => interrupted(p), () => sleepForever(p, 'pause'), p);
      return fail(E.EINTR);
    },
  },
  {
    name: 'rt_sigtimedwait', args: ['sigset', 'p', 'ts', 'u'],
    handler: (p, [set, info, ts, setsize]) => rtSigtimedwait(p, ptr(set), ptr(info), ptr(ts), Number(ulong(setsize))),
  },
]);

