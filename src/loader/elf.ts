import elfy from 'elfy';
import { PAGE_SIZE } from '../core/layout.js';
import { PROT_EXEC, PROT_READ, PROT_WRITE, USER_TOP } from '../paging/address-space.js';

/**
 * ELF64 x86-64 executable parsing for the loader.
 *
 * elfy does the field extraction, but it validates nothing (hostile offsets give TypeErrors and
 * RangeErrors from deep inside it), so every header field the loader relies on is first checked
 * here with a DataView, the way Linux's binfmt_elf would reject the file (ENOEXEC), plus a few
 * checks Linux leaves to the MMU (segments past the end of the file, overlapping segments).
 * The places where DataView code fills a gap of elfy are marked "elfy gap".
 */

/** A file usmjit cannot run, with a message fit for `usmjit: <path>: <message>`. */
export class ElfError extends Error {
  override name = 'ElfError';
}

/** Formats any loader error for the command line: `<path>: <message>`. */
export function describeElfError(e: unknown, path?: string): string {
  const msg = e instanceof Error ? e.message : String(e);
  return path === undefined ? msg : `${path}: ${msg}`;
}

export interface ElfSegment {
  /** p_vaddr, not yet biased. */
  vaddr: number;
  memsz: number;
  filesz: number;
  /** p_offset */
  offset: number;
  /** PROT_* bits from p_flags. */
  prot: number;
  /** p_align (0 or 1 = none). */
  align: number;
}

export interface ElfTls {
  vaddr: number;
  memsz: number;
  filesz: number;
  offset: number;
  align: number;
}

export interface ElfImage {
  type: 'exec' | 'dyn';
  entry: number;
  phoff: number;
  phentsize: number;
  phnum: number;
  /** The PT_LOAD segments, in file order. */
  segments: ElfSegment[];
  /** PT_INTERP: the program interpreter's path. */
  interp?: string;
  /** PT_TLS: the initial thread-local storage image. */
  tls?: ElfTls;
  /**
   * Where the program header table is in memory (unbiased), as Linux computes AT_PHDR: inside the
   * PT_LOAD whose file range holds e_phoff, else PT_PHDR's address; undefined if neither.
   */
  phdrVaddr?: number;
  /** PT_GNU_STACK asks for an executable stack (no PT_GNU_STACK: not executable on x86-64). */
  execStack: boolean;
  /** Lowest p_vaddr and highest p_vaddr + p_memsz over the PT_LOAD segments (unbiased). */
  minVaddr: number;
  maxVaddr: number;
}

export const ET_EXEC = 2;
export const ET_DYN = 3;
export const EM_X86_64 = 62;
export const PT_LOAD = 1;
export const PT_DYNAMIC = 2;
export const PT_INTERP = 3;
export const PT_PHDR = 6;
export const PT_TLS = 7;
export const PT_GNU_STACK = 0x6474e551;
export const PF_X = 1;
export const PF_W = 2;
export const PF_R = 4;

const EHDR_SIZE = 64;
const PHDR_SIZE = 56;
/** Linux (load_elf_phdrs) refuses program header tables larger than a page: 73 entries. */
const MAX_PHNUM = Math.floor(PAGE_SIZE / PHDR_SIZE);
/** 2^47: x86-64 user addresses (4-level paging) are below this. */
const ADDR_LIMIT = 1n << 47n;
/** Linux's TASK_SIZE_MAX (USER_TOP): the last page below 2^47 is never mappable. */
const MAP_LIMIT = BigInt(USER_TOP);
/** Linux's PATH_MAX: the longest PT_INTERP it accepts. */
const PATH_MAX = 4096;

const MACHINES: Record<number, string> = {
  2: 'SPARC', 3: 'i386', 8: 'MIPS', 20: 'PowerPC', 21: 'PowerPC64', 22: 'S/390', 40: 'ARM',
  42: 'SuperH', 43: 'SPARC V9', 50: 'IA-64', 62: 'x86-64', 183: 'aarch64', 243: 'RISC-V', 258: 'LoongArch',
};
const machineName = (m: number) => MACHINES[m] ?? `machine ${m}`;
const hex = (n: number | bigint) => `0x${n.toString(16)}`;
const ELF_TYPES: Record<number, string> = {
  0: 'an ELF file of type ET_NONE',
  1: 'a relocatable object file (ET_REL), not an executable: link it first',
  4: 'a core dump (ET_CORE), not an executable',
};

export function pageDown(a: number): number {
  return Math.floor(a / PAGE_SIZE) * PAGE_SIZE;
}
export function pageUp(a: number): number {
  return Math.ceil(a / PAGE_SIZE) * PAGE_SIZE;
}

/** PF_* -> PROT_* */
export function protOf(pflags: number): number {
  return (pflags & PF_R ? PROT_READ : 0) | (pflags & PF_W ? PROT_WRITE : 0) | (pflags & PF_X ? PROT_EXEC : 0);
}

/** A raw program header, read with a DataView (64-bit fields kept as bigint until checked). */
interface RawPhdr {
  type: number;
  flags: number;
  offset: bigint;
  vaddr: bigint;
  filesz: bigint;
  memsz: bigint;
  align: bigint;
}

/** Parses and validates an x86-64 ELF executable; throws ElfError for anything we cannot run. */
export function parseElf(bytes: Uint8Array): ElfImage {
  const len = bytes.length;
  const size = BigInt(len);
  if (len === 0) throw new ElfError('not an ELF file (the file is empty)');
  if (bytes[0] === 0x23 && bytes[1] === 0x21) {
    throw new ElfError("not an ELF file (it is a script starting with '#!'; scripts are not supported yet)");
  }
  if (len < 4 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    throw new ElfError('not an ELF file');
  }
  if (len < 16) throw new ElfError(`truncated ELF header (${len} bytes)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

  // e_ident
  const cls = bytes[4], data = bytes[5];
  if (cls === 1) {
    let what = '';
    if (len >= 20 && (data === 1 || data === 2)) what = ` (${machineName(dv.getUint16(18, data === 1))})`;
    throw new ElfError(`ELF class 32${what} is not supported: usmjit runs x86-64 programs`);
  }
  if (cls !== 2) throw new ElfError(`invalid ELF class ${cls}`);
  if (data === 2) throw new ElfError('big-endian ELF file is not supported: usmjit runs x86-64 (little-endian) programs');
  if (data !== 1) throw new ElfError(`invalid ELF data encoding ${data}`);
  if (bytes[6] !== 1) throw new ElfError(`unsupported ELF version ${bytes[6]}`);
  if (len < EHDR_SIZE) throw new ElfError(`truncated ELF header (${len} bytes, an ELF64 header has ${EHDR_SIZE})`);

  const machine = dv.getUint16(18, true);
  if (machine !== EM_X86_64) {
    const what = MACHINES[machine] ? `${MACHINES[machine]} (${machine})` : `${machine}`;
    throw new ElfError(`ELF machine ${what} is not supported: usmjit runs x86-64 programs`);
  }
  const etype = dv.getUint16(16, true);
  if (etype !== ET_EXEC && etype !== ET_DYN) {
    throw new ElfError(`cannot run ${ELF_TYPES[etype] ?? `an ELF file of unknown type ${etype}`}`);
  }
  const entry = dv.getBigUint64(24, true);
  if (entry >= ADDR_LIMIT) throw new ElfError(`entry point ${hex(entry)} is outside the user address space`);

  // Program header table.
  const phoff = dv.getBigUint64(32, true);
  const phentsize = dv.getUint16(54, true);
  const phnum = dv.getUint16(56, true);
  if (phentsize !== PHDR_SIZE) throw new ElfError(`bad program header entry size ${phentsize} (expected ${PHDR_SIZE})`);
  if (phnum === 0) throw new ElfError('no program headers');
  if (phnum > MAX_PHNUM) throw new ElfError(`too many program headers (${phnum}, at most ${MAX_PHNUM})`);
  if (phoff >= size) throw new ElfError(`program header table offset ${hex(phoff)} is past the end of the file (${len} bytes)`);
  if (phoff + BigInt(phnum * PHDR_SIZE) > size) {
    throw new ElfError(`truncated program header table (${phnum} entries at ${hex(phoff)}, file has ${len} bytes)`);
  }
  const phStart = Number(phoff);

  // elfy gap: elfy trusts every offset and size, so read the raw program headers with a DataView
  // and check them before elfy sees the file.
  const raw: RawPhdr[] = [];
  for (let i = 0; i < phnum; i++) {
    const o = phStart + i * PHDR_SIZE;
    raw.push({
      type: dv.getUint32(o, true),
      flags: dv.getUint32(o + 4, true),
      offset: dv.getBigUint64(o + 8, true),
      vaddr: dv.getBigUint64(o + 16, true),
      filesz: dv.getBigUint64(o + 32, true),
      memsz: dv.getBigUint64(o + 40, true),
      align: dv.getBigUint64(o + 48, true),
    });
  }
  const inFile = (p: RawPhdr, what: string) => {
    if (p.offset > size || p.offset + p.filesz > size) throw new ElfError(`${what} extends past end of file`);
  };
  const loads: number[] = [];
  raw.forEach((p, i) => {
    if (p.type === PT_LOAD) {
      inFile(p, `segment ${i}`);
      if (p.filesz > p.memsz) {
        throw new ElfError(`segment ${i}: file size ${hex(p.filesz)} is larger than its memory size ${hex(p.memsz)}`);
      }
      if (p.vaddr >= MAP_LIMIT || p.memsz >= MAP_LIMIT || p.vaddr + p.memsz > MAP_LIMIT) {
        throw new ElfError(`segment ${i} (${hex(p.vaddr)}-${hex(p.vaddr + p.memsz)}) is outside the user address space`);
      }
      if ((p.vaddr - p.offset) % BigInt(PAGE_SIZE) !== 0n) {
        throw new ElfError(`segment ${i}: address ${hex(p.vaddr)} and file offset ${hex(p.offset)} differ modulo the page size`);
      }
      loads.push(i);
    } else if (p.type === PT_INTERP) {
      inFile(p, `interpreter path (program header ${i})`);
    } else if (p.type === PT_TLS) {
      // Only user space reads PT_TLS (from memory, at p_vaddr): no file range check, but the
      // values must be plausible (and exact as JS numbers).
      if (p.vaddr >= ADDR_LIMIT || p.memsz >= ADDR_LIMIT || p.align >= ADDR_LIMIT || p.offset >= ADDR_LIMIT) {
        throw new ElfError(`TLS segment ${i} is outside the user address space`);
      }
      if (p.filesz > p.memsz) throw new ElfError(`TLS segment ${i}: file size is larger than its memory size`);
    } else if (p.type === PT_PHDR) {
      if (p.vaddr >= ADDR_LIMIT) throw new ElfError(`PT_PHDR ${i} is outside the user address space`);
    }
  });
  if (loads.length === 0) throw new ElfError('no loadable segments');
  const sorted = loads.map((i) => raw[i]).filter((p) => p.memsz > 0n).sort((a, b) => (a.vaddr < b.vaddr ? -1 : a.vaddr > b.vaddr ? 1 : 0));
  for (let k = 1; k < sorted.length; k++) {
    const a = sorted[k - 1], b = sorted[k];
    if (a.vaddr + a.memsz > b.vaddr) {
      throw new ElfError(`segments ${raw.indexOf(a)} and ${raw.indexOf(b)} overlap (${hex(a.vaddr)}-${hex(a.vaddr + a.memsz)} and ${hex(b.vaddr)}-${hex(b.vaddr + b.memsz)})`);
    }
  }

  // The header and the program headers are sane: let elfy read them. Not elfy.parse(): that also
  // parses the section headers, which Linux ignores and elfy mishandles (see elfy.d.ts).
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const parser = new elfy.Parser();
  const header = parser.parseHeader(buf);
  const programs = parser.parsePrograms(buf, header);

  const segments: ElfSegment[] = [];
  let interp: string | undefined;
  let tls: ElfTls | undefined;
  let pthdr: number | undefined;
  let execStack = false;
  programs.forEach((p, i) => {
    // elfy gap: elfy names only the types it knows (PT_GNU_PROPERTY is undefined), so dispatch
    // on the raw p_type.
    const type = raw[i].type;
    if (type === PT_LOAD) {
      segments.push({
        vaddr: p.vaddr, memsz: p.memsz, filesz: p.filesz, offset: p.offset,
        prot: (p.flags.r ? PROT_READ : 0) | (p.flags.w ? PROT_WRITE : 0) | (p.flags.x ? PROT_EXEC : 0),
        align: Number(raw[i].align > ADDR_LIMIT ? ADDR_LIMIT : raw[i].align),
      });
    } else if (type === PT_INTERP && interp === undefined) {
      // Linux: the path must be 2..PATH_MAX bytes including its terminating NUL.
      const s = p.data;
      if (s.length < 2 || s.length > PATH_MAX || s[s.length - 1] !== 0) {
        throw new ElfError('bad interpreter path (PT_INTERP)');
      }
      interp = s.subarray(0, s.indexOf(0)).toString('utf8');
      if (interp === '') throw new ElfError('bad interpreter path (PT_INTERP)');
    } else if (type === PT_TLS && tls === undefined) {
      tls = { vaddr: p.vaddr, memsz: p.memsz, filesz: p.filesz, offset: p.offset, align: p.align };
    } else if (type === PT_PHDR && pthdr === undefined) {
      pthdr = p.vaddr;
    } else if (type === PT_GNU_STACK) {
      execStack = !!p.flags.x;
    }
  });

  // AT_PHDR as Linux computes it: the PT_LOAD whose file bytes hold e_phoff.
  const phoffNum = Number(phoff);
  let phdrVaddr: number | undefined;
  for (const s of segments) {
    if (s.offset <= phoffNum && phoffNum < s.offset + s.filesz) {
      phdrVaddr = phoffNum - s.offset + s.vaddr;
      break;
    }
  }
  phdrVaddr ??= pthdr;

  const loaded = segments.filter((s) => s.memsz > 0);
  const span = loaded.length ? loaded : segments;
  return {
    type: etype === ET_EXEC ? 'exec' : 'dyn',
    entry: header.entry,
    phoff: phoffNum,
    phentsize,
    phnum,
    segments,
    interp,
    tls,
    phdrVaddr,
    execStack,
    minVaddr: Math.min(...span.map((s) => s.vaddr)),
    maxVaddr: Math.max(...span.map((s) => s.vaddr + s.memsz)),
  };
}
