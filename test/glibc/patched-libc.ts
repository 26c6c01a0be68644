/**
 * The patched glibc for the tests and the benchmark: glibc-patch/build.sh (which prints the
 * libc.so.6 path as its last stdout line, at once when cached) and an objdump scan for
 * `syscall` instructions that do not sit behind the patch's CPL test.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CACHE_DIR, ROOT } from '../helpers/guest.js';

export const BUILD_SH = join(ROOT, 'glibc-patch', 'build.sh');

/** Runs glibc-patch/build.sh; throws with its error output if it fails. */
export function buildPatchedLibc(timeoutMs = 90 * 60_000): string {
  const r = spawnSync('bash', [BUILD_SH], { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 });
  const last = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  if (r.error || r.status !== 0 || !last.startsWith('/')) {
    throw new Error(`glibc-patch/build.sh failed (${r.error?.message ?? `exit ${r.status}`}):\n${(r.stderr ?? '').slice(-4000)}`);
  }
  return last;
}

export interface BareSyscall {
  func: string;
  addr: number;
}

/**
 * The `syscall` instructions of a shared object that are not the patch's sequence
 * `mov %cs,%r11d; test $0x3,%r11b; jne L; vmcall; jmp M; L: syscall`: each with its function.
 */
export function bareSyscalls(lib: string): BareSyscall[] {
  const r = spawnSync('objdump', ['-d', '--no-show-raw-insn', lib], { encoding: 'utf8', maxBuffer: 512 << 20 });
  if (r.error || r.status !== 0) throw new Error(`objdump -d ${lib} failed: ${r.error?.message ?? r.stderr}`);
  const out: BareSyscall[] = [];
  let func = '?';
  const recent: { addr: number; text: string }[] = [];
  for (const line of r.stdout.split('\n')) {
    const f = /^[0-9a-f]+ <([^>]+)>:$/.exec(line);
    if (f) {
      func = f[1];
      recent.length = 0;
      continue;
    }
    const m = /^\s*([0-9a-f]+):\s+(.*)$/.exec(line);
    if (!m) continue;
    const addr = parseInt(m[1], 16), text = m[2].replace(/\s+/g, ' ').trim();
    if (/^syscall\b/.test(text)) {
      // the five instructions before it: mov %cs,%r11d / test / jne <here> / vmcall / jmp
      const p = recent.slice(-5).map((x) => x.text);
      const guarded = p.length === 5 && /^mov %cs,%r11d/.test(p[0]) && /^test \$0x3,%r11b/.test(p[1]) &&
        new RegExp(`^jne ${addr.toString(16)}\\b`).test(p[2]) && /^vmcall/.test(p[3]) && /^jmp /.test(p[4]);
      if (!guarded) out.push({ func, addr });
    }
    recent.push({ addr, text });
    if (recent.length > 8) recent.shift();
  }
  return out;
}

const gccVersion = (): string => spawnSync('gcc', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0];

/**
 * libusm built from a copy of libusm/ and include/ under .cache/glibc (keyed by their contents):
 * the USM tests run `make -C libusm` in the tree at the same time (vitest runs files in parallel),
 * and a build racing another's `rm libusm.a` would fail at random. Returns the copy's root
 * (`<root>/libusm/libusm.a`, `<root>/include`).
 */
export function privateLibusm(): string {
  const h = createHash('sha256').update(gccVersion());
  const files: string[] = [];
  for (const d of ['libusm', 'include/usm']) {
    for (const f of readdirSync(join(ROOT, d)).sort()) {
      if (/\.(c|S|h)$|^Makefile$/.test(f)) files.push(join(d, f));
    }
  }
  for (const f of files) h.update('\0' + f + '\0').update(readFileSync(join(ROOT, f)));
  const root = join(CACHE_DIR, 'glibc', `libusm-${h.digest('hex').slice(0, 16)}`);
  if (existsSync(join(root, 'libusm', 'libusm.a'))) return root;
  const tmp = `${root}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  for (const f of files) {
    mkdirSync(join(tmp, f, '..'), { recursive: true });
    cpSync(join(ROOT, f), join(tmp, f));
  }
  const r = spawnSync('make', ['-C', join(tmp, 'libusm')], { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`make libusm (a copy in ${tmp}) failed:\n${r.stdout}${r.stderr}`);
  rmSync(root, { recursive: true, force: true });
  renameSync(tmp, root);
  return root;
}

/** gcc -O2 -no-pie (libusm is not PIC) -I<copy>/include src... <copy>/libusm.a -lm, cached by its inputs. */
export function compileWithLibusm(name: string, srcs: string[], extraDeps: string[] = []): string {
  const lib = privateLibusm();
  const h = createHash('sha256').update(gccVersion()).update(lib);
  for (const f of [...srcs, ...extraDeps]) h.update('\0' + f + '\0').update(readFileSync(f));
  const dir = join(CACHE_DIR, 'glibc');
  const out = join(dir, `${name}-${h.digest('hex').slice(0, 16)}`);
  if (existsSync(out)) return out;
  mkdirSync(dir, { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  const args = ['-O2', '-no-pie', '-Wall', '-I', join(lib, 'include'), '-o', tmp, ...srcs, join(lib, 'libusm', 'libusm.a'), '-lm'];
  const r = spawnSync('gcc', args, { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    rmSync(tmp, { force: true });
    throw new Error(`gcc ${args.join(' ')} failed:\n${r.stderr}`);
  }
  renameSync(tmp, out);
  return out;
}
