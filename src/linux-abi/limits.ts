/**
 * Resource limits (getrlimit/setrlimit/prlimit64). They start as the host's (from
 * /proc/self/limits), except RLIMIT_NOFILE whose soft limit is 1024 as a login shell gives it
 * (Node raises its own), and RLIMIT_STACK which is at least Linux's usual 8 MiB.
 */
import { readFileSync } from 'node:fs';

export const RLIM_INFINITY = (1n << 64n) - 1n;

export const RLIMIT_CPU = 0, RLIMIT_FSIZE = 1, RLIMIT_DATA = 2, RLIMIT_STACK = 3, RLIMIT_CORE = 4,
  RLIMIT_RSS = 5, RLIMIT_NPROC = 6, RLIMIT_NOFILE = 7, RLIMIT_MEMLOCK = 8, RLIMIT_AS = 9,
  RLIMIT_LOCKS = 10, RLIMIT_SIGPENDING = 11, RLIMIT_MSGQUEUE = 12, RLIMIT_NICE = 13, RLIMIT_RTPRIO = 14,
  RLIMIT_RTTIME = 15;
export const RLIM_NLIMITS = 16;

export const RLIMIT_NAMES = ['RLIMIT_CPU', 'RLIMIT_FSIZE', 'RLIMIT_DATA', 'RLIMIT_STACK', 'RLIMIT_CORE',
  'RLIMIT_RSS', 'RLIMIT_NPROC', 'RLIMIT_NOFILE', 'RLIMIT_MEMLOCK', 'RLIMIT_AS', 'RLIMIT_LOCKS',
  'RLIMIT_SIGPENDING', 'RLIMIT_MSGQUEUE', 'RLIMIT_NICE', 'RLIMIT_RTPRIO', 'RLIMIT_RTTIME'];

/** Linux's fs.nr_open default: the ceiling for RLIMIT_NOFILE. */
export const NR_OPEN = 1_048_576n;

export interface RLimit {
  cur: bigint;
  max: bigint;
}

const I = RLIM_INFINITY;
/** Typical Linux values, used where the host's cannot be read. */
const DEFAULTS: [bigint, bigint][] = [
  [I, I], [I, I], [I, I], [8n << 20n, I], [0n, I], [I, I], [63_704n, 63_704n], [1024n, 1_048_576n],
  [8n << 20n, 8n << 20n], [I, I], [I, I], [63_704n, 63_704n], [819_200n, 819_200n], [0n, 0n], [0n, 0n], [I, I],
];

/** /proc/self/limits rows in RLIMIT order. */
const ROWS = ['Max cpu time', 'Max file size', 'Max data size', 'Max stack size', 'Max core file size',
  'Max resident set', 'Max processes', 'Max open files', 'Max locked memory', 'Max address space',
  'Max file locks', 'Max pending signals', 'Max msgqueue size', 'Max nice priority', 'Max realtime priority',
  'Max realtime timeout'];

function hostLimits(): (RLimit | undefined)[] {
  const out: (RLimit | undefined)[] = [];
  let text = '';
  try { text = readFileSync('/proc/self/limits', 'utf8'); } catch { return out; }
  const val = (s: string): bigint | undefined => (s === 'unlimited' ? I : /^\d+$/.test(s) ? BigInt(s) : undefined);
  for (const line of text.split('\n')) {
    const i = ROWS.findIndex((r) => line.startsWith(r + ' '));
    if (i < 0) continue;
    const [soft, hard] = line.slice(26).trim().split(/\s+/);
    const cur = val(soft), max = val(hard);
    if (cur !== undefined && max !== undefined) out[i] = { cur, max };
  }
  return out;
}

export class Limits {
  private readonly table: RLimit[];

  constructor() {
    const host = hostLimits();
    this.table = DEFAULTS.map(([cur, max], i) => host[i] ?? { cur, max });
    const nofile = this.table[RLIMIT_NOFILE];
    this.table[RLIMIT_NOFILE] = { cur: nofile.max < 1024n ? nofile.max : 1024n, max: nofile.max };
    const stack = this.table[RLIMIT_STACK];
    if (stack.cur === I || stack.cur < 8n << 20n) this.table[RLIMIT_STACK] = { cur: 8n << 20n, max: stack.max < 8n << 20n ? 8n << 20n : stack.max };
  }

  /** fork: the parent's limits. */
  copyFrom(other: Limits): void {
    other.table.forEach((l, i) => { this.table[i] = { ...l }; });
  }

  get(resource: number): RLimit {
    return { ...this.table[resource] };
  }

  set(resource: number, lim: RLimit): void {
    this.table[resource] = { ...lim };
  }

  /** The soft RLIMIT_NOFILE as a number (the fd table's bound). */
  get nofile(): number {
    const c = this.table[RLIMIT_NOFILE].cur;
    return c > NR_OPEN ? Number(NR_OPEN) : Number(c);
  }
}
