#!/usr/bin/env node
import { exitNow } from './fast-exit.js';
import { lowerWorkerPriority } from './worker-priority.js';
import { Command } from 'commander';
import { readFileSync, statSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { E, errnoMessage, SysError } from './linux-abi/errno.js';
import { mappedFiles } from './linux-abi/mapped-files.js';
import type { Proc } from './linux-abi/proc.js';
import { ElfError, loadImage } from './process/image.js';
import { GuestSystem } from './process/scheduler.js';
import { Machine } from './vmx/machine.js';
import { Decoder } from './decoder/capstone.js';
import { defaultCacheDir, TranslationStore } from './jit/translation-store.js';
import { registerPlacement, relinkMode } from './jit/code-cache.js';

/**
 * usmjit [options] <program> [args...]: runs an x86-64 Linux program, like qemu-x86_64.
 * Options after the program name belong to the guest.
 */
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const collect = (v: string, all: string[]) => [...all, v];

function findProgram(name: string): string {
  if (name.includes('/')) return resolve(name);
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const p = join(dir || '.', name);
    try {
      if (statSync(p).isFile()) return resolve(p);
    } catch { /* next */ }
  }
  return resolve(name);
}

/**
 * The usmjit command (native/launcher.c) starts Node with an environment of its own: the caller's
 * NODE_EXTRA_CA_CERTS and GLIBC_TUNABLES in their places under these names, and the variables
 * USMJIT_HOST_ONLY lists (itself included) for Node alone.
 */
const HELD_PREFIX = 'USMJIT_HELD_';

/** The guest environment: the caller's (as the usmjit command was given it), changed by -E / -U in order. */
function guestEnv(sets: string[], unsets: string[]): string[] {
  const hostOnly = process.env.USMJIT_HOST_ONLY;
  const drop = new Set(hostOnly === undefined ? [] : ['USMJIT_HOST_ONLY', ...hostOnly.split(',')]);
  const env = new Map<string, string>();
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || drop.has(k)) continue;
    env.set(hostOnly !== undefined && k.startsWith(HELD_PREFIX) ? k.slice(HELD_PREFIX.length) : k, v);
  }
  for (const u of unsets) env.delete(u);
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new Error(`-E expects VAR=VALUE, got '${s}'`);
    env.set(s.slice(0, eq), s.slice(eq + 1));
  }
  return [...env].map(([k, v]) => `${k}=${v}`);
}

/**
 * Where V8 put compiled code (--stats): the executable anonymous mappings of this process and the
 * number of distinct GiB they lie in (native/code-placement.c packs them; V8 alone scatters them).
 */
function codeSpaces(): string {
  let maps = '';
  try {
    maps = readFileSync('/proc/self/maps', 'utf8');
  } catch {
    return 'code_mappings=? code_gib=?';
  }
  const gib = new Set<string>();
  let n = 0;
  for (const line of maps.split('\n')) {
    const f = line.split(/\s+/);
    if (f.length < 5 || !f[1].includes('x') || f[4] !== '0' || f[5]) continue; // anonymous, executable
    n++;
    gib.add(String(Math.floor(parseInt(f[0], 16) / 2 ** 30))); // (47-bit addresses: exact)
  }
  return `code_mappings=${n} code_gib=${gib.size}`;
}

async function main(argv: string[]): Promise<number> {
  const mainAt = performance.now(); // since the process started (Node's own start-up before it)
  lowerWorkerPriority();
  const program = new Command()
    .name('usmjit')
    .version(VERSION, '-V, --version')
    .description('Run an x86-64 Linux program through the usmjit JIT (Capstone -> WebAssembly)')
    .usage('[options] <program> [args...]')
    .option('-E <VAR=VALUE>', 'set a variable in the guest environment (repeatable)', collect, [])
    .option('-U <VAR>', 'remove a variable from the guest environment (repeatable)', collect, [])
    .option('-0 <argv0>', 'argv[0] for the guest (default: the program as given)')
    .option('-L <prefix>', 'look up the ELF interpreter and the absolute paths the guest opens under PREFIX first (qemu-user\'s -L)')
    .option('--strace', 'log every guest system call to stderr')
    .option('--no-cache', 'neither read nor write the persistent translation cache ($XDG_CACHE_HOME/usmjit)')
    .option('--stats', 'print translation statistics and the most-entered regions on exit (also USMJIT_STATS=1)')
    .argument('<program>', 'the program to run')
    .argument('[args...]', 'its arguments')
    .passThroughOptions()
    .showHelpAfterError();
  program.parse(argv);
  const opts = program.opts<{ E: string[]; U: string[]; 0?: string; L?: string; strace?: boolean; stats?: boolean; cache: boolean }>();
  const sysroot = opts.L !== undefined ? resolve(opts.L) : undefined;
  if (sysroot !== undefined && !statSync(sysroot, { throwIfNoEntry: false })?.isDirectory()) {
    process.stderr.write(`usmjit: -L ${opts.L}: not a directory\n`);
    return 1;
  }
  try {
    registerPlacement();
    relinkMode();
  } catch (e) {
    process.stderr.write(`usmjit: ${(e as Error).message}\n`);
    return 1;
  }
  const [progArg, ...args] = program.args;
  const path = findProgram(progArg);

  // Capstone loads when first needed: not at all if every translation comes from the cache.
  const m = await Machine.create(Decoder.deferred());
  const argv0 = opts[0] ?? progArg;
  let loaded;
  try {
    loaded = loadImage(m, { path, argv: [argv0, ...args], envp: guestEnv(opts.E, opts.U), execfn: progArg, sysroot });
  } catch (e) {
    if (e instanceof ElfError) {
      process.stderr.write(`usmjit: ${progArg}: ${e.message}\n`);
      return 126;
    }
    if (e instanceof SysError) {
      process.stderr.write(`usmjit: ${progArg}: ${errnoMessage(e.errno)}\n`);
      return e.errno === E.ENOENT ? 127 : 126;
    }
    throw e;
  }
  const log = (line: string) => process.stderr.write(line.endsWith('\n') ? line : line + '\n');
  // In USM mode host signals (Ctrl-C, kill from outside) reach the guest as interrupt vectors
  // 200 + signo: Node runs signal listeners only from its event loop, so the machine runs in
  // slices while USM is active and yields in between (process/scheduler.ts).
  const forwarded = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'] as const;
  const onMachine = (mm: Machine, proc: Proc) => {
    const forward = (name: NodeJS.Signals) => {
      proc.signals.send({ signo: osConstants.signals[name], code: 0 /* SI_USER */, pid: 0, uid: 0 });
    };
    mm.onUsmActive = (active) => {
      for (const s of forwarded) {
        if (active) process.on(s, forward);
        else process.off(s, forward);
      }
    };
  };
  const system = new GuestSystem({ strace: !!opts.strace, log, sysroot, onMachine, translationCache: opts.cache ? defaultCacheDir() : undefined });
  system.start(m, loaded);
  await system.run();
  const ranAt = performance.now();
  // Translations of processes that left a store other processes never left (none, normally).
  try {
    TranslationStore.flushAll();
  } catch (e) {
    process.stderr.write(`usmjit: translation cache: ${(e as Error).message}\n`);
  }
  // The processes are gone: what their MAP_SHARED mappings wrote reaches the files.
  mappedFiles.syncAll();
  if (opts.stats || process.env.USMJIT_STATS === '1') {
    const s = m.cache.stats;
    process.stderr.write(`usmjit-stats: stored_regions=${s.stored} stored_rejected=${s.storedRejected} insns=${s.insns} blocks=${s.blocks} batches=${s.batches} grows=${s.grows} loop_grows=${s.loopGrows} wasm_bytes=${s.bytes} regrow_bytes=${s.regrowBytes} compile_ms=${s.compileMs.toFixed(1)} decode_ms=${s.decodeMs.toFixed(1)} emit_ms=${s.emitMs.toFixed(1)} v8_ms=${s.wasmMs.toFixed(1)} invalidations=${s.invalidations} decoded=${m.decoder.decoded} fast_decoded=${m.decoder.fastDecoded} dispatcher_runs=${m.crossings.runs} js_calls=${m.crossings.jsCalls} region_entries=${m.cache.totalEntries()} promotions=${s.promotions} promote_bytes=${s.promoteBytes} redecoded=${s.redecoded} relinks=${s.relinks} relinked=${s.relinked} miss_calls=${s.missCalls} ${codeSpaces()} main_at_ms=${mainAt.toFixed(0)} run_ms=${(ranAt - mainAt).toFixed(0)} after_run_ms=${(performance.now() - ranAt).toFixed(0)}\n`);
    for (const h of m.cache.hottest(5)) {
      process.stderr.write(`usmjit-stats: hot region entries=${h.entries} blocks=${h.blocks} 0x${h.first.toString(16)}..0x${h.last.toString(16)} mode=${h.mode} transitions=${h.transitions} regs=${h.regsInMemory ? 'memory' : 'locals'}\n`);
    }
  }
  const o = system.outcome ?? { exit: 0 };
  if ('exit' in o) return o.exit;
  dieBy(o.signal);
  return 128 + o.signal;
}

/**
 * The guest died of signal `sig`: usmjit dies of the same signal, so its parent's waitpid sees
 * WIFSIGNALED (as with qemu-user). The core-dump size limit goes to 0 first (as qemu does): a
 * dump of the emulator would say nothing about the guest. V8 handles SIGSEGV and SIGBUS itself
 * (Wasm traps) and uninstalls its handler on a fault that is not its own: the signal is sent
 * again. If the process is still alive after that, its status is 128 + sig.
 */
function dieBy(sig: number): void {
  try { spawnSync('prlimit', [`--pid=${process.pid}`, '--core=0'], { stdio: 'ignore' }); } catch { /* no prlimit */ }
  process.removeAllListeners();
  for (let k = 0; k < 3; k++) {
    try { process.kill(process.pid, sig); } catch { return; }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
}

main(process.argv).then(
  (status) => exitNow(status),
  (e: unknown) => {
    process.stderr.write(`usmjit: internal error: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    exitNow(70);
  },
);
