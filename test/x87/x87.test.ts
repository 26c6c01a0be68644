/**
 * isa/x87.ts instruction by instruction against this machine's x87: every encoding (register
 * forms for each st(i), memory forms) runs from random machine states — random TOP, tags
 * (including full and empty stacks), register contents of every class, condition codes, sticky
 * flags, control words (all RC/PC, some with IE/DE/ZE/PE unmasked) and RFLAGS — natively and on
 * the emulated CPU, and the complete outcomes are compared: control/status/tag words, all eight
 * registers, RFLAGS, AX, and memory written. Not compared: FIP/FDP/FOP/FCS/FDS (see diff()).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Decoder } from '../../src/decoder/capstone.js';
import * as F from '../../src/jit/softfloat/f80.js';
import type { F80 } from '../../src/jit/softfloat/f80.js';
import { anyValue, buildNative, cleanupNative, CONTROL_WORDS, diff, fmt, getDecoder, Rng, runEmulated, runNative, stOf, value } from './harness.js';
import type { Rec } from './harness.js';

type MemKind = 'none' | 'f32' | 'f64' | 'f80' | 'i16' | 'i32' | 'i64' | 'bcd' | 'cw' | 'env28' | 'env14' | 'save108' | 'save94' | 'fx';

interface Form { code: string; mem: MemKind; mask?: (k: number) => boolean }

/** The transcendental instructions: compared within 1 ulp, C1 and PE not compared. */
const TRANSCENDENTAL = new Set(['d9f0', 'd9f1', 'd9f2', 'd9f3', 'd9f9', 'd9fb', 'd9fe', 'd9ff']);

/**
 * Outside their documented domains f2xm1 (|x| <= 1) and fyl2xp1 (|x| < 1 - sqrt(2)/2) give
 * undefined results: such finite operands are not compared.
 */
function outOfDomain(code: string, st0: F80, valid: boolean): boolean {
  if (!valid || (code !== 'd9f0' && code !== 'd9f9')) return false;
  const c = F.classify(st0);
  if (c !== 'normal') return false;
  const e = st0.se & 0x7fff;
  return code === 'd9f0' ? e > 0x3fff || (e === 0x3fff && st0.m !== 1n << 63n) : e >= 0x3ffd;
}

const hexb = (n: number) => n.toString(16).padStart(2, '0');

/** Every register form. */
function registerForms(): Form[] {
  const f: Form[] = [];
  const all = (op: number, lo: number, hi: number) => { for (let m = lo; m <= hi; m++) f.push({ code: hexb(op) + hexb(m), mem: 'none' }); };
  all(0xd8, 0xc0, 0xff);
  all(0xd9, 0xc0, 0xd0);
  all(0xd9, 0xd8, 0xdf);
  for (const m of [0xe0, 0xe1, 0xe4, 0xe5, 0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee]) all(0xd9, m, m);
  all(0xd9, 0xf0, 0xff);
  all(0xda, 0xc0, 0xdf); all(0xda, 0xe9, 0xe9);
  all(0xdb, 0xc0, 0xdf); all(0xdb, 0xe2, 0xe3); all(0xdb, 0xe8, 0xf7);
  all(0xdc, 0xc0, 0xcf); all(0xdc, 0xe0, 0xff);
  all(0xdd, 0xc0, 0xc7); all(0xdd, 0xd0, 0xef);
  all(0xde, 0xc0, 0xcf); all(0xde, 0xd9, 0xd9); all(0xde, 0xe0, 0xff);
  all(0xdf, 0xc0, 0xc7); all(0xdf, 0xe0, 0xe0); all(0xdf, 0xe8, 0xf7);
  f.push({ code: '9b', mem: 'none' });
  return f;
}

/** Memory bytes holding instruction pointers and selectors in an environment image. */
const env28Mask = (base: number) => (k: number) => k >= base + 12 && k < base + 28;
const env14Mask = (base: number) => (k: number) => k >= base + 6 && k < base + 14;
const fxMask = (k: number) => (k >= 6 && k < 24) || (k >= 28 && k < 32);

function memoryForms(): Form[] {
  const f: Form[] = [];
  const m = (op: string, reg: number, mem: MemKind, mask?: (k: number) => boolean, disp = false) => {
    const modrm = disp ? 0x40 | (reg << 3) : reg << 3;
    f.push({ code: op + hexb(modrm) + (disp ? '10' : ''), mem, mask });
  };
  for (let r = 0; r < 8; r++) { m('d8', r, 'f32'); m('dc', r, 'f64'); m('da', r, 'i32'); m('de', r, 'i16'); }
  m('d9', 0, 'f32'); m('d9', 2, 'none'); m('d9', 3, 'none'); m('d9', 4, 'env28'); m('d9', 5, 'cw'); m('d9', 6, 'none', env28Mask(0)); m('d9', 7, 'none');
  m('db', 0, 'i32'); m('db', 1, 'none'); m('db', 2, 'none'); m('db', 3, 'none'); m('db', 5, 'f80'); m('db', 7, 'none');
  m('dd', 0, 'f64'); m('dd', 1, 'none'); m('dd', 2, 'none'); m('dd', 3, 'none'); m('dd', 4, 'save108'); m('dd', 6, 'none', env28Mask(0)); m('dd', 7, 'none');
  m('df', 0, 'i16'); m('df', 1, 'none'); m('df', 2, 'none'); m('df', 3, 'none'); m('df', 4, 'bcd'); m('df', 5, 'i64'); m('df', 6, 'none'); m('df', 7, 'none');
  m('dd', 0, 'f64', undefined, true); m('db', 7, 'none', undefined, true); m('d9', 6, 'none', env28Mask(0x10), true);
  m('66d9', 4, 'env14'); m('66d9', 6, 'none', env14Mask(0)); m('66dd', 4, 'save94'); m('66dd', 6, 'none', env14Mask(0));
  m('0fae', 0, 'none', fxMask); m('0fae', 1, 'fx'); m('480fae', 0, 'none', fxMask); m('480fae', 1, 'fx');
  return f;
}

const UNMASKED_CWS = [0x037e, 0x037d, 0x037b, 0x035f, 0x0b7a];

interface StateOpts { cw?: number; fullStack?: boolean; emptyStack?: boolean }

/** A random fxsave64 image (x87 part random, MXCSR default, XMM random). */
function randomImage(r: Rng, o: StateOpts = {}): Uint8Array {
  const b = new Uint8Array(512);
  const dv = new DataView(b.buffer);
  const cw = o.cw ?? r.pick(CONTROL_WORDS);
  const top = r.int(8);
  // Sticky flags only where masked (an unmasked pending one would trap the next instruction).
  const sticky = r.chance(0.3) ? r.int(0x80) & (cw | 0x40) & 0x7f : 0;
  const sw = (r.int(16) & 0xf) * 0 | (r.chance(0.5) ? F.C0 : 0) | (r.chance(0.5) ? F.C1 : 0) | (r.chance(0.5) ? F.C2 : 0) | (r.chance(0.5) ? F.C3 : 0) | sticky;
  dv.setUint16(0, cw, true);
  dv.setUint16(2, sw | (top << 11), true);
  let tag = 0;
  for (let p = 0; p < 8; p++) if (o.fullStack || (!o.emptyStack && r.chance(0.7))) tag |= 1 << p;
  b[4] = tag;
  dv.setUint32(24, 0x1f80, true);
  dv.setUint32(28, 0xffff, true);
  for (let i = 0; i < 8; i++) {
    const v = anyValue(r);
    dv.setBigUint64(32 + 16 * i, v.m, true);
    dv.setUint16(40 + 16 * i, v.se, true);
  }
  for (let k = 160; k < 416; k++) b[k] = r.int(256);
  return b;
}

function putF80(b: Uint8Array, off: number, v: F80): void {
  F.toBytes(v, b, off);
}

/** Memory contents for an operand kind (at offset `at`). */
function randomMemory(r: Rng, kind: MemKind, at: number): Uint8Array {
  const b = new Uint8Array(512);
  for (let k = 0; k < 512; k++) b[k] = r.int(256);
  const dv = new DataView(b.buffer);
  const v = anyValue(r);
  const ctx = { rc: r.int(4), pc: 64, flags: 0 };
  switch (kind) {
    case 'f32': dv.setUint32(at, r.chance(0.8) ? F.toF32(v, ctx) : r.u32(), true); break;
    case 'f64': dv.setBigUint64(at, r.chance(0.8) ? F.toF64(v, ctx) : r.u64(), true); break;
    case 'f80': putF80(b, at, v); break;
    case 'i16': dv.setInt16(at, r.chance(0.5) ? r.int(200) - 100 : r.u32() & 0xffff, true); break;
    case 'i32': dv.setInt32(at, r.chance(0.5) ? r.int(2000) - 1000 : r.u32() | 0, true); break;
    case 'i64': dv.setBigUint64(at, r.chance(0.5) ? BigInt.asUintN(64, BigInt(r.int(2000) - 1000)) : r.u64() >> BigInt(r.int(64)), true); break;
    case 'bcd': {
      for (let k = 0; k < 9; k++) b[at + k] = r.chance(0.95) ? (r.int(10) << 4) | r.int(10) : r.int(256);
      b[at + 9] = r.chance(0.5) ? 0x80 : 0;
      break;
    }
    case 'cw': dv.setUint16(at, (r.u32() & 0xffc0) | 0x3f, true); break;
    case 'env28': case 'env14': case 'save108': case 'save94': {
      const small = kind === 'env14' || kind === 'save94';
      const w = small ? 2 : 4;
      dv.setUint16(at, (r.u32() & 0x1f00) | 0x7f | (r.chance(0.5) ? 0xe080 : 0), true);
      const sw = (r.u32() & 0x7f00) | (r.int(0x80) & 0x7f);
      dv.setUint16(at + w, sw, true);
      let tw = 0;
      for (let p = 0; p < 8; p++) tw |= (r.chance(0.3) ? 3 : r.int(3)) << (2 * p);
      dv.setUint16(at + 2 * w, tw, true);
      if (kind === 'save108' || kind === 'save94') {
        const base = at + (small ? 14 : 28);
        for (let i = 0; i < 8; i++) putF80(b, base + 10 * i, anyValue(r));
      }
      break;
    }
    case 'fx': {
      dv.setUint16(at, (r.u32() & 0x1f00) | 0x7f, true);
      dv.setUint16(at + 2, r.u32() & 0x7f7f, true);
      b[at + 4] = r.int(256);
      dv.setUint32(at + 24, 0x1f80 | (r.int(64)) | (r.int(4) << 13), true);
      for (let i = 0; i < 8; i++) putF80(b, at + 32 + 16 * i, anyValue(r));
      break;
    }
    default: break;
  }
  return b;
}

const fromHex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));

function runForms(dec: Decoder, forms: Form[], trials: number, seed: number): string[] {
  const r = new Rng(seed);
  const recs: Rec[] = [];
  const meta: { form: Form }[] = [];
  for (const form of forms) {
    for (let t = 0; t < trials; t++) {
      const opts: StateOpts = {};
      const x = r.int(20);
      if (x === 0) opts.fullStack = true;
      else if (x === 1) opts.emptyStack = true;
      if (r.chance(0.08)) opts.cw = r.pick(UNMASKED_CWS);
      const at = form.code.length > 4 && form.code.endsWith('10') && (form.code.startsWith('dd4') || form.code.startsWith('db7') || form.code.startsWith('d97')) ? 0x10 : 0;
      const img = randomImage(r, opts);
      if (outOfDomain(form.code, stOf(img, 0), ((img[4] >> ((img[3] >> 3) & 7)) & 1) === 1)) continue;
      recs.push({ img, flags: 0x202 | (r.u32() & 0x8d5), mem: randomMemory(r, form.mem, at), code: fromHex(form.code) });
      meta.push({ form });
    }
  }
  const native = runNative(recs);
  const bad: string[] = [];
  recs.forEach((rec, k) => {
    const e = runEmulated(dec, rec);
    const n = native[k];
    // A trap (#MF: SIGFPE, #GP: SIGSEGV) natively must be an exception exit when emulated.
    if (n.fault) {
      if (e.exit !== 2) bad.push(`${meta[k].form.code} state ${Buffer.from(rec.img.subarray(0, 6)).toString('hex')}: native fault ${n.fault}, emulated none`);
      return;
    }
    const d = diff(n, e, meta[k].form.mask, TRANSCENDENTAL.has(meta[k].form.code));
    if (d.length) bad.push(`${meta[k].form.code} state ${Buffer.from(rec.img.subarray(0, 6)).toString('hex')} st0=${fmt(stOf(rec.img, 0))} st1=${fmt(stOf(rec.img, 1))}: ${d.join('; ')}`);
  });
  return bad;
}

describe('x87 instructions vs the native x87', () => {
  let dec: Decoder;
  beforeAll(async () => { buildNative(); dec = await getDecoder(); });
  afterAll(() => cleanupNative());

  it('register forms, from random states', () => {
    const bad = runForms(dec, registerForms(), 60, 1);
    expect(bad.slice(0, 15)).toEqual([]);
  });

  it('memory forms, from random states', () => {
    const bad = runForms(dec, memoryForms(), 200, 2);
    expect(bad.slice(0, 15)).toEqual([]);
  });

  it('instruction sequences', () => {
    const r = new Rng(3);
    const regForms = registerForms().filter((f) => f.code !== '9b' && !TRANSCENDENTAL.has(f.code));
    const seqs: Form[] = [];
    for (let k = 0; k < 1500; k++) {
      let code = '';
      const n = 2 + r.int(6);
      for (let j = 0; j < n; j++) code += r.pick(regForms).code;
      seqs.push({ code, mem: 'none' });
    }
    const fixed = [
      'd9e8d9ebdef9dd1c24', // fld1 fldpi fdivp fstp [rsp]: written below as [rax]
      'd9e8d9eed9c9def1', 'd9ebd9fed9ebd9ffd9ebd9fb', 'd9eed9e8dec9d9e4dfe0',
    ];
    for (const c of fixed) seqs.push({ code: c.replace('dd1c24', 'dd18'), mem: 'none' });
    const bad = runForms(dec, seqs, 4, 4);
    expect(bad.slice(0, 15)).toEqual([]);
  });

  it('fxsave/fxrstor round trip and #GP on a misaligned address', () => {
    const r = new Rng(5);
    const img = randomImage(r);
    const rec: Rec = { img, flags: 0x202, mem: new Uint8Array(512), code: fromHex('0fae4008') };
    const n = runNative([rec])[0];
    const e = runEmulated(dec, rec);
    expect(n.fault).toBe(11);
    expect(e.exit).toBe(2);
    // fxsave then fxrstor of the same image restores the state.
    const rt: Rec = { img, flags: 0x202, mem: new Uint8Array(512), code: fromHex('0fae00d9e8d9ee0fae08') };
    expect(diff(runNative([rt])[0], runEmulated(dec, rt), fxMask)).toEqual([]);
  });

  it('a pending unmasked exception raises #MF at the next waiting instruction', () => {
    // cw 0x37e: IE unmasked; 0/0 flags IE; the following fld1 faults (native SIGFPE).
    const rec: Rec = { img: randomImage(new Rng(6), { cw: 0x37e, emptyStack: true }), flags: 0x202, mem: new Uint8Array(512), code: fromHex('d9eed9eedef9d9e8') };
    const n = runNative([rec])[0];
    const e = runEmulated(dec, rec);
    expect(n.fault).toBe(8);
    expect(e.exit).toBe(2);
    // Up to the fault the states agree (fdivp left the stack alone).
    const rec2 = { ...rec, code: fromHex('d9eed9eedef9') };
    expect(diff(runNative([rec2])[0], runEmulated(dec, rec2))).toEqual([]);
  });

  it('FIP, FDP and FOP as fnstenv stores them (low bits: the code and data addresses differ)', () => {
    // Each case: one x87 instruction at offset 0, then fnstenv [rax+0x100] (d9 b0 00 01 00 00).
    // `control`: an SDM control instruction (FIP/FDP/FOP left alone); `disp`: the memory operand
    // is [rax+disp].
    const cases: { code: string; control?: true; disp?: number }[] = [
      { code: 'd9e8' }, { code: 'd8c1' }, { code: 'dc4010', disp: 0x10 }, { code: 'dd4008', disp: 8 }, { code: 'd9fa' },
      { code: 'de4008', disp: 8 }, { code: 'db6824', disp: 0x24 }, { code: 'd9c9' }, { code: 'ddd9' }, { code: 'df30', disp: 0 },
      { code: 'd9e4' }, { code: 'db6818', disp: 0x18 }, { code: '9b', control: true }, { code: 'dbe2', control: true },
      { code: 'd97810', control: true, disp: 0x10 }, { code: 'd9f7' }, { code: 'd9ee' }, { code: 'dee9' },
    ];
    const r = new Rng(8);
    const recs: Rec[] = cases.map((c) => ({ img: randomImage(r), flags: 0x202, mem: randomMemory(r, 'f80', 0), code: fromHex(c.code + 'd9b000010000') }));
    const n = runNative(recs);
    const env = (o: { mem: Uint8Array }) => {
      const dv = new DataView(o.mem.buffer, o.mem.byteOffset + 0x100);
      return { fip: dv.getUint32(12, true) & 0xfff, fop: dv.getUint32(16, true) >>> 16, fdp: dv.getUint32(20, true) & 0xffff };
    };
    // usmjit records FOP and FDP at every non-control instruction, as AMD does and as its CPUID
    // allows (leaf 7 EBX bit 6, FDP_EXCPTN_ONLY, clear). Intel since the Pentium 4 records them only
    // while an unmasked exception is pending (FOP compatibility mode off, FDP_EXCPTN_ONLY set):
    // fnstenv then stores 0 for both. On such a host FIP is compared with it, FOP and FDP with
    // what the SDM defines: the opcode's low 11 bits and the operand's address, or, for a control
    // instruction or a register form, the values the state was loaded with.
    const hostRecords = n[0].fault === undefined && env(n[0]).fop !== 0; // fld1: opcode 0x1e8
    recs.forEach((rec, k) => {
      const e = runEmulated(dec, rec);
      const c = cases[k];
      expect(n[k].fault).toBeUndefined();
      if (hostRecords) {
        expect({ code: c.code, ...env(e) }).toEqual({ code: c.code, ...env(n[k]) });
        return;
      }
      const b = fromHex(c.code);
      const img = new DataView(rec.img.buffer, rec.img.byteOffset);
      const fop = c.control ? img.getUint16(6, true) & 0x7ff : ((b[0] & 7) << 8) | b[1];
      const fdp = !c.control && c.disp !== undefined ? Number((e.rax + BigInt(c.disp)) & 0xffffn) : img.getUint16(16, true);
      expect({ code: c.code, ...env(e) }).toEqual({ code: c.code, fip: env(n[k]).fip, fop, fdp });
    });
  });

  it('values of every class through fld/fstp m80 are bit-identical', () => {
    const r = new Rng(7);
    const kinds = ['normal', 'zero', 'inf', 'qnan', 'snan', 'denormal', 'pseudodenormal', 'unnormal', 'pseudonan'] as const;
    const recs: Rec[] = [];
    for (let k = 0; k < 300; k++) {
      const mem = new Uint8Array(512);
      F.toBytes(value(r, r.pick(kinds)), mem, 0);
      recs.push({ img: randomImage(r, { emptyStack: true }), flags: 0x202, mem, code: fromHex('db28db7810') });
    }
    const n = runNative(recs);
    recs.forEach((rec, k) => expect(diff(n[k], runEmulated(dec, rec))).toEqual([]));
  });
});
