/**
 * The process model as the system call layer sees it. Guest processes all live in one usmjit
 * process (docs/architecture.md, "Processes"): each has its own Machine (memory, code cache) and
 * Proc; the scheduler (process/scheduler.ts) runs them in turn on the one JS thread. What needs a
 * Machine (fork's memory copy, execve's new image) is done above this layer, through this
 * interface; what only needs Procs (wait4, kill, process groups, exit) is done here (wait.ts).
 */
import type { Proc } from './proc.js';

/** clone's arguments (also fork's and vfork's). */
export interface CloneArgs {
  flags: bigint;
  /** The child's stack pointer (0: the parent's). */
  stack: bigint;
  /** CLONE_PARENT_SETTID: where the parent writes the child's tid. */
  parentTid: number;
  /** CLONE_CHILD_SETTID / CLONE_CHILD_CLEARTID: the child's tid word. */
  childTid: number;
  /** CLONE_SETTLS: the child's fs base. */
  tls: bigint;
}

export interface ProcessHost {
  /**
   * A new process running a copy of `p` (fork, vfork, clone without CLONE_VM): its pid. The child
   * returns 0 from the call when it first runs.
   */
  fork(p: Proc, args: CloneArgs): number;
  /**
   * A new thread of `p` (clone with CLONE_VM|CLONE_THREAD): its tid. It starts after the call with
   * rax 0, on args.stack, with the caller's other registers and signal mask.
   */
  thread(p: Proc, args: CloneArgs): number;
  /**
   * execve: loads `path` as p's new image. Throws ExecDone (core/exits.ts) once the new image is
   * in place, or SysError (ENOENT, EACCES, ENOEXEC...) leaving the old image untouched.
   */
  exec(p: Proc, path: string, argv: Uint8Array[], envp: Uint8Array[]): never;
  /** The live or zombie guest process with this pid. */
  process(pid: number): Proc | undefined;
  /** Every guest process, for kill of a process group or of -1. */
  processes(): Iterable<Proc>;
  /** sched_yield: the calling thread gives the others their turn now. */
  yield(p: Proc): void;
  /** A process was reaped: its pid is free. */
  release(p: Proc): void;
}
