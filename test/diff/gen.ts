/**
 * The case generator: seeded, picks forms from test/diff/forms.ts (single instructions and random
 * sequences of 2-8), and checks every snippet's encoding against Capstone (the project's decoder).
 */
import { Builder, Retry, type Case, type Layout } from './builder.js';
import { forms, type Form } from './forms.js';
import './forms-sse.js';
import './forms-sse4.js';
import './forms-sse42.js';
import './forms-x87.js';
import './forms-extra.js';
import './forms-mmx.js';
import './forms-system.js';
import './forms-x87-state.js';
import { Rng } from './rng.js';
import type { Operand as EncOperand } from './x86enc.js';
import type { Insn, Operand } from '../../src/decoder/ir.js';

export interface GenOptions {
  /** Emulator ISA table keys: forms needing a missing one are skipped (unless `all`). */
  implemented?: Set<string>;
  all?: boolean;
  /** Only forms whose family or id contains one of these strings. */
  only?: string[];
  /** Include the faulting forms (the harness must run with -s). */
  faults?: boolean;
  /** Skip forms whose id contains one of these strings. */
  exclude?: string[];
  /** Fraction of cases that are sequences (default 0.35). */
  seqFraction?: number;
  /** The SSE floating-point flavour the cases are for (run.ts): fast keeps MXCSR's default control. */
  flavour?: 'fast' | 'precise';
}

export function selectForms(opts: GenOptions): { use: Form[]; skipped: Form[] } {
  const use: Form[] = [];
  const skipped: Form[] = [];
  for (const f of forms) {
    if (f.fault && !opts.faults) continue;
    if (opts.only && !opts.only.some((s) => f.family === s || f.family.startsWith(s + '-') || f.id.includes(s))) continue;
    if (opts.exclude && opts.exclude.some((s) => f.family === s || f.family.startsWith(s + '-') || f.id.includes(s))) continue;
    if (!opts.all && opts.implemented && !f.isa.every((n) => opts.implemented!.has(n))) skipped.push(f);
    else use.push(f);
  }
  return { use, skipped };
}

class Picker {
  private cum: number[] = [];
  private total = 0;
  constructor(readonly items: Form[]) {
    for (const f of items) this.cum.push((this.total += f.weight ?? 1));
  }
  pick(r: Rng): Form {
    const x = (r.u32() / 0x1_0000_0000) * this.total;
    let lo = 0, hi = this.cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cum[mid] > x) hi = mid; else lo = mid + 1;
    }
    return this.items[lo];
  }
  get size(): number { return this.items.length; }
}

export class Generator {
  private single: Picker;
  private seq: Picker;
  private consumers: Picker;
  private body: Picker;
  readonly seqFraction: number;
  readonly flavour: 'fast' | 'precise';

  constructor(readonly layout: Layout, use: Form[], opts: GenOptions = {}) {
    this.flavour = opts.flavour ?? 'fast';
    this.single = new Picker(use);
    this.seq = new Picker(use.filter((f) => f.seq));
    this.consumers = new Picker(use.filter((f) => f.seq && f.consumer));
    this.body = new Picker(use.filter((f) => f.seq && f.body && f.family !== 'control'));
    this.seqFraction = this.seq.size ? opts.seqFraction ?? 0.35 : 0;
  }

  /** Case `index` of the run with `seed`: each case has its own PRNG stream (reproducible alone). */
  make(seed: number, index: number): Case {
    const r = new Rng((Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0);
    r.u32();
    const asSeq = r.chance(this.seqFraction);
    for (let attempt = 0; attempt < 200; attempt++) {
      const b = new Builder(r.fork(), this.layout, asSeq);
      b.flavour = this.flavour;
      try {
        if (asSeq) this.sequence(b);
        else {
          const f = this.single.pick(b.rng);
          f.gen(b, f);
        }
        if (!b.code.length) continue;
        return b.finish();
      } catch (e) {
        if (e instanceof Retry) continue;
        throw e;
      }
    }
    throw new Error(`could not generate case ${index}`);
  }

  private tryForm(b: Builder, f: Form): boolean {
    if ((f.reads ?? 0) & b.undef) return false;
    const restore = b.snapshot();
    try {
      f.gen(b, f);
      return true;
    } catch (e) {
      if (e instanceof Retry) { restore(); return false; }
      throw e;
    }
  }

  private sequence(b: Builder): void {
    const r = b.rng;
    b.bodyPicker = (bb) => {
      const k = r.range(1, 2);
      for (let i = 0; i < k; i++) {
        for (let t = 0; t < 10; t++) if (this.tryForm(bb, this.body.pick(r))) break;
      }
    };
    const n = r.chance(0.9) ? r.range(2, 8) : r.range(9, 24);
    let lastProducer = false;
    for (let i = 0; i < n; i++) {
      for (let t = 0; t < 30; t++) {
        const f: Form = lastProducer && r.chance(0.6) && this.consumers.size ? this.consumers.pick(r) : this.seq.pick(r);
        if (this.tryForm(b, f)) { lastProducer = !!f.producer; break; }
      }
    }
  }
}

// ---- encoding self-check against Capstone -----------------------------------------------------

function sameOp(cap: Operand, mine: EncOperand, quirkComisd = false): string | null {
  switch (mine.kind) {
    case 'gpr':
      if (cap.kind !== 'reg') return 'not a register';
      if (mine.high ? cap.file !== 'gprh' || cap.n !== mine.n : cap.file !== 'gpr' || cap.n !== mine.n || cap.size !== mine.size) return `register ${cap.name}`;
      return null;
    case 'xmm':
      return cap.kind === 'reg' && cap.file === 'xmm' && cap.n === mine.n ? null : 'xmm register';
    case 'imm': {
      if (cap.kind !== 'imm') return 'not an immediate';
      const bits = mine.size * 8;
      return BigInt.asUintN(bits, cap.value) === BigInt.asUintN(bits, mine.value) ? null : `imm 0x${BigInt.asUintN(64, cap.value).toString(16)}`;
    }
    case 'mem': {
      if (cap.kind !== 'mem') return 'not memory';
      const base = mine.base === 'rip' ? -1 : mine.base;
      if (cap.base !== base) return `base ${cap.base}`;
      if (cap.index !== mine.index) return `index ${cap.index}`;
      if (mine.index >= 0 && cap.scale !== mine.scale) return `scale ${cap.scale}`;
      const disp = mine.addr32 && mine.base !== 'rip' ? BigInt.asIntN(32, BigInt(mine.disp)) : BigInt(mine.disp);
      if (BigInt.asUintN(64, cap.disp) !== BigInt.asUintN(64, disp)) return `disp ${cap.disp}`;
      // Capstone 5 reports comisd's m64 operand as 16 bytes (a decoder quirk, harmless here).
      if (mine.size && cap.size !== mine.size && !(cap.size === 16 && mine.size === 8 && quirkComisd)) return `size ${cap.size}`;
      if (!!mine.addr32 !== cap.addr32) return 'address size';
      if ((mine.seg ?? null) !== cap.seg) return `segment ${cap.seg}`;
      return null;
    }
  }
}

/** Decodes the snippet; returns problems (empty if every instruction decodes as intended). */
export function checkEncoding(c: Case, layout: Layout, decode: (bytes: Uint8Array, addr: number) => Insn[]): string[] {
  const out: string[] = [];
  const base = layout.code + c.codeOff;
  const insns = decode(c.code, base);
  const at = new Map(insns.map((i) => [i.addr - base, i]));
  let end = 0;
  for (const i of insns) end = Math.max(end, i.addr - base + i.len);
  if (end !== c.code.length) out.push(`decoded ${end} of ${c.code.length} bytes`);
  for (const e of c.expects) {
    const i = at.get(e.off);
    if (!i) { out.push(`${e.form}: no instruction at +${e.off}`); continue; }
    if (i.len !== e.len) out.push(`${e.form}: length ${i.len} != ${e.len} (${i.text})`);
    if (i.op !== e.mn) out.push(`${e.form}: decoded as '${i.op}' (${i.text})`);
    if (e.ops) {
      // Capstone leaves out the implicit count of rcl/rcr m, 1 (d0/d1 /2 /3 with memory).
      const implicitOne = i.ops.length === e.ops.length - 1 && e.ops[e.ops.length - 1].kind === 'imm' && (e.ops[e.ops.length - 1] as { value: bigint }).value === 1n;
      if (i.ops.length !== e.ops.length && !implicitOne) out.push(`${e.form}: ${i.ops.length} operands, expected ${e.ops.length} (${i.text})`);
      else {
        for (let k = 0; k < i.ops.length; k++) {
          const why = sameOp(i.ops[k], e.ops[k], i.op === 'comisd');
          if (why) out.push(`${e.form}: operand ${k}: ${why} (${i.text})`);
        }
      }
    }
  }
  return out;
}

/** Disassembly of a snippet, one instruction per line. */
export function disassemble(code: Uint8Array, addr: number, decode: (bytes: Uint8Array, addr: number) => Insn[]): string[] {
  const insns = decode(code, addr);
  const lines = insns.map((i) => `  +${(i.addr - addr).toString().padStart(3)}  ${[...i.bytes].map((x) => x.toString(16).padStart(2, '0')).join(' ').padEnd(36)} ${i.text}`);
  let end = 0;
  for (const i of insns) end = Math.max(end, i.addr - addr + i.len);
  if (end < code.length) lines.push(`  +${end}  (undecodable: ${[...code.slice(end)].map((x) => x.toString(16).padStart(2, '0')).join(' ')})`);
  return lines;
}
