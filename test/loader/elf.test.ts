import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ElfError, parseElf, type ElfImage } from '../../src/loader/elf.js';
import { PROT_EXEC, PROT_READ, PROT_WRITE } from '../../src/paging/address-space.js';
import { buildDir, HELLO_C, prng, readBytes, readelf, type Built } from './helpers.js';
import { requireBusybox } from '../helpers/guest.js';

let b: Built;
let staticExe: string;
let staticPie: string;
let dynPie: string;

beforeAll(() => {
  b = buildDir();
  staticExe = b.compile('hello-static', HELLO_C, ['-O2', '-static']);
  staticPie = b.compile('hello-static-pie', HELLO_C, ['-O2', '-static-pie']);
  dynPie = b.compile('hello-dyn', HELLO_C, ['-O2', '-pie', '-fPIE']);
});
afterAll(() => b?.cleanup());

const flagsToProt = (f: string) =>
  (f.includes('R') ? PROT_READ : 0) | (f.includes('W') ? PROT_WRITE : 0) | (f.includes('E') ? PROT_EXEC : 0);

function checkAgainstReadelf(path: string): ElfImage {
  const img = parseElf(readBytes(path));
  const re = readelf(path);
  expect(img.type).toBe(re.type === 'EXEC' ? 'exec' : 'dyn');
  expect(img.entry).toBe(re.entry);
  expect(img.phnum).toBe(re.phnum);
  expect(img.phoff).toBe(re.phoff);
  expect(img.phentsize).toBe(56);
  const loads = re.phdrs.filter((p) => p.type === 'LOAD');
  expect(img.segments.length).toBe(loads.length);
  img.segments.forEach((s, i) => {
    expect(s.vaddr).toBe(loads[i].vaddr);
    expect(s.memsz).toBe(loads[i].memsz);
    expect(s.filesz).toBe(loads[i].filesz);
    expect(s.offset).toBe(loads[i].offset);
    expect(s.prot).toBe(flagsToProt(loads[i].flags));
  });
  expect(img.minVaddr).toBe(Math.min(...loads.map((l) => l.vaddr)));
  expect(img.maxVaddr).toBe(Math.max(...loads.map((l) => l.vaddr + l.memsz)));
  expect(img.interp).toBe(re.interp);
  const tls = re.phdrs.find((p) => p.type === 'TLS');
  if (tls) expect(img.tls).toEqual({ vaddr: tls.vaddr, memsz: tls.memsz, filesz: tls.filesz, offset: tls.offset, align: tls.align });
  else expect(img.tls).toBeUndefined();
  const stack = re.phdrs.find((p) => p.type === 'GNU_STACK');
  expect(img.execStack).toBe(!!stack?.flags.includes('E'));
  return img;
}

describe('parseElf on real executables', () => {
  it('static non-PIE (ET_EXEC)', () => {
    const img = checkAgainstReadelf(staticExe);
    expect(img.type).toBe('exec');
    expect(img.interp).toBeUndefined();
    expect(img.tls).toBeDefined();
    expect(img.phdrVaddr).toBe(img.segments[0].vaddr + img.phoff); // first PT_LOAD maps offset 0
  });

  it('static PIE (ET_DYN, no interpreter)', () => {
    const img = checkAgainstReadelf(staticPie);
    expect(img.type).toBe('dyn');
    expect(img.interp).toBeUndefined();
    expect(img.minVaddr).toBe(0);
  });

  it('dynamic PIE (ET_DYN with PT_INTERP)', () => {
    const img = checkAgainstReadelf(dynPie);
    expect(img.interp).toMatch(/ld-linux-x86-64\.so\.2$/);
    expect(img.phdrVaddr).toBe(readelf(dynPie).phdrs.find((p) => p.type === 'PHDR')!.vaddr);
  });

  // busybox is required (CI installs it): missing, this fails rather than skipping.
  it('busybox-static (a real program nobody here built)', () => {
    const img = checkAgainstReadelf(requireBusybox());
    expect(img.type).toBe('exec');
  });

  it('the dynamic linker itself', () => {
    checkAgainstReadelf('/lib64/ld-linux-x86-64.so.2');
  });

  it('accepts a Uint8Array view at a non-zero offset', () => {
    const bytes = readBytes(staticExe);
    const big = new Uint8Array(bytes.length + 16);
    big.set(bytes, 16);
    expect(parseElf(big.subarray(16)).entry).toBe(parseElf(bytes).entry);
  });
});

// ---- malformed input ------------------------------------------------------------------------

/** A patched copy of the static executable. */
function patched(edit: (b: Uint8Array, dv: DataView) => void): Uint8Array {
  const bytes = readBytes(staticExe).slice();
  edit(bytes, new DataView(bytes.buffer));
  return bytes;
}

/** Offset of program header i of the static executable. */
const ph = (i: number) => 64 + i * 56;
const firstLoad = (dv: DataView) => {
  for (let i = 0; ; i++) if (dv.getUint32(ph(i), true) === 1) return i;
};

function expectElfError(bytes: Uint8Array, message: RegExp): void {
  let err: unknown;
  try {
    parseElf(bytes);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ElfError);
  expect((err as Error).message).toMatch(message);
}

/** A hand-made ELF32 i386 header (gcc -m32 cannot link here). */
function elf32Header(): Uint8Array {
  const b = new Uint8Array(52);
  const dv = new DataView(b.buffer);
  b.set([0x7f, 0x45, 0x4c, 0x46, 1 /* ELFCLASS32 */, 1 /* LSB */, 1 /* EV_CURRENT */]);
  dv.setUint16(16, 2, true); // ET_EXEC
  dv.setUint16(18, 3, true); // EM_386
  dv.setUint32(20, 1, true);
  dv.setUint32(24, 0x8048000, true);
  dv.setUint32(28, 52, true);
  dv.setUint16(40, 52, true);
  dv.setUint16(42, 32, true);
  return b;
}

describe('parseElf rejects malformed input with ElfError', () => {
  it('empty file', () => expectElfError(new Uint8Array(0), /not an ELF file.*empty/));
  it('shell script', () => expectElfError(new TextEncoder().encode('#!/bin/sh\necho hi\n'), /not an ELF file.*#!/));
  it('bad magic', () => {
    expectElfError(new TextEncoder().encode('hello, world\n'.repeat(10)), /^not an ELF file$/);
    expectElfError(new Uint8Array([0x7f, 0x45]), /^not an ELF file$/);
    expectElfError(patched((b) => (b[3] = 0x47)), /^not an ELF file$/);
  });
  it('truncated header', () => {
    const bytes = readBytes(staticExe);
    expectElfError(bytes.subarray(0, 40), /truncated ELF header \(40 bytes/);
    expectElfError(bytes.subarray(0, 10), /truncated ELF header/);
    expectElfError(bytes.subarray(0, 63), /truncated ELF header/);
  });
  it('ELF32 (hand-made i386 header)', () => {
    expectElfError(elf32Header(), /^ELF class 32 \(i386\) is not supported: usmjit runs x86-64 programs$/);
  });
  it('ELF32 (gcc -m32 -c, when the compiler can)', () => {
    let obj: string | undefined;
    try {
      obj = join(b.dir, 'x32.o');
      execFileSync('gcc', ['-m32', '-c', '-x', 'c', '-', '-o', obj], { input: 'int f(void) { return 1; }\n', stdio: ['pipe', 'ignore', 'ignore'] });
    } catch {
      obj = undefined;
    }
    if (obj) expectElfError(readBytes(obj), /ELF class 32 \(i386\) is not supported/);
  });
  it('invalid class', () => expectElfError(patched((b) => (b[4] = 7)), /invalid ELF class 7/));
  it('big-endian', () => expectElfError(patched((b) => (b[5] = 2)), /big-endian/));
  it('invalid data encoding', () => expectElfError(patched((b) => (b[5] = 0)), /invalid ELF data encoding 0/));
  it('bad EI_VERSION', () => expectElfError(patched((b) => (b[6] = 0)), /unsupported ELF version 0/));
  it('wrong machine (aarch64)', () => {
    expectElfError(patched((_, dv) => dv.setUint16(18, 183, true)), /ELF machine aarch64 \(183\) is not supported: usmjit runs x86-64 programs/);
    expectElfError(patched((_, dv) => dv.setUint16(18, 4000, true)), /^ELF machine 4000 is not supported/);
  });
  it('relocatable object, core dump, unknown type', () => {
    const obj = join(b.dir, 'obj.o');
    execFileSync('gcc', ['-c', '-x', 'c', '-', '-o', obj], { input: 'int f(void) { return 1; }\n' });
    expectElfError(readBytes(obj), /relocatable object file \(ET_REL\)/);
    expectElfError(patched((_, dv) => dv.setUint16(16, 4, true)), /core dump/);
    expectElfError(patched((_, dv) => dv.setUint16(16, 0xfe00, true)), /unknown type 65024/);
  });
  it('entry point outside the user address space', () => {
    expectElfError(patched((_, dv) => dv.setBigUint64(24, 0xffffffff81000000n, true)), /entry point 0xffffffff81000000 is outside/);
  });
  it('e_phoff past the end of the file', () => {
    const n = readBytes(staticExe).length;
    expectElfError(patched((_, dv) => dv.setBigUint64(32, BigInt(n + 100), true)), /program header table offset .* is past the end of the file/);
    expectElfError(patched((_, dv) => dv.setBigUint64(32, 0xffffffffffffffffn, true)), /past the end of the file/);
  });
  it('truncated program header table', () => {
    const bytes = readBytes(staticExe);
    expectElfError(bytes.subarray(0, ph(2) + 10), /truncated program header table/);
    const n = bytes.length;
    expectElfError(patched((_, dv) => dv.setBigUint64(32, BigInt(n - 100), true)), /truncated program header table/);
  });
  it('bad e_phentsize, no program headers, too many', () => {
    expectElfError(patched((_, dv) => dv.setUint16(54, 32, true)), /program header entry size 32/);
    expectElfError(patched((_, dv) => dv.setUint16(56, 0, true)), /no program headers/);
    expectElfError(patched((_, dv) => dv.setUint16(56, 0xffff, true)), /too many program headers/);
  });
  it('PT_LOAD past the end of the file', () => {
    const bytes = readBytes(staticExe);
    const dv = new DataView(bytes.buffer);
    const i = firstLoad(dv) + 1;
    const off = Number(dv.getBigUint64(ph(i) + 8, true));
    expectElfError(bytes.subarray(0, off + 100), new RegExp(`^segment ${i} extends past end of file$`));
    expectElfError(patched((_, d) => d.setBigUint64(ph(i) + 32, 0xfffffffffffffff0n, true)), /segment \d extends past end of file/);
    expectElfError(patched((_, d) => d.setBigUint64(ph(i) + 8, 0xfffffffffffff000n, true)), /segment \d extends past end of file/);
  });
  it('PT_LOAD with p_filesz > p_memsz', () => {
    expectElfError(patched((_, dv) => {
      const i = firstLoad(dv);
      dv.setBigUint64(ph(i) + 40, dv.getBigUint64(ph(i) + 32, true) - 1n, true);
    }), /file size .* is larger than its memory size/);
  });
  it('PT_LOAD address and offset disagree modulo the page size', () => {
    expectElfError(patched((_, dv) => {
      const i = firstLoad(dv);
      dv.setBigUint64(ph(i) + 16, dv.getBigUint64(ph(i) + 16, true) + 0x10n, true);
    }), /differ modulo the page size/);
  });
  it('PT_LOAD outside the user address space', () => {
    expectElfError(patched((_, dv) => dv.setBigUint64(ph(firstLoad(dv)) + 16, 0xffff800000000000n, true)), /outside the user address space/);
    expectElfError(patched((_, dv) => dv.setBigUint64(ph(firstLoad(dv)) + 40, 1n << 47n, true)), /outside the user address space/);
    expectElfError(patched((_, dv) => dv.setBigUint64(ph(firstLoad(dv)) + 16, (1n << 47n) - 0x1000n, true)), /outside the user address space/);
  });
  it('overlapping PT_LOADs', () => {
    expectElfError(patched((_, dv) => {
      const i = firstLoad(dv);
      // Make the second segment start inside the first one (keeping vaddr = offset mod 4096).
      dv.setBigUint64(ph(i + 1) + 16, dv.getBigUint64(ph(i) + 16, true), true);
    }), /segments \d+ and \d+ overlap/);
  });
  it('no PT_LOAD at all', () => {
    expectElfError(patched((_, dv) => {
      for (let i = 0; i < dv.getUint16(56, true); i++) if (dv.getUint32(ph(i), true) === 1) dv.setUint32(ph(i), 4, true);
    }), /no loadable segments/);
  });
  it('bad PT_INTERP', () => {
    const bytes = readBytes(dynPie).slice();
    const dv = new DataView(bytes.buffer);
    let i = 0;
    while (dv.getUint32(ph(i), true) !== 3) i++;
    const off = Number(dv.getBigUint64(ph(i) + 8, true));
    const len = Number(dv.getBigUint64(ph(i) + 32, true));
    bytes[off + len - 1] = 0x41; // not NUL-terminated
    expectElfError(bytes, /bad interpreter path/);
    dv.setBigUint64(ph(i) + 8, BigInt(bytes.length), true);
    expectElfError(bytes, /interpreter path \(program header \d\) extends past end of file/);
  });
  it('section headers are ignored, as Linux does (elfy would choke on them)', () => {
    // shoff past the end, shnum 0 / shstrndx nonsense: still a runnable program.
    expect(parseElf(patched((_, dv) => dv.setBigUint64(40, 0xffffffffn, true))).segments.length).toBeGreaterThan(0);
    expect(parseElf(patched((_, dv) => { dv.setUint16(60, 0, true); dv.setUint16(62, 0, true); })).segments.length).toBeGreaterThan(0);
  });
});

describe('parseElf fuzzing', () => {
  it('2,000 random header mutations each parse or throw ElfError', () => {
    const rnd = prng(0x5eed1234);
    const bytes = readBytes(staticExe).slice();
    const dv = new DataView(bytes.buffer);
    const phnum = dv.getUint16(56, true);
    const headerLen = ph(phnum);
    const original = bytes.slice(0, headerLen);
    const interesting = [0n, 1n, 0x38n, 0x40n, 0xfffn, 0x1000n, BigInt(bytes.length), BigInt(bytes.length - 1),
      1n << 47n, (1n << 47n) - 1n, 1n << 53n, (1n << 63n), 0xffffffffffffffffn, 0x7fffffffn, 0xffffffffn];
    const pick = <T>(a: T[]) => a[Math.floor(rnd() * a.length)];
    let ok = 0, rejected = 0;
    for (let iter = 0; iter < 2000; iter++) {
      const n = 1 + Math.floor(rnd() * 4);
      for (let k = 0; k < n; k++) {
        const kind = rnd();
        if (kind < 0.4) {
          bytes[Math.floor(rnd() * headerLen)] = Math.floor(rnd() * 256); // random byte
        } else if (kind < 0.7) {
          bytes[Math.floor(rnd() * headerLen)] ^= 1 << Math.floor(rnd() * 8); // bit flip
        } else if (kind < 0.9) {
          // an interesting value in a 64-bit field of the header or of a program header
          const fields = [24, 32, 40];
          for (let i = 0; i < phnum; i++) fields.push(ph(i) + 8, ph(i) + 16, ph(i) + 32, ph(i) + 40, ph(i) + 48);
          dv.setBigUint64(pick(fields), pick(interesting), true);
        } else {
          // a 16-bit header field
          dv.setUint16(pick([16, 18, 54, 56]), pick([0, 1, 2, 3, 56, 62, 0xffff, phnum + 1, 1000]), true);
        }
      }
      const truncate = rnd() < 0.1 ? Math.floor(rnd() * bytes.length) : bytes.length;
      try {
        const img = parseElf(bytes.subarray(0, truncate));
        expect(img.segments.length).toBeGreaterThan(0);
        ok++;
      } catch (e) {
        if (!(e instanceof ElfError)) throw new Error(`iteration ${iter}: ${String(e)}`, { cause: e });
        expect(e.message.length).toBeGreaterThan(5);
        rejected++;
      }
      bytes.set(original);
    }
    expect(ok).toBeGreaterThan(50);
    expect(rejected).toBeGreaterThan(500);
  });
});
