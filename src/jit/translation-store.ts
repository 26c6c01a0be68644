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
const FORMAT = 4;
const MAX_FILE_BYTES = 64 << 20;
const MAX_DIR_BYTES = 512 << 20;

interface StoredFile {
  format: number;
  build: string;
  /**
   * The linked regions, each image's body left out (empty): `linked.bodies` says where the module
   * holds it. Function k's body is image k's with its relocatable constants rewritten, and every
   * use of an image rewrites them all again (relocation.ts relocate), so the module's copy serves.
   * Stored twice, the bodies made the file twice as big.
   */
  linked: LinkedRegions;
}

const EMPTY = new Uint8Array(0);

/** Stored regions linked into a module, compiled. */
export interface StoredModule { linked: LinkedRegions; module: WebAssembly.Module }

/** A stored region's name: its first block and translation key (two files' copies of one region match). */
const regionKey = (r: StoredRegion): string => `${r.tag}:${r.blocks[0]?.start}`;

/** The stores of this process, by file (TranslationStore.forProgram). */
const stores = new Map<string, TranslationStore>();

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

  /** The store for the program whose file holds `programBytes` (one object per file in a process). */
  static forProgram(dir: string, programBytes: Uint8Array): TranslationStore {
    const h = createHash('sha256').update(buildId()).update(programBytes).digest('hex').slice(0, 40);
    const file = join(dir, `${h}.jit`);
    let s = stores.get(file);
    if (!s) stores.set(file, (s = new TranslationStore(file, dir)));
    return s;
  }

  /**
   * The guest processes of this usmjit using the file now (a shell, its subshells and children
   * running the same program), and the regions of those that already left. The last to leave
   * saves them all, once: a child that saved alone would read, link and write the whole file at
   * every exit, and one that did not save lost its paths (a subshell's exit) for every run.
   */
  private users = 0;
  private pending: StoredRegion[] = [];

  /** A process starts using the file (code-cache.ts attachStore, and a fork's child). */
  join(): void {
    this.users++;
  }

  /**
   * A process stops using the file (it ended or exec'd) with what it would store: the last one
   * to leave saves every leaver's regions, merged with the file's.
   */
  leave(regions: StoredRegion[], declare: Parameters<typeof link>[1], tableMin: number): void {
    this.pending.push(...regions);
    this.linkWith = { declare, tableMin };
    if (--this.users > 0) return;
    this.flush();
  }
  private linkWith?: { declare: Parameters<typeof link>[1]; tableMin: number };

  /**
   * Saves what processes that left have pending even though others still use the file: at the end
   * of usmjit, for processes that never left (a fork that failed half-way, usmjit ending early).
   */
  static flushAll(): void {
    for (const s of stores.values()) s.flush();
  }

  private flush(): void {
    if (!this.pending.length || !this.linkWith) return;
    const seen = new Set<string>();
    const all = this.pending.filter((r) => !seen.has(regionKey(r)) && seen.add(regionKey(r)));
    this.pending = [];
    this.save(all, this.linkWith.declare, this.linkWith.tableMin);
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
    const linked = this.read();
    if (!linked) return undefined;
    try {
      const module = new WebAssembly.Module(linked.module as Uint8Array<ArrayBuffer>);
      const stored = { linked, module };
      compiled.delete(this.file);
      compiled.set(this.file, { mtimeMs: st.mtimeMs, size: st.size, stored });
      if (compiled.size > MAX_COMPILED) compiled.delete(compiled.keys().next().value!);
      return stored;
    } catch {
      return undefined; // damaged: the next save replaces it
    }
  }

  /** The file's linked regions, or undefined (no file, another format or build, damaged). */
  private read(): LinkedRegions | undefined {
    const seen = compiled.get(this.file);
    try {
      const st = statSync(this.file);
      if (seen && seen.mtimeMs === st.mtimeMs && seen.size === st.size) return seen.stored.linked;
      const f = deserialize(readFileSync(this.file)) as StoredFile;
      if (f.format !== FORMAT || f.build !== buildId() || !f.linked || !(f.linked.module instanceof Uint8Array)) return undefined;
      const { regions, module, bodies } = f.linked;
      if (!(bodies instanceof Int32Array) || bodies.length !== 2 * regions.length) return undefined;
      regions.forEach((r, k) => { r.image.body = module.subarray(bodies[2 * k], bodies[2 * k + 1]); });
      return f.linked;
    } catch {
      return undefined; // none, not ours or damaged: the next save replaces it
    }
  }

  /** Links `regions` and writes them (atomically: a temporary file renamed over the old one). */
  save(regions: StoredRegion[], declare: Parameters<typeof link>[1], tableMin: number): void {
    // Other processes of the program (a shell's subshells and children) may have saved since this
    // one loaded the file: their regions stay, or the last process to end would drop what the
    // others translated and every child would translate its paths again at every run.
    const mine = new Set(regions.map(regionKey));
    const others = (this.read()?.regions ?? []).filter((r) => !mine.has(regionKey(r)));
    let total = 0;
    const kept: StoredRegion[] = [];
    for (const r of [...regions, ...others]) {
      total += r.image.body.length;
      if (total > MAX_FILE_BYTES) break;
      kept.push(r);
    }
    if (!kept.length) return;
    const linked = link(kept, declare, tableMin);
    const f: StoredFile = {
      format: FORMAT, build: buildId(),
      linked: { ...linked, regions: linked.regions.map((r) => ({ ...r, image: { ...r.image, body: EMPTY } })) },
    };
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
