import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deserialize, serialize } from 'node:v8';
import { link, type LinkedRegions, type StoredRegion } from './relocation.js';

/**
 * The persistent translation cache: the regions a run of a program compiled, stored on disk so the
 * next run of the same program starts without decoding, emitting or compiling them.
 *
 * - **One file per program** under `$XDG_CACHE_HOME/usmjit` (default `~/.cache/usmjit`), named by
 *   a hash of the program file's bytes and of usmjit's own code (its build: another build emits
 *   other code, so it never reads this one's files).
 * - **The file** holds the stored regions (their IR and relocatable bodies, relocation.ts) and the
 *   module they link into, ready to compile: a warm start compiles one module instead of one per
 *   batch. A region is installed only when its code bytes in guest memory are still those it was
 *   translated from (code-cache.ts installStored), so a changed library or code the program
 *   wrote itself is translated again, never run stale.
 * - **Writers** write a temporary file and rename it over the old one: two usmjit processes
 *   saving at once leave one of their files, never a mix. A file that does not parse is ignored
 *   (and replaced on the next save).
 * - **Size:** a file holds at most MAX_FILE_BYTES of code; the directory is pruned to
 *   MAX_DIR_BYTES, least recently written first.
 */
const FORMAT = 1;
const MAX_FILE_BYTES = 64 << 20;
const MAX_DIR_BYTES = 512 << 20;

interface StoredFile {
  format: number;
  build: string;
  linked: LinkedRegions;
}

/** Stored regions linked into a module, compiled. */
export interface StoredModule { linked: LinkedRegions; module: WebAssembly.Module }

/** Files this process loaded, by path: their compiled modules (the last MAX_COMPILED used). */
const compiled = new Map<string, { mtimeMs: number; size: number; stored: StoredModule }>();
const MAX_COMPILED = 16;

let build: string | undefined;

/**
 * The hash of the code that emits translations: the bundle (dist/src/usmjit.cjs) when usmjit runs
 * from it, else every module under dist/src.
 */
export function buildId(): string {
  if (build) return build;
  const given = (globalThis as { __usmjitBundleHash?: string }).__usmjitBundleHash;
  if (given) return (build = given); // the launcher hashed the bundle already
  const here = fileURLToPath(import.meta.url);
  const h = createHash('sha256');
  const files: string[] = [];
  if (basename(here) === 'usmjit.cjs') files.push(here);
  else {
    const src = dirname(dirname(here));
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
        const p = join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name.endsWith('.js')) files.push(p);
      }
    };
    walk(src);
  }
  for (const f of files) h.update(f.slice(f.lastIndexOf('/src/'))).update(readFileSync(f));
  build = h.digest('hex').slice(0, 32);
  return build;
}

/** The cache directory: $XDG_CACHE_HOME/usmjit, else ~/.cache/usmjit. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.startsWith('/') ? env.XDG_CACHE_HOME : join(env.HOME || homedir(), '.cache');
  return join(base, 'usmjit');
}

export class TranslationStore {
  private constructor(readonly file: string, private readonly dir: string) {}

  /** The store for the program whose file holds `programBytes`. */
  static forProgram(dir: string, programBytes: Uint8Array): TranslationStore {
    const h = createHash('sha256').update(buildId()).update(programBytes).digest('hex').slice(0, 40);
    return new TranslationStore(join(dir, `${h}.jit`), dir);
  }

  /** The stored regions and their compiled module, or undefined (no file, another format, damaged). */
  load(): StoredModule | undefined {
    let st;
    try {
      st = statSync(this.file);
    } catch {
      return undefined;
    }
    // A program exec'd again (a shell script's `sed`, run in a loop) reuses what this process
    // read and compiled already, while the file is unchanged.
    const seen = compiled.get(this.file);
    if (seen && seen.mtimeMs === st.mtimeMs && seen.size === st.size) {
      return seen.stored;
    }
    let bytes: Buffer;
    try {
      bytes = readFileSync(this.file);
    } catch {
      return undefined;
    }
    try {
      const f = deserialize(bytes) as StoredFile;
      if (f.format !== FORMAT || f.build !== buildId() || !f.linked || !(f.linked.module instanceof Uint8Array)) return undefined;
      const module = new WebAssembly.Module(f.linked.module as Uint8Array<ArrayBuffer>);
      const stored = { linked: f.linked, module };
      compiled.delete(this.file);
      compiled.set(this.file, { mtimeMs: st.mtimeMs, size: st.size, stored });
      if (compiled.size > MAX_COMPILED) compiled.delete(compiled.keys().next().value!);
      return stored;
    } catch {
      return undefined; // not ours or damaged: the next save replaces it
    }
  }

  /** Links `regions` and writes them (atomically: a temporary file renamed over the old one). */
  save(regions: StoredRegion[], declare: Parameters<typeof link>[1], tableMin: number): void {
    let total = 0;
    const kept: StoredRegion[] = [];
    for (const r of regions) {
      total += r.image.body.length;
      if (total > MAX_FILE_BYTES) break;
      kept.push(r);
    }
    if (!kept.length) return;
    const f: StoredFile = { format: FORMAT, build: buildId(), linked: link(kept, declare, tableMin) };
    const data = serialize(f);
    mkdirSync(this.dir, { recursive: true });
    const tmp = `${this.file}.${process.pid}.${Date.now()}.tmp`;
    const fd = openSync(tmp, 'w', 0o644);
    try {
      writeSync(fd, data);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
    this.prune();
  }

  /** Keeps the directory under MAX_DIR_BYTES, dropping the least recently written files. */
  private prune(): void {
    const files = readdirSync(this.dir).filter((n) => n.endsWith('.jit') || n.endsWith('.tmp')).flatMap((n) => {
      try {
        const st = statSync(join(this.dir, n));
        return [{ path: join(this.dir, n), size: st.size, mtime: st.mtimeMs, tmp: n.endsWith('.tmp') }];
      } catch {
        return [];
      }
    });
    let total = files.reduce((s, f) => s + f.size, 0);
    const now = Date.now();
    for (const f of files.sort((a, b) => a.mtime - b.mtime)) {
      // A temporary file an hour old belongs to a writer that died.
      const stale = f.tmp && now - f.mtime > 3600_000;
      if (total <= MAX_DIR_BYTES && !stale) continue;
      if (f.tmp && !stale) continue;
      try {
        unlinkSync(f.path);
        total -= f.size;
      } catch { /* another process took it */ }
    }
  }
}
