/**
 * Signals: rt_sigaction, rt_sigprocmask, rt_sigpending, sigaltstack, kill, tkill, tgkill.
 *
 * The calls record into the process's SignalState (signals.ts). A signal sent to the process
 * becomes pending; when the call returns, the kernel applies default actions that end the
 * process (kernel.ts). Handlers are not run yet: a signal with a handler stays pending for the
 * delivery engine to come (rt_sigreturn is not implemented until then).
 */
import { int, ptr, ulong } from '../args.js';
import { E, fail } from '../errno.js';
import type { Proc } from '../proc.js';
import {
  MINSIGSTKSZ, NSIG, SI_TKILL, SI_USER, type SigAction, SIGKILL, signalName, SIGSTOP, SS_AUTODISARM, SS_DISABLE,
  SS_ONSTACK,
} from '../signals.js';
import { defineSyscalls } from '../table.js';
import { StructIn, StructOut } from '../uaccess.js';

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

/** stack_t: void *ss_sp; int ss_flags; (pad); size_t ss_size — 24 bytes. */
function sigaltstack(p: Proc, ssAddr: number, oldAddr: number): number {
  const st = p.signals;
  const old = { ...st.altstack };
  if (ssAddr) {
    const s = StructIn.read(p.as, ssAddr, 24);
    const sp = s.u64(0), flags = s.i32(8), size = s.u64(16);
    const mode = flags & ~SS_AUTODISARM;
    if (mode !== 0 && mode !== SS_DISABLE && mode !== SS_ONSTACK) fail(E.EINVAL);
    if (mode === SS_DISABLE) {
      st.altstack = { sp: 0n, flags: SS_DISABLE, size: 0n };
    } else {
      if (size < BigInt(MINSIGSTKSZ)) fail(E.ENOMEM);
      st.altstack = { sp, flags: flags & SS_AUTODISARM, size };
    }
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

function kill(p: Proc, pid: number, sig: number): number {
  if (sig < 0 || sig > NSIG) fail(E.EINVAL);
  // Ourselves: our pid, our process group (0 or -pgid; the guest is the only member we know).
  if (pid === p.pid || pid === 0 || pid === -p.pgid) return signalSelf(p, sig, SI_USER);
  if (pid === -1) {
    p.warn(`kill(-1, ${signalName(sig)}) would signal every process of the user; refused`);
    return fail(E.EPERM);
  }
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
  if (tid !== p.tid || (tgid !== -1 && tgid !== p.pid)) fail(E.ESRCH);
  return signalSelf(p, sig, SI_TKILL);
}

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
]);

