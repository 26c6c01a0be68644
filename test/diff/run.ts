/**
 * Differential instruction tester: runs generated snippets natively (the oracle: this machine's
 * CPU) and under usmjit, and compares the final states field by field.
 *
 *   node dist/test/diff/run.js [--cases N] [--seed S] [--case K] [--only fam,...] [--all]
 *                              [--seq FRACTION] [--emu cli|mini|native|auto] [--jobs J] [--signals]
 *                              [--flavour fast|precise] [--max-print N] [--bytes HEX [--reg name=value]...]
 *
 * Two SSE floating-point flavours (src/jit/isa/sse-flags.ts, sse-precise.ts), each compared with
 * MXCSR bit for bit: `fast` (the default) starts every case at MXCSR's default control with random
 * sticky flags and runs usmjit with USMJIT_PRECISE_FP=0, so that it must stay on its inline
 * translations (a switch is an internal error); `precise` starts every case at a random rounding
 * mode, DAZ, FTZ and flags and runs usmjit with USMJIT_PRECISE_FP=1.
 *
 * Ends with the line "N passed, M failed". Exit status 0 iff nothing failed.
 */
import { Decoder } from '../../src/decoder/capstone.js';
import { ISA } from '../../src/jit/isa/index.js';
import { Builder, type Case, type Layout } from './builder.js';
import { Rng } from './rng.js';
import { checkEncoding, disassemble, Generator, selectForms } from './gen.js';
import {
  buildHarness, compare, emuCommand, flagNames, GPR_NAMES, harnessLayout, parseLayout, pickEmu, runCases, type EmuKind,
} from './lib.js';

export interface DiffOptions {
  cases: number;
  seed: number;
  /** Run only this case index (reproduce a failure). */
  only?: string[];
  exclude?: string[];
  /** Fraction of sequence cases (default 0.35). */
  seqFraction?: number;
  /** Run one hand-written snippet (hex bytes) with random state from the seed, --reg overrides. */
  bytes?: string;
  regs?: string[];
  /** --bytes: where the snippet starts in the two code pages (default 0). */
  codeOff?: number;
  caseIndex?: number;
  all?: boolean;
  /** The emulator driver (default cli). */
  emu?: EmuKind | 'auto';
  jobs?: number;
  signals?: boolean;
  /** The SSE floating-point flavour the emulator runs (see the header; default fast). */
  flavour?: Flavour;
  /** Compare every FSW bit (also the condition codes the SDM leaves undefined). */
  strictX87?: boolean;
  maxPrint?: number;
  log?: (line: string) => void;
  timeoutMs?: number;
}

export type Flavour = 'fast' | 'precise';

export interface DiffResult {
  passed: number;
  failed: number;
  encodingErrors: number;
  failures: string[];
  /** Forms in the generated cases. */
  formsUsed: Map<string, number>;
  /**
   * Forms executed and compared: in cases that both runs completed (every form of the snippet
   * ran), or single-instruction cases that both ended with the same signal; passed or not.
   */
  formsCompared: Map<string, number>;
  /** Forms in cases that passed. */
  formsPassed: Map<string, number>;
  emu: EmuKind;
  seconds: number;
}

/** One Capstone decoder per process (a second Decoder.create() breaks the first). */
let decoderP: Promise<Decoder> | undefined;
export const sharedDecoder = (): Promise<Decoder> => (decoderP ??= Decoder.create());

function hexBytes(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(' ');
}

export async function runDiff(o: DiffOptions): Promise<DiffResult> {
  const log = o.log ?? ((l: string) => process.stdout.write(l + '\n'));
  const t0 = Date.now();
  const bin = buildHarness();
  const layout: Layout = harnessLayout(bin);
  const decoder = await sharedDecoder();
  const decode = (bytes: Uint8Array, addr: number) => decoder.decode(bytes, addr, 64);
  const implemented = ISA.names;
  const { use } = selectForms({ implemented, all: o.all, only: o.only, exclude: o.exclude, faults: o.signals });
  if (!use.length) throw new Error('no forms selected');
  const flavour = o.flavour ?? 'fast';
  const gen = new Generator(layout, use, { seqFraction: o.seqFraction, flavour });

  // Generate (and self-check the encodings).
  const indices = o.caseIndex !== undefined ? [o.caseIndex] : [...Array(o.cases).keys()];
  const cases: Case[] = [];
  const caseIdx: number[] = [];
  const failures: string[] = [];
  let encodingErrors = 0;
  const formsUsed = new Map<string, number>();
  for (const k of indices) {
    const c = o.bytes ? manualCase(o, layout) : gen.make(o.seed, k);
    if (o.strictX87) c.fswMask = 0xffff;
    // The case's MXCSR (all exceptions masked), from its own stream: fast, the default control
    // with pre-set sticky flags half the time; precise, a random rounding mode, DAZ and FTZ too.
    const r = new Rng((o.seed ^ Math.imul(k + 1, 0x2545f491)) >>> 0);
    if (o.bytes) { /* as given (--reg mxcsr=...) */ } else if (flavour === 'precise') {
      c.mxcsr = 0x1f80 | (r.int(4) << 13) | (r.chance(0.3) ? 0x40 : 0) | (r.chance(0.3) ? 0x8000 : 0) | (r.chance(0.3) ? r.int(64) : 0);
    } else c.mxcsr = (c.mxcsr & ~0x3f) | (r.chance(0.5) ? r.int(64) : 0);
    const problems = o.bytes ? [] : checkEncoding(c, layout, decode);
    if (problems.length) {
      encodingErrors++;
      if (failures.length < (o.maxPrint ?? 20)) failures.push(`ENCODING seed=${o.seed} case=${k}: ${hexBytes(c.code)}\n  ${problems.join('\n  ')}`);
      continue;
    }
    for (const f of c.forms) formsUsed.set(f, (formsUsed.get(f) ?? 0) + 1);
    cases.push(c);
    caseIdx.push(k);
  }

  // Run natively and emulated (the emulated run split over `jobs` processes).
  const emu = await pickEmu(o.emu ?? 'cli', bin);
  if (emu.note) log(`note: ${emu.note}`);
  // The line the vmcall cases are compared with instead of the native run's, when the host does
  // not fault on vmcall (see probeVmcall).
  let vmcallRef: string | undefined;
  if (o.signals && cases.some(hasVmcall)) {
    const probe = await (vmcallProbe ??= probeVmcall(bin, layout));
    if (probe.answered) {
      vmcallRef = SIGILL_LINE;
      const vmcallCases = cases.filter(hasVmcall).length;
      log(`note: vmcall (0f 01 c1) does not fault natively here (${probe.what}): a hypervisor answers it, so the ${vmcallCases} case${vmcallCases === 1 ? '' : 's'} with vmcall ${vmcallCases === 1 ? 'is' : 'are'} checked against the architecture (#UD at CPL3: usmjit must report SIGILL, "${SIGILL_LINE}"), not against the native run`);
    }
  }
  // -m: the harness loads every case's MXCSR (a write of the default control keeps usmjit's fast
  // flavour); the flavour is pinned through USMJIT_PRECISE_FP.
  const hargs = [...(o.signals ? ['-s'] : []), '-m'];
  const env = { USMJIT_PRECISE_FP: flavour === 'precise' ? '1' : '0' };
  const timeoutMs = o.timeoutMs ?? 600_000;
  const jobs = Math.max(1, Math.min(o.jobs ?? 2, Math.ceil(cases.length / 500)));
  const chunk = Math.ceil(cases.length / jobs);
  const [ecmd, eargs] = emuCommand(emu.kind, bin, hargs);
  const native = runCases(bin, hargs, cases, { timeoutMs, maxRestarts: 1000 });
  // The emulated jobs alternate the two places a region keeps guest registers (jit/code-cache.ts
  // registerPlacement): the CPU block, as new code has them, and Wasm locals, as promoted loops do.
  const placement = (j: number) => (j % 2 ? 'locals' : 'memory');
  const emuRuns = [...Array(jobs).keys()].map((j) => runCases(ecmd, eargs, cases.slice(j * chunk, (j + 1) * chunk), { timeoutMs, maxRestarts: 200, env: { ...env, USMJIT_REGS: placement(j) } }));
  const [nat, ...ems] = await Promise.all([native, ...emuRuns]);
  const emuLines = ems.flatMap((r) => r.lines);
  for (const r of ems) for (const n of r.notes) log(`note: emulator: ${n}`);
  if (nat.header && ems[0]?.header && parseLayout(nat.header).mem !== parseLayout(ems[0].header).mem) {
    log(`warning: harness layout differs: native '${nat.header}' emulated '${ems[0].header}'`);
  }

  let passed = 0, failed = encodingErrors;
  const formsCompared = new Map<string, number>();
  const formsPassed = new Map<string, number>();
  const count = (m: Map<string, number>, c: Case) => { for (const f of c.forms) m.set(f, (m.get(f) ?? 0) + 1); };
  for (let i = 0; i < cases.length; i++) {
    const c = cases[i];
    const nl = nat.lines[i] ?? 'MISSING';
    const el = emuLines[i] ?? 'MISSING';
    // The reference: the native run's line, or for vmcall on a host whose hypervisor answers it,
    // the architecture's (a fault reports no state, so "SIG 4" is all a native #UD would give).
    const archRef = vmcallRef !== undefined && hasVmcall(c);
    const ref = archRef ? vmcallRef! : nl;
    let diffs: string[];
    if (nl.startsWith('CRASH') || nl === 'MISSING' || nl === 'NOTRUN') diffs = [`native run did not complete the case: ${nl}`];
    else if (el.startsWith('CRASH') || el === 'MISSING' || el === 'NOTRUN') diffs = [`emulator: ${el}`];
    else {
      diffs = archRef
        ? el === ref ? [] : [`vmcall checked against the architecture (this host's hypervisor answers it natively): expected "${ref}" (#UD, SIGILL)`, `emu:    ${el.slice(0, 200)}`]
        : compare(c, nl, el, layout.mem);
      // A snippet stopped by a signal ran only up to the faulting instruction: its forms count as
      // executed only when it is a single instruction.
      if (!ref.startsWith('SIG') || c.mode === 'single') count(formsCompared, c);
    }
    if (!diffs.length) { passed++; count(formsPassed, c); continue; }
    failed++;
    if (failures.length < (o.maxPrint ?? 20)) {
      const k = caseIdx[i];
      const init = GPR_NAMES.map((n, r) => (r === 4 ? '' : `${n}=${(c.relmask >> r) & 1 ? 'mem+' : ''}${c.gpr[r].toString(16)}`)).filter(Boolean).join(' ');
      failures.push([
        `FAIL seed=${o.seed} case=${k} (${c.mode}, ${flavour} flavour; reproduce: node dist/test/diff/run.js --seed ${o.seed} --case ${k} --flavour ${flavour}${o.only ? ' --only ' + o.only.join(',') : ''}${o.exclude ? " --exclude '" + o.exclude.join(',') + "'" : ''}${o.all ? ' --all' : ''}${o.signals ? ' --signals' : ''}${o.strictX87 ? ' --strict-x87' : ''})`,
        `  bytes: ${hexBytes(c.code)}`,
        ...disassemble(c.code, layout.code + c.codeOff, decode),
        `  forms: ${c.forms.join('; ')}`,
        `  initial: ${init} rflags=${flagNames(c.rflags)} mxcsr=${c.mxcsr.toString(16)} (mem=0x${layout.mem.toString(16)}, rsp=mem+0x180, code at 0x${(layout.code + c.codeOff).toString(16)})`,
        ...xmmInit(c, disassemble(c.code, layout.code + c.codeOff, decode)),
        ...(c.forms.some((f) => /^f|x87/.test(f)) ? x87Init(c) : []),
        `  compared flags: ${flagNames(c.flagsMask & 0x8d5n)}`,
        ...diffs.map((d) => '  ' + d),
      ].join('\n'));
    }
  }
  return { passed, failed, encodingErrors, failures, formsUsed, formsCompared, formsPassed, emu: emu.kind, seconds: (Date.now() - t0) / 1000 };
}

const SIGILL_LINE = 'SIG 4';
const hasVmcall = (c: Case): boolean => c.expects.some((x) => x.mn === 'vmcall');

/**
 * Whether vmcall faults natively at CPL3, probed once per process by running the harness (with
 * its signal handlers) on the snippet `0f 01 c1` alone. Architecturally vmcall outside VMX
 * non-root operation is #UD (SIGILL): so on bare metal without VMX enabled and on AMD, and so in
 * usmjit. In a KVM guest on Intel, the hypervisor intercepts vmcall even at CPL3 and resumes the
 * guest with rax = -1 (-KVM_EPERM: a hypercall from CPL > 0) without a fault: the native run is
 * then no reference for vmcall, and the vmcall cases are checked against the architecture instead,
 * explicitly (usmjit must report exactly "SIG 4", the line the harness prints for SIGILL; a
 * fault prints no state, so this is all a comparison with a faulting host would check too).
 * `answered`: the probe completed without a fault (any other outcome, e.g. another signal or a
 * crash, keeps the native comparison, which then reports it).
 */
let vmcallProbe: Promise<{ answered: boolean; what: string }> | undefined;
async function probeVmcall(bin: string, layout: Layout): Promise<{ answered: boolean; what: string }> {
  const c = new Builder(new Rng(1), layout, false).finish();
  c.code = Uint8Array.of(0x0f, 0x01, 0xc1);
  c.codeOff = 0;
  const r = await runCases(bin, ['-s', '-m'], [c], { timeoutMs: 60_000, maxRestarts: 0 });
  const line = r.lines[0] ?? 'MISSING';
  if (line.startsWith('SIG') || line.startsWith('CRASH') || line === 'MISSING' || line === 'NOTRUN') return { answered: false, what: line };
  const rax = line.split(' ')[0];
  return { answered: true, what: `the probe ran on to the end with rax=${rax}, rax before 0x${c.gpr[0].toString(16)}` };
}

/** A case from --bytes: random initial state (from the seed), every field compared. */
function manualCase(o: DiffOptions, layout: Layout): Case {
  const b = new Builder(new Rng(o.seed), layout, false);
  const c = b.finish();
  c.code = Uint8Array.from((o.bytes ?? '').replace(/[^0-9a-fA-F]/g, '').match(/../g) ?? [], (x) => parseInt(x, 16));
  c.flagsMask = 0xffff_ffffn;
  c.forms = ['(manual)'];
  c.codeOff = o.codeOff ?? 0;
  for (const spec of o.regs ?? []) {
    const m = /^(\w+)=(mem\+)?(.+)$/.exec(spec);
    if (!m) throw new Error(`bad --reg ${spec}`);
    const v = BigInt(m[3]);
    if (m[1] === 'rflags') { c.rflags = v; continue; }
    const x = /^xmm(\d+)$/.exec(m[1]);
    if (x) {
      const hexv = BigInt.asUintN(128, v);
      for (let k = 0; k < 16; k++) c.xmm[Number(x[1]) * 16 + k] = Number((hexv >> BigInt(8 * k)) & 0xffn);
      continue;
    }
    if (m[1] === 'mxcsr') { c.mxcsr = Number(v); continue; }
    const r = GPR_NAMES.indexOf(m[1]);
    if (r < 0 || r === 4) throw new Error(`bad register in --reg ${spec}`);
    c.gpr[r] = BigInt.asUintN(64, v);
    if (m[2]) c.relmask |= 1 << r; else c.relmask &= ~(1 << r);
  }
  return c;
}

function parseArgs(argv: string[]): DiffOptions {
  const o: DiffOptions = { cases: 2000, seed: (Math.random() * 0x1_0000_0000) >>> 0 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case '--cases': o.cases = Number(val()); break;
      case '--seed': o.seed = Number(val()) >>> 0; break;
      case '--case': o.caseIndex = Number(val()); break;
      case '--only': o.only = val().split(',').filter(Boolean); break;
      case '--exclude': o.exclude = val().split(',').filter(Boolean); break;
      case '--all': o.all = true; break;
      case '--seq': o.seqFraction = Number(val()); break;
      case '--bytes': o.bytes = val(); o.caseIndex = 0; break;
      case '--reg': (o.regs ??= []).push(val()); break;
      case '--code-off': o.codeOff = Number(val()); break;
      case '--emu': o.emu = val() as EmuKind | 'auto'; break;
      case '--jobs': o.jobs = Number(val()); break;
      case '--signals': o.signals = true; break;
      case '--flavour': {
        const v = val();
        if (v !== 'fast' && v !== 'precise') throw new Error('--flavour fast|precise');
        o.flavour = v;
        break;
      }
      case '--strict-mxcsr': o.flavour = 'fast'; break; // (the old names)
      case '--mxcsr-random': o.flavour = 'precise'; break;
      case '--strict-x87': o.strictX87 = true; break;
      case '--max-print': o.maxPrint = Number(val()); break;
      case '-h': case '--help':
        process.stdout.write('usage: run.js [--cases N] [--seed S] [--case K] [--only family|id-substring,...] [--exclude family|id-substring,...] [--all] [--seq FRACTION] [--emu cli|mini|native|auto] [--jobs J] [--signals] [--flavour fast|precise] [--strict-x87] [--max-print N] [--bytes HEX [--code-off N] [--reg rax=0x..|rbx=mem+0x10|xmm1=0x..|rflags=0x..|mxcsr=0x..]...]\n');
        process.exit(0);
        break;
      default: throw new Error(`unknown option ${a}`);
    }
  }
  return o;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  console.log(`seed ${o.seed}${o.caseIndex !== undefined ? ` case ${o.caseIndex}` : `, ${o.cases} cases`}`);
  const r = await runDiff(o);
  for (const f of r.failures) console.log(f + '\n');
  if (r.failed > r.failures.length) console.log(`(${r.failed - r.failures.length} more failures not shown; --max-print N)`);
  console.log(`emulator driver: ${r.emu}; ${o.flavour ?? 'fast'} flavour; ${r.formsCompared.size} distinct forms executed and compared; ${r.seconds.toFixed(1)} s`);
  if (r.encodingErrors) console.log(`${r.encodingErrors} encoding self-check errors`);
  console.log(`${r.passed} passed, ${r.failed} failed`);
  process.exitCode = r.failed ? 1 : 0;
}

const invoked = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (invoked) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.stack : e);
    process.exit(2);
  });
}

/** The initial values of the XMM registers a failing case's instructions name (high:low qword). */
function xmmInit(c: { xmm: Uint8Array }, lines: string[]): string[] {
  const regs = new Set<number>();
  for (const l of lines) for (const m of l.matchAll(/xmm(\d+)/g)) regs.add(Number(m[1]));
  return [...regs].sort((a, b) => a - b).map((n) => {
    const q = (k: number) => [...c.xmm.subarray(16 * n + 8 * k, 16 * n + 8 * k + 8)].reverse().map((x) => x.toString(16).padStart(2, '0')).join('');
    return `  initial xmm${n}=${q(1)}:${q(0)}`;
  });
}

/** The initial x87 state (ST order; empty registers in brackets). */
function x87Init(c: Case): string[] {
  const x = c.x87;
  const st = [...Array(8).keys()].map((i) => {
    const p = (x.top + i) & 7, v = x.regs[p];
    const t = `${v.se.toString(16).padStart(4, '0')}:${v.m.toString(16).padStart(16, '0')}`;
    return (x.tag >> p) & 1 ? t : `[${t}]`;
  });
  return [`  initial x87: fcw=0x${x.cw.toString(16)} fsw=0x${((x.sw & ~0x3800) | (x.top << 11)).toString(16)} top=${x.top} tag=0x${x.tag.toString(16)} st0-7: ${st.join(' ')}`];
}
