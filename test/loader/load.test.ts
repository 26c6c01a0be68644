import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeElfError, ElfError, parseElf } from '../../src/loader/elf.js';
import { AT, ELF_ET_DYN_BASE, loadProgram, STACK_TOP, type LoadedProgram, type LoadOptions } from '../../src/loader/load.js';
import { elfHash, vdsoImage } from '../../src/loader/vdso.js';
import { AddressSpace, MMAP_TOP, PROT_EXEC, PROT_READ, PROT_WRITE } from '../../src/paging/address-space.js';
import { buildDir, HELLO_C, PROBE_C, prng, readBytes, readelf, type Built } from './helpers.js';
import { requireBusybox } from '../helpers/guest.js';

const LDSO = '/lib64/ld-linux-x86-64.so.2';
const HWCAP = 0x178bfbff;
const RANDOM = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);

let b: Built;
let staticExe: string;
let staticPie: string;
let dynPie: string;
let probe: string;

beforeAll(() => {
  b = buildDir();
  staticExe = b.compile('hello-static', HELLO_C, ['-O2', '-static']);
  staticPie = b.compile('hello-static-pie', HELLO_C, ['-O2', '-static-pie']);
  dynPie = b.compile('hello-dyn', HELLO_C, ['-O2', '-pie', '-fPIE']);
  probe = b.compile('probe', PROBE_C, ['-O2', '-static']);
});
afterAll(() => b?.cleanup());

const pageDown = (a: number) => Math.floor(a / 4096) * 4096;
const pageUp = (a: number) => Math.ceil(a / 4096) * 4096;
const u64 = (as: AddressSpace, a: number) => Number(as.readU64(a));

function opts(path: string, more: Partial<LoadOptions> = {}): LoadOptions {
  return {
    path,
    argv: [path, 'one', 'zwei drei', ''],
    envp: ['HOME=/home/guest', 'LANG=C.UTF-8', 'EMPTY='],
    hwcap: HWCAP,
    hwcap2: 2,
    random: RANDOM,
    uid: 1000,
    gid: 100,
    ...more,
  };
}

/** The initial stack, decoded from guest memory. */
function readStack(as: AddressSpace, sp: number) {
  const argc = u64(as, sp);
  let a = sp + 8;
  const argvPtrs: number[] = [];
  for (let i = 0; i < argc; i++, a += 8) argvPtrs.push(u64(as, a));
  const argvNull = u64(as, a);
  a += 8;
  const envpPtrs: number[] = [];
  for (let p = u64(as, a); p !== 0; p = u64(as, (a += 8))) envpPtrs.push(p);
  a += 8;
  const auxv: [number, number][] = [];
  for (;;) {
    const k = u64(as, a), v = u64(as, a + 8);
    auxv.push([k, v]);
    a += 16;
    if (k === AT.NULL) break;
  }
  return {
    argc, argvNull, auxvEnd: a,
    argv: argvPtrs.map((p) => as.readCString(p)), argvPtrs,
    envp: envpPtrs.map((p) => as.readCString(p)), envpPtrs,
    auxv, aux: new Map(auxv),
  };
}

/** Checks everything the loader promises about one program. */
function checkLoaded(path: string, as: AddressSpace, lp: LoadedProgram, o: LoadOptions): void {
  const bytes = readBytes(path);
  const img = parseElf(bytes);
  const re = readelf(path);
  const bias = lp.base;

  // Regions: one per PT_LOAD, page-rounded, with the segment's protection, named by the path.
  for (const l of re.phdrs.filter((p) => p.type === 'LOAD')) {
    const r = as.regionAt(bias + l.vaddr)!;
    expect(r, `segment at ${l.vaddr.toString(16)}`).toBeDefined();
    expect(r.start).toBe(pageDown(bias + l.vaddr));
    expect(r.end).toBe(pageUp(bias + l.vaddr + l.memsz));
    expect(r.prot).toBe((l.flags.includes('R') ? PROT_READ : 0) | (l.flags.includes('W') ? PROT_WRITE : 0) | (l.flags.includes('E') ? PROT_EXEC : 0));
    expect(r.name).toBe(o.path);
    // File bytes, then zeros up to the end of the region (bss and the page tail).
    expect(Buffer.from(as.read(bias + l.vaddr, l.filesz, true)).equals(bytes.subarray(l.offset, l.offset + l.filesz))).toBe(true);
    const zeros = as.read(bias + l.vaddr + l.filesz, r.end - (bias + l.vaddr + l.filesz), true);
    expect(zeros.every((x) => x === 0)).toBe(true);
  }

  // The program's entry point holds the file's bytes.
  const entry = bias + re.entry;
  const seg = img.segments.find((s) => re.entry >= s.vaddr && re.entry < s.vaddr + s.filesz)!;
  const fileAtEntry = bytes.subarray(seg.offset + (re.entry - seg.vaddr), seg.offset + (re.entry - seg.vaddr) + 32);
  expect(Buffer.from(as.read(entry, 32, true)).equals(fileAtEntry)).toBe(true);
  expect(as.regionAt(entry)!.prot & PROT_EXEC).toBe(PROT_EXEC);

  // brk: right after the highest segment, nothing mapped there yet.
  expect(lp.brk).toBe(pageUp(bias + img.maxVaddr));
  expect(as.brkStart).toBe(lp.brk);
  expect(as.brkEnd).toBe(lp.brk);
  expect(as.regionAt(lp.brk)).toBeUndefined();

  // Stack region.
  const stack = as.regionAt(STACK_TOP - 1)!;
  expect(stack.name).toBe('[stack]');
  expect(stack.end).toBe(0x7ffffffff000);
  expect(stack.start).toBe(0x7ffffffff000 - (o.stackSize ?? 8 * 1024 * 1024));
  expect(stack.prot).toBe(PROT_READ | PROT_WRITE);
  expect(as.mmapTop).toBeLessThanOrEqual(stack.start);

  // The initial stack.
  expect(lp.sp % 16).toBe(0);
  expect(lp.sp).toBeGreaterThan(stack.start);
  const st = readStack(as, lp.sp);
  expect(st.argc).toBe(o.argv.length);
  expect(st.argv).toEqual(o.argv);
  expect(st.argvNull).toBe(0);
  expect(st.envp).toEqual(o.envp);
  expect(st.auxv).toEqual(lp.auxv);
  const aux = st.aux;
  // AT_PHDR points at the program header table.
  const phdrBytes = bytes.subarray(re.phoff, re.phoff + re.phnum * 56);
  expect(Buffer.from(as.read(aux.get(AT.PHDR)!, phdrBytes.length)).equals(phdrBytes)).toBe(true);
  expect(aux.get(AT.PHDR)).toBe(lp.phdr);
  expect(aux.get(AT.PHENT)).toBe(56);
  expect(aux.get(AT.PHNUM)).toBe(re.phnum);
  expect(aux.get(AT.PAGESZ)).toBe(4096);
  expect(aux.get(AT.BASE)).toBe(lp.interpBase ?? 0);
  expect(aux.get(AT.FLAGS)).toBe(0);
  expect(aux.get(AT.ENTRY)).toBe(entry);
  expect(aux.get(AT.UID)).toBe(o.uid);
  expect(aux.get(AT.EUID)).toBe(o.uid);
  expect(aux.get(AT.GID)).toBe(o.gid);
  expect(aux.get(AT.EGID)).toBe(o.gid);
  expect(aux.get(AT.SECURE)).toBe(0);
  expect(Buffer.from(as.read(aux.get(AT.RANDOM)!, 16)).equals(Buffer.from(o.random!))).toBe(true);
  expect(aux.get(AT.HWCAP)).toBe(HWCAP);
  expect(aux.get(AT.HWCAP2)).toBe(2);
  expect(aux.get(AT.CLKTCK)).toBe(100);
  expect(as.readCString(aux.get(AT.PLATFORM)!)).toBe('x86_64');
  expect(as.readCString(aux.get(AT.EXECFN)!)).toBe(o.execfn ?? o.path);
  expect(aux.get(AT.MINSIGSTKSZ)).toBe(2048);
  // AT_SYSINFO_EHDR comes first (as Linux puts it) and points at the vDSO: an ELF shared object in [vdso], r-x.
  expect(st.auxv[0]).toEqual([AT.SYSINFO_EHDR, lp.vdso]);
  const vdso = as.regionAt(lp.vdso)!;
  expect(vdso).toMatchObject({ start: lp.vdso, name: '[vdso]', prot: PROT_READ | PROT_EXEC });
  expect(parseElf(as.read(lp.vdso, vdso.end - vdso.start)).type).toBe('dyn');
  expect(as.regionAt(lp.vdso - 1)!.name).toBe('[vvar_vclock]');
  expect(st.auxv.at(-1)).toEqual([AT.NULL, 0]);
  // argv/envp strings are contiguous: arg_start..arg_end, env_start..env_end.
  expect(lp.argStart).toBe(st.argvPtrs[0]);
  expect(Buffer.from(as.read(lp.argStart, lp.argEnd - lp.argStart)).toString()).toBe(o.argv.map((s) => s + '\0').join(''));
  expect(Buffer.from(as.read(lp.envStart, lp.envEnd - lp.envStart)).toString()).toBe(o.envp.map((s) => s + '\0').join(''));
  expect(lp.envEnd).toBe(aux.get(AT.EXECFN));
}

describe('loadProgram', () => {
  it('static non-PIE executable', () => {
    const as = new AddressSpace();
    const o = opts(staticExe);
    const lp = loadProgram(as, readBytes(staticExe), o);
    expect(lp.base).toBe(0);
    expect(lp.interpBase).toBeUndefined();
    expect(lp.entry).toBe(readelf(staticExe).entry);
    checkLoaded(staticExe, as, lp, o);
    // Only the segments, the stack and the vDSO (with its two vvar areas) are mapped.
    expect(as.regions.filter((r) => r.name === staticExe).length).toBe(readelf(staticExe).phdrs.filter((p) => p.type === 'LOAD').length);
    expect(as.regions.length).toBe(as.regions.filter((r) => r.name === staticExe).length + 4);
    expect(as.regions.filter((r) => r.name.startsWith('[v')).map((r) => [r.name, (r.end - r.start) / 4096, r.prot]))
      .toEqual([['[vvar]', 4, PROT_READ], ['[vvar_vclock]', 2, PROT_READ], ['[vdso]', 2, PROT_READ | PROT_EXEC]]);
  });

  // busybox is required (CI installs it): missing, this fails rather than skipping.
  it('busybox-static', () => {
    const bb = requireBusybox();
    const as = new AddressSpace();
    const o = opts(bb, { argv: ['sh', '-c', 'echo hi'], execfn: '/bin/sh' });
    const lp = loadProgram(as, readBytes(bb), o);
    expect(lp.entry).toBe(readelf(bb).entry);
    checkLoaded(bb, as, lp, o);
  });

  it('static PIE at ELF_ET_DYN_BASE', () => {
    const as = new AddressSpace();
    const o = opts(staticPie, { execfn: './hello-static-pie', uid: 0, gid: 0 });
    const lp = loadProgram(as, readBytes(staticPie), o);
    expect(lp.base).toBe(0x555555554000);
    expect(lp.base).toBe(ELF_ET_DYN_BASE);
    expect(lp.entry).toBe(lp.base + readelf(staticPie).entry);
    checkLoaded(staticPie, as, lp, o);
  });

  it('dynamic PIE: the interpreter is loaded in the mmap area and runs first', () => {
    const as = new AddressSpace();
    const o = opts(dynPie);
    const read: string[] = [];
    const lp = loadProgram(as, readBytes(dynPie), o, (p) => (read.push(p), readFileSync(p)));
    expect(read).toEqual([readelf(dynPie).interp]);
    checkLoaded(dynPie, as, lp, o);
    const ld = readelf(LDSO);
    expect(lp.interpBase).toBeDefined();
    expect(lp.interpBase! % 4096).toBe(0);
    expect(lp.entry).toBe(lp.interpBase! + ld.entry);
    expect(lp.interpImage?.type).toBe('dyn');
    // The whole interpreter sits right below mmapTop, like mmap would put it.
    const ldEnd = pageUp(lp.interpBase! + parseElf(readBytes(LDSO)).maxVaddr);
    expect(ldEnd).toBe(MMAP_TOP);
    const ldBytes = readBytes(LDSO);
    for (const l of ld.phdrs.filter((p) => p.type === 'LOAD')) {
      const r = as.regionAt(lp.interpBase! + l.vaddr)!;
      expect(r.name).toBe(readelf(dynPie).interp);
      expect(r.start).toBe(pageDown(lp.interpBase! + l.vaddr));
      expect(Buffer.from(as.read(lp.interpBase! + l.vaddr, l.filesz, true)).equals(ldBytes.subarray(l.offset, l.offset + l.filesz))).toBe(true);
    }
    const entrySeg = parseElf(ldBytes).segments.find((s) => ld.entry >= s.vaddr && ld.entry < s.vaddr + s.filesz)!;
    expect(Buffer.from(as.read(lp.entry, 16, true)).equals(ldBytes.subarray(entrySeg.offset + ld.entry - entrySeg.vaddr, entrySeg.offset + ld.entry - entrySeg.vaddr + 16))).toBe(true);
  });

  it('interpPath (-L) names the host file of the interpreter; the vDSO sits below it', () => {
    const as = new AddressSpace();
    const read: string[] = [];
    const lp = loadProgram(as, readBytes(dynPie), opts(dynPie, { interpPath: (p) => `/sysroot${p}` }), (p) => (read.push(p), readFileSync(p.slice('/sysroot'.length))));
    expect(read).toEqual([`/sysroot${readelf(dynPie).interp}`]);
    expect(as.regionAt(lp.interpBase!)!.name).toBe(`/sysroot${readelf(dynPie).interp}`);
    expect(lp.vdso + 2 * 4096).toBe(lp.interpBase);
    const none = loadProgram(new AddressSpace(), readBytes(dynPie), opts(dynPie, { vdso: false }));
    expect(none.vdso).toBe(0);
    expect(none.auxv.some(([k]) => k === AT.SYSINFO_EHDR)).toBe(false);
  });

  it('the vDSO image: linux-vdso.so.1 with the LINUX_2.6 clock functions, as readelf sees it', () => {
    const dir = b.dir;
    const file = `${dir}/vdso.so`;
    writeFileSync(file, vdsoImage());
    const out = execFileSync('readelf', ['-W', '--dyn-syms', '-d', '-V', file], { encoding: 'utf8' });
    expect(out).toContain('Library soname: [linux-vdso.so.1]');
    for (const f of ['clock_gettime', 'gettimeofday', 'time', 'getcpu', 'clock_getres']) {
      expect(out).toMatch(new RegExp(`FUNC +GLOBAL +DEFAULT +\\d+ __vdso_${f}@@LINUX_2\\.6`));
      expect(out).toMatch(new RegExp(`FUNC +WEAK +DEFAULT +\\d+ ${f}@@LINUX_2\\.6`));
    }
    expect(elfHash('LINUX_2.6')).toBe(61765110); // glibc's VDSO_HASH
  });

  it('a missing or bad interpreter is an ElfError', () => {
    const enoent = () => {
      throw Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' });
    };
    expect(() => loadProgram(new AddressSpace(), readBytes(dynPie), opts(dynPie), enoent)).toThrow(ElfError);
    expect(() => loadProgram(new AddressSpace(), readBytes(dynPie), opts(dynPie), enoent)).toThrow(/cannot load interpreter \/lib64\/ld-linux-x86-64\.so\.2: No such file or directory/);
    expect(() => loadProgram(new AddressSpace(), readBytes(dynPie), opts(dynPie), () => new TextEncoder().encode('#!/bin/sh\n'))).toThrow(/interpreter \/lib64\/ld-linux-x86-64\.so\.2: not an ELF file/);
  });

  it('a bad interpreter is found before anything is mapped', () => {
    const as = new AddressSpace();
    expect(() => loadProgram(as, readBytes(dynPie), opts(dynPie), () => new Uint8Array(0))).toThrow(/interpreter .*: not an ELF file \(the file is empty\)/);
    expect(as.regions).toEqual([]);
    expect(as.populatedPages).toBe(0);
    expect(() => loadProgram(as, readBytes(staticExe), opts(staticExe, { argv: ['x'.repeat(200_000)] }))).toThrow(ElfError);
    expect(as.regions).toEqual([]);
  });

  it('describeElfError formats errors for the command line', () => {
    let msg = '';
    try {
      loadProgram(new AddressSpace(), new TextEncoder().encode('#!/bin/sh\n'), opts('/tmp/script'));
    } catch (e) {
      msg = describeElfError(e, './script');
    }
    expect(msg).toBe("./script: not an ELF file (it is a script starting with '#!'; scripts are not supported yet)");
  });

  it('AT_PLATFORM can be left out; execfn, uid/gid and random default sensibly', () => {
    const as = new AddressSpace();
    const lp = loadProgram(as, readBytes(staticExe), { path: staticExe, argv: ['x'], envp: [], hwcap: 1, platform: '' });
    const st = readStack(as, lp.sp);
    expect(st.aux.has(AT.PLATFORM)).toBe(false);
    expect(st.aux.get(AT.HWCAP2)).toBe(0);
    expect(as.readCString(st.aux.get(AT.EXECFN)!)).toBe(staticExe);
    expect(st.aux.get(AT.UID)).toBe(process.getuid!());
    expect(st.aux.get(AT.EGID)).toBe(process.getegid!());
    expect(as.read(st.aux.get(AT.RANDOM)!, 16).length).toBe(16);
    expect(st.envp).toEqual([]);
    expect(lp.sp % 16).toBe(0);
  });

  it('rsp is 16-byte aligned for every argv/envp shape', () => {
    for (let argc = 0; argc < 4; argc++) {
      for (let envc = 0; envc < 4; envc++) {
        for (const plat of ['x86_64', '', 'i686xx']) {
          const as = new AddressSpace();
          const argv = Array.from({ length: argc }, (_, i) => 'a'.repeat(i * 3 + 1));
          const envp = Array.from({ length: envc }, (_, i) => `V${i}=${'v'.repeat(i)}`);
          const lp = loadProgram(as, readBytes(staticExe), { path: staticExe, argv, envp, hwcap: 0, platform: plat, random: RANDOM });
          expect(lp.sp % 16).toBe(0);
          const st = readStack(as, lp.sp);
          expect(st.argv).toEqual(argc ? argv : ['']); // Linux: an empty argv becomes [""]
          expect(st.envp).toEqual(envp);
        }
      }
    }
  });

  it('non-ASCII strings are passed as UTF-8', () => {
    const as = new AddressSpace();
    const o = opts(staticExe, { argv: ['prog', 'grüße', '日本'], envp: ['X=ünï'] });
    const lp = loadProgram(as, readBytes(staticExe), o);
    expect(readStack(as, lp.sp).argv).toEqual(o.argv);
    expect(readStack(as, lp.sp).envp).toEqual(o.envp);
  });

  it('a bigger stack moves mmapTop below it', () => {
    const as = new AddressSpace();
    const size = 256 * 1024 * 1024;
    const lp = loadProgram(as, readBytes(staticExe), opts(staticExe, { stackSize: size }));
    expect(lp.stackBottom).toBe(STACK_TOP - size);
    expect(as.regionAt(STACK_TOP - size)!.name).toBe('[stack]');
    expect(as.mmapTop).toBe(STACK_TOP - size - 256 * 4096);
    expect(as.findFree(4096)).toBeLessThan(lp.stackBottom);
  });

  it('E2BIG: too many or too long arguments', () => {
    expect(() => loadProgram(new AddressSpace(), readBytes(staticExe), opts(staticExe, { argv: ['x', 'y'.repeat(200_000)] }))).toThrow(/argument list too long/);
    expect(() => loadProgram(new AddressSpace(), readBytes(staticExe), opts(staticExe, { envp: Array(30_000).fill('A=' + 'b'.repeat(100)) }))).toThrow(/argument list too long/);
    // Big but allowed (under RLIMIT_STACK / 4).
    const as = new AddressSpace();
    const envp = Array(10_000).fill('A=' + 'b'.repeat(100));
    const lp = loadProgram(as, readBytes(staticExe), opts(staticExe, { envp }));
    expect(readStack(as, lp.sp).envp.length).toBe(10_000);
  });

  it('an ET_EXEC program overlapping the stack or below mmap_min_addr is refused', () => {
    const bytes = readBytes(staticExe).slice();
    const dv = new DataView(bytes.buffer);
    const low = bytes.slice();
    const ldv = new DataView(low.buffer);
    for (let i = 0; i < dv.getUint16(56, true); i++) {
      const o = 64 + i * 56;
      if (dv.getUint32(o, true) !== 1) continue;
      dv.setBigUint64(o + 16, dv.getBigUint64(o + 16, true) + 0x7fffff600000n, true);
      ldv.setBigUint64(o + 16, ldv.getBigUint64(o + 16, true) - 0x400000n, true);
    }
    expect(() => loadProgram(new AddressSpace(), bytes, opts(staticExe))).toThrow(/the program .* overlaps \[stack\]/);
    expect(() => loadProgram(new AddressSpace(), low, opts(staticExe))).toThrow(/below the lowest mappable address/);
  });

  it('segments sharing a page keep both contents and the union of protections', () => {
    // Hand-made ET_EXEC: a R+X segment [0x401000, 0x401100) and a RW one [0x401800, 0x402000)
    // in the same page, file-backed from offsets 0x1000 and 0x1800.
    const f = new Uint8Array(0x2000);
    const dv = new DataView(f.buffer);
    f.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
    dv.setUint16(16, 2, true);
    dv.setUint16(18, 62, true);
    dv.setUint32(20, 1, true);
    dv.setBigUint64(24, 0x401000n, true);
    dv.setBigUint64(32, 64n, true);
    dv.setUint16(52, 64, true);
    dv.setUint16(54, 56, true);
    dv.setUint16(56, 3, true);
    const phdr = (i: number, type: number, flags: number, off: number, vaddr: number, filesz: number, memsz: number) => {
      const o = 64 + i * 56;
      dv.setUint32(o, type, true);
      dv.setUint32(o + 4, flags, true);
      dv.setBigUint64(o + 8, BigInt(off), true);
      dv.setBigUint64(o + 16, BigInt(vaddr), true);
      dv.setBigUint64(o + 32, BigInt(filesz), true);
      dv.setBigUint64(o + 40, BigInt(memsz), true);
      dv.setBigUint64(o + 48, 0x1000n, true);
    };
    phdr(0, 1, 4, 0, 0x400000, 0x100, 0x100); // R, holds the headers
    phdr(1, 1, 5, 0x1000, 0x401000, 0x100, 0x100); // R E
    phdr(2, 1, 6, 0x1800, 0x401800, 0x100, 0x800); // RW
    f.fill(0xcc, 0x1000, 0x1100);
    f.fill(0xdd, 0x1800, 0x1900);
    const as = new AddressSpace();
    const lp = loadProgram(as, f, opts('/tmp/hand'));
    const r = as.regionAt(0x401000)!;
    expect(r.start).toBe(0x401000);
    expect(r.end).toBe(0x402000);
    expect(r.prot).toBe(PROT_READ | PROT_WRITE | PROT_EXEC);
    const page = as.read(0x401000, 0x1000);
    expect(page.subarray(0, 0x100).every((x) => x === 0xcc)).toBe(true);
    expect(page.subarray(0x100, 0x800).every((x) => x === 0)).toBe(true);
    expect(page.subarray(0x800, 0x900).every((x) => x === 0xdd)).toBe(true);
    expect(page.subarray(0x900).every((x) => x === 0)).toBe(true);
    expect(lp.brk).toBe(0x402000);
    expect(lp.phdr).toBe(0x400040);
  });

  it('AT_PHDR falls back to a copy on the stack when no segment maps the program headers', () => {
    const bytes = readBytes(staticExe).slice();
    const dv = new DataView(bytes.buffer);
    // Move the program header table to the end of the file, outside every PT_LOAD.
    const phnum = dv.getUint16(56, true);
    const moved = new Uint8Array(bytes.length + phnum * 56);
    moved.set(bytes);
    moved.set(bytes.subarray(64, 64 + phnum * 56), bytes.length);
    new DataView(moved.buffer).setBigUint64(32, BigInt(bytes.length), true);
    expect(parseElf(moved).phdrVaddr).toBeUndefined();
    const as = new AddressSpace();
    const lp = loadProgram(as, moved, opts(staticExe));
    expect(lp.phdr).toBeGreaterThan(lp.sp);
    expect(lp.phdr % 8).toBe(0);
    expect(Buffer.from(as.read(lp.phdr, phnum * 56)).equals(bytes.subarray(64, 64 + phnum * 56))).toBe(true);
    expect(readStack(as, lp.sp).aux.get(AT.PHDR)).toBe(lp.phdr);
  });

  it('an executable stack when PT_GNU_STACK asks for one', () => {
    const bytes = readBytes(staticExe).slice();
    const dv = new DataView(bytes.buffer);
    for (let i = 0; i < dv.getUint16(56, true); i++) {
      if (dv.getUint32(64 + i * 56, true) === 0x6474e551) dv.setUint32(64 + i * 56 + 4, 7, true);
    }
    const as = new AddressSpace();
    loadProgram(as, bytes, opts(staticExe));
    expect(as.regionAt(STACK_TOP - 1)!.prot).toBe(PROT_READ | PROT_WRITE | PROT_EXEC);
  });
});

describe('the initial stack matches native Linux', () => {
  it('same layout as the kernel builds for the probe program', () => {
    const argv = [probe, 'a1', 'hello world', ''];
    const env = { FOO: 'bar', EMPTY: '', PATH: '/usr/bin:/bin' };
    const out = execFileSync(probe, argv.slice(1), { env, encoding: 'utf8' });
    const native = new Map<string, number[]>();
    for (const line of out.trim().split('\n')) {
      const [k, v] = line.split(' ');
      native.set(k, [...(native.get(k) ?? []), Number(v)]);
    }
    const one = (k: string) => native.get(k)![0];

    const as = new AddressSpace();
    const envp = Object.entries(env).map(([k, v]) => `${k}=${v}`);
    const lp = loadProgram(as, readBytes(probe), { path: probe, argv, envp, hwcap: HWCAP, random: RANDOM });
    const st = readStack(as, lp.sp);
    const top = STACK_TOP;
    const aux = st.aux;

    expect(one('top_mod_page')).toBe(0);
    expect(one('top_null')).toBe(0);
    expect(u64(as, top - 8)).toBe(0);
    // Strings: same offsets from the top of the stack.
    expect(top - aux.get(AT.EXECFN)!).toBe(one('execfn'));
    expect(st.argvPtrs.map((p) => top - p)).toEqual(native.get('arg'));
    expect(st.envpPtrs.map((p) => top - p)).toEqual(native.get('env'));
    expect(st.argc).toBe(one('argc'));
    // Platform string and random bytes: same placement (Linux's random gap above them aside).
    expect(aux.get(AT.RANDOM)! - aux.get(AT.PLATFORM)!).toBe(one('random_minus_platform'));
    expect(aux.get(AT.PLATFORM)! % 16).toBe(one('platform_mod16'));
    // auxv: ours is the kernel's minus the rseq entries (newer kernels), in the same order.
    const nativeTypes = native.get('aux')!;
    const ourTypes = st.auxv.slice(0, -1).map(([k]) => k);
    let j = 0;
    for (const t of nativeTypes) if (t === ourTypes[j]) j++;
    expect(j, `auxv order ${ourTypes} within ${nativeTypes}`).toBe(ourTypes.length);
    expect(nativeTypes.filter((t) => !ourTypes.includes(t)).every((t) => [27, 28].includes(t))).toBe(true);
    // Vectors: argc..auxv end at the same distance below AT_RANDOM, give or take the extra
    // 16-byte auxv entries the host kernel has.
    const extra = (nativeTypes.length - ourTypes.length) * 16;
    expect(aux.get(AT.RANDOM)! - lp.sp + extra).toBe(one('random_minus_sp'));
    expect(aux.get(AT.RANDOM)! - st.auxvEnd).toBe(one('random_minus_auxend'));
    expect(one('sp_mod16')).toBe(0);
  });
});

describe('loadProgram fuzzing', () => {
  it('300 mutated programs each load or throw ElfError', () => {
    const rnd = prng(0xc0ffee);
    const base = readBytes(staticPie).slice();
    const dv = new DataView(base.buffer);
    const phnum = dv.getUint16(56, true);
    const headerLen = 64 + phnum * 56;
    const original = base.slice(0, headerLen);
    const ldso = readBytes(LDSO);
    const as = new AddressSpace();
    const interesting = [0n, 0x1000n, 0x10000n, 0x400000n, 0x7ffff7fff000n, 0x7fffffffe000n, BigInt(base.length), 1n << 40n, 1n << 46n];
    let ok = 0, rejected = 0;
    for (let iter = 0; iter < 300; iter++) {
      const n = 1 + Math.floor(rnd() * 3);
      for (let k = 0; k < n; k++) {
        if (rnd() < 0.5) {
          base[Math.floor(rnd() * headerLen)] = Math.floor(rnd() * 256);
        } else {
          const i = Math.floor(rnd() * phnum);
          const field = [0, 8, 16, 32, 40, 48][Math.floor(rnd() * 6)];
          if (field === 0) dv.setUint32(64 + i * 56, [1, 3, 6, 7, 0x6474e551][Math.floor(rnd() * 5)], true);
          else dv.setBigUint64(64 + i * 56 + field, interesting[Math.floor(rnd() * interesting.length)], true);
        }
      }
      as.clear();
      as.mmapTop = MMAP_TOP;
      try {
        const readFile = () => {
          if (rnd() < 0.7) return ldso;
          throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
        };
        const lp = loadProgram(as, base, opts(staticPie), readFile);
        expect(lp.sp % 16).toBe(0);
        ok++;
      } catch (e) {
        if (!(e instanceof ElfError)) throw new Error(`iteration ${iter}: ${String(e)}`, { cause: e });
        rejected++;
      }
      base.set(original);
    }
    expect(ok).toBeGreaterThan(20);
    expect(rejected).toBeGreaterThan(20);
  });
});
