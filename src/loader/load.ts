import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { PAGE_SIZE } from '../core/layout.js';
import { PROT_EXEC, PROT_READ, PROT_WRITE, USER_TOP, type AddressSpace } from '../paging/address-space.js';
import { ElfError, pageDown, pageUp, parseElf, type ElfImage } from './elf.js';
import { mapVdso } from './vdso.js';

/**
 * execve() for the guest: maps an x86-64 ELF executable (and its program interpreter, if it names
 * one) into an AddressSpace and builds the initial process stack, the way Linux's binfmt_elf
 * (load_elf_binary, create_elf_tables) and fs/exec.c do on x86-64 with address space
 * randomization off.
 */

/** Auxiliary vector entry types (include/uapi/linux/auxvec.h). */
export const AT = {
  NULL: 0, IGNORE: 1, EXECFD: 2, PHDR: 3, PHENT: 4, PHNUM: 5, PAGESZ: 6, BASE: 7, FLAGS: 8, ENTRY: 9,
  NOTELF: 10, UID: 11, EUID: 12, GID: 13, EGID: 14, PLATFORM: 15, HWCAP: 16, CLKTCK: 17,
  SECURE: 23, BASE_PLATFORM: 24, RANDOM: 25, HWCAP2: 26, EXECFN: 31, SYSINFO_EHDR: 33, MINSIGSTKSZ: 51,
} as const;

/** Top of the initial stack: the end of the user address space. */
export const STACK_TOP = USER_TOP; // 0x7ffffffff000
/** Default stack region size: RLIMIT_STACK's usual 8 MiB. */
export const DEFAULT_STACK_SIZE = 8 * 1024 * 1024;
/** Where Linux puts PIE executables on x86-64 (ELF_ET_DYN_BASE, 2/3 of the address space). */
export const ELF_ET_DYN_BASE = 0x5555_5555_4000;
/** vm.mmap_min_addr's default: nothing is mapped below this. */
export const MMAP_MIN_ADDR = 0x10000;
/** AT_MINSIGSTKSZ: the signal frame size usmjit's signal delivery needs. */
export const MINSIGSTKSZ = 2048;
/** Linux's limits on execve arguments (include/uapi/linux/binfmts.h, fs/exec.c). */
const MAX_ARG_STRLEN = 32 * PAGE_SIZE;
const ARG_MAX = 32 * PAGE_SIZE;
const STK_LIM = 8 * 1024 * 1024;
/** mmap_base(): the gap left below the stack, and the guard gap it includes. */
const STACK_GUARD_GAP = 256 * PAGE_SIZE;
const MIN_GAP = 128 * 1024 * 1024;
const MAX_GAP = Math.floor(STACK_TOP / 6) * 5;

export interface LoadOptions {
  /** Host path of the program (names its mappings). */
  path: string;
  argv: string[];
  envp: string[];
  /** AT_EXECFN: the path execve() was given (default: path). */
  execfn?: string;
  hwcap: number;
  hwcap2?: number;
  /** AT_PLATFORM string (default 'x86_64'; '' leaves AT_PLATFORM out). */
  platform?: string;
  /** The 16 AT_RANDOM bytes (default: from crypto). */
  random?: Uint8Array;
  uid?: number;
  gid?: number;
  /** Size of the '[stack]' region (default 8 MiB, like RLIMIT_STACK). */
  stackSize?: number;
  /** The host path of the program interpreter PT_INTERP names (default: that path; `-L` prefixes it). */
  interpPath?: (interp: string) => string;
  /** Map the vDSO and pass AT_SYSINFO_EHDR (default true, as Linux always does). */
  vdso?: boolean;
}

export interface LoadedProgram {
  /** Where to start executing: the interpreter's entry if there is one, else the program's. */
  entry: number;
  /** Initial rsp: points at argc. */
  sp: number;
  /** Load bias of a PIE (ET_DYN), 0 for ET_EXEC. */
  base: number;
  /** The interpreter's load bias (AT_BASE), if there is an interpreter. */
  interpBase?: number;
  /** AT_PHDR */
  phdr: number;
  /** AT_SYSINFO_EHDR: where the vDSO is (0 without one). */
  vdso: number;
  /** Initial program break (as.brkStart). */
  brk: number;
  image: ElfImage;
  interpImage?: ElfImage;
  /** The '[stack]' region: [stackBottom, stackTop). */
  stackTop: number;
  stackBottom: number;
  /** The auxiliary vector as put on the stack, AT_NULL included (for /proc/self/auxv). */
  auxv: [number, number][];
  /** Where the argv and envp strings are (mm->arg_start.. for /proc/self/cmdline, environ). */
  argStart: number;
  argEnd: number;
  envStart: number;
  envEnd: number;
}

/** The user-space strings execve copies, NUL-terminated (a string stops at an embedded NUL, as in C). */
function cString(s: string): Uint8Array {
  const b = Buffer.from(s, 'utf8');
  const z = b.indexOf(0);
  const out = new Uint8Array((z >= 0 ? z : b.length) + 1);
  out.set(b.subarray(0, out.length - 1));
  return out;
}

const hex = (n: number) => `0x${n.toString(16)}`;

/**
 * Maps an image's PT_LOAD segments at `bias`: each one page-rounded with its own protection,
 * its file bytes copied in, the rest (bss, and the tail of the page after p_filesz) left zero.
 * Two segments may share a page (their bytes do not overlap: parseElf checks): that page keeps
 * both segments' bytes and gets the union of their protections.
 */
function mapImage(as: AddressSpace, bytes: Uint8Array, image: ElfImage, bias: number, name: string): void {
  const mine: [number, number][] = [];
  const isMine = (page: number) => mine.some(([s, e]) => page >= s && page < e);
  for (const seg of image.segments) {
    if (seg.memsz === 0) continue;
    const start = pageDown(bias + seg.vaddr);
    const end = pageUp(bias + seg.vaddr + seg.memsz);
    let a = start, b = end;
    if (isMine(a)) {
      as.protect(a, PAGE_SIZE, as.regionAt(a)!.prot | seg.prot);
      a += PAGE_SIZE;
    }
    if (b > a && isMine(b - PAGE_SIZE)) {
      as.protect(b - PAGE_SIZE, PAGE_SIZE, as.regionAt(b - PAGE_SIZE)!.prot | seg.prot);
      b -= PAGE_SIZE;
    }
    if (b > a) as.map(a, b - a, seg.prot, name);
    mine.push([start, end]);
    if (seg.filesz > 0) as.write(bias + seg.vaddr, bytes.subarray(seg.offset, seg.offset + seg.filesz), true);
  }
}

/** The page-rounded span [lo, hi) an image occupies at `bias`. */
function span(image: ElfImage, bias: number): [number, number] {
  return [pageDown(bias + image.minVaddr), pageUp(bias + image.maxVaddr)];
}

/** Throws unless [lo, hi) is mappable and free. */
function checkPlacement(as: AddressSpace, lo: number, hi: number, what: string): void {
  if (lo < MMAP_MIN_ADDR) {
    throw new ElfError(`${what} starts at ${hex(lo)}, below the lowest mappable address ${hex(MMAP_MIN_ADDR)}`);
  }
  if (hi > USER_TOP) throw new ElfError(`${what} (${hex(lo)}-${hex(hi)}) does not fit in the user address space`);
  if (!as.isFree(lo, hi)) {
    const r = as.regions.find((x) => x.start < hi && lo < x.end)!;
    throw new ElfError(`${what} (${hex(lo)}-${hex(hi)}) overlaps ${r.name || 'a mapping'} (${hex(r.start)}-${hex(r.end)})`);
  }
}

/**
 * Linux's maximum_alignment(): the largest power-of-two p_align of the PT_LOAD segments, at least
 * a page.
 */
function maxAlignment(image: ElfImage): number {
  let align = PAGE_SIZE;
  for (const s of image.segments) {
    const a = s.align;
    if (a > align && Number.isSafeInteger(a) && 2 ** Math.round(Math.log2(a)) === a) align = a;
  }
  return align;
}

/** Reads and parses the program interpreter (before anything is mapped, as execve does). */
function readInterpreter(path: string, readFile: (path: string) => Uint8Array): { bytes: Uint8Array; image: ElfImage } {
  let bytes: Uint8Array;
  try {
    bytes = readFile(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'No such file or directory'
      : err.code === 'EACCES' ? 'Permission denied'
      : err.code === 'EISDIR' ? 'Is a directory'
      : err.message;
    throw new ElfError(`cannot load interpreter ${path}: ${why}`);
  }
  try {
    return { bytes, image: parseElf(bytes) };
  } catch (e) {
    if (e instanceof ElfError) throw new ElfError(`interpreter ${path}: ${e.message}`);
    throw e;
  }
}

/** Maps the interpreter like load_elf_interp(): an ET_DYN one wherever mmap would put it. */
function mapInterpreter(as: AddressSpace, path: string, bytes: Uint8Array, image: ElfImage): number {
  let bias = 0;
  if (image.type === 'dyn') {
    const [lo, hi] = span(image, 0);
    let at: number;
    try {
      at = as.findFree(hi - lo);
    } catch {
      throw new ElfError(`no room for interpreter ${path} (${hi - lo} bytes)`);
    }
    bias = at - lo;
  }
  const [lo, hi] = span(image, bias);
  checkPlacement(as, lo, hi, `interpreter ${path}`);
  mapImage(as, bytes, image, bias, path);
  return bias;
}

/**
 * Loads a program into `as` (which should be empty) and builds its initial stack. Throws ElfError
 * for anything Linux's execve would refuse (ENOEXEC, E2BIG, ENOENT for a missing interpreter).
 * Bad files, a bad interpreter and bad arguments are found before `as` is touched; only placement
 * failures (a fixed-address program colliding with the stack...) throw with `as` half built,
 * as Linux fails those after execve's point of no return.
 */
export function loadProgram(
  as: AddressSpace,
  bytes: Uint8Array,
  opts: LoadOptions,
  readFile: (path: string) => Uint8Array = (p) => readFileSync(p),
): LoadedProgram {
  const image = parseElf(bytes);
  const interpHost = image.interp !== undefined ? (opts.interpPath ? opts.interpPath(image.interp) : image.interp) : undefined;
  const interpFile = interpHost !== undefined ? readInterpreter(interpHost, readFile) : undefined;

  // ---- check the arguments first (execve fails with E2BIG before touching the process) ----
  // Linux (since 5.18) gives a program run with an empty argv a single "" argument.
  const argv = (opts.argv.length ? opts.argv : ['']).map(cString);
  const envp = opts.envp.map(cString);
  const execfn = cString(opts.execfn ?? opts.path);
  const platform = opts.platform === '' ? undefined : cString(opts.platform ?? 'x86_64');
  for (const s of [...argv, ...envp, execfn]) {
    if (s.length > MAX_ARG_STRLEN) throw new ElfError('argument list too long (one string exceeds 128 KiB)');
  }
  const stackSize = pageUp(opts.stackSize ?? DEFAULT_STACK_SIZE);
  if (!(stackSize >= 16 * PAGE_SIZE && stackSize <= STACK_TOP / 4)) {
    throw new ElfError(`bad stack size ${opts.stackSize}`);
  }
  const argBytes = (l: Uint8Array[]) => l.reduce((n, s) => n + s.length, 0);
  const argvLen = argBytes(argv), envLen = argBytes(envp);
  // bprm_stack_limits(): strings and pointers within min(rlimit / 4, 6 MiB), at least ARG_MAX.
  const limit = Math.max(Math.min(Math.floor(STK_LIM / 4) * 3, Math.floor(stackSize / 4)), ARG_MAX);
  const ptrSize = (Math.max(argv.length, 1) + envp.length) * 8;
  if (ptrSize >= limit || 8 + execfn.length + argvLen + envLen > limit - ptrSize) {
    throw new ElfError('argument list too long');
  }
  let random = opts.random;
  if (random === undefined) random = randomBytes(16);
  else if (random.length !== 16) throw new ElfError(`AT_RANDOM needs 16 bytes, got ${random.length}`);

  // ---- stack region, and the mmap area below it (mmap_base()) ----
  const stackTop = STACK_TOP;
  const stackBottom = stackTop - stackSize;
  const gap = Math.min(Math.max(stackSize + STACK_GUARD_GAP, MIN_GAP), MAX_GAP);
  as.mmapTop = Math.min(as.mmapTop, pageDown(STACK_TOP - gap));
  checkPlacement(as, stackBottom, stackTop, 'the stack');
  as.map(stackBottom, stackSize, PROT_READ | PROT_WRITE | (image.execStack ? PROT_EXEC : 0), '[stack]');

  // ---- the program ----
  let bias = 0;
  if (image.type === 'dyn') {
    // load_elf_binary(): ELF_ET_DYN_BASE aligned to the largest segment alignment, minus the
    // first segment's address.
    const align = maxAlignment(image);
    bias = pageDown(Math.floor(ELF_ET_DYN_BASE / align) * align - image.minVaddr);
  }
  const [lo, hi] = span(image, bias);
  checkPlacement(as, lo, hi, 'the program');
  mapImage(as, bytes, image, bias, opts.path);
  // The heap starts right after the program (Linux adds a random offset; we do not). The brk
  // system call maps '[heap]' as it grows.
  as.brkStart = as.brkEnd = hi;

  // ---- the interpreter ----
  let interp: { image: ElfImage; bias: number } | undefined;
  if (interpFile) {
    interp = { image: interpFile.image, bias: mapInterpreter(as, interpHost!, interpFile.bytes, interpFile.image) };
  }
  // ---- the vDSO (arch_setup_additional_pages, after the interpreter) ----
  const vdso = opts.vdso === false ? 0 : mapVdso(as);

  // AT_PHDR: the program headers inside a loaded segment (parseElf found where); if the file
  // does not load them, put a copy on the stack (Linux would pass a dangling pointer).
  let phdr: number | undefined;
  if (image.phdrVaddr !== undefined) {
    const a = bias + image.phdrVaddr;
    if (as.covered(a, a + image.phnum * image.phentsize)) phdr = a;
  }
  const phdrCopy = phdr === undefined ? bytes.subarray(image.phoff, image.phoff + image.phnum * image.phentsize) : undefined;

  // ---- the initial stack (fs/exec.c copy_strings, then create_elf_tables) ----
  // From the top: an 8-byte NULL, the execfn string, the envp strings, the argv strings (in
  // ascending order argv[0] first), 16-byte alignment, the platform string, the 16 random bytes,
  // padding, then (at the final rsp, 16-byte aligned) argc, argv[], NULL, envp[], NULL, auxv.
  let p = stackTop - 8;
  p -= execfn.length;
  const execfnAddr = p;
  const envAddr: number[] = new Array(envp.length);
  for (let i = envp.length - 1; i >= 0; i--) envAddr[i] = p -= envp[i].length;
  const argAddr: number[] = new Array(argv.length);
  for (let i = argv.length - 1; i >= 0; i--) argAddr[i] = p -= argv[i].length;
  const argStart = p, argEnd = p + argvLen, envStart = argEnd, envEnd = envStart + envLen;
  p = Math.floor(p / 16) * 16; // arch_align_stack() without its random offset
  let platformAddr = 0;
  if (platform) platformAddr = p -= platform.length;
  const randomAddr = p -= 16;
  let phdrCopyAddr = 0;
  if (phdrCopy) {
    p = Math.floor((p - phdrCopy.length) / 8) * 8;
    phdrCopyAddr = p;
    phdr = p;
  }

  const entry = bias + image.entry;
  const auxv: [number, number][] = [
    ...(vdso ? [[AT.SYSINFO_EHDR, vdso] as [number, number]] : []),
    [AT.MINSIGSTKSZ, MINSIGSTKSZ],
    [AT.HWCAP, opts.hwcap >>> 0],
    [AT.PAGESZ, PAGE_SIZE],
    [AT.CLKTCK, 100],
    [AT.PHDR, phdr!],
    [AT.PHENT, image.phentsize],
    [AT.PHNUM, image.phnum],
    [AT.BASE, interp ? interp.bias : 0],
    [AT.FLAGS, 0],
    [AT.ENTRY, entry],
    [AT.UID, opts.uid ?? process.getuid?.() ?? 0],
    [AT.EUID, opts.uid ?? process.geteuid?.() ?? 0],
    [AT.GID, opts.gid ?? process.getgid?.() ?? 0],
    [AT.EGID, opts.gid ?? process.getegid?.() ?? 0],
    [AT.SECURE, 0],
    [AT.RANDOM, randomAddr],
    [AT.HWCAP2, (opts.hwcap2 ?? 0) >>> 0],
    [AT.EXECFN, execfnAddr],
  ];
  if (platform) auxv.push([AT.PLATFORM, platformAddr]);
  auxv.push([AT.NULL, 0]);

  const items = argv.length + 1 + envp.length + 1 + 1;
  const sp = Math.floor((p - auxv.length * 16 - items * 8) / 16) * 16;
  if (sp < stackBottom) throw new ElfError('argument list too long for the stack');

  const frame = new Uint8Array(stackTop - sp);
  const dv = new DataView(frame.buffer);
  let w = 0;
  const put = (v: number) => {
    dv.setBigUint64(w, BigInt(v), true);
    w += 8;
  };
  put(argv.length);
  for (const a of argAddr) put(a);
  put(0);
  for (const a of envAddr) put(a);
  put(0);
  for (const [k, v] of auxv) {
    put(k);
    put(v);
  }
  const place = (addr: number, data: Uint8Array) => frame.set(data, addr - sp);
  argv.forEach((s, i) => place(argAddr[i], s));
  envp.forEach((s, i) => place(envAddr[i], s));
  place(execfnAddr, execfn);
  if (platform) place(platformAddr, platform);
  place(randomAddr, random);
  if (phdrCopy) place(phdrCopyAddr, phdrCopy);
  as.write(sp, frame, true);

  return {
    entry: interp ? interp.bias + interp.image.entry : entry,
    sp,
    base: bias,
    interpBase: interp?.bias,
    phdr: phdr!,
    vdso,
    brk: hi,
    image,
    interpImage: interp?.image,
    stackTop,
    stackBottom,
    auxv,
    argStart,
    argEnd,
    envStart,
    envEnd,
  };
}
