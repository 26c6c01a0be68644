import { PAGE_SIZE } from '../core/layout.js';
import { PROT_EXEC, PROT_READ, type AddressSpace } from '../paging/address-space.js';

/**
 * The vDSO Linux maps into every x86-64 process (AT_SYSINFO_EHDR): a small ELF shared object,
 * "linux-vdso.so.1", exporting clock_gettime, gettimeofday, time, getcpu and clock_getres (the
 * __vdso_ names and their weak plain aliases, version LINUX_2.6), which glibc and Go look up at
 * start-up. Here each function is `mov $nr, %eax; syscall; ret`: the same results as Linux's,
 * through the emulated system call (--strace shows them, where natively they stay in user space).
 *
 * It is mapped like Linux 6.x maps it, below the interpreter: [vvar] (4 pages) and [vvar_vclock]
 * (2 pages), read-only and here zero, then [vdso] (2 pages, r-x), so that the mmaps a program
 * makes after it land where they land natively.
 */

const FUNCS: [string, number][] = [
  ['clock_gettime', 228], ['gettimeofday', 96], ['time', 201], ['getcpu', 309], ['clock_getres', 229],
];
const SONAME = 'linux-vdso.so.1';
const VERSION = 'LINUX_2.6';

export const VVAR_PAGES = 4, VVAR_VCLOCK_PAGES = 2, VDSO_PAGES = 2;

/** The SysV ELF hash (DT_HASH, vd_hash). */
export function elfHash(name: string): number {
  let h = 0;
  for (let i = 0; i < name.length; i++) {
    h = ((h << 4) + name.charCodeAt(i)) >>> 0;
    const g = h & 0xf0000000;
    if (g) h ^= g >>> 24;
    h &= ~g >>> 0;
    h >>>= 0;
  }
  return h;
}

let cached: Uint8Array | undefined;

/** The vDSO image (VDSO_PAGES pages; its link-time address is 0). */
export function vdsoImage(): Uint8Array {
  if (cached) return cached;
  const img = new Uint8Array(VDSO_PAGES * PAGE_SIZE);
  const dv = new DataView(img.buffer);
  const u16 = (o: number, v: number) => dv.setUint16(o, v, true);
  const u32 = (o: number, v: number) => dv.setUint32(o, v >>> 0, true);
  const u64 = (o: number, v: number) => dv.setBigUint64(o, BigInt(v), true);

  // ---- string table, symbols ----
  const strs: number[] = [0];
  const strOff = new Map<string, number>();
  const str = (s: string): number => {
    let o = strOff.get(s);
    if (o === undefined) {
      o = strs.length;
      strOff.set(s, o);
      for (const c of Buffer.from(s + '\0')) strs.push(c);
    }
    return o;
  };
  str(SONAME); str(VERSION);
  const syms: { name: string; func: number; weak: boolean }[] = [];
  FUNCS.forEach(([name], k) => {
    syms.push({ name: `__vdso_${name}`, func: k, weak: false });
    syms.push({ name, func: k, weak: true });
  });
  for (const s of syms) str(s.name);

  // ---- layout ----
  const PHNUM = 2, SHNUM = 9;
  let at = 64 + PHNUM * 56;
  const place = (size: number, align: number) => { at = Math.ceil(at / align) * align; const o = at; at += size; return o; };
  const nsyms = syms.length + 1;
  const nbucket = 3;
  const hashOff = place(8 + 4 * nbucket + 4 * nsyms, 8);
  const symOff = place(24 * nsyms, 8);
  const shstr = [0];
  const shName = (s: string) => { const o = shstr.length; for (const c of Buffer.from(s + '\0')) shstr.push(c); return o; };
  const strtabOff = place(strs.length, 1);
  const versymOff = place(2 * nsyms, 2);
  const verdefOff = place(2 * 28, 4);
  const DYN = 10;
  const dynOff = place(16 * DYN, 8);
  const STUB = 32;
  const textOff = place(STUB * FUNCS.length, 16);
  const names = ['.hash', '.dynsym', '.dynstr', '.gnu.version', '.gnu.version_d', '.dynamic', '.text', '.shstrtab'].map(shName);
  const shstrOff = place(shstr.length, 1);
  const shOff = place(64 * SHNUM, 8);
  if (at > img.length) throw new Error('vdso: image too large');

  // ---- ELF header ----
  img.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]);
  u16(16, 3); // ET_DYN
  u16(18, 62); // EM_X86_64
  u32(20, 1);
  u64(24, 0); // e_entry
  u64(32, 64); // e_phoff
  u64(40, shOff);
  u16(52, 64); u16(54, 56); u16(56, PHNUM); u16(58, 64); u16(60, SHNUM); u16(62, SHNUM - 1);

  // ---- program headers: the image as one r-x PT_LOAD, and PT_DYNAMIC ----
  const ph = (i: number, type: number, flags: number, off: number, size: number, align: number) => {
    const o = 64 + i * 56;
    u32(o, type); u32(o + 4, flags); u64(o + 8, off); u64(o + 16, off); u64(o + 24, off);
    u64(o + 32, size); u64(o + 40, size); u64(o + 48, align);
  };
  ph(0, 1, 5, 0, at, PAGE_SIZE);
  ph(1, 2, 4, dynOff, 16 * DYN, 8);

  // ---- .text: one stub per function ----
  // The stub makes the system call with vmcall at CPL0 (a USM supervisor calling clock_gettime
  // through its libc), syscall otherwise: the test glibc-patch/ makes at each of its sites.
  FUNCS.forEach(([, nr], k) => {
    const o = textOff + STUB * k;
    img.set([
      0xb8, nr & 0xff, nr >> 8, 0, 0, // mov $nr, %eax
      0x41, 0x8c, 0xcb, //               mov %cs, %r11d
      0x41, 0xf6, 0xc3, 0x03, //         test $3, %r11b
      0x75, 0x04, //                     jnz 1f
      0x0f, 0x01, 0xc1, //               vmcall
      0xc3, //                           ret
      0x0f, 0x05, //                     1: syscall
      0xc3, //                           ret
    ], o);
    img.fill(0xcc, o + 21, o + STUB);
  });

  // ---- .dynsym, .gnu.version, .hash ----
  const TEXT_SHNDX = 7;
  syms.forEach((s, i) => {
    const o = symOff + 24 * (i + 1);
    u32(o, strOff.get(s.name)!);
    img[o + 4] = ((s.weak ? 2 : 1) << 4) | 2; // STB_WEAK/STB_GLOBAL, STT_FUNC
    img[o + 5] = 0;
    u16(o + 6, TEXT_SHNDX);
    u64(o + 8, textOff + STUB * s.func);
    u64(o + 16, 21);
    u16(versymOff + 2 * (i + 1), 2); // LINUX_2.6
  });
  u32(hashOff, nbucket); u32(hashOff + 4, nsyms);
  const bucket = hashOff + 8, chain = bucket + 4 * nbucket;
  for (let i = nsyms - 1; i >= 1; i--) {
    const b = elfHash(syms[i - 1].name) % nbucket;
    u32(chain + 4 * i, dv.getUint32(bucket + 4 * b, true));
    u32(bucket + 4 * b, i);
  }

  // ---- .gnu.version_d: the base (the soname) and LINUX_2.6 ----
  const verdef = (o: number, flags: number, ndx: number, name: string, last: boolean) => {
    u16(o, 1); u16(o + 2, flags); u16(o + 4, ndx); u16(o + 6, 1);
    u32(o + 8, elfHash(name)); u32(o + 12, 20); u32(o + 16, last ? 0 : 28);
    u32(o + 20, strOff.get(name)!); u32(o + 24, 0);
  };
  verdef(verdefOff, 1 /* VER_FLG_BASE */, 1, SONAME, false);
  verdef(verdefOff + 28, 0, 2, VERSION, true);

  img.set(strs, strtabOff);

  // ---- .dynamic ----
  const dyn: [number, number][] = [
    [4, hashOff], [5, strtabOff], [6, symOff], [10, strs.length], [11, 24], [14, strOff.get(SONAME)!],
    [0x6ffffff0, versymOff], [0x6ffffffc, verdefOff], [0x6ffffffd, 2], [0, 0],
  ];
  dyn.forEach(([tag, val], i) => { u64(dynOff + 16 * i, tag); u64(dynOff + 16 * i + 8, val); });

  // ---- section headers (for tools; the loaders use the program headers) ----
  img.set(shstr, shstrOff);
  const sh = (i: number, name: number, type: number, flags: number, off: number, size: number, link: number, info: number, align: number, entsize: number) => {
    const o = shOff + 64 * i;
    u32(o, name); u32(o + 4, type); u64(o + 8, flags); u64(o + 16, type === 3 && i === SHNUM - 1 ? 0 : off); u64(o + 24, off);
    u64(o + 32, size); u32(o + 40, link); u32(o + 44, info); u64(o + 48, align); u64(o + 56, entsize);
  };
  const A = 2, X = 4; // SHF_ALLOC, SHF_EXECINSTR
  sh(1, names[0], 5, A, hashOff, 8 + 4 * nbucket + 4 * nsyms, 2, 0, 8, 4); // SHT_HASH
  sh(2, names[1], 11, A, symOff, 24 * nsyms, 3, 1, 8, 24); // SHT_DYNSYM
  sh(3, names[2], 3, A, strtabOff, strs.length, 0, 0, 1, 0); // SHT_STRTAB
  sh(4, names[3], 0x6fffffff, A, versymOff, 2 * nsyms, 2, 0, 2, 2); // SHT_GNU_versym
  sh(5, names[4], 0x6ffffffd, A, verdefOff, 56, 3, 2, 4, 0); // SHT_GNU_verdef
  sh(6, names[5], 6, A, dynOff, 16 * DYN, 3, 0, 8, 16); // SHT_DYNAMIC
  sh(7, names[6], 1, A | X, textOff, STUB * FUNCS.length, 0, 0, 16, 0); // SHT_PROGBITS
  sh(8, names[7], 3, 0, shstrOff, shstr.length, 0, 0, 1, 0); // .shstrtab
  cached = img;
  return img;
}

/**
 * Maps [vvar], [vvar_vclock] and [vdso] at the top of the free mmap area (as Linux does right
 * after the interpreter) and returns the vDSO's address (AT_SYSINFO_EHDR).
 */
export function mapVdso(as: AddressSpace): number {
  const total = (VVAR_PAGES + VVAR_VCLOCK_PAGES + VDSO_PAGES) * PAGE_SIZE;
  const base = as.findFree(total);
  as.map(base, VVAR_PAGES * PAGE_SIZE, PROT_READ, '[vvar]');
  as.map(base + VVAR_PAGES * PAGE_SIZE, VVAR_VCLOCK_PAGES * PAGE_SIZE, PROT_READ, '[vvar_vclock]');
  const vdso = base + (VVAR_PAGES + VVAR_VCLOCK_PAGES) * PAGE_SIZE;
  as.map(vdso, VDSO_PAGES * PAGE_SIZE, PROT_READ | PROT_EXEC, '[vdso]');
  as.write(vdso, vdsoImage(), true);
  return vdso;
}
