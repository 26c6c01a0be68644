/**
 * Linux x86-64 open(2) flags and their translation to the host's (Node's fs.constants).
 * On a Linux host the numbers coincide, but the translation is by name so it holds anywhere.
 */
import { constants as C } from 'node:fs';

export const O_ACCMODE = 0o3;
export const O_RDONLY = 0o0;
export const O_WRONLY = 0o1;
export const O_RDWR = 0o2;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_NOCTTY = 0o400;
export const O_TRUNC = 0o1000;
export const O_APPEND = 0o2000;
export const O_NONBLOCK = 0o4000;
export const O_DSYNC = 0o10000;
export const O_ASYNC = 0o20000;
export const O_DIRECT = 0o40000;
export const O_LARGEFILE = 0o100000;
export const O_DIRECTORY = 0o200000;
export const O_NOFOLLOW = 0o400000;
export const O_NOATIME = 0o1000000;
export const O_CLOEXEC = 0o2000000;
export const O_SYNC = 0o4010000; // includes O_DSYNC
export const O_PATH = 0o10000000;
export const O_TMPFILE = 0o20200000; // includes O_DIRECTORY

/** Flags F_SETFL may change (Linux SETFL_MASK). */
export const SETFL_MASK = O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME;

/** Flags that live on past open(2) in the file description (F_GETFL shows them). */
export const STATUS_MASK = O_ACCMODE | O_APPEND | O_NONBLOCK | O_DSYNC | O_ASYNC | O_DIRECT | O_LARGEFILE
  | O_NOATIME | O_SYNC | O_PATH;

/** Every flag open(2) knows (others are silently ignored by Linux). */
const KNOWN = O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND | O_NONBLOCK | O_DSYNC | O_ASYNC
  | O_DIRECT | O_LARGEFILE | O_DIRECTORY | O_NOFOLLOW | O_NOATIME | O_CLOEXEC | O_SYNC | O_PATH | O_TMPFILE;

const host = C as unknown as Record<string, number | undefined>;
const onLinux = process.platform === 'linux';

/** [Linux bit, host constant name] for the flags Node exposes. */
const TRANSLATED: [number, string][] = [
  [O_CREAT, 'O_CREAT'], [O_EXCL, 'O_EXCL'], [O_NOCTTY, 'O_NOCTTY'], [O_TRUNC, 'O_TRUNC'],
  [O_APPEND, 'O_APPEND'], [O_NONBLOCK, 'O_NONBLOCK'], [O_DIRECT, 'O_DIRECT'],
  [O_DIRECTORY, 'O_DIRECTORY'], [O_NOFOLLOW, 'O_NOFOLLOW'], [O_NOATIME, 'O_NOATIME'],
];

/**
 * Host open flags for Linux `flags`. O_CLOEXEC is the fd table's business (libuv opens every
 * host fd close-on-exec anyway); O_LARGEFILE means nothing on a 64-bit host; O_PATH, O_TMPFILE
 * and O_ASYNC have no Node name and pass through numerically on a Linux host only.
 */
export function hostOpenFlags(flags: number): number {
  let out = 0;
  const acc = flags & O_ACCMODE;
  out |= acc === O_WRONLY ? C.O_WRONLY : acc === O_RDWR ? C.O_RDWR : C.O_RDONLY;
  if ((flags & O_SYNC) === O_SYNC) out |= C.O_SYNC;
  else if (flags & O_DSYNC) out |= C.O_DSYNC;
  if ((flags & O_TMPFILE) === O_TMPFILE) {
    if (!onLinux) return -1;
    out |= O_TMPFILE;
  }
  for (const [bit, name] of TRANSLATED) {
    if ((flags & bit) === 0) continue;
    if (bit === O_DIRECTORY && (flags & O_TMPFILE) === O_TMPFILE) continue;
    const v = host[name];
    if (v !== undefined) out |= v;
    else if (onLinux) out |= bit;
  }
  if (flags & O_PATH) {
    if (!onLinux) return -1;
    out |= O_PATH;
  }
  return out;
}

/** The status flags a new file description keeps (F_GETFL), as Linux computes them on x86-64. */
export function descriptionFlags(flags: number): number {
  // 64-bit Linux forces O_LARGEFILE on every open.
  let f = (flags & STATUS_MASK & KNOWN) | O_LARGEFILE;
  if (flags & O_PATH) f = O_PATH | O_LARGEFILE;
  return f;
}
