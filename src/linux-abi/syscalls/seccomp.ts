/**
 * seccomp (and prctl's PR_SET_SECCOMP, which comes here): strict mode, installing filters,
 * SECCOMP_GET_ACTION_AVAIL and SECCOMP_GET_NOTIF_SIZES. Filtering itself is linux-abi/seccomp.ts.
 */
import { int, ptr, uint } from '../args.js';
import { E, fail } from '../errno.js';
import type { Proc } from '../proc.js';
import { parseFilter, Seccomp } from '../seccomp.js';
import { defineSyscalls } from '../table.js';
import { StructIn, StructOut } from '../uaccess.js';

export const SECCOMP_SET_MODE_STRICT = 0, SECCOMP_SET_MODE_FILTER = 1, SECCOMP_GET_ACTION_AVAIL = 2,
  SECCOMP_GET_NOTIF_SIZES = 3;
export const SECCOMP_FILTER_FLAG_TSYNC = 1, SECCOMP_FILTER_FLAG_LOG = 2, SECCOMP_FILTER_FLAG_SPEC_ALLOW = 4,
  SECCOMP_FILTER_FLAG_NEW_LISTENER = 8, SECCOMP_FILTER_FLAG_TSYNC_ESRCH = 16,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV = 32;
const FILTER_FLAGS = 63;

const euid = (): number => process.geteuid?.() ?? 0;

function setFilter(p: Proc, flags: number, fprog: number): number {
  if (flags & ~FILTER_FLAGS) fail(E.EINVAL);
  if (flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) {
    // A listener would be another process answering our calls: not here.
    p.warnOnce('seccomp-listener', 'seccomp: SECCOMP_FILTER_FLAG_NEW_LISTENER (user-space notification) is not supported');
    fail(E.EINVAL);
  }
  if (flags & SECCOMP_FILTER_FLAG_TSYNC_ESRCH && !(flags & SECCOMP_FILTER_FLAG_TSYNC)) fail(E.EINVAL);
  // Without no_new_privs only a process with CAP_SYS_ADMIN may install a filter.
  if (!p.noNewPrivs && euid() !== 0) fail(E.EACCES);
  const s = StructIn.read(p.as, fprog, 16); // struct sock_fprog { unsigned short len; struct sock_filter *filter; }
  const len = s.u16(0);
  if (len === 0 || len > 4096) fail(E.EINVAL);
  const filter = parseFilter(p.as.read(ptr(s.u64(8)), len * 8), (flags & SECCOMP_FILTER_FLAG_LOG) !== 0);
  p.seccomp.addFilter(filter);
  return 0;
}

/** Linux's do_seccomp. */
export function doSeccomp(p: Proc, op: number, flags: number, uargs: number): number {
  switch (op) {
    case SECCOMP_SET_MODE_STRICT:
      if (flags !== 0 || uargs !== 0) fail(E.EINVAL);
      p.seccomp.setStrict();
      return 0;
    case SECCOMP_SET_MODE_FILTER:
      return setFilter(p, flags, uargs);
    case SECCOMP_GET_ACTION_AVAIL:
      if (flags !== 0) fail(E.EINVAL);
      return Seccomp.actionAvailable(p.as.readU32(uargs)) ? 0 : fail(E.EOPNOTSUPP);
    case SECCOMP_GET_NOTIF_SIZES:
      if (flags !== 0) fail(E.EINVAL);
      // struct seccomp_notif_sizes { __u16 seccomp_notif, seccomp_notif_resp, seccomp_data; }
      new StructOut(6).u16(0, 80).u16(2, 24).u16(4, 64).write(p.as, uargs);
      return 0;
    default:
      return fail(E.EINVAL);
  }
}

export const seccompSyscalls = defineSyscalls([
  {
    name: 'seccomp', args: ['u', 'x', 'p'],
    handler: (p, [op, flags, uargs]) => doSeccomp(p, uint(op), uint(flags), ptr(uargs)),
  },
]);

/** prctl(PR_SET_SECCOMP, mode, filter). */
export function prctlSetSeccomp(p: Proc, mode: bigint, filter: bigint): number {
  switch (int(mode)) {
    case 1: return doSeccomp(p, SECCOMP_SET_MODE_STRICT, 0, 0);
    case 2: return doSeccomp(p, SECCOMP_SET_MODE_FILTER, 0, ptr(filter));
    default: return fail(E.EINVAL);
  }
}
