/**
 * Memory management: mmap, munmap, mprotect, mremap, brk, madvise, msync, mincore, mlock,
 * munlock, mlockall, munlockall, mlock2.
 *
 * The AddressSpace keeps the regions (VMAs) and demand-zero pages. File mappings fill their pages
 * from the file on first touch (a page wholly past the end of the file is a SIGBUS, the tail of
 * the last page reads as zeros): a private page is the process's own copy; a MAP_SHARED page is
 * the file's one frame (linux-abi/mapped-files.ts, paging/file-object.ts), written back when
 * dirty on msync, munmap and exit.
 */
import { PAGE_SIZE } from '../../core/layout.js';
import { Access, type AddressSpace, BusFault, PROT_EXEC, PROT_READ, PROT_WRITE, USER_TOP } from '../../paging/address-space.js';
import { OutOfFrames } from '../../paging/frames.js';
import { int, ptr, ulong } from '../args.js';
import { E, fail } from '../errno.js';
import { HostFile } from '../host-file.js';
import { mappedFiles } from '../mapped-files.js';
import type { Proc } from '../proc.js';
import { defineSyscalls } from '../table.js';
import { checkAccess, pageUp } from '../uaccess.js';

export const MAP_SHARED = 0x01, MAP_PRIVATE = 0x02, MAP_SHARED_VALIDATE = 0x03, MAP_TYPE = 0x0f, MAP_FIXED = 0x10,
  MAP_ANONYMOUS = 0x20, MAP_32BIT = 0x40, MAP_GROWSDOWN = 0x100, MAP_DENYWRITE = 0x800, MAP_EXECUTABLE = 0x1000,
  MAP_LOCKED = 0x2000, MAP_NORESERVE = 0x4000, MAP_POPULATE = 0x8000, MAP_NONBLOCK = 0x10000, MAP_STACK = 0x20000,
  MAP_HUGETLB = 0x40000, MAP_SYNC = 0x80000, MAP_FIXED_NOREPLACE = 0x100000;
const MAP_KNOWN = 0x1ff7ff & ~MAP_TYPE;
export const PROT_GROWSDOWN = 0x0100_0000, PROT_GROWSUP = 0x0200_0000;
export const MREMAP_MAYMOVE = 1, MREMAP_FIXED = 2, MREMAP_DONTUNMAP = 4;
export const MADV_DONTNEED = 4, MADV_FREE = 8, MADV_REMOVE = 9;
const MADV_VALID = new Set([0, 1, 2, 3, 4, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 100, 101]);
export const MS_ASYNC = 1, MS_INVALIDATE = 2, MS_SYNC = 4;

/** Linux's default vm.mmap_min_addr: nothing may be mapped below it. */
export const MMAP_MIN_ADDR = 0x10000;
const CHUNK = 1 << 20;

/** Tells the JIT (if it asked) about executable ranges going away or losing PROT_EXEC. */
function codeGone(p: Proc, start: number, end: number): void {
  if (!p.onUnmapCode) return;
  for (const r of p.as.regions) {
    if (r.end <= start || r.start >= end || !(r.prot & PROT_EXEC)) continue;
    p.onUnmapCode(Math.max(r.start, start), Math.min(r.end, end));
  }
}

/** Where a new mapping of len bytes goes, given the hint and flags. */
function place(as: AddressSpace, hint: number, len: number, flags: number): number {
  if (hint !== 0) {
    const h = pageUp(hint);
    if (h >= MMAP_MIN_ADDR && h + len <= USER_TOP && as.isFree(h, h + len)) return h;
  }
  try {
    return flags & MAP_32BIT ? as.findFree(len, 0x8000_0000) : as.findFree(len);
  } catch (e) {
    if (e instanceof OutOfFrames) fail(E.ENOMEM);
    throw e;
  }
}

/**
 * A user range for munmap/mprotect/madvise/msync/mincore: an unaligned start is EINVAL; a range
 * reaching past user space is `beyond` (EINVAL for munmap, ENOMEM for the others, as Linux).
 */
function range(addr: bigint, len: bigint, beyond: number = E.ENOMEM): [number, number] {
  const a = ulong(addr), l = ulong(len);
  if (a & BigInt(PAGE_SIZE - 1)) fail(E.EINVAL);
  const end = a + ((l + BigInt(PAGE_SIZE - 1)) & ~BigInt(PAGE_SIZE - 1));
  if (end > BigInt(USER_TOP) || end < a) fail(beyond);
  return [Number(a), Number(end)];
}

function mmap(p: Proc, a: readonly bigint[]): number {
  const addr = ulong(a[0]), len = ulong(a[1]), prot = int(a[2]), flags = int(a[3]), fd = int(a[4]), off = ulong(a[5]);
  if (off & BigInt(PAGE_SIZE - 1)) fail(E.EINVAL);
  if (len === 0n) fail(E.EINVAL);
  const plen = (len + BigInt(PAGE_SIZE - 1)) & ~BigInt(PAGE_SIZE - 1);
  if (plen > BigInt(USER_TOP)) fail(E.ENOMEM);
  const size = Number(plen);
  const type = flags & MAP_TYPE;
  if (type !== MAP_SHARED && type !== MAP_PRIVATE && type !== MAP_SHARED_VALIDATE) fail(E.EINVAL);
  if (type === MAP_SHARED_VALIDATE && flags & ~MAP_TYPE & ~MAP_KNOWN) fail(E.EOPNOTSUPP);
  const shared = type !== MAP_PRIVATE;
  const anon = (flags & MAP_ANONYMOUS) !== 0;
  const protBits = prot & (PROT_READ | PROT_WRITE | PROT_EXEC);

  let file: HostFile | undefined;
  let name = '';
  let mayWrite = false;
  if (!anon) {
    const f = p.fds.get(fd);
    if (!(f instanceof HostFile)) fail(E.ENODEV);
    if (!f.readable) fail(E.EACCES);
    if (!f.isRegular) {
      // /dev/zero maps as anonymous memory; other devices, directories and pipes cannot be mapped.
      if (f.type !== 'chr' || f.linkName() !== '/dev/zero') fail(E.ENODEV);
      return mmap(p, [a[0], a[1], a[2], BigInt(flags | MAP_ANONYMOUS), -1n, 0n]);
    }
    if (shared && prot & PROT_WRITE && !f.writable) fail(E.EACCES);
    if (off + plen > 0x7fff_ffff_ffff_ffffn) fail(E.EOVERFLOW);
    file = f;
    name = f.linkName();
    mayWrite = shared && f.writable;
  }

  let start: number;
  if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
    if (addr & BigInt(PAGE_SIZE - 1)) fail(E.EINVAL);
    if (addr + plen > BigInt(USER_TOP)) fail(E.ENOMEM);
    start = Number(addr);
    if (start < MMAP_MIN_ADDR) fail(E.EPERM);
    if (!(flags & MAP_FIXED) && !p.as.isFree(start, start + size)) fail(E.EEXIST);
    codeGone(p, start, start + size);
  } else {
    start = place(p.as, addr >= BigInt(USER_TOP) ? 0 : Number(addr), size, flags);
  }

  const backing = file
    ? { obj: mappedFiles.objectFor(file.hostPath(), mayWrite, p.as.frames), offset: Number(off), mayWrite }
    : undefined;
  p.as.map(start, size, protBits, name, shared, backing);
  if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) mappedFiles.prune(p.as);
  if (flags & MAP_POPULATE && file && protBits) {
    // Pre-fault what the file holds (the pages past its end, all at the end, stay SIGBUS).
    for (let a = start; a < start + size; a += PAGE_SIZE) {
      try {
        p.as.frameOf(a);
      } catch (e) {
        if (e instanceof BusFault) break;
        throw e;
      }
    }
  }
  return start;
}

function munmap(p: Proc, addr: bigint, len: bigint): number {
  if (ulong(len) === 0n) fail(E.EINVAL);
  const [start, end] = range(addr, len, E.EINVAL);
  codeGone(p, start, end);
  p.as.unmap(start, end - start);
  mappedFiles.prune(p.as);
  return 0;
}

function mprotect(p: Proc, addr: bigint, len: bigint, protArg: bigint): number {
  const prot = int(protArg);
  if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_GROWSDOWN | PROT_GROWSUP)) fail(E.EINVAL);
  if ((prot & (PROT_GROWSDOWN | PROT_GROWSUP)) === (PROT_GROWSDOWN | PROT_GROWSUP)) fail(E.EINVAL);
  const [start, end] = range(addr, len);
  if (start === end) return 0;
  if (!p.as.covered(start, end)) fail(E.ENOMEM);
  const bits = prot & (PROT_READ | PROT_WRITE | PROT_EXEC);
  if (bits & PROT_WRITE) {
    // A shared file mapping can become writable only if its fd was open for writing.
    for (const r of p.as.regions) {
      if (r.end > start && r.start < end && r.shared && r.file && !r.file.mayWrite) fail(E.EACCES);
    }
  }
  if (!(bits & PROT_EXEC)) codeGone(p, start, end);
  p.as.protect(start, end - start, bits);
  return 0;
}

/** Copies the populated pages of [from, from+len) to `to` (demand-zero pages stay unpopulated). */
function copyPages(as: AddressSpace, from: number, to: number, len: number): void {
  for (let off = 0; off < len; off += PAGE_SIZE) {
    if (as.isPopulated(from + off)) as.write(to + off, as.read(from + off, PAGE_SIZE, true), true);
  }
}

/** Merges [start, end) with its neighbours when they look the same (Linux merges such VMAs). */
function remerge(as: AddressSpace, start: number, end: number): void {
  const r = as.regionAt(start);
  if (r && as.covered(start, end)) as.protect(start, end - start, r.prot);
}

function mremap(p: Proc, a: readonly bigint[]): number {
  const oldAddr = ulong(a[0]), oldLen = ulong(a[1]), newLen = ulong(a[2]), flags = int(a[3]), newAddr = ulong(a[4]);
  if (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP)) fail(E.EINVAL);
  if (flags & MREMAP_FIXED && !(flags & MREMAP_MAYMOVE)) fail(E.EINVAL);
  if (flags & MREMAP_DONTUNMAP && (!(flags & MREMAP_MAYMOVE) || oldLen !== newLen)) fail(E.EINVAL);
  if (oldAddr & BigInt(PAGE_SIZE - 1)) fail(E.EINVAL);
  const roundUp = (v: bigint) => (v + BigInt(PAGE_SIZE - 1)) & ~BigInt(PAGE_SIZE - 1);
  const oldSize = roundUp(oldLen), newSize = roundUp(newLen);
  if (newSize === 0n) fail(E.EINVAL);
  if (oldAddr + oldSize > BigInt(USER_TOP) || newSize > BigInt(USER_TOP)) fail(E.EINVAL);
  const old = Number(oldAddr), osz = Number(oldSize), nsz = Number(newSize);
  const r = p.as.regionAt(old);
  if (!r) fail(E.EFAULT);
  if (osz === 0) fail(E.EINVAL); // duplicating a shared mapping (old_size 0) is not supported
  if (old + osz > r.end) fail(E.EFAULT); // the old range must lie in one mapping
  const { prot, name, shared } = r;
  // A file mapping keeps mapping the same file pages wherever it moves or grows.
  const fileAt = (a: number) => (r.file ? { ...r.file, offset: r.file.offset + (a - r.start) } : undefined);

  const moveTo = (dest: number): number => {
    codeGone(p, dest, dest + nsz);
    p.as.map(dest, nsz, prot, name, shared, fileAt(old));
    // The process's own pages move with the mapping; a shared file mapping's are the file's.
    if (!(shared && r.file)) copyPages(p.as, old, dest, Math.min(osz, nsz));
    if (!(flags & MREMAP_DONTUNMAP)) {
      codeGone(p, old, old + osz);
      p.as.unmap(old, osz);
    } else {
      p.as.map(old, osz, prot, name, shared, fileAt(old)); // the old range stays mapped, empty
    }
    mappedFiles.prune(p.as);
    return dest;
  };

  if (flags & MREMAP_FIXED) {
    if (newAddr & BigInt(PAGE_SIZE - 1)) fail(E.EINVAL);
    const dest = Number(newAddr);
    if (newAddr + newSize > BigInt(USER_TOP) || dest < MMAP_MIN_ADDR) fail(E.EINVAL);
    if (dest < old + osz && old < dest + nsz) fail(E.EINVAL); // overlapping ranges
    return moveTo(dest);
  }
  if (nsz <= osz) {
    if (nsz < osz) {
      codeGone(p, old + nsz, old + osz);
      p.as.unmap(old + nsz, osz - nsz);
      mappedFiles.prune(p.as);
    }
    return old;
  }
  // Grow in place if the pages after the mapping are free.
  if (old + nsz <= USER_TOP && p.as.isFree(old + osz, old + nsz)) {
    p.as.map(old + osz, nsz - osz, prot, name, shared, fileAt(old + osz));
    remerge(p.as, r.start, old + nsz);
    return old;
  }
  if (!(flags & MREMAP_MAYMOVE)) fail(E.ENOMEM);
  return moveTo(place(p.as, 0, nsz, 0));
}

function brk(p: Proc, want: bigint): number {
  const as = p.as;
  const cur = as.brkEnd;
  const w = ulong(want);
  if (w < BigInt(as.brkStart) || w >= BigInt(USER_TOP)) return cur;
  const target = Number(w);
  const oldTop = pageUp(cur), newTop = pageUp(target);
  if (newTop > oldTop) {
    if (!as.isFree(oldTop, newTop)) return cur;
    as.map(oldTop, newTop - oldTop, PROT_READ | PROT_WRITE, '[heap]');
    const below = as.regionAt(oldTop - 1);
    if (below && below.name === '[heap]' && below.prot === (PROT_READ | PROT_WRITE)) remerge(as, below.start, newTop);
  } else if (newTop < oldTop) {
    as.unmap(newTop, oldTop - newTop);
  }
  as.brkEnd = target;
  return target;
}

function madvise(p: Proc, addr: bigint, len: bigint, adviceArg: bigint): number {
  const advice = int(adviceArg);
  if (!MADV_VALID.has(advice)) fail(E.EINVAL);
  const [start, end] = range(addr, len);
  if (start === end) return 0;
  const covered = p.as.covered(start, end);
  if (advice === MADV_DONTNEED || advice === MADV_REMOVE) {
    // The pages go: private anonymous ones read back as zero afterwards, file pages are read
    // from the file again (a private copy's changes are lost, a shared page keeps what was
    // written: it is the file's); shared anonymous memory keeps its contents.
    for (const r of [...p.as.regions]) {
      if (r.end <= start || r.start >= end || (r.shared && !r.file)) continue;
      const s = Math.max(r.start, start), e = Math.min(r.end, end);
      codeGone(p, s, e);
      p.as.discard(s, e);
    }
  }
  if (!covered) fail(E.ENOMEM);
  return 0;
}

function msync(p: Proc, addr: bigint, len: bigint, flagsArg: bigint): number {
  const flags = int(flagsArg);
  if (flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC)) fail(E.EINVAL);
  if (flags & MS_ASYNC && flags & MS_SYNC) fail(E.EINVAL);
  const [start, end] = range(addr, len);
  if (!p.as.covered(start, end)) fail(E.ENOMEM);
  // The dirty pages of shared file mappings in the range reach their files (MS_ASYNC too: now).
  for (const r of p.as.regions) {
    if (r.end <= start || r.start >= end || !r.shared || !r.file) continue;
    const first = (r.file.offset + (Math.max(r.start, start) - r.start)) / PAGE_SIZE;
    const last = (r.file.offset + (Math.min(r.end, end) - r.start)) / PAGE_SIZE;
    r.file.obj.writeBack(first, last);
  }
  return 0;
}

function mincore(p: Proc, addr: bigint, len: bigint, vec: bigint): number {
  const [start, end] = range(addr, len);
  if (!p.as.covered(start, end)) fail(E.ENOMEM);
  const n = (end - start) / PAGE_SIZE;
  const v = ptr(vec);
  checkAccess(p.as, v, n, Access.Write);
  // Resident = has a frame (demand-zero pages not yet touched are not resident), in pieces.
  for (let done = 0; done < n;) {
    const k = Math.min(n - done, 1 << 16);
    const out = new Uint8Array(k);
    for (let i = 0; i < k; i++) out[i] = p.as.isPopulated(start + (done + i) * PAGE_SIZE) ? 1 : 0;
    p.as.write(v + done, out);
    done += k;
  }
  return 0;
}

/** mlock and friends: nothing is ever swapped out, so they only check their range. */
function lockRange(p: Proc, addr: bigint, len: bigint): number {
  const a = ulong(addr), l = ulong(len);
  const start = Number(a - (a % BigInt(PAGE_SIZE)));
  const end = Number(a + l);
  if (a + l > BigInt(USER_TOP)) fail(E.ENOMEM);
  if (end > start && !p.as.covered(start, end)) fail(E.ENOMEM);
  return 0;
}


export const mmSyscalls = defineSyscalls([
  { name: 'mmap', args: ['p', 'u', 'prot', 'mflags', 'fd', 'x'], ret: 'x', handler: (p, a) => mmap(p, a) },
  { name: 'munmap', args: ['p', 'u'], handler: (p, [addr, len]) => munmap(p, addr, len) },
  { name: 'mprotect', args: ['p', 'u', 'prot'], handler: (p, [addr, len, prot]) => mprotect(p, addr, len, prot) },
  {
    name: 'pkey_mprotect', args: ['p', 'u', 'prot', 'd'],
    handler: (p, [addr, len, prot, pkey]) => (int(pkey) !== -1 ? fail(E.EINVAL) : mprotect(p, addr, len, prot)),
  },
  { name: 'mremap', args: ['p', 'u', 'u', 'mremap', 'p'], ret: 'x', handler: (p, a) => mremap(p, a) },
  { name: 'brk', args: ['p'], ret: 'x', handler: (p, [addr]) => brk(p, addr) },
  { name: 'madvise', args: ['p', 'u', 'madv'], handler: (p, [addr, len, adv]) => madvise(p, addr, len, adv) },
  { name: 'msync', args: ['p', 'u', 'x'], handler: (p, [addr, len, f]) => msync(p, addr, len, f) },
  { name: 'mincore', args: ['p', 'u', 'p'], handler: (p, [addr, len, vec]) => mincore(p, addr, len, vec) },
  { name: 'mlock', args: ['p', 'u'], handler: (p, [addr, len]) => lockRange(p, addr, len) },
  { name: 'munlock', args: ['p', 'u'], handler: (p, [addr, len]) => lockRange(p, addr, len) },
  { name: 'mlock2', args: ['p', 'u', 'x'], handler: (p, [addr, len, f]) => (int(f) & ~1 ? fail(E.EINVAL) : lockRange(p, addr, len)) },
  {
    name: 'mlockall', args: ['x'],
    handler: (_p, [f]) => {
      const MCL_CURRENT = 1, MCL_FUTURE = 2, MCL_ONFAULT = 4;
      const v = int(f);
      if (!v || v & ~(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) || v === MCL_ONFAULT) fail(E.EINVAL);
      return 0;
    },
  },
  { name: 'munlockall', args: [], handler: () => 0 },
]);
