/**
 * The real programs `npm run bench` times beside the compute kernels (issue 8): shell loops in
 * bash-static and busybox sh, a busybox awk loop, and busybox gzip, sort and md5sum over a
 * generated text file. Each is a command line; the runner runs it natively, under usmjit and
 * under qemu-x86_64, and compares the outputs.
 */
import { closeSync, existsSync, mkdirSync, openSync, renameSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { BUSYBOX, CACHE_DIR } from '../test/helpers/guest.js';

export const BASH_STATIC = '/bin/bash-static';

export interface Program {
  name: string;
  bin: string;
  args: string[];
  /** Why the program cannot run here (a missing binary, with the package that provides it). */
  missing?: string;
}

/** The sizes at scale 1: 20 MB of text, 100,000 bash iterations... */
export const TEXT_BYTES = 20 * 1024 * 1024;

const WORDS = (
  'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa ' +
  'quebec romeo sierra tango uniform victor whiskey xray yankee zulu amber basil cedar dune ember fern ' +
  'grove heath iris jade kelp lotus moss nectar onyx pearl quartz reed sage thyme umber vine willow yarrow'
).split(' ');

/**
 * A deterministic text file of `bytes` bytes (lines of words and numbers, so that sort has real
 * work), generated once under .cache/bench and reused: a seeded xorshift, not Math.random, so every
 * run and every machine sorts and hashes the same bytes.
 */
export function textFile(bytes: number): string {
  const dir = join(CACHE_DIR, 'bench');
  const file = join(dir, `words-${bytes}.txt`);
  if (existsSync(file) && statSync(file).size === bytes) return file;
  mkdirSync(dir, { recursive: true });
  let s = 0x9e3779b9;
  const next = () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s;
  };
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  const buf = Buffer.alloc(1 << 20);
  let written = 0;
  while (written < bytes) {
    let n = 0;
    while (n < buf.length - 200) {
      const words = 3 + (next() % 8);
      let line = '';
      for (let k = 0; k < words; k++) {
        const r = next();
        line += (k ? ' ' : '') + (r % 5 === 0 ? String(r % 1_000_000) : WORDS[r % WORDS.length]);
      }
      n += buf.write(line + '\n', n, 'latin1');
    }
    const take = Math.min(n, bytes - written);
    // The last line is cut at the size: end it with a newline so the file is proper text.
    if (written + take === bytes) buf[take - 1] = 0x0a;
    writeSync(fd, buf, 0, take);
    written += take;
  }
  closeSync(fd);
  renameSync(tmp, file);
  return file;
}

/**
 * The programs at `scale` (1 = the sizes) that `wanted` selects, with the names of all of
 * them. Generates the text file only when a selected program reads it.
 */
export function programs(scale: number, wanted: (name: string) => boolean): { all: string[]; selected: Program[] } {
  const n = (x: number) => Math.max(1, Math.round(x * scale));
  const bb = existsSync(BUSYBOX) ? undefined : `${BUSYBOX} missing (apt-get install busybox-static)`;
  const bash = existsSync(BASH_STATIC) ? undefined : `${BASH_STATIC} missing (apt-get install bash-static)`;
  const needsText = !bb && ['gzip', 'sort', 'md5sum'].some(wanted);
  const text = needsText ? textFile(n(TEXT_BYTES)) : '';
  const p = (name: string, bin: string, args: string[], missing: string | undefined): Program => ({ name, bin, args, ...(missing ? { missing } : {}) });
  // The loops print their final value, so the native/usmjit comparison checks the arithmetic.
  const all = [
    p('bash-loop', BASH_STATIC, ['-c', `x=0; for((i=0;i<${n(100_000)};i++)); do x=$((x+i)); done; echo $x`], bash),
    p('sh-loop', BUSYBOX, ['sh', '-c', `i=0; while [ $i -lt ${n(20_000)} ]; do i=$((i+1)); done; echo $i`], bb),
    p('awk-loop', BUSYBOX, ['awk', `BEGIN{for(i=0;i<${n(1_000_000)};i++) s+=i*2; print s}`], bb),
    p('gzip', BUSYBOX, ['gzip', '-c', text], bb),
    p('sort', BUSYBOX, ['sort', text], bb),
    p('md5sum', BUSYBOX, ['md5sum', text], bb),
  ];
  return { all: all.map((x) => x.name), selected: all.filter((x) => wanted(x.name)) };
}
