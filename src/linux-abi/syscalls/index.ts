/**
 * The system call table: number -> { name, strace argument kinds, handler }, merged from the
 * modules, one concern each. Numbers the table lacks return -ENOSYS (named by syscall-names.ts).
 */
import type { SyscallDef, SyscallTable } from '../table.js';
import { attrSyscalls } from './attrs.js';
import { dirSyscalls } from './dirs.js';
import { fdSyscalls } from './fd.js';
import { fsstatSyscalls } from './fsstat.js';
import { futexSyscalls } from './futex.js';
import { ioSyscalls } from './io.js';
import { mmSyscalls } from './mm.js';
import { openSyscalls } from './open.js';
import { pollSyscalls } from './poll.js';
import { processSyscalls } from './process.js';
import { resourceSyscalls } from './resources.js';
import { seccompSyscalls } from './seccomp.js';
import { signalSyscalls } from './signal.js';
import { timeSyscalls } from './time.js';
import { timerSyscalls } from './timer.js';
import { waitSyscalls } from './wait.js';

const parts: SyscallTable[] = [
  ioSyscalls, openSyscalls, fsstatSyscalls, dirSyscalls, attrSyscalls, fdSyscalls, pollSyscalls, mmSyscalls,
  timeSyscalls, timerSyscalls, processSyscalls, resourceSyscalls, signalSyscalls, futexSyscalls, seccompSyscalls,
  waitSyscalls,
];

function merge(tables: SyscallTable[]): SyscallTable {
  const out: Record<number, SyscallDef> = {};
  for (const t of tables) {
    for (const [nr, def] of Object.entries(t)) {
      if (out[Number(nr)]) throw new Error(`system call ${def.name} is defined in two modules`);
      out[Number(nr)] = def;
    }
  }
  return out;
}

export const SYSCALLS: SyscallTable = merge(parts);
