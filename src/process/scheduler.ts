/**
 * The guest processes: one usmjit process runs them all (docs/architecture.md, "Processes").
 * Each guest process is a Task: its own Machine (memory, code cache, CPU) and LinuxKernel (Proc).
 * This is the process model of linux-abi/process-host.ts: fork copies a machine, execve loads a
 * new one, and the scheduler runs the runnable tasks in turn on the one JS thread.
 *
 * The scheduler's loop: retry the blocked calls (linux-abi/block.ts) whose condition may have
 * changed, and interrupt those a signal came for; pick the next runnable task (round robin); run
 * it until it blocks, ends, execs or its slice ends (a slice is bounded only when another task is
 * runnable or a sleeper's deadline comes); when nothing is runnable, sleep until the earliest
 * deadline; when nothing is runnable and nothing has a deadline, every process waits for another
 * forever: a deadlock, reported and ended.
 */
import { ExecDone } from '../core/exits.js';
import { OutOfFrames } from '../paging/frames.js';
import { monotonicNs } from '../linux-abi/clock.js';
import { E, SysError } from '../linux-abi/errno.js';
import { LinuxKernel } from '../linux-abi/kernel.js';
import { mappedFiles } from '../linux-abi/mapped-files.js';
import { AT_FDCWD, hostPathOf } from '../linux-abi/paths.js';
import { exitedStatus, processEnded, signaledStatus } from '../linux-abi/process-exit.js';
import type { CloneArgs, ProcessHost } from '../linux-abi/process-host.js';
import type { Proc } from '../linux-abi/proc.js';
import { sleepNs } from '../linux-abi/sleep.js';
import {
  CLONE_CHILD_CLEARTID, CLONE_CHILD_SETTID, CLONE_PARENT_SETTID, CLONE_SETTLS, CLONE_VFORK,
} from '../linux-abi/syscalls/wait.js';
import { BLOCKED, EXECED, type Machine, type Outcome, SLICE_ENDED } from '../vmx/machine.js';
import { ElfError, loadImage, type LoadedImage } from './image.js';

/** Milliseconds a task runs while another one is runnable. */
const SLICE_MS = 10;
/** Block transitions between dispatcher checks while a guest timer is armed (see cli.ts). */
const TIMER_BUDGET = 1 << 14;

export interface SystemOptions {
  strace: boolean;
  /** stderr writer for strace lines and warnings. */
  log: (line: string) => void;
  sysroot?: string;
  /** Called for every machine a process runs on (start, fork, execve): the CLI's USM hooks. */
  onMachine?: (m: Machine, p: Proc) => void;
}

interface Task {
  proc: Proc;
  kernel: LinuxKernel;
  machine: Machine;
  blocked: boolean;
  /**
   * vfork (CLONE_VFORK): the child until it execs or ends; the parent is not run meanwhile (its
   * memory is copied rather than shared, so the child cannot disturb it either way).
   */
  vforkChild?: Task;
}

/** What execve hands to the scheduler (ExecDone's payload). */
interface NewImage {
  machine: Machine;
  image: LoadedImage;
}

export class GuestSystem implements ProcessHost {
  private tasks: Task[] = [];
  private readonly taskOf = new Map<Proc, Task>();
  /** Live and zombie processes by pid. */
  private readonly byPid = new Map<number, Proc>();
  private nextPid = process.pid + 1;
  private turn = 0;
  private first?: Task;
  /** How the first process ended (usmjit's own exit follows it). */
  outcome?: Outcome;
  private readonly defaultBudget = new WeakMap<Machine, number>();

  constructor(private readonly opts: SystemOptions) {}

  /** The first process: `m` holds its loaded image. */
  start(m: Machine, image: LoadedImage): Proc {
    const kernel = new LinuxKernel({
      as: m.as, exePath: image.exePath, strace: this.opts.strace, log: this.opts.log, image, sysroot: this.opts.sysroot,
      onUnmapCode: (s, e) => m.invalidateRange(s, e), usm: usmHost(m),
    });
    const t = this.add(kernel, m);
    this.first = t;
    return t.proc;
  }

  private add(kernel: LinuxKernel, m: Machine): Task {
    const p = kernel.proc;
    p.host = this;
    p.blockable = true;
    const t: Task = { proc: p, kernel, machine: m, blocked: false };
    this.tasks.push(t);
    this.taskOf.set(p, t);
    this.byPid.set(p.pid, p);
    this.attach(m, t);
    return t;
  }

  /** Wires a machine to its process's kernel. */
  private attach(m: Machine, t: Task): void {
    m.syscalls = t.kernel;
    m.attachSignals(t.proc, this.opts.strace ? (line) => this.opts.log(this.prefix(t.proc) + line) : undefined);
    if (!this.defaultBudget.has(m)) this.defaultBudget.set(m, m.budgetPerEntry);
    const budget = this.defaultBudget.get(m)!;
    // While a timer is armed, translated code returns to the dispatcher (which polls the timers)
    // after TIMER_BUDGET block transitions instead of the usual budget.
    t.proc.timers.onArmed = (armed) => {
      m.budgetPerEntry = armed ? Math.min(budget, TIMER_BUDGET) : budget;
    };
    this.opts.onMachine?.(m, t.proc);
  }

  /** strace lines of processes other than the first are prefixed with their pid (strace -f's way). */
  private prefix(p: Proc): string {
    return this.first && p !== this.first.proc ? `[pid ${p.pid}] ` : '';
  }

  // ---- ProcessHost -------------------------------------------------------------------------

  process(pid: number): Proc | undefined {
    return this.byPid.get(pid);
  }

  processes(): Iterable<Proc> {
    return this.byPid.values();
  }

  release(p: Proc): void {
    if (this.byPid.get(p.pid) === p) this.byPid.delete(p.pid);
  }

  private allocPid(): number {
    while (this.byPid.has(this.nextPid) || this.nextPid === process.pid) this.nextPid = this.nextPid >= 4_194_303 ? 300 : this.nextPid + 1;
    return this.nextPid++;
  }

  fork(p: Proc, args: CloneArgs): number {
    const parent = this.taskOf.get(p);
    if (!parent) throw new SysError(E.ESRCH);
    let m: Machine;
    try {
      m = parent.machine.fork();
    } catch (e) {
      if (e instanceof OutOfFrames) throw new SysError(E.ENOMEM);
      throw e;
    }
    const pid = this.allocPid();
    const log = this.opts.log;
    const kernel = new LinuxKernel({
      as: m.as, exePath: p.exePath, strace: this.opts.strace, image: p.image, sysroot: p.sysroot,
      log: (line) => log(line.startsWith('usmjit:') ? line : `[pid ${pid}] ${line}`),
      onUnmapCode: (s, e) => m.invalidateRange(s, e), usm: usmHost(m),
      ids: { pid, ppid: p.pid, pgid: p.pgid, sid: p.sid }, forkOf: p,
    });
    m.reportFaults = this.opts.strace;
    const c = kernel.proc;
    c.parent = p;
    p.children.add(c);
    // The child returns 0 from the call, on its own stack and TLS if clone gave them.
    m.cpu.set(0, 0n);
    if (args.stack) m.cpu.set(4, args.stack);
    if (args.flags & CLONE_SETTLS) m.cpu.fsBase = args.tls;
    if (args.flags & CLONE_CHILD_SETTID) m.as.writeU32(args.childTid, pid);
    if (args.flags & CLONE_PARENT_SETTID) p.as.writeU32(args.parentTid, pid);
    if (args.flags & CLONE_CHILD_CLEARTID) c.clearChildTid = BigInt(args.childTid);
    const child = this.add(kernel, m);
    if (args.flags & CLONE_VFORK) parent.vforkChild = child;
    return pid;
  }

  exec(p: Proc, path: string, argv: Uint8Array[], envp: Uint8Array[]): never {
    const t = this.taskOf.get(p);
    if (!t) throw new SysError(E.ESRCH);
    const host = hostPathOf(p, AT_FDCWD, path);
    const m = t.machine.sibling();
    let image: LoadedImage;
    try {
      image = loadImage(m, {
        path: host, argv: argv.map(utf8), envp: envp.map(utf8), execfn: path, sysroot: p.sysroot,
        resolve: (interp) => hostPathOf(p, AT_FDCWD, interp),
      });
    } catch (e) {
      if (e instanceof ElfError) throw new SysError(E.ENOEXEC);
      if (e instanceof OutOfFrames) throw new SysError(E.ENOMEM);
      throw e;
    }
    const next: NewImage = { machine: m, image };
    throw new ExecDone(next);
  }

  /** The old image's machine returned EXECED: the process goes on in the new one. */
  private execed(t: Task): void {
    const old = t.machine;
    const { machine: m, image } = old.execed as NewImage;
    old.execed = undefined;
    t.proc.rebind({ as: m.as, exePath: image.exePath, image, usm: usmHost(m), onUnmapCode: (s, e) => m.invalidateRange(s, e) });
    m.reportFaults = old.reportFaults;
    t.machine = m;
    this.attach(m, t);
    mappedFiles.prune(old.as, true);
    this.vforkDone(t);
  }

  // ---- the scheduler -----------------------------------------------------------------------

  /** Runs until every guest process has ended; `outcome` then says how the first one did. */
  async run(): Promise<void> {
    for (;;) {
      this.wake();
      const t = this.pick();
      if (!t) {
        if (this.tasks.length === 0) return;
        const deadline = this.earliestDeadline();
        if (deadline === undefined) {
          this.deadlock();
          return;
        }
        sleepNs(deadline - monotonicNs());
        continue;
      }
      const m = t.machine;
      const others = this.tasks.some((o) => o !== t && !o.blocked && !o.vforkChild);
      const deadline = this.earliestDeadline();
      let slice = others || m.usm.active ? SLICE_MS : 0;
      if (deadline !== undefined) {
        const ms = Number(deadline - monotonicNs()) / 1e6;
        slice = slice ? Math.min(slice, ms) : ms;
      }
      m.sliceEnd = slice ? performance.now() + Math.max(slice, 0.1) : 0;
      const r = m.run();
      m.sliceEnd = 0;
      switch (r) {
        case SLICE_ENDED:
          // Host signals reach a USM guest from the event loop (cli.ts): let it run.
          if (m.usm.active) await new Promise((res) => setImmediate(res));
          break;
        case BLOCKED:
          t.blocked = true;
          break;
        case EXECED:
          this.execed(t);
          break;
        default:
          this.ended(t);
      }
    }
  }

  /** Retries the blocked calls; a call a signal came for, and that still blocks, is interrupted. */
  private wake(): void {
    for (const t of this.tasks) {
      if (!t.blocked) continue;
      const st = t.proc.signals;
      st.pollTimers();
      if (t.machine.resume()) t.blocked = false;
      else if ((st.pending & ~st.blocked) !== 0n) {
        t.machine.interrupt();
        t.blocked = false;
      }
    }
  }

  /** A vfork child execed or ended: its parent runs again. */
  private vforkDone(child: Task): void {
    for (const t of this.tasks) if (t.vforkChild === child) t.vforkChild = undefined;
  }

  /** The next runnable task after the last one picked. */
  private pick(): Task | undefined {
    const n = this.tasks.length;
    for (let k = 1; k <= n; k++) {
      const t = this.tasks[(this.turn + k) % n];
      if (!t.blocked && !t.vforkChild) {
        this.turn = (this.turn + k) % n;
        return t;
      }
    }
    return undefined;
  }

  /** The earliest time a blocked call must be retried (its timeout, or a timer of its process). */
  private earliestDeadline(): bigint | undefined {
    let best: bigint | undefined;
    const now = monotonicNs();
    for (const t of this.tasks) {
      if (!t.blocked) continue;
      const d = t.kernel.blockedCall?.deadlineNs;
      if (d !== undefined && (best === undefined || d < best)) best = d;
      const timer = t.proc.timers.untilNext();
      if (timer !== undefined && (best === undefined || now + timer < best)) best = now + timer;
    }
    return best;
  }

  private ended(t: Task): void {
    const o = t.machine.outcome!;
    const status = 'exit' in o ? exitedStatus(o.exit) : signaledStatus(o.signal, o.core);
    this.tasks = this.tasks.filter((x) => x !== t);
    this.taskOf.delete(t.proc);
    if (t === this.first) this.outcome = o;
    this.vforkDone(t);
    processEnded(t.proc, status);
    mappedFiles.prune(t.machine.as, true);
  }

  /** Every process waits for another, forever: Linux would hang; usmjit says so and stops. */
  private deadlock(): void {
    const who = this.tasks.map((t) => `pid ${t.proc.pid} in ${t.kernel.blockedCall?.why ?? '?'}`).join(', ');
    this.opts.log(`usmjit: deadlock: every guest process waits for another forever (${who}); stopping`);
    if (!this.outcome) this.outcome = { signal: 9, core: false };
    for (const t of [...this.tasks]) {
      t.machine.outcome = { signal: 9, core: false };
      this.ended(t);
    }
  }
}

const utf8 = (b: Uint8Array): string => Buffer.from(b).toString('utf8');

/** /dev/usm's view of a machine's USM session. */
function usmHost(m: Machine): import('../linux-abi/usm-device.js').UsmDeviceHost {
  return { enter: (cfg) => m.usm.enter(cfg), layout: () => m.usm.layout() };
}
