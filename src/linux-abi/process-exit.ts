/**
 * The end of a guest process and its reaping by the parent: wait statuses, SIGCHLD, orphans.
 * The scheduler calls processEnded when a task's machine stops for good; wait4/waitid
 * (syscalls/wait.ts) reap.
 */
import type { Proc } from './proc.js';
import { SA_NOCLDWAIT, SIG_IGN, SIGCHLD } from './signals.js';

/** si_code of SIGCHLD and waitid. */
export const CLD_EXITED = 1, CLD_KILLED = 2, CLD_DUMPED = 3;

/** wait4's status word for an exit with `code`. */
export const exitedStatus = (code: number): number => (code & 0xff) << 8;
/** wait4's status word for a death by signal `sig` (with a core dump: 0x80). */
export const signaledStatus = (sig: number, core: boolean): number => (sig & 0x7f) | (core ? 0x80 : 0);

export const statusExited = (s: number): boolean => (s & 0x7f) === 0;
/** SIGCHLD's and waitid's si_code and si_status for a wait status. */
export function childCode(status: number): { code: number; value: number } {
  if (statusExited(status)) return { code: CLD_EXITED, value: (status >> 8) & 0xff };
  return { code: status & 0x80 ? CLD_DUMPED : CLD_KILLED, value: status & 0x7f };
}

const uid = (): number => process.getuid?.() ?? 0;

/**
 * `p` has ended with wait status `status`: its descriptors close (a pipe's reader sees end of
 * file), its children are orphans (Linux hands them to init, which reaps them: here a zombie
 * orphan is released at once), and its parent gets SIGCHLD, or reaps it at once if it ignores
 * SIGCHLD or set SA_NOCLDWAIT. Without a parent it is released.
 */
export function processEnded(p: Proc, status: number): void {
  if (p.exitStatus !== undefined) return;
  p.exitStatus = status;
  p.fds.closeAll();
  for (const c of p.children) {
    c.parent = undefined;
    c.ppid = 1;
    if (c.exitStatus !== undefined) p.host?.release(c);
  }
  p.children.clear();
  const parent = p.parent;
  if (!parent || parent.exitStatus !== undefined) {
    p.host?.release(p);
    return;
  }
  const act = parent.signals.action(SIGCHLD);
  if (act.handler === SIG_IGN || (act.flags & BigInt(SA_NOCLDWAIT)) !== 0n) {
    reap(parent, p);
    if (act.handler === SIG_IGN) return;
  }
  const { code, value } = childCode(status);
  parent.signals.send({ signo: SIGCHLD, code, pid: p.pid, uid: uid(), status: value });
}

/** The parent collects `child`: it leaves the process table. */
export function reap(parent: Proc, child: Proc): void {
  parent.children.delete(child);
  child.parent = undefined;
  parent.host?.release(child);
}
