/**
 * The system call table's shape. Each module under syscalls/ lists its calls as SyscallDefs;
 * syscalls/index.ts merges them into one table, number -> SyscallDef. A def says how strace
 * prints the call (argument kinds, see strace.ts) and what to run.
 *
 *   { name: 'read', args: ['fd', 'rbuf', 'u'], handler: (p, [fd, buf, count]) => ... }
 *
 * A handler returns the result (number or bigint) or throws: SysError for -errno, GuestFault
 * (a bad guest pointer) for -EFAULT, GuestExit/GuestKilled to end the process.
 */
import type { Proc } from './proc.js';
import { SYSCALL_NAMES } from './syscall-names.js';

export type Handler = (p: Proc, a: readonly bigint[]) => bigint | number;

/**
 * How strace shows an argument:
 *   d int, ld long, u unsigned long, x hex, p pointer (NULL or 0x...), fd, dirfd (AT_FDCWD),
 *   path (full string), str (string cut at 32), wbuf (data; its length is the next argument),
 *   rbuf (data the call filled; length = result), iov / riov (iovec array; count is the next
 *   argument), oflags, omode (open's mode, shown only with O_CREAT/O_TMPFILE), mode (octal),
 *   prot, mflags (mmap), mremap, atflags, whence, sig, sighow, sigset, clock, fcntl, farg (fcntl's
 *   third argument), ioctl, futex, arch, rlimit, amode (access), madv, fdpair (int[2] out),
 *   stat (struct stat out), ts (timespec in), ots (timespec out), ms (poll timeout, int).
 */
export type ArgKind =
  | 'd' | 'ld' | 'u' | 'x' | 'p' | 'fd' | 'dirfd' | 'path' | 'str' | 'wbuf' | 'rbuf' | 'iov' | 'riov'
  | 'oflags' | 'omode' | 'mode' | 'prot' | 'mflags' | 'mremap' | 'atflags' | 'whence' | 'sig' | 'sighow'
  | 'sigset' | 'clock' | 'fcntl' | 'farg' | 'ioctl' | 'futex' | 'arch' | 'rlimit' | 'amode' | 'madv'
  | 'fdpair' | 'stat' | 'ts' | 'ots' | 'ms' | 'opath';

/** How strace shows the result: decimal (default), hex (addresses: mmap, brk) or octal (umask). */
export type RetKind = 'd' | 'x' | 'o';

export interface SyscallDef {
  name: string;
  args: readonly ArgKind[];
  ret?: RetKind;
  handler: Handler;
}

export type SyscallTable = Readonly<Record<number, SyscallDef>>;

const byName = new Map<string, number>();
for (const [nr, [name]] of Object.entries(SYSCALL_NAMES)) byName.set(name, Number(nr));

/** The x86-64 number of a system call by name (throws for a name Linux does not have). */
export function syscallNumber(name: string): number {
  const nr = byName.get(name);
  if (nr === undefined) throw new Error(`unknown system call name '${name}'`);
  return nr;
}

/** Turns a module's list of defs into its part of the table, numbered by name. */
export function defineSyscalls(defs: readonly SyscallDef[]): SyscallTable {
  const out: Record<number, SyscallDef> = {};
  for (const d of defs) {
    const nr = syscallNumber(d.name);
    if (out[nr]) throw new Error(`system call '${d.name}' defined twice`);
    out[nr] = d;
  }
  return out;
}
