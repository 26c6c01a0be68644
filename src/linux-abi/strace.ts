/**
 * strace-style lines for --strace, formatted like strace and qemu -strace:
 *   openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC) = 3
 *   read(3, "root:x:0:0:root:/root:/bin/bash\n"..., 4096) = 1234
 *   openat(AT_FDCWD, "/nope", O_RDONLY) = -1 ENOENT (No such file or directory)
 * Buffers show at most 32 bytes, escaped as strace does; paths are shown whole.
 */
import type { AddressSpace } from '../paging/address-space.js';
import { errnoMessage, errnoName } from './errno.js';
import { O_ACCMODE, O_CREAT, O_TMPFILE } from './flags.js';
import { signalName } from './signals.js';
import type { ArgKind, RetKind } from './table.js';

/** strace's default -s: string bytes shown. */
export const STRACE_STRLEN = 32;

type Names = readonly (readonly [number, string])[];

/** Escapes bytes like strace: \n \t \r \v \f \" \\, other non-printables in octal. */
export function escapeBytes(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    switch (c) {
      case 0x0a: s += '\\n'; continue;
      case 0x09: s += '\\t'; continue;
      case 0x0d: s += '\\r'; continue;
      case 0x0b: s += '\\v'; continue;
      case 0x0c: s += '\\f'; continue;
      case 0x22: s += '\\"'; continue;
      case 0x5c: s += '\\\\'; continue;
    }
    if (c >= 0x20 && c < 0x7f) {
      s += String.fromCharCode(c);
    } else {
      const next = i + 1 < b.length ? b[i + 1] : -1;
      const octNext = next >= 0x30 && next <= 0x37;
      s += '\\' + (octNext ? c.toString(8).padStart(3, '0') : c.toString(8));
    }
  }
  return s;
}

/** A quoted buffer of `len` bytes at addr, cut at `max` with `...` after the quote. */
function quoted(as: AddressSpace, addr: number, len: number, max = STRACE_STRLEN): string {
  const n = Math.min(len, max);
  try {
    const bytes = as.read(addr, n);
    return `"${escapeBytes(bytes)}"${len > max ? '...' : ''}`;
  } catch {
    return ptr(addr);
  }
}

/** A quoted C string at addr; `max` bytes at most (then `...`). */
function cstring(as: AddressSpace, addr: number, max: number): string {
  if (addr === 0) return 'NULL';
  try {
    const bytes = as.readCStringBytes(addr, max + 1);
    const cut = bytes.length > max;
    return `"${escapeBytes(bytes.subarray(0, max))}"${cut ? '...' : ''}`;
  } catch {
    return ptr(addr);
  }
}

const ptr = (a: number | bigint): string => (BigInt(a) === 0n ? 'NULL' : '0x' + BigInt.asUintN(64, BigInt(a)).toString(16));
const hex = (v: bigint): string => (v === 0n ? '0' : '0x' + BigInt.asUintN(64, v).toString(16));
const int = (v: bigint): number => Number(BigInt.asIntN(32, v));
/** C's %#03o, as strace prints modes: 0644, 022, 000. */
const octal = (v: number): string => ('0' + v.toString(8)).padStart(3, '0');

/** Flag words: names joined with |, leftovers in hex; `zero` names the empty set. */
function flags(v: number | bigint, names: Names, zero = '0'): string {
  let rest = BigInt.asUintN(64, BigInt(v));
  if (rest === 0n) return zero;
  const parts: string[] = [];
  for (const [bit, name] of names) {
    const b = BigInt(bit);
    if (b !== 0n && (rest & b) === b) {
      parts.push(name);
      rest &= ~b;
    }
  }
  if (rest !== 0n) parts.push('0x' + rest.toString(16));
  return parts.join('|');
}

function oneOf(v: number, names: Names): string {
  for (const [n, name] of names) if (n === v) return name;
  return String(v);
}

const O_FLAG_NAMES: Names = [
  [0o4010000, 'O_SYNC'], [0o20200000, 'O_TMPFILE'], [0o100, 'O_CREAT'], [0o200, 'O_EXCL'], [0o400, 'O_NOCTTY'],
  [0o1000, 'O_TRUNC'], [0o2000, 'O_APPEND'], [0o4000, 'O_NONBLOCK'], [0o10000, 'O_DSYNC'], [0o20000, 'O_ASYNC'],
  [0o40000, 'O_DIRECT'], [0o100000, 'O_LARGEFILE'], [0o200000, 'O_DIRECTORY'], [0o400000, 'O_NOFOLLOW'],
  [0o1000000, 'O_NOATIME'], [0o2000000, 'O_CLOEXEC'], [0o10000000, 'O_PATH'],
];

export function openFlags(v: number): string {
  const acc = ['O_RDONLY', 'O_WRONLY', 'O_RDWR', 'O_ACCMODE'][v & O_ACCMODE];
  const rest = v & ~O_ACCMODE;
  return rest ? `${acc}|${flags(rest, O_FLAG_NAMES)}` : acc;
}

const PROT_NAMES: Names = [[1, 'PROT_READ'], [2, 'PROT_WRITE'], [4, 'PROT_EXEC'], [0x01000000, 'PROT_GROWSDOWN'], [0x02000000, 'PROT_GROWSUP']];
const MAP_NAMES: Names = [[0x10, 'MAP_FIXED'], [0x20, 'MAP_ANONYMOUS'], [0x40, 'MAP_32BIT'], [0x100, 'MAP_GROWSDOWN'],
  [0x800, 'MAP_DENYWRITE'], [0x1000, 'MAP_EXECUTABLE'], [0x2000, 'MAP_LOCKED'], [0x4000, 'MAP_NORESERVE'],
  [0x8000, 'MAP_POPULATE'], [0x10000, 'MAP_NONBLOCK'], [0x20000, 'MAP_STACK'], [0x40000, 'MAP_HUGETLB'],
  [0x80000, 'MAP_SYNC'], [0x100000, 'MAP_FIXED_NOREPLACE']];
const MREMAP_NAMES: Names = [[1, 'MREMAP_MAYMOVE'], [2, 'MREMAP_FIXED'], [4, 'MREMAP_DONTUNMAP']];
const AT_NAMES: Names = [[0x100, 'AT_SYMLINK_NOFOLLOW'], [0x200, 'AT_REMOVEDIR'], [0x400, 'AT_SYMLINK_FOLLOW'],
  [0x800, 'AT_NO_AUTOMOUNT'], [0x1000, 'AT_EMPTY_PATH'], [0x2000, 'AT_STATX_FORCE_SYNC'], [0x4000, 'AT_STATX_DONT_SYNC']];
const WHENCE: Names = [[0, 'SEEK_SET'], [1, 'SEEK_CUR'], [2, 'SEEK_END'], [3, 'SEEK_DATA'], [4, 'SEEK_HOLE']];
const SIGHOW: Names = [[0, 'SIG_BLOCK'], [1, 'SIG_UNBLOCK'], [2, 'SIG_SETMASK']];
const CLOCKS: Names = [[0, 'CLOCK_REALTIME'], [1, 'CLOCK_MONOTONIC'], [2, 'CLOCK_PROCESS_CPUTIME_ID'],
  [3, 'CLOCK_THREAD_CPUTIME_ID'], [4, 'CLOCK_MONOTONIC_RAW'], [5, 'CLOCK_REALTIME_COARSE'],
  [6, 'CLOCK_MONOTONIC_COARSE'], [7, 'CLOCK_BOOTTIME'], [8, 'CLOCK_REALTIME_ALARM'], [9, 'CLOCK_BOOTTIME_ALARM'], [11, 'CLOCK_TAI']];
const FCNTL: Names = [[0, 'F_DUPFD'], [1, 'F_GETFD'], [2, 'F_SETFD'], [3, 'F_GETFL'], [4, 'F_SETFL'], [5, 'F_GETLK'],
  [6, 'F_SETLK'], [7, 'F_SETLKW'], [8, 'F_SETOWN'], [9, 'F_GETOWN'], [10, 'F_SETSIG'], [11, 'F_GETSIG'],
  [36, 'F_OFD_GETLK'], [37, 'F_OFD_SETLK'], [38, 'F_OFD_SETLKW'], [1024, 'F_SETLEASE'], [1025, 'F_GETLEASE'],
  [1030, 'F_DUPFD_CLOEXEC'], [1031, 'F_SETPIPE_SZ'], [1032, 'F_GETPIPE_SZ'], [1033, 'F_ADD_SEALS'], [1034, 'F_GET_SEALS']];
const IOCTL: Names = [[0x5401, 'TCGETS'], [0x5402, 'TCSETS'], [0x5403, 'TCSETSW'], [0x5404, 'TCSETSF'],
  [0x540b, 'TCFLSH'], [0x540e, 'TIOCSCTTY'], [0x540f, 'TIOCGPGRP'], [0x5410, 'TIOCSPGRP'], [0x5413, 'TIOCGWINSZ'],
  [0x5414, 'TIOCSWINSZ'], [0x541b, 'FIONREAD'], [0x5421, 'FIONBIO'], [0x5422, 'TIOCNOTTY'], [0x5450, 'FIONCLEX'],
  [0x5451, 'FIOCLEX'], [0x5452, 'FIOASYNC'], [0x80045430, 'TIOCGPTN'], [0x40045431, 'TIOCSPTLCK']];
const FUTEX: readonly string[] = ['FUTEX_WAIT', 'FUTEX_WAKE', 'FUTEX_FD', 'FUTEX_REQUEUE', 'FUTEX_CMP_REQUEUE',
  'FUTEX_WAKE_OP', 'FUTEX_LOCK_PI', 'FUTEX_UNLOCK_PI', 'FUTEX_TRYLOCK_PI', 'FUTEX_WAIT_BITSET',
  'FUTEX_WAKE_BITSET', 'FUTEX_WAIT_REQUEUE_PI', 'FUTEX_CMP_REQUEUE_PI', 'FUTEX_LOCK_PI2'];
const ARCH: Names = [[0x1001, 'ARCH_SET_GS'], [0x1002, 'ARCH_SET_FS'], [0x1003, 'ARCH_GET_FS'], [0x1004, 'ARCH_GET_GS'],
  [0x1011, 'ARCH_GET_CPUID'], [0x1012, 'ARCH_SET_CPUID']];
const RLIMITS: readonly string[] = ['RLIMIT_CPU', 'RLIMIT_FSIZE', 'RLIMIT_DATA', 'RLIMIT_STACK', 'RLIMIT_CORE',
  'RLIMIT_RSS', 'RLIMIT_NPROC', 'RLIMIT_NOFILE', 'RLIMIT_MEMLOCK', 'RLIMIT_AS', 'RLIMIT_LOCKS',
  'RLIMIT_SIGPENDING', 'RLIMIT_MSGQUEUE', 'RLIMIT_NICE', 'RLIMIT_RTPRIO', 'RLIMIT_RTTIME'];
const AMODE: Names = [[4, 'R_OK'], [2, 'W_OK'], [1, 'X_OK']];
const MADV: Names = [[0, 'MADV_NORMAL'], [1, 'MADV_RANDOM'], [2, 'MADV_SEQUENTIAL'], [3, 'MADV_WILLNEED'],
  [4, 'MADV_DONTNEED'], [8, 'MADV_FREE'], [9, 'MADV_REMOVE'], [10, 'MADV_DONTFORK'], [11, 'MADV_DOFORK'],
  [12, 'MADV_MERGEABLE'], [13, 'MADV_UNMERGEABLE'], [14, 'MADV_HUGEPAGE'], [15, 'MADV_NOHUGEPAGE'],
  [16, 'MADV_DONTDUMP'], [17, 'MADV_DODUMP'], [18, 'MADV_WIPEONFORK'], [19, 'MADV_KEEPONFORK'], [20, 'MADV_COLD'],
  [21, 'MADV_PAGEOUT'], [22, 'MADV_POPULATE_READ'], [23, 'MADV_POPULATE_WRITE']];
const S_IFMT_NAMES: Names = [[0o140000, 'S_IFSOCK'], [0o120000, 'S_IFLNK'], [0o100000, 'S_IFREG'], [0o060000, 'S_IFBLK'],
  [0o040000, 'S_IFDIR'], [0o020000, 'S_IFCHR'], [0o010000, 'S_IFIFO']];

function sigset(as: AddressSpace, addr: number): string {
  if (addr === 0) return 'NULL';
  let set: bigint;
  try { set = as.readU64(addr); } catch { return ptr(addr); }
  let count = 0;
  for (let v = set; v; v >>= 1n) if (v & 1n) count++;
  const neg = count > 32;
  if (neg) set = ~set & ((1n << 64n) - 1n);
  const names: string[] = [];
  for (let s = 1; s <= 64; s++) if (set & (1n << BigInt(s - 1))) names.push(signalName(s).replace(/^SIG/, ''));
  return `${neg ? '~' : ''}[${names.join(' ')}]`;
}

function timespec(as: AddressSpace, addr: number): string {
  if (addr === 0) return 'NULL';
  try {
    const b = as.read(addr, 16);
    const dv = new DataView(b.buffer);
    return `{tv_sec=${dv.getBigInt64(0, true)}, tv_nsec=${dv.getBigInt64(8, true)}}`;
  } catch {
    return ptr(addr);
  }
}

function iovec(as: AddressSpace, addr: number, count: number, total: number): string {
  if (count <= 0 || count > 1024) return ptr(addr);
  try {
    const b = as.read(addr, 16 * Math.min(count, 8));
    const dv = new DataView(b.buffer);
    const parts: string[] = [];
    let left = total;
    for (let i = 0; i < Math.min(count, 8); i++) {
      const base = Number(dv.getBigUint64(i * 16, true));
      const len = Number(dv.getBigUint64(i * 16 + 8, true));
      const shown = Math.max(0, Math.min(len, left));
      left -= shown;
      parts.push(`{iov_base=${quoted(as, base, shown)}, iov_len=${len}}`);
    }
    return `[${parts.join(', ')}${count > 8 ? ', ...' : ''}]`;
  } catch {
    return ptr(addr);
  }
}

function futexOp(v: number): string {
  const cmd = v & 0x7f;
  let s = FUTEX[cmd] ?? String(cmd);
  if (v & 128) s += '_PRIVATE';
  if (v & 256) s = 'FUTEX_CLOCK_REALTIME|' + s;
  return s;
}

/** One argument as strace shows it; undefined leaves it out (open's mode without O_CREAT). */
function formatArg(kind: ArgKind, i: number, args: readonly bigint[], result: bigint | undefined, as: AddressSpace): string | undefined {
  const v = args[i];
  const n = Number(BigInt.asUintN(64, v));
  const ok = result !== undefined && result >= 0n;
  switch (kind) {
    case 'd': case 'fd': case 'ms': return String(int(v));
    case 'ld': return String(BigInt.asIntN(64, v));
    case 'u': return String(BigInt.asUintN(64, v));
    case 'x': return hex(v);
    case 'p': return ptr(v);
    case 'dirfd': return int(v) === -100 ? 'AT_FDCWD' : String(int(v));
    case 'path': return cstring(as, n, 4096);
    case 'str': return cstring(as, n, STRACE_STRLEN);
    case 'wbuf': return n === 0 ? 'NULL' : quoted(as, n, Number(BigInt.asUintN(64, args[i + 1] ?? 0n)));
    case 'rbuf': return ok ? quoted(as, n, Number(result)) : ptr(v);
    case 'iov': return iovec(as, n, int(args[i + 1] ?? 0n), Number.MAX_SAFE_INTEGER);
    case 'riov': return ok ? iovec(as, n, int(args[i + 1] ?? 0n), Number(result)) : ptr(v);
    case 'oflags': return openFlags(int(v));
    case 'omode': {
      const f = int(args[i - 1] ?? 0n);
      if (!(f & O_CREAT) && (f & O_TMPFILE) !== O_TMPFILE) return undefined;
      return octal(int(v) & 0o7777);
    }
    case 'mode': return octal(int(v) & 0o7777);
    case 'prot': return flags(int(v), PROT_NAMES, 'PROT_NONE');
    case 'mflags': {
      const t = int(v) & 0xf;
      const type = t === 1 ? 'MAP_SHARED' : t === 2 ? 'MAP_PRIVATE' : t === 3 ? 'MAP_SHARED_VALIDATE' : '0x' + t.toString(16);
      const rest = int(v) & ~0xf;
      return rest ? `${type}|${flags(rest, MAP_NAMES)}` : type;
    }
    case 'mremap': return flags(int(v), MREMAP_NAMES);
    case 'atflags': return flags(int(v), AT_NAMES);
    case 'whence': return oneOf(int(v), WHENCE);
    case 'sig': return int(v) === 0 ? '0' : signalName(int(v));
    case 'sighow': return oneOf(int(v), SIGHOW);
    case 'sigset': return sigset(as, n);
    case 'clock': return oneOf(int(v), CLOCKS);
    case 'fcntl': return oneOf(int(v), FCNTL);
    case 'farg': {
      const cmd = int(args[i - 1] ?? 0n);
      if (cmd === 1 || cmd === 3 || cmd === 9 || cmd === 11 || cmd === 1025 || cmd === 1032 || cmd === 1034) return undefined;
      if (cmd === 2) return int(v) & 1 ? 'FD_CLOEXEC' : String(int(v));
      if (cmd === 4) return openFlags(int(v));
      if (cmd === 5 || cmd === 6 || cmd === 7 || (cmd >= 36 && cmd <= 38)) return ptr(v);
      return String(int(v));
    }
    case 'ioctl': {
      const req = Number(BigInt.asUintN(32, v));
      return IOCTL.find(([c]) => c === req)?.[1] ?? '0x' + req.toString(16);
    }
    case 'futex': return futexOp(int(v));
    case 'arch': return oneOf(int(v), ARCH);
    case 'rlimit': return RLIMITS[int(v)] ?? String(int(v));
    case 'amode': return int(v) === 0 ? 'F_OK' : flags(int(v), AMODE);
    case 'madv': return oneOf(int(v), MADV);
    case 'fdpair': {
      if (!ok) return ptr(v);
      try {
        const b = as.read(n, 8);
        const dv = new DataView(b.buffer);
        return `[${dv.getInt32(0, true)}, ${dv.getInt32(4, true)}]`;
      } catch {
        return ptr(v);
      }
    }
    case 'stat': {
      if (!ok) return ptr(v);
      try {
        const b = as.read(n, 64);
        const dv = new DataView(b.buffer);
        const mode = dv.getUint32(24, true);
        const type = oneOf(mode & 0o170000, S_IFMT_NAMES);
        const size = dv.getBigInt64(48, true);
        return `{st_mode=${type}|${octal(mode & 0o7777)}, st_size=${size}, ...}`;
      } catch {
        return ptr(v);
      }
    }
    case 'opath': return ok ? cstring(as, n, 4096) : ptr(v);
    case 'ts': return timespec(as, n);
    case 'ots': return ok ? timespec(as, n) : ptr(v);
  }
}

/** The text after `=`: the value, `-1 ENAME (message)` for an error, or `?` if none. */
export function formatResult(result: bigint | undefined, ret: RetKind = 'd'): string {
  if (result === undefined) return '?';
  const r = BigInt.asIntN(64, result);
  if (r < 0n && r >= -4095n) {
    const e = Number(-r);
    return `-1 ${errnoName(e)} (${errnoMessage(e)})`;
  }
  if (ret === 'x') return hex(r);
  if (ret === 'o') return octal(Number(r));
  return String(r);
}

/**
 * One strace line. `kinds` undefined means the kernel does not implement the call: its first
 * `nargs` raw arguments are shown in hex, as strace does for calls it cannot decode.
 */
export function formatCall(name: string, kinds: readonly ArgKind[] | undefined, nargs: number, args: readonly bigint[],
  result: bigint | undefined, as: AddressSpace, ret: RetKind = 'd'): string {
  const shown: string[] = [];
  if (kinds) {
    kinds.forEach((k, i) => {
      const s = formatArg(k, i, args, result, as);
      if (s !== undefined) shown.push(s);
    });
  } else {
    for (let i = 0; i < nargs; i++) shown.push(hex(args[i]));
  }
  return `${name}(${shown.join(', ')}) = ${formatResult(result, ret)}`;
}
