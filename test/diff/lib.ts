/**
 * Shared machinery of the differential tester: building the native harness, running it natively
 * and under usmjit, parsing its output and comparing states field by field.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CASE_SIZE, CF, PF, AF, ZF, SF, DF, OF, serialize, type Case, type Layout } from './builder.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root (this file runs from test/diff or dist/test/diff). */
export const ROOT = resolve(here, existsSync(join(here, '../../package.json')) ? '../..' : '../../..');
export const HARNESS_SRC = join(ROOT, 'test/diff/harness.c');
export const HARNESS_BIN = join(ROOT, '.cache/diff/harness');

/** Builds .cache/diff/harness if it is missing or older than harness.c. */
export function buildHarness(): string {
  const fresh = existsSync(HARNESS_BIN) && statSync(HARNESS_BIN).mtimeMs >= statSync(HARNESS_SRC).mtimeMs;
  if (!fresh) {
    mkdirSync(dirname(HARNESS_BIN), { recursive: true });
    execFileSync('gcc', [
      '-O2', '-static', '-nostdlib', '-fno-pie', '-no-pie', '-fno-builtin', '-fno-tree-loop-distribute-patterns',
      '-fno-stack-protector', '-fcf-protection=none', '-Wall', '-o', HARNESS_BIN, HARNESS_SRC,
    ], { stdio: ['ignore', 'inherit', 'inherit'] });
  }
  return HARNESS_BIN;
}

export function parseLayout(line: string): Layout {
  const m = /^HARNESS mem=([0-9a-f]+) code=([0-9a-f]+) landing=([0-9a-f]+) rsp=([0-9a-f]+) fs=([0-9a-f]+) gs=([0-9a-f]+)/.exec(line);
  if (!m) throw new Error(`bad harness header: ${line}`);
  const n = (i: number) => parseInt(m[i], 16);
  return { mem: n(1), code: n(2), landing: n(3), rsp: n(4), fs: n(5), gs: n(6) };
}

/** The harness's addresses, from a native run with no cases. */
export function harnessLayout(bin = HARNESS_BIN): Layout {
  const out = execFileSync(bin, [], { input: Buffer.alloc(0) }).toString();
  return parseLayout(out.split('\n')[0]);
}

export function serializeAll(cases: Case[]): Buffer {
  const buf = Buffer.alloc(cases.length * CASE_SIZE);
  cases.forEach((c, i) => serialize(c, buf, i * CASE_SIZE));
  return buf;
}

export interface RunResult {
  /** One output line per case that completed (the header removed). */
  lines: string[];
  header: string;
  status: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  timedOut: boolean;
}

/** Runs a command with `input` on stdin (and `env` added to the environment); collects stdout lines. */
export function runProcess(cmd: string, args: string[], input: Buffer, timeoutMs: number, env?: Record<string, string>): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: env ? { ...process.env, ...env } : process.env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; p.kill('SIGKILL'); }, timeoutMs);
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.stderr.on('data', (d: Buffer) => { if (err.reduce((a, b) => a + b.length, 0) < 1 << 16) err.push(d); });
    p.on('error', reject);
    p.stdin.on('error', () => { /* the child died early: its status tells */ });
    p.on('close', (status, signal) => {
      clearTimeout(timer);
      const text = Buffer.concat(out).toString();
      const all = text.split('\n');
      // A partial last line (the process died mid-write) is dropped.
      if (all.length && all[all.length - 1] !== '') all.pop(); else all.pop();
      const header = all.length && all[0].startsWith('HARNESS') ? all.shift()! : '';
      resolvePromise({ lines: all, header, status, signal, stderr: Buffer.concat(err).toString(), timedOut });
    });
    p.stdin.end(input);
  });
}

/** cli: dist/usmjit (the usmjit command); mini: the minimal driver; native: the harness itself (a self-test of determinism). */
export type EmuKind = 'cli' | 'mini' | 'native';

export function emuCommand(kind: EmuKind, bin: string, harnessArgs: string[]): [string, string[]] {
  if (kind === 'native') return [bin, harnessArgs];
  if (kind === 'cli') return [join(ROOT, 'dist/usmjit'), [bin, ...harnessArgs]];
  return [process.execPath, [join(ROOT, 'dist/test/diff/mini-emu.js'), bin, ...harnessArgs]];
}

/**
 * Picks the emulator driver: `auto` is the real CLI if it runs the harness, else the minimal
 * driver (for manual runs only: the tests ask for the CLI and check that it ran).
 */
export async function pickEmu(want: EmuKind | 'auto', bin: string): Promise<{ kind: EmuKind; note: string }> {
  if (want !== 'auto') return { kind: want, note: '' };
  if (!existsSync(join(ROOT, 'dist/src/linux-abi/kernel.js'))) return { kind: 'mini', note: 'dist/src/linux-abi/kernel.js missing: using the minimal driver (test/diff/mini-emu.ts)' };
  const [cmd, args] = emuCommand('cli', bin, []);
  const r = await runProcess(cmd, args, Buffer.alloc(0), 30_000);
  if (r.status === 0 && r.header.startsWith('HARNESS')) return { kind: 'cli', note: '' };
  return { kind: 'mini', note: `the CLI does not run the harness (status ${r.status}: ${r.stderr.trim().split('\n')[0] ?? ''}): using the minimal driver` };
}

/**
 * Runs cases under a command, restarting after a crash: a case that kills the process yields a
 * "CRASH ..." line and the run resumes with the next case.
 */
export async function runCases(cmd: string, args: string[], cases: Case[], opts: { timeoutMs: number; maxRestarts: number; env?: Record<string, string> }): Promise<{ lines: string[]; header: string; notes: string[] }> {
  const lines: string[] = [];
  const notes: string[] = [];
  let header = '';
  let start = 0;
  let restarts = 0;
  // Output is buffered: after a crash, the lines of the cases before it may be lost, so the rest is
  // rerun with -f (flush after every case) until the crashing case is known.
  let flushEach = false;
  while (start < cases.length) {
    const r = await runProcess(cmd, flushEach ? [...args, '-f'] : args, serializeAll(cases.slice(start)), opts.timeoutMs, opts.env);
    if (!header) header = r.header;
    lines.push(...r.lines.slice(0, cases.length - start));
    const done = start + r.lines.length;
    if (done >= cases.length) break;
    if (!flushEach) {
      flushEach = true;
      start = done;
      continue;
    }
    // Case `done` did not complete.
    const why = r.timedOut ? 'timeout' : r.signal ? `host signal ${r.signal}` : `exit status ${r.status}`;
    const msg = r.stderr.trim().split('\n').slice(-3).join(' | ');
    lines.push(`CRASH ${why}: ${msg}`);
    start = done + 1;
    flushEach = false;
    if (++restarts > opts.maxRestarts) {
      notes.push(`too many crashes: ${cases.length - start} cases not run`);
      while (lines.length < cases.length) lines.push('NOTRUN');
      break;
    }
  }
  return { lines, header, notes };
}

// ---- states and comparison -------------------------------------------------------------------

export const GPR_NAMES = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];

export interface State {
  gpr: bigint[];
  rflags: bigint;
  mxcsr: number;
  xmm: string[];
  mem: string;
  /** x87 state as fxsave64 stored it: FCW, FSW, abridged tag, FOP, FIP, FDP, ST(0)..ST(7) (hex). */
  fcw: number;
  fsw: number;
  ftw: number;
  fop: number;
  fip: string;
  fdp: string;
  st: string[];
}

export function parseState(line: string): State | null {
  const f = line.split(' ');
  if (f.length !== 16 + 2 + 16 + 1 + 6 + 8) return null;
  return {
    gpr: f.slice(0, 16).map((x) => BigInt('0x' + x)),
    rflags: BigInt('0x' + f[16]),
    mxcsr: parseInt(f[17], 16),
    xmm: f.slice(18, 34),
    mem: f[34],
    fcw: parseInt(f[35], 16),
    fsw: parseInt(f[36], 16),
    ftw: parseInt(f[37], 16),
    fop: parseInt(f[38], 16),
    fip: f[39],
    fdp: f[40],
    st: f.slice(41, 49),
  };
}

const FLAG_NAMES: [number, string][] = [[CF, 'CF'], [PF, 'PF'], [AF, 'AF'], [ZF, 'ZF'], [SF, 'SF'], [0x100, 'TF'], [0x200, 'IF'], [DF, 'DF'], [OF, 'OF']];
export function flagNames(v: bigint): string {
  const names = FLAG_NAMES.filter(([b]) => (v & BigInt(b)) !== 0n).map(([, n]) => n);
  const rest = v & ~BigInt(FLAG_NAMES.reduce((a, [b]) => a | b, 0));
  if (rest) names.push(`0x${rest.toString(16)}`);
  return names.join(' ') || '-';
}

const h64 = (v: bigint) => '0x' + v.toString(16).padStart(16, '0');

/**
 * Differences between native and emulated output of one case, masks applied. `memBase`: the
 * harness's data area address (Layout.mem), which the harness adds to the registers of
 * c.relmask; the 0x67 rep tolerance (a32RepZeroCount) needs it to know their initial values and
 * does not apply to them without it.
 */
export function compare(c: Case, native: string, emu: string, memBase?: number): string[] {
  if (native === emu) return [];
  const n = parseState(native), e = parseState(emu);
  if (!n || !e) return [`native: ${native.slice(0, 200)}`, `emu:    ${emu.slice(0, 200)}`];
  const out: string[] = [];
  const a32Rep = a32RepZeroCount(c);
  for (let i = 0; i < 16; i++) {
    const m = c.gprMask[i] & 0xffff_ffff_ffff_ffffn;
    if (!((n.gpr[i] ^ e.gpr[i]) & m)) continue;
    let note = '';
    if (a32Rep?.regs.includes(i)) {
      const init = (c.relmask >> i) & 1 ? (memBase === undefined ? undefined : BigInt.asUintN(64, c.gpr[i] + BigInt(memBase))) : c.gpr[i];
      // Unchanged in usmjit, zero-extended natively: nothing else.
      if (init !== undefined && e.gpr[i] === init && n.gpr[i] === (init & 0xffff_ffffn)) continue;
      note = ` (${a32Rep.mn} with ECX=0: only emu = the initial ${init === undefined ? 'value (unknown here)' : h64(init)} and native = that with the upper half cleared is tolerated)`;
    }
    out.push(`${GPR_NAMES[i].padEnd(6)} native=${h64(n.gpr[i])} emu=${h64(e.gpr[i])}${note}`);
  }
  const fd = (n.rflags ^ e.rflags) & c.flagsMask;
  if (fd) out.push(`rflags native=${h64(n.rflags)} (${flagNames(n.rflags)}) emu=${h64(e.rflags)} (${flagNames(e.rflags)}) differing: ${flagNames(fd)}`);
  if ((n.mxcsr ^ e.mxcsr) & c.mxcsrMask) out.push(`mxcsr  native=0x${n.mxcsr.toString(16)} emu=0x${e.mxcsr.toString(16)}`);
  const dpNan = dpNanLanes(c);
  for (let i = 0; i < 16; i++) {
    if (n.xmm[i] === e.xmm[i]) continue;
    const mask = (k: number) => (c.xmmMask ? c.xmmMask[i * 16 + k] : 0xff);
    if (!xmmDiffers(n.xmm[i], e.xmm[i], mask)) continue;
    if (dpNan && dpNanEquivalent(n.xmm[i], e.xmm[i], mask, dpNan)) continue;
    const note = dpNan ? ` (NaN lanes of ${[dpNan.f32 ? '32' : '', dpNan.f64 ? '64' : ''].filter(Boolean).join(' and ')} bits tolerated: dpps/dppd)` : '';
    out.push(`xmm${i}`.padEnd(6) + ` native=${xmmText(n.xmm[i])} emu=${xmmText(e.xmm[i])}${note}`);
  }
  if (n.mem !== e.mem) {
    // (bytes under c.memMask only)
    // Differing byte ranges, shown 8-aligned.
    const bad: number[] = [];
    for (let k = 0; k < n.mem.length / 2; k++) {
      if ((parseInt(n.mem.slice(2 * k, 2 * k + 2), 16) ^ parseInt(e.mem.slice(2 * k, 2 * k + 2), 16)) & c.memMask[k]) bad.push(k);
    }
    const quads = [...new Set(bad.map((k) => k & ~7))];
    for (const q of quads.slice(0, 8)) {
      const qn = n.mem.slice(2 * q, 2 * q + 16), qe = e.mem.slice(2 * q, 2 * q + 16);
      out.push(`mem[0x${q.toString(16).padStart(3, '0')}] native=${qn} emu=${qe} (bytes in memory order)`);
    }
    if (quads.length > 8) out.push(`... ${quads.length - 8} more differing quadwords`);
  }
  if (c.x87Compare) out.push(...compareX87(c, n, e));
  return out;
}

/** Whether bytes [from, to) of two xmm registers (hex bytes in memory order) differ under `mask`. */
function xmmDiffers(a: string, b: string, mask: (k: number) => number, from = 0, to = 16): boolean {
  for (let k = from; k < to; k++) {
    if ((parseInt(a.slice(2 * k, 2 * k + 2), 16) ^ parseInt(b.slice(2 * k, 2 * k + 2), 16)) & mask(k)) return true;
  }
  return false;
}

/** The little-endian lane of `bytes` bytes at byte `at` of an xmm register (hex bytes in memory order). */
function lane(hex: string, at: number, bytes: number): bigint {
  return BigInt('0x' + hex.slice(2 * at, 2 * (at + bytes)).match(/../g)!.reverse().join(''));
}
const isNan32 = (v: bigint) => (v & 0x7fff_ffffn) > 0x7f80_0000n;
const isNan64 = (v: bigint) => (v & 0x7fff_ffff_ffff_ffffn) > 0x7ff0_0000_0000_0000n;

/**
 * The one tolerance of the xmm comparison: dpps and dppd on Intel. When several NaNs meet in a
 * dpps/dppd sum (NaN products, or one that inf - inf makes), the SDM's pseudo-code order
 * (p0+p1)+(p2+p3), each add propagating its first NaN operand, gives one NaN. Intel's dpps/dppd
 * (measured on this host, an Intel family 6 Xeon) pick among the NaN operands in another order,
 * and differently per destination lane: e.g. 7fc00000 7fc00000 ffc00000 ffc00000 in the four lanes
 * where the SDM order, the AMD EPYC this tester ran on before and usmjit give ffc00000 in all four.
 * Which NaN is microarchitectural and not modelled. So in a case whose snippet contains a dpps, a
 * 32-bit lane of any xmm register where both native and usmjit hold a float NaN (any sign and
 * payload) counts as equal; with a dppd, likewise a 64-bit lane holding a double NaN in both. Any
 * xmm register, not only the dpps/dppd destination: a later instruction of the snippet may move or
 * propagate the NaN (movaps, addps, blends, shuffles). Everything else stays exact: a lane NaN in
 * one run only, any non-NaN lane, the other registers, rflags, MXCSR (its flags do not depend on
 * which NaN is returned), memory and the x87 state; cases without dpps/dppd compare NaNs bit for
 * bit. (A different NaN stored to memory or moved to a GPR would still fail: none of the
 * fixed-seed streams' cases does that.)
 */
function dpNanLanes(c: Case): { f32: boolean; f64: boolean } | null {
  const f32 = c.expects.some((x) => x.mn === 'dpps');
  const f64 = c.expects.some((x) => x.mn === 'dppd');
  return f32 || f64 ? { f32, f64 } : null;
}

/** Whether two xmm values are equal lane by lane under `mask`, NaN lanes of the dpps/dppd sizes equal when NaN in both. */
function dpNanEquivalent(a: string, b: string, mask: (k: number) => number, t: { f32: boolean; f64: boolean }): boolean {
  for (let q = 0; q < 16; q += 8) {
    if (!xmmDiffers(a, b, mask, q, q + 8)) continue;
    if (t.f64 && isNan64(lane(a, q, 8)) && isNan64(lane(b, q, 8))) continue;
    if (!t.f32) return false;
    for (let d = q; d < q + 8; d += 4) {
      if (xmmDiffers(a, b, mask, d, d + 4) && !(isNan32(lane(a, d, 4)) && isNan32(lane(b, d, 4)))) return false;
    }
  }
  return true;
}

/** The legacy prefixes (REX excluded). */
const LEGACY_PREFIXES = new Set([0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3]);

/**
 * The string instructions' byte opcodes (the word/dword/qword form is opcode + 1) and the 64-bit
 * registers besides RCX that Intel's rep form zero-extends when ECX is 0 under 0x67, as measured
 * on this host (see a32RepZeroCount): movs RSI and RDI, stos RDI; lods, cmps and scas leave RSI
 * and RDI alone there, as AMD does.
 */
const STRING_OPS = new Map<number, { name: string; regs: number[] }>([
  [0xa4, { name: 'movs', regs: [1, 6, 7] }], [0xaa, { name: 'stos', regs: [1, 7] }],
  [0xa6, { name: 'cmps', regs: [1] }], [0xac, { name: 'lods', regs: [1] }], [0xae, { name: 'scas', regs: [1] }],
]);

/**
 * The one tolerance of the GPR comparison: a rep/repe/repne string instruction with the 0x67
 * address-size prefix (ECX, ESI, EDI as count and pointers) and ECX = 0, so that nothing repeats.
 * This Intel host (family 6 Xeon, a KVM guest) still writes ECX, and for rep movs also ESI and
 * EDI, for rep stos EDI: as 32-bit writes, zero-extending, so their upper halves become 0 with
 * the low halves unchanged. The AMD EPYC this tester ran on before left the 64-bit registers
 * alone, and so does usmjit (the SDM's REP pseudo-code writes nothing for a count of 0; both
 * are real hardware's behaviour). So in a case that is exactly one such instruction (single cases: the
 * count it sees is the initial ECX) with an initial ECX of 0, the registers of STRING_OPS may
 * differ in exactly this way: usmjit's value is the initial value, unchanged, and the native
 * one is the initial value with the upper 32 bits cleared (native = emu & 0xffffffff). Anything
 * else in these registers (a changed low half, another upper half in usmjit, a nonzero count:
 * then both must zero-extend) and all other fields stay exact; cases without 0x67 rep string
 * instructions compare these registers bit for bit.
 */
function a32RepZeroCount(c: Case): { mn: string; regs: number[] } | null {
  if (c.expects.length !== 1 || (c.relmask >> 1) & 1 || (c.gpr[1] & 0xffff_ffffn) !== 0n) return null;
  const x = c.expects[0];
  const bytes = c.code.subarray(x.off, x.off + x.len);
  let k = 0;
  while (k < bytes.length && LEGACY_PREFIXES.has(bytes[k])) k++;
  const pfx = bytes.subarray(0, k);
  if (!pfx.includes(0x67) || !(pfx.includes(0xf3) || pfx.includes(0xf2))) return null;
  if (k < bytes.length && (bytes[k] & 0xf0) === 0x40) k++; // REX
  if (k !== bytes.length - 1) return null;
  const op = STRING_OPS.get(bytes[k] & ~1);
  if (!op) return null;
  const rep = pfx.includes(0xf2) ? 'repne' : op.name === 'cmps' || op.name === 'scas' ? 'repe' : 'rep';
  return { mn: `67 ${rep} ${op.name}`, regs: op.regs };
}

const FSW_NAMES: [number, string][] = [[1, 'IE'], [2, 'DE'], [4, 'ZE'], [8, 'OE'], [0x10, 'UE'], [0x20, 'PE'], [0x40, 'SF'], [0x80, 'ES'], [0x100, 'C0'], [0x200, 'C1'], [0x400, 'C2'], [0x4000, 'C3'], [0x8000, 'B']];
export function fswText(v: number): string {
  return `0x${v.toString(16).padStart(4, '0')} (TOP=${(v >> 11) & 7} ${FSW_NAMES.filter(([b]) => v & b).map(([, n]) => n).join(' ') || '-'})`;
}

/**
 * The x87 fields: FCW, FSW (the condition codes the SDM leaves undefined masked: c.fswMask), the
 * abridged tag word, and the 80 bits of every register the native tag word marks valid (empty
 * registers' contents are not architectural). FOP, FIP and FDP are not compared: this AMD CPU's
 * fxsave writes them only while an unmasked exception is pending (never here: every case masks
 * all exceptions), while usmjit keeps and stores them always (src/jit/isa/x87.ts).
 */
function compareX87(c: Case, n: State, e: State): string[] {
  const out: string[] = [];
  if (n.fcw !== e.fcw) out.push(`fcw    native=0x${n.fcw.toString(16)} emu=0x${e.fcw.toString(16)}`);
  if ((n.fsw ^ e.fsw) & c.fswMask) out.push(`fsw    native=${fswText(n.fsw)} emu=${fswText(e.fsw)} compared 0x${c.fswMask.toString(16)}`);
  if (n.ftw !== e.ftw) out.push(`ftw    native=0x${n.ftw.toString(16).padStart(2, '0')} emu=0x${e.ftw.toString(16).padStart(2, '0')} (abridged: bit p = physical register p valid)`);
  const top = (n.fsw >> 11) & 7;
  for (let i = 0; i < 8; i++) {
    if (!((n.ftw >> ((top + i) & 7)) & 1)) continue;
    if (n.st[i] !== e.st[i]) out.push(`st(${i})  native=${n.st[i].slice(0, 4)}:${n.st[i].slice(4)} emu=${e.st[i].slice(0, 4)}:${e.st[i].slice(4)}`);
  }
  return out;
}

/** An xmm register (hex bytes in memory order) as two little-endian quadwords, high first. */
export function xmmText(hex: string): string {
  const q = (s: string) => s.match(/../g)!.reverse().join('');
  return `${q(hex.slice(16, 32))}:${q(hex.slice(0, 16))}`;
}
