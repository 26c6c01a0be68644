/**
 * The guest processes: one usmjit process runs them all (docs/architecture.md, "Processes").
 * Each guest process has its own Machine (memory, code cache, CPU block) and LinuxKernel (Proc);
 * each of its threads is a Task. This is the process model of linux-abi/process-host.ts: fork
 * copies a machine, execve loads a new one, a thread shares its process's machine (the scheduler
 * swaps the CPU block and the per-thread kernel state, linux-abi/thread.ts, when it switches
 * threads), and the runnable tasks run in turn on the one JS thread.
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
import { exitRobustList, wake as futexWake } from '../linux-abi/syscalls/futex.js';
import { ThreadState } from '../linux-abi/thread.js';
import { CPU } from '../core/layout.js';
import { sleepNs } from '../linux-abi/sleep.js';
import {
  CLONE_CHILD_CLEARTID, CLONE_CHILD_SETTID, CLONE_PARENT_SETTID, CLONE_SETTLS, CLONE_VFORK,
} from '../linux-abi/syscalls/wait.js';
import { BLOCKED, DECODER_PENDING, EXECED, type Machine, type Outcome, SLICE_ENDED } from '../vmx/machine.js';
import { ElfError, loadImage, type LoadedImage } from './image.js';
import { TranslationStore } from '../jit/translation-store.js';
import { readFileSync } from 'node:fs';

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
  /**
   * The persistent translation cache's directory (jit/translation-store.ts), or undefined for
   * none: each program image (start, execve) reads its stored translations from it and writes
   * back what it compiled when its process ends or execs.
   */
  translationCache?: string;
}

/** A guest process: its kernel state and the machine that runs its threads. */
interface ProcRec {
  proc: Proc;
  kernel: LinuxKernel;
  machine: Machine;
  /** The thread whose CPU block and signal mask are loaded (undefined: none, it ended). */
  loaded?: ThreadState;
}

/** A guest thread. */
interface Task {
  rec: ProcRec;
  thread: ThreadState;
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
  private readonly recOf = new Map<Proc, ProcRec>();
  /** Live and zombie processes by pid. */
  private readonly byPid = new Map<number, Proc>();
  private nextPid = process.pid + 1;
  private turn = 0;
  private first?: ProcRec;
  /** How the first process ended (usmjit's own exit follows it). */
  outcome?: Outcome;
  private readonly defaultBudget = new WeakMap<Machine, number>();

  constructor(private readonly opts: SystemOptions) {}

  /**
   * The first process's first machine: its caller reads it after the run (--stats), so it is not
   * retired (Machine.retire) when the process ends or execs.
   */
  private firstMachine?: Machine;

  /** The first process: `m` holds its loaded image. */
  start(m: Machine, image: LoadedImage): Proc {
    this.firstMachine = m;
    this.attachStore(m, image);
    const kernel = new LinuxKernel({
      as: m.as, exePath: image.exePath, strace: this.opts.strace, log: this.opts.log, image, sysroot: this.opts.sysroot,
      onUnmapCode: (s, e) => m.invalidateRange(s, e), usm: usmHost(m),
    });
    const t = this.add(kernel, m);
    this.first = t.rec;
    return t.rec.proc;
  }

  /** The translation store of the program `image` came from, if the cache is on. */
  private attachStore(m: Machine, image: LoadedImage): void {
    const dir = this.opts.translationCache;
    if (dir === undefined) return;
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(image.exePath);
    } catch {
      return;
    }
    m.cache.attachStore(TranslationStore.forProgram(dir, bytes));
  }

  /** A new process with its first thread. */
  private add(kernel: LinuxKernel, m: Machine): Task {
    const p = kernel.proc;
    p.host = this;
    p.blockable = true;
    const rec: ProcRec = { proc: p, kernel, machine: m, loaded: p.thread };
    const t: Task = { rec, thread: p.thread, blocked: false };
    this.tasks.push(t);
    this.recOf.set(p, rec);
    this.byPid.set(p.pid, p);
    this.attach(m, rec);
    return t;
  }

  /** Wires a machine to its process's kernel. */
  private attach(m: Machine, rec: ProcRec): void {
    m.syscalls = rec.kernel;
    m.attachSignals(rec.proc, this.opts.strace ? (line) => this.opts.log(this.prefix(rec.proc) + line) : undefined);
    if (!this.defaultBudget.has(m)) this.defaultBudget.set(m, m.budgetPerEntry);
    const budget = this.defaultBudget.get(m)!;
    // While a timer is armed, translated code returns to the dispatcher (which polls the timers)
    // after TIMER_BUDGET block transitions instead of the usual budget.
    rec.proc.timers.onArmed = (armed) => {
      m.budgetPerEntry = armed ? Math.min(budget, TIMER_BUDGET) : budget;
    };
    this.opts.onMachine?.(m, rec.proc);
    // USM mode's vmcall path cannot be suspended: its calls do not block (linux-abi/block.ts).
    const inner = m.onUsmActive;
    m.onUsmActive = (active) => {
      rec.proc.blockable = !active;
      // Host signals reach a USM guest from the event loop: the run yields every slice.
      if (active && m.sliceEnd === 0) m.sliceEnd = performance.now() + SLICE_MS;
      inner?.(active);
    };
  }

  /** fork, clone and execve are Linux-mode calls: a USM guest gets ENOSYS (and a warning). */
  private notInUsm(t: Task, what: string): void {
    if (!t.rec.machine.usm.active) return;
    t.rec.proc.warnOnce(`usm-${what}`, `${what} in USM mode is not supported`);
    throw new SysError(E.ENOSYS);
  }

  /**
   * Makes `t` its process's running thread: the CPU block and the per-thread kernel state of the
   * thread that ran last are saved, t's are loaded.
   */
  private switchTo(t: Task): void {
    const r = t.rec;
    if (r.loaded === t.thread) return;
    const st = r.proc.signals;
    const m = r.machine;
    const old = r.loaded;
    if (old) {
      old.cpu = m.saveCpu();
      old.blocked = st.blocked;
      old.altstack = st.altstack;
      old.savedMask = st.savedMask;
      old.own = st.own;
      old.ownInfo = st.ownInfo;
    }
    m.loadCpu(t.thread.cpu!);
    t.thread.cpu = undefined;
    st.blocked = t.thread.blocked;
    st.altstack = t.thread.altstack;
    st.savedMask = t.thread.savedMask;
    st.own = t.thread.own;
    st.ownInfo = t.thread.ownInfo;
    t.thread.own = 0n;
    t.thread.ownInfo = new Map();
    r.proc.thread = t.thread;
    r.loaded = t.thread;
  }

  /** strace lines of processes other than the first are prefixed with their pid (strace -f's way). */
  private prefix(p: Proc): string {
    if (this.first && p === this.first.proc && p.threadCount === 1 && p.thread.tid === p.pid) return '';
    return `[pid ${p.thread.tid}] `;
  }

  // ---- ProcessHost -------------------------------------------------------------------------

  process(pid: number): Proc | undefined {
    return this.byPid.get(pid);
  }

  processes(): Iterable<Proc> {
    return new Set(this.byPid.values());
  }

  yield(p: Proc): void {
    const r = this.recOf.get(p);
    // The slice ends at the dispatcher's next clock check (process/scheduler.ts run loop).
    if (r && this.tasks.length > 1) r.machine.sliceEnd = 1;
  }

  release(p: Proc): void {
    if (this.byPid.get(p.pid) === p) this.byPid.delete(p.pid);
  }

  private allocPid(): number {
    while (this.byPid.has(this.nextPid) || this.nextPid === process.pid) this.nextPid = this.nextPid >= 4_194_303 ? 300 : this.nextPid + 1;
    return this.nextPid++;
  }

  fork(p: Proc, args: CloneArgs): number {
    const parent = this.taskOfThread(p);
    this.notInUsm(parent, 'fork');
    let m: Machine;
    try {
      m = parent.rec.machine.fork();
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
    this.shareTime(parent.rec.machine);
    return pid;
  }

  /** A new task exists: the running machine's slice gets an end, if it had none. */
  private shareTime(m: Machine): void {
    if (m.sliceEnd === 0) m.sliceEnd = performance.now() + SLICE_MS;
  }

  /** The task of p's running thread. */
  private taskOfThread(p: Proc): Task {
    const t = this.tasks.find((x) => x.rec.proc === p && x.thread === p.thread);
    if (!t) throw new SysError(E.ESRCH);
    return t;
  }

  thread(p: Proc, args: CloneArgs): number {
    const parent = this.taskOfThread(p);
    this.notInUsm(parent, 'clone');
    const m = parent.rec.machine;
    const tid = this.allocPid();
    const th = new ThreadState(tid, p.threadName);
    // The new thread's registers: the caller's at the call, rax 0, its own stack and TLS.
    const cpu = m.saveCpu();
    const dv = new DataView(cpu.buffer, cpu.byteOffset, cpu.byteLength);
    dv.setBigUint64(CPU.gpr, 0n, true);
    if (args.stack) dv.setBigUint64(CPU.gpr + 8 * 4, args.stack, true);
    if (args.flags & CLONE_SETTLS) dv.setBigUint64(CPU.fsBase, args.tls, true);
    th.cpu = cpu;
    th.blocked = p.signals.blocked;
    if (args.flags & CLONE_CHILD_SETTID) p.as.writeU32(args.childTid, tid);
    if (args.flags & CLONE_PARENT_SETTID) p.as.writeU32(args.parentTid, tid);
    if (args.flags & CLONE_CHILD_CLEARTID) th.clearChildTid = BigInt(args.childTid);
    p.threads.set(tid, th);
    this.byPid.set(tid, p);
    this.shareTime(m);
    this.tasks.push({ rec: parent.rec, thread: th, blocked: false });
    return tid;
  }

  exec(p: Proc, path: string, argv: Uint8Array[], envp: Uint8Array[]): never {
    const t = this.taskOfThread(p);
    this.notInUsm(t, 'execve');
    const host = hostPathOf(p, AT_FDCWD, path);
    const m = t.rec.machine.sibling();
    let image: LoadedImage;
    try {
      image = loadImage(m, {
        path: host, argv: argv.map(utf8), envp: envp.map(utf8), execfn: path, sysroot: p.sysroot, scripts: true,
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
    const r = t.rec;
    const old = r.machine;
    const { machine: m, image } = old.execed as NewImage;
    old.execed = undefined;
    old.cache.saveStore();
    this.attachStore(m, image);
    // The other threads end (Linux's de_thread); the caller's thread goes on in the new image.
    for (const o of this.tasks.filter((x) => x.rec === r && x !== t)) this.threadGone(o);
    r.proc.rebind({ as: m.as, exePath: image.exePath, image, usm: usmHost(m), onUnmapCode: (s, e) => m.invalidateRange(s, e) });
    m.reportFaults = old.reportFaults;
    r.machine = m;
    r.loaded = t.thread;
    this.attach(m, r);
    mappedFiles.prune(old.as, true);
    if (old !== this.firstMachine) old.retire();
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
      this.switchTo(t);
      const m = t.rec.machine;
      // Any other task bounds the slice: a runnable one must get its turn, and a blocked one may
      // have been woken by this one (a futex wake, a pipe write) and must be retried.
      const others = this.tasks.length > 1;
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
          // So does a relink's compile (jit/code-cache.ts relink).
          if (m.usm.active || m.cache.relinking) await new Promise((res) => setImmediate(res));
          break;
        case BLOCKED:
          t.blocked = true;
          break;
        case DECODER_PENDING:
          await m.decoder.ready();
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
      const st = t.rec.proc.signals;
      st.pollTimers();
      const loaded = t.rec.loaded === t.thread;
      const mask = loaded ? st.blocked : t.thread.blocked;
      const signalled = ((st.shared | (loaded ? st.own : t.thread.own)) & ~mask) !== 0n;
      // A retry is cheap unless it means switching threads: then only on a deadline or a signal
      // or when the call's condition may have changed (every round: tasks ran meanwhile).
      this.switchTo(t);
      if (t.rec.machine.resume()) t.blocked = false;
      else if (signalled) {
        t.rec.machine.interrupt();
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
      const d = t.thread.blockedCall?.deadlineNs;
      if (d !== undefined && (best === undefined || d < best)) best = d;
      const timer = t.rec.proc.timers.untilNext();
      if (timer !== undefined && (best === undefined || now + timer < best)) best = now + timer;
    }
    return best;
  }

  /** t's machine stopped for good: the thread ended (exit with others left) or the process did. */
  private ended(t: Task): void {
    const r = t.rec;
    const o = r.machine.outcome!;
    if ('exit' in o && o.thread && r.proc.threadCount > 1) {
      this.threadGone(t);
      r.machine.outcome = undefined;
      return;
    }
    const status = 'exit' in o ? exitedStatus(o.exit) : signaledStatus(o.signal, o.core);
    for (const x of this.tasks.filter((y) => y.rec === r)) this.vforkDone(x);
    this.tasks = this.tasks.filter((x) => x.rec !== r);
    this.recOf.delete(r.proc);
    if (r === this.first) this.outcome = o;
    processEnded(r.proc, status);
    mappedFiles.prune(r.machine.as, true);
    r.machine.cache.saveStore();
    if (r.machine !== this.firstMachine) r.machine.retire();
  }

  /**
   * One thread of a process that goes on ends: its clear_child_tid word is zeroed and woken
   * (what pthread_join waits for), its futex wait dropped.
   */
  private threadGone(t: Task): void {
    const r = t.rec, p = r.proc, th = t.thread;
    this.tasks = this.tasks.filter((x) => x !== t);
    this.vforkDone(t);
    p.threads.delete(th.tid);
    if (r.loaded === th) r.loaded = undefined;
    const i = p.futexWaiters.findIndex((e) => e.thread === th);
    if (i >= 0) p.futexWaiters.splice(i, 1);
    exitRobustList(p, th);
    if (th.clearChildTid) {
      const addr = Number(th.clearChildTid);
      try {
        p.as.writeU32(addr, 0);
        futexWake(p, addr, 1);
      } catch { /* an unmapped word: Linux ignores the fault too */ }
    }
    if (th.tid !== p.pid) this.byPid.delete(th.tid);
  }

  /** Every process waits for another, forever: Linux would hang; usmjit says so and stops. */
  private deadlock(): void {
    const who = this.tasks.map((t) => `tid ${t.thread.tid} in ${t.thread.blockedCall?.why ?? '?'}`).join(', ');
    this.opts.log(`usmjit: deadlock: every guest process waits for another forever (${who}); stopping`);
    if (!this.outcome) this.outcome = { signal: 9, core: false };
    for (const t of [...this.tasks]) {
      if (!this.tasks.includes(t)) continue;
      t.rec.machine.outcome = { signal: 9, core: false };
      this.ended(t);
    }
  }
}

const utf8 = (b: Uint8Array): string => Buffer.from(b).toString('utf8');

/** /dev/usm's view of a machine's USM session. */
function usmHost(m: Machine): import('../linux-abi/usm-device.js').UsmDeviceHost {
  return { enter: (cfg) => m.usm.enter(cfg), layout: () => m.usm.layout(), setMmLog: (a) => m.usm.setMmLog(a) };
}
