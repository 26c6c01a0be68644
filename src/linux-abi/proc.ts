/**
 * The state of one guest process: memory, fds, working directory, signal state, limits, identity,
 * and its place among the other guest processes (parent, children, exit status: the process
 * model of process-host.ts). System call handlers receive it as their first argument.
 */
import { fstatSync, readFileSync, realpathSync } from 'node:fs';
import type { AddressSpace } from '../paging/address-space.js';
import type { CpuState } from '../core/cpu-state.js';
import { FdTable } from './fdtable.js';
import { O_RDONLY, O_RDWR, O_WRONLY, O_LARGEFILE, O_NONBLOCK } from './flags.js';
import { HostFile, hostFlags } from './host-file.js';
import { Limits } from './limits.js';
import { type SigInfo, SignalState } from './signals.js';
import { Seccomp } from './seccomp.js';
import { Timers } from './timers.js';
import { TtyState } from './tty.js';
import type { ProcessHost } from './process-host.js';
import { type FutexWait, ThreadState } from './thread.js';

/** What the loader put on the initial stack (for /proc/self/cmdline, environ, auxv). */
export interface ProcessImage {
  argStart: number;
  argEnd: number;
  envStart: number;
  envEnd: number;
  auxv: [number, number][];
}

export interface ProcOptions {
  as: AddressSpace;
  exePath: string;
  log: (line: string) => void;
  onUnmapCode?: (start: number, end: number) => void;
  image?: ProcessImage;
  /** The machine's USM session, reachable through /dev/usm (linux-abi/usm-device.ts). */
  usm?: import('./usm-device.js').UsmDeviceHost;
  /**
   * `-L PREFIX` (qemu-user's option): an absolute path the guest opens is looked up under the
   * prefix first (paths.ts lookup).
   */
  sysroot?: string;
  /** Identity for a process the process model creates (default: the host process's). */
  ids?: { pid: number; ppid: number; pgid: number; sid: number };
  /** The parent's state to copy (fork): fds, cwd, signal actions and mask, limits, seccomp... */
  forkOf?: Proc;
}

/** Process group and session of the host process (fields 5 and 6 of /proc/self/stat). */
function hostPgrpSession(): [number, number] {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return [Number(f[2]), Number(f[3])];
  } catch {
    return [process.pid, process.pid];
  }
}

export class Proc {
  as: AddressSpace;
  /** The CPU making the current system call (set by the kernel before each call). */
  cpu!: CpuState;
  readonly limits = new Limits();
  readonly fds = new FdTable(() => this.limits.nofile);
  readonly signals = new SignalState();
  /** Interval and POSIX timers (they make signals pending when polled). */
  readonly timers = new Timers(this.signals);
  /** seccomp mode and filters (checked by the kernel before every call). */
  readonly seccomp = new Seccomp(this.signals);
  /** prctl(PR_SET_NO_NEW_PRIVS): set once, never cleared. */
  noNewPrivs = false;
  /** The controlling terminal's state: one object shared by every guest process. */
  readonly tty: TtyState;
  /** exePath, image, usm, as, onUnmapCode: rebound by execve (rebind). */
  exePath: string;
  image?: ProcessImage;
  usm?: import('./usm-device.js').UsmDeviceHost;
  /** `-L PREFIX`, without a trailing slash (see ProcOptions.sysroot). */
  readonly sysroot?: string;
  readonly log: (line: string) => void;
  onUnmapCode?: (start: number, end: number) => void;
  /** The working directory, canonical (realpath), as getcwd reports it. */
  cwd: string;
  /** The first guest process has the host process's ids; its descendants get the process table's. */
  readonly pid: number;
  /** The thread making the current call (the scheduler switches it); the first has tid = pid. */
  thread: ThreadState;
  /** Live threads of the process by tid (the first included). */
  readonly threads = new Map<number, ThreadState>();
  get threadCount(): number { return this.threads.size; }
  /** FUTEX_WAIT waiters, in arrival order (syscalls/futex.ts). */
  readonly futexWaiters: (FutexWait & { thread: ThreadState })[] = [];
  ppid: number;
  pgid: number;
  sid: number;
  /** fork, execve, other guest processes (process-host.ts); absent for a machine run on its own. */
  host?: ProcessHost;
  parent?: Proc;
  readonly children = new Set<Proc>();
  /** The wait status (wait4's) once the process has ended: a zombie until its parent reaps it. */
  exitStatus?: number;
  /** Whether a call may Block (block.ts): a scheduler runs the other tasks meanwhile. */
  blockable = false;
  get tid(): number { return this.thread.tid; }
  /** When the current call was first attempted: a blocked call keeps it across retries. */
  get callStartNs(): bigint { return this.thread.callStartNs; }
  set callStartNs(v: bigint) { this.thread.callStartNs = v; }
  /** set_tid_address / set_robust_list / prctl(PR_SET_NAME) records (the current thread's). */
  get clearChildTid(): bigint { return this.thread.clearChildTid; }
  set clearChildTid(v: bigint) { this.thread.clearChildTid = v; }
  get robustList(): bigint { return this.thread.robustList; }
  set robustList(v: bigint) { this.thread.robustList = v; }
  get threadName(): string { return this.thread.name; }
  set threadName(v: string) { this.thread.name = v; }
  /** Nice value (getpriority/setpriority). */
  nice = 0;
  private warned = new Set<string>();

  constructor(opts: ProcOptions) {
    this.as = opts.as;
    this.exePath = opts.exePath;
    this.image = opts.image;
    this.usm = opts.usm;
    this.sysroot = opts.sysroot ? opts.sysroot.replace(/\/+$/, '') || undefined : undefined;
    this.log = opts.log;
    this.onUnmapCode = opts.onUnmapCode;
    const parent = opts.forkOf;
    if (opts.ids) {
      ({ pid: this.pid, ppid: this.ppid, pgid: this.pgid, sid: this.sid } = opts.ids);
    } else {
      this.pid = process.pid;
      this.ppid = process.ppid;
      [this.pgid, this.sid] = hostPgrpSession();
    }
    this.thread = new ThreadState(this.pid, (opts.exePath.split('/').pop() ?? 'guest').slice(0, 15));
    this.threads.set(this.pid, this.thread);
    if (parent) {
      this.cwd = parent.cwd;
      this.tty = parent.tty;
      this.host = parent.host;
      this.blockable = parent.blockable;
      this.threadName = parent.threadName;
      this.nice = parent.nice;
      this.noNewPrivs = parent.noNewPrivs;
      this.fds.copyFrom(parent.fds);
      this.signals.copyFrom(parent.signals);
      this.limits.copyFrom(parent.limits);
      this.seccomp.copyFrom(parent.seccomp);
      this.warned = parent.warned;
      return;
    }
    try { this.cwd = realpathSync(process.cwd()); } catch { this.cwd = process.cwd(); }
    this.tty = new TtyState();
    this.inheritStdio();
  }

  /**
   * execve: the process keeps its identity, fds (minus close-on-exec ones), cwd, signal mask and
   * pending signals, limits and seccomp filters; it gets a new address space and image, caught
   * signals return to their default action and the alternate stack is gone.
   */
  rebind(to: { as: AddressSpace; exePath: string; image?: ProcessImage; usm?: import('./usm-device.js').UsmDeviceHost; onUnmapCode?: (start: number, end: number) => void }): void {
    this.as = to.as;
    this.exePath = to.exePath;
    this.image = to.image;
    this.usm = to.usm;
    this.onUnmapCode = to.onUnmapCode;
    this.fds.closeOnExec();
    this.signals.resetForExec();
    this.threadName = (to.exePath.split('/').pop() ?? 'guest').slice(0, 15);
    this.clearChildTid = 0n;
    this.robustList = 0n;
  }

  /** Guest fds 0, 1 and 2 are the host's, with the host's status flags (minus O_NONBLOCK, which
   *  Node may have set on its own stdio: the guest gets blocking semantics by retrying EAGAIN). */
  private inheritStdio(): void {
    for (const fd of [0, 1, 2]) {
      try { fstatSync(fd); } catch { continue; } // closed on the host: closed in the guest
      const fallback = (fd === 0 ? O_RDONLY : O_WRONLY) | O_LARGEFILE;
      let flags = hostFlags(fd) ?? fallback;
      flags &= ~O_NONBLOCK;
      if ((flags & 3) === 3) flags = (flags & ~3) | O_RDWR;
      this.fds.install(fd, new HostFile(fd, flags, { inherited: true, path: `/dev/fd/${fd}` }));
    }
  }

  /** tgkill: a signal for one thread (pending for it alone, SignalState.own). */
  signalThread(th: ThreadState, info: SigInfo): void {
    const st = this.signals;
    if (th === this.thread) {
      st.send(info, true);
      return;
    }
    const b = SignalState.bit(info.signo);
    if ((th.blocked & b) === 0n && st.isIgnored(info.signo) && info.signo !== 9) return;
    th.own |= b;
    if (!th.ownInfo.has(info.signo)) th.ownInfo.set(info.signo, info);
  }

  warn(msg: string): void {
    this.log(`usmjit: warning: ${msg}`);
  }

  /** Logs a warning once per key. */
  warnOnce(key: string, msg: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.warn(msg);
  }
}
