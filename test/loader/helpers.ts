import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A small C program with text, rodata, data, bss and TLS. */
export const HELLO_C = `
#include <stdio.h>
__thread int tv = 5;
int bss[8192];
int data = 42;
int main(int argc, char **argv) {
  printf("%d %s %d\\n", argc, argv[0], tv + data + bss[argc & 1023]);
  return 0;
}
`;

/**
 * Prints the layout of its own initial stack, relative to the top of the stack (strings) or to
 * the AT_RANDOM bytes (vectors), so it can be compared with the loader's across ASLR.
 */
export const PROBE_C = `
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
int main(int argc, char **argv) {
  char **envp = argv + argc + 1;
  char *execfn = (char *)getauxval(AT_EXECFN);
  unsigned long top = (unsigned long)execfn + strlen(execfn) + 1 + 8;
  unsigned long sp = (unsigned long)(argv - 1);
  printf("top_mod_page %lu\\n", top % 4096);
  printf("top_null %lu\\n", *(unsigned long *)(top - 8));
  printf("execfn %lu\\n", top - (unsigned long)execfn);
  for (int i = 0; i < argc; i++) printf("arg %lu\\n", top - (unsigned long)argv[i]);
  char **e = envp;
  for (; *e; e++) printf("env %lu\\n", top - (unsigned long)*e);
  unsigned long *aux = (unsigned long *)(e + 1);
  for (; aux[0]; aux += 2) printf("aux %lu\\n", aux[0]);
  printf("argc %lu\\n", *(unsigned long *)sp);
  printf("sp_mod16 %lu\\n", sp % 16);
  printf("random_minus_platform %ld\\n", (long)getauxval(AT_RANDOM) - (long)getauxval(AT_PLATFORM));
  printf("platform_mod16 %lu\\n", getauxval(AT_PLATFORM) % 16);
  printf("random_minus_sp %lu\\n", getauxval(AT_RANDOM) - sp);
  printf("random_minus_auxend %lu\\n", getauxval(AT_RANDOM) - (unsigned long)(aux + 2));
  return 0;
}
`;

export interface Built {
  dir: string;
  /** Compiles `source` with gcc and the given flags; returns the output path. */
  compile(name: string, source: string, flags: string[]): string;
  cleanup(): void;
}

export function buildDir(): Built {
  const dir = mkdtempSync(join(tmpdir(), 'usmjit-loader-'));
  return {
    dir,
    compile(name, source, flags) {
      const src = join(dir, `${name}.c`);
      const out = join(dir, name);
      writeFileSync(src, source);
      execFileSync('gcc', [...flags, src, '-o', out], { stdio: ['ignore', 'ignore', 'pipe'] });
      return out;
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface ReadelfPhdr {
  type: string;
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
  flags: string;
  align: number;
}

/** `readelf -lW` output, parsed. */
export function readelf(path: string): { type: string; entry: number; phnum: number; phoff: number; phdrs: ReadelfPhdr[]; interp?: string } {
  const out = execFileSync('readelf', ['-lW', path], { encoding: 'utf8' });
  const type = /Elf file type is (\w+)/.exec(out)![1];
  const entry = Number(/Entry point (0x[0-9a-f]+)/.exec(out)![1]);
  const m = /There are (\d+) program headers, starting at offset (\d+)/.exec(out)!;
  const phdrs: ReadelfPhdr[] = [];
  const re = /^\s+(\w+)\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+0x[0-9a-f]+\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+([RWE ]{3})\s+(0x[0-9a-f]+)\s*$/gm;
  for (const x of out.matchAll(re)) {
    phdrs.push({ type: x[1], offset: Number(x[2]), vaddr: Number(x[3]), filesz: Number(x[4]), memsz: Number(x[5]), flags: x[6], align: Number(x[7]) });
  }
  const interp = /\[Requesting program interpreter: (.*)\]/.exec(out)?.[1];
  return { type, entry, phnum: Number(m[1]), phoff: Number(m[2]), phdrs, interp };
}

export const readBytes = (p: string) => new Uint8Array(readFileSync(p));

/** mulberry32: a small seeded PRNG (tests must be reproducible). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
