/**
 * A system call that must wait for another guest task: a read of an empty pipe, a write to a
 * full one, wait4 with no child to reap, a sleep. The handler throws Block; the kernel keeps the
 * call (kernel.ts BlockedCall) and the scheduler (process/scheduler.ts) runs other tasks, then
 * asks the kernel to retry it. Handlers therefore re-check their condition from scratch when run
 * again; a timeout is measured from the first attempt (Proc.callStartNs), not from the retry.
 *
 * Without a scheduler (Proc.blockable false: a machine run on its own, or USM mode, whose vmcall
 * path cannot be suspended) a blocking call reports EINTR with a warning instead.
 */
export class Block {
  /**
   * @param why what the task waits for, for --strace and deadlock reports ("read on pipe:[65537]")
   * @param deadlineNs monotonic time (clock.ts monotonicNs) at which the call must be retried
   *   even if nothing else happened (its timeout)
   */
  constructor(readonly why: string, readonly deadlineNs?: bigint, readonly cleanup?: () => void) {}
}

/** Throws Block (`cleanup`: what to undo if a signal interrupts the wait). */
export function block(why: string, deadlineNs?: bigint, cleanup?: () => void): never {
  throw new Block(why, deadlineNs, cleanup);
}
