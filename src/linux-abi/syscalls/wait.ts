/**
 * Children: wait4 and waitid reap the children that ended (process-exit.ts), blocking (block.ts)
 * until one does; fork, vfork, clone (without CLONE_VM) and execve go to the process model
 * (process-host.ts).
 */
import { int, ptr, ulong } from '../args.js';
import { block } from '../block.js';
import { E, fail } from '../errno.js';
import { childCode, reap } from '../process-exit.js';
import type { CloneArgs } from '../process-host.js';
import type { Proc } from '../proc.js';
import { SIGCHLD } from '../signals.js';
import { defineSyscalls } from '../table.js';
import { StructOut } from '../uaccess.js';

export const WNOHANG = 1, WUNTRACED = 2, WSTOPPED = 2, WEXITED = 4, WCONTINUED = 8, WNOWAIT = 0x0100_0000,
  __WNOTHREAD = 0x2000_0000, __WALL = 0x4000_0000, __WCLONE = 0x8000_0000;
export const P_ALL = 0, P_PID = 1, P_PGID = 2, P_PIDFD = 3;

export const CLONE_VM = 0x100n, CLONE_FS = 0x200n, CLONE_FILES = 0x400n, CLONE_SIGHAND = 0x800n,
  CLONE_PIDFD = 0x1000n, CLONE_PTRACE = 0x2000n, CLONE_VFORK = 0x4000n, CLONE_PARENT = 0x8000n,
  CLONE_THREAD = 0x10000n, CLONE_NEWNS = 0x20000n, CLONE_SYSVSEM = 0x40000n, CLONE_SETTLS = 0x80000n,
  CLONE_PARENT_SETTID = 0x100000n, CLONE_CHILD_CLEARTID = 0x200000n, CLONE_DETACHED = 0x400000n,
  CLONE_UNTRACED = 0x800000n, CLONE_CHILD_SETTID = 0x1000000n;
/** Namespace and cgroup flags: a new namespace needs privileges the guest does not have here. */
const CLONE_NAMESPACES = 0x7e02_0000n & ~CLONE_SETTLS & ~CLONE_PARENT_SETTID & ~CLONE_CHILD_CLEARTID &
  ~CLONE_DETACHED & ~CLONE_UNTRACED & ~CLONE_CHILD_SETTID;

/** Whether child `c` is one a wait for `pid` (wait4's convention) is about. */
function selected(p: Proc, c: Proc, pid: number): boolean {
  if (pid === -1) return true;
  if (pid > 0) return c.pid === pid;
  if (pid === 0) return c.pgid === p.pgid;
  return c.pgid === -pid;
}

/** The children a wait is about; ECHILD when there are none. */
function candidates(p: Proc, pid: number): Proc[] {
  const out = [...p.children].filter((c) => selected(p, c, pid));
  if (out.length === 0) fail(E.ECHILD);
  return out;
}

const RUSAGE_SIZE = 144;

function wait4(p: Proc, pid: number, statusAddr: number, options: number, rusageAddr: number): number {
  if (options & ~(WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WALL | __WCLONE)) fail(E.EINVAL);
  if (pid === -0x8000_0000) fail(E.ESRCH);
  const ended = candidates(p, pid).find((c) => c.exitStatus !== undefined);
  if (!ended) {
    if (options & WNOHANG) return 0;
    return block(`wait4(${pid})`);
  }
  if (statusAddr) p.as.writeU32(statusAddr, ended.exitStatus!);
  if (rusageAddr) new StructOut(RUSAGE_SIZE).write(p.as, rusageAddr);
  reap(p, ended);
  return ended.pid;
}

/** waitid's siginfo: si_signo SIGCHLD, si_code CLD_*, si_pid, si_uid, si_status. */
function waitid(p: Proc, idtype: number, id: number, infoAddr: number, options: number, rusageAddr: number): number {
  if (options & ~(WNOHANG | WSTOPPED | WEXITED | WCONTINUED | WNOWAIT | __WNOTHREAD | __WALL | __WCLONE)) fail(E.EINVAL);
  if (!(options & (WEXITED | WSTOPPED | WCONTINUED))) fail(E.EINVAL);
  let pid: number;
  switch (idtype) {
    case P_ALL: pid = -1; break;
    case P_PID: if (id <= 0) fail(E.EINVAL); pid = id; break;
    case P_PGID: if (id < 0) fail(E.EINVAL); pid = id === 0 ? 0 : -id; break;
    default: return fail(E.EINVAL);
  }
  const ended = candidates(p, pid).find((c) => c.exitStatus !== undefined);
  const info = new StructOut(128);
  if (!ended || !(options & WEXITED)) {
    if (!(options & WNOHANG)) return block(`waitid(${idtype}, ${id})`);
    if (infoAddr) info.write(p.as, infoAddr); // nothing to report: si_signo and si_pid are 0
    return 0;
  }
  const { code, value } = childCode(ended.exitStatus!);
  info.i32(0, SIGCHLD).i32(8, code).i32(16, ended.pid).u32(20, process.getuid?.() ?? 0).i32(24, value);
  if (infoAddr) info.write(p.as, infoAddr);
  if (rusageAddr) new StructOut(RUSAGE_SIZE).write(p.as, rusageAddr);
  if (!(options & WNOWAIT)) reap(p, ended);
  return 0;
}

/** fork, vfork and clone without CLONE_VM: a new process. (CLONE_VM|CLONE_THREAD is a thread.) */
function cloneProcess(p: Proc, args: CloneArgs): number {
  const f = args.flags;
  if (f & CLONE_NAMESPACES) fail(E.EPERM);
  if (f & CLONE_SIGHAND && !(f & CLONE_VM)) fail(E.EINVAL);
  if (f & CLONE_THREAD) {
    if (!(f & CLONE_SIGHAND)) fail(E.EINVAL);
    if (!p.host) {
      p.warnOnce('threads', 'clone of a thread: this machine runs without the process model');
      return fail(E.ENOSYS);
    }
    return p.host.thread(p, args);
  }
  if (f & CLONE_SIGHAND) {
    p.warnOnce('clone-sighand', 'clone with CLONE_SIGHAND but not CLONE_THREAD is not implemented');
    return fail(E.ENOSYS);
  }
  if (f & CLONE_VM && !(f & CLONE_VFORK)) {
    p.warnOnce('clone-vm', 'clone with CLONE_VM but not CLONE_THREAD (a process sharing memory) is not implemented');
    return fail(E.ENOSYS);
  }
  if (f & (CLONE_FILES | CLONE_FS | CLONE_PIDFD)) {
    p.warnOnce('clone-files', 'clone with CLONE_FILES, CLONE_FS or CLONE_PIDFD is not implemented');
    return fail(E.ENOSYS);
  }
  const exitSignal = Number(f & 0xffn);
  if (exitSignal !== 0 && exitSignal !== SIGCHLD) p.warnOnce('exit-signal', `clone exit signal ${exitSignal}: the parent is sent SIGCHLD`);
  if (!p.host) {
    p.warnOnce('fork', 'fork: this machine runs without the process model');
    return fail(E.ENOSYS);
  }
  // vfork (CLONE_VM|CLONE_VFORK): the child gets a copy of the memory instead of sharing it, which
  // is all a correct vfork child can tell (it may only exec or _exit); the parent runs on at once.
  return p.host.fork(p, args);
}

/** A NULL-terminated array of string pointers. */
function readStrings(p: Proc, addr: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  if (!addr) return out;
  for (let i = 0; ; i++) {
    if (i >= 0x20000) fail(E.E2BIG);
    const s = p.as.readU64(addr + 8 * i);
    if (s === 0n) return out;
    out.push(p.as.readCStringBytes(ptr(s), 0x20000));
  }
}

function execve(p: Proc, pathAddr: number, argvAddr: number, envpAddr: number): number {
  const path = p.as.readCString(pathAddr);
  const argv = readStrings(p, argvAddr);
  const envp = readStrings(p, envpAddr);
  if (!p.host) {
    p.warnOnce('execve', 'execve: this machine runs without the process model');
    return fail(E.ENOSYS);
  }
  if (path === '') fail(E.ENOENT);
  return p.host.exec(p, path, argv, envp);
}

export const waitSyscalls = defineSyscalls([
  {
    name: 'wait4', args: ['d', 'p', 'x', 'p'],
    handler: (p, [pid, st, opt, ru]) => wait4(p, int(pid), ptr(st), int(opt), ptr(ru)),
  },
  {
    name: 'waitid', args: ['d', 'd', 'p', 'x', 'p'],
    handler: (p, [t, id, info, opt, ru]) => waitid(p, int(t), int(id), ptr(info), int(opt), ptr(ru)),
  },
  {
    name: 'fork', args: [],
    handler: (p) => cloneProcess(p, { flags: BigInt(SIGCHLD), stack: 0n, parentTid: 0, childTid: 0, tls: 0n }),
  },
  {
    name: 'vfork', args: [],
    handler: (p) => cloneProcess(p, { flags: CLONE_VM | CLONE_VFORK | BigInt(SIGCHLD), stack: 0n, parentTid: 0, childTid: 0, tls: 0n }),
  },
  {
    // x86-64 order: flags, stack, parent_tid, child_tid, tls
    name: 'clone', args: ['x', 'p', 'p', 'p', 'p'],
    handler: (p, [flags, stack, ptid, ctid, tls]) =>
      cloneProcess(p, { flags: ulong(flags), stack: ulong(stack), parentTid: ptr(ptid), childTid: ptr(ctid), tls: ulong(tls) }),
  },
  {
    name: 'execve', args: ['path', 'p', 'p'],
    handler: (p, [path, argv, envp]) => execve(p, ptr(path), ptr(argv), ptr(envp)),
  },
]);
