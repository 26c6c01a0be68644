/**
 * SSE4.2 forms: the packed string compares (pcmpistri pcmpestri pcmpistrm pcmpestrm; register and
 * unaligned m128 sources, REX.W for the explicit-length forms), crc32 (every source width) and
 * pcmpgtq, plus two faulting forms for --signals.
 *
 * The string compares get string-like operands: characters from a small per-case alphabet (so
 * "equal any", "ranges" and "equal ordered" find matches), zero terminators at random positions
 * (a zero byte inside a non-zero word must not terminate a word string), needles cut out of the
 * text, and every imm8 (bit 7 is ignored by the CPU, so it is generated too). The explicit forms
 * get lengths in rax/rdx around the edges: 0..17, negative ones down to -17, INT32_MIN/MAX,
 * INT64_MIN, random 64-bit values, with garbage in the upper halves of eax/edx without REX.W.
 */
import { ARITH, Retry, type Builder } from './builder.js';
import { add, type Form } from './forms.js';
import { imm, xmm, type Mem, type Operand, type Xmm } from './x86enc.js';

const hex = (n: number) => n.toString(16).padStart(2, '0');

// ---- string-like operand data ---------------------------------------------------------------------

const BYTE_CHARS = [0x01, 0x20, 0x30, 0x39, 0x41, 0x42, 0x5a, 0x61, 0x62, 0x7a, 0x7f, 0x80, 0x81, 0xfe, 0xff];
const WORD_CHARS = [0x0001, 0x0041, 0x0061, 0x00ff, 0x0100, 0x4100, 0x4141, 0x7fff, 0x8000, 0x8001, 0xff00, 0xfffe, 0xffff];

interface Alphabet { words: boolean; chars: number[] }

function alphabet(b: Builder, words: boolean): Alphabet {
  const r = b.rng;
  const chars: number[] = [];
  const k = r.range(1, 6);
  for (let i = 0; i < k; i++) {
    chars.push(r.chance(0.7) ? r.pick(words ? WORD_CHARS : BYTE_CHARS) : r.range(1, words ? 0xffff : 0xff));
  }
  return { words, chars };
}

function putEl(v: Uint8Array, words: boolean, k: number, x: number): void {
  if (words) { v[2 * k] = x & 0xff; v[2 * k + 1] = (x >> 8) & 0xff; } else v[k] = x & 0xff;
}

function getEl(v: Uint8Array, words: boolean, k: number): number {
  return words ? v[2 * k] | (v[2 * k + 1] << 8) : v[k];
}

/** 16 bytes of "string": alphabet characters, maybe a terminator (and garbage after it). */
function strData(b: Builder, al: Alphabet, shortish: boolean): Uint8Array {
  const r = b.rng;
  const n = al.words ? 8 : 16;
  if (r.chance(0.08)) return r.bytes(16); // arbitrary bytes now and then
  const v = new Uint8Array(16);
  for (let k = 0; k < n; k++) putEl(v, al.words, k, r.pick(al.chars));
  if (r.chance(0.8)) {
    // A terminator; sets and needles (the first operand) tend to be short.
    const at = shortish && r.chance(0.6) ? r.range(0, Math.min(n - 1, 5)) : r.range(0, n - 1);
    putEl(v, al.words, at, 0);
    if (r.chance(0.3)) putEl(v, al.words, r.range(at, n - 1), 0); // a second zero after it
    if (r.chance(0.3)) for (let k = at + 1; k < n; k++) putEl(v, al.words, k, r.range(0, al.words ? 0xffff : 0xff));
  }
  return v;
}

/** Makes `a` a needle cut out of `b` (equal ordered finds it), maybe running off b's end. */
function needleFrom(b: Builder, a: Uint8Array, text: Uint8Array, words: boolean): void {
  const r = b.rng;
  const n = words ? 8 : 16;
  const from = r.range(0, n - 1);
  const len = r.range(1, n);
  for (let k = 0; k < len; k++) putEl(a, words, k, from + k < n ? getEl(text, words, from + k) : r.range(1, 0xff));
  if (len < n) putEl(a, words, len, 0);
}

/** Makes `a` ascending [lo, hi] pairs (ranges), around characters of the text. */
function rangesFrom(b: Builder, a: Uint8Array, text: Uint8Array, words: boolean): void {
  const r = b.rng;
  const n = words ? 8 : 16;
  for (let k = 0; k + 1 < n; k += 2) {
    const c = getEl(text, words, r.int(n));
    const lo = Math.max(0, c - r.int(4)), hi = Math.min(words ? 0xffff : 0xff, c + r.int(4));
    if (r.chance(0.15)) { putEl(a, words, k, hi); putEl(a, words, k + 1, lo); } // an empty (reversed) range
    else { putEl(a, words, k, lo); putEl(a, words, k + 1, hi); }
  }
}

/** An explicit length for rax/rdx. */
function lengthValue(b: Builder): bigint {
  const r = b.rng;
  switch (r.int(10)) {
    case 0: case 1: case 2: return BigInt(r.range(0, 17));
    case 3: case 4: return BigInt(-r.range(1, 17));
    case 5: return BigInt(r.range(-40, 40));
    case 6: return r.pick([-(1n << 31n), (1n << 31n) - 1n, 1n << 31n, 1n << 32n, (1n << 32n) + 3n, -(1n << 63n), (1n << 63n) - 1n, -(1n << 32n) + 5n]);
    case 7: return BigInt(r.range(-0x80, 0x80)) << BigInt(r.range(4, 60));
    default: return r.u64();
  }
}

// ---- pcmpestri / pcmpestrm / pcmpistri / pcmpistrm --------------------------------------------------

const STR: [string, number, boolean][] = [
  // name, opcode (66 0f 3a xx), explicit lengths (rax, rdx)
  ['pcmpestrm', 0x60, true],
  ['pcmpestri', 0x61, true],
  ['pcmpistrm', 0x62, false],
  ['pcmpistri', 0x63, false],
];

for (const [mn, op, explicit] of STR) {
  for (const k of ['r', 'm'] as const) {
    for (const w of explicit ? [false, true] : [false]) {
      add({
        id: `${mn} xmm, ${k === 'r' ? 'xmm' : 'm128'}, imm8 (66 ${w ? 'rex.w ' : ''}0f 3a ${hex(op)})`,
        family: 'sse42-str', isa: [mn], seq: true, body: true, producer: true, weight: 3,
        gen: (b: Builder, f: Form) => {
          const r = b.rng;
          // Every imm8; bit 7 (ignored) less often.
          const immv = r.int(r.chance(0.85) ? 128 : 256);
          const words = (immv & 1) !== 0;
          const al = alphabet(b, words);
          const text = strData(b, al, false);
          const set = strData(b, al, true);
          const agg = (immv >> 2) & 3;
          if (agg === 3 && r.chance(0.6)) needleFrom(b, set, text, words);
          if (agg === 1 && r.chance(0.6)) rangesFrom(b, set, text, words);
          if (agg === 2 && r.chance(0.4)) { set.set(text); if (r.chance(0.7)) putEl(set, words, r.int(words ? 8 : 16), r.pick(al.chars)); }
          if (explicit && !b.seq) {
            // (Sequences run with whatever rax/rdx hold.)
            b.claim(0, 2);
            b.setReg(0, lengthValue(b), w ? 8 : 4);
            b.setReg(2, lengthValue(b), w ? 8 : 4);
          }
          const d: Xmm = b.xreg();
          let src: Xmm | Mem;
          if (k === 'm') {
            src = b.mem(16); // no alignment requirement
            b.data.set(text, b.lastOff);
          } else {
            src = b.xreg();
            if (src.n === d.n && r.chance(0.7)) src = xmm((src.n + 1 + r.int(15)) % 16);
            b.xmm.set(text, src.n * 16);
          }
          if (src.kind === 'mem' || src.n !== d.n) b.xmm.set(set, d.n * 16);
          const ops: Operand[] = [d, src, imm(BigInt(immv), 1)];
          b.emit({ prefixes: [0x66], rexW: w, opcode: [0x0f, 0x3a, op], reg: d, rm: src, imms: [[BigInt(immv), 1]] },
            { form: f.id, mn, ops, writes: ARITH });
        },
      });
    }
  }
}

// ---- crc32 ---------------------------------------------------------------------------------------------

for (const [dw, sw, op] of [[4, 1, 0xf0], [4, 2, 0xf1], [4, 4, 0xf1], [8, 1, 0xf0], [8, 8, 0xf1]] as [4 | 8, 1 | 2 | 4 | 8, number][]) {
  for (const k of ['r', 'm'] as const) {
    const enc = `${sw === 2 ? '66 ' : ''}f2 ${dw === 8 ? 'rex.w ' : ''}0f 38 ${hex(op)}`;
    add({
      id: `crc32 r${dw * 8}, ${k === 'r' ? 'r' : 'm'}${sw * 8} (${enc})`,
      family: 'sse42-crc32', isa: ['crc32'], seq: true, body: true,
      gen: (b, f) => {
        const d = b.reg(dw);
        const s = k === 'r' ? b.reg(sw) : b.mem(sw);
        b.emit({ prefixes: [0xf2], osize: sw === 2 ? 2 : undefined, rexW: dw === 8, opcode: [0x0f, 0x38, op], reg: d, rm: s },
          { form: f.id, mn: 'crc32', ops: [d, s] });
      },
    });
  }
}

// ---- pcmpgtq ---------------------------------------------------------------------------------------------

for (const k of ['r', 'm'] as const) {
  add({
    id: `pcmpgtq xmm, ${k === 'r' ? 'xmm' : 'm128'} (66 0f 38 37)`,
    family: 'sse42-int', isa: ['pcmpgtq'], seq: true, body: true,
    gen: (b, f) => {
      const d = b.xreg();
      const s = k === 'r' ? b.xreg() : b.mem(16, { align: 16 });
      if (b.rng.chance(0.3)) {
        // Equal and nearly equal qwords, sign boundaries.
        const q = [0n, 1n, -1n, 1n << 63n, (1n << 63n) - 1n, b.rng.u64()];
        const dv = new DataView(b.xmm.buffer, d.n * 16, 16);
        for (let l = 0; l < 2; l++) {
          const x = b.rng.pick(q);
          dv.setBigUint64(l * 8, BigInt.asUintN(64, x), true);
          const y = BigInt.asUintN(64, x + BigInt(b.rng.range(-1, 1)));
          if (s.kind === 'mem') b.setMem(b.lastOff + l * 8, y, 8);
          else if (s.n !== d.n) new DataView(b.xmm.buffer, s.n * 16, 16).setBigUint64(l * 8, y, true);
        }
      }
      b.emit({ prefixes: [0x66], opcode: [0x0f, 0x38, 0x37], reg: d, rm: s }, { form: f.id, mn: 'pcmpgtq', ops: [d, s] });
    },
  });
}

// ---- faulting forms (--signals) ---------------------------------------------------------------------

add({
  id: 'fault: pcmpistri from an unmapped page (#PF, SIGSEGV)', family: 'fault', isa: ['pcmpistri'], seq: false, fault: true,
  gen: (b, f) => {
    const base = b.reg(8);
    b.setReg(base.n, BigInt(b.rng.pick([0, 0x1000, 0x8000, 0x0fff_f000])), 8);
    const d = b.xreg();
    b.emit({ prefixes: [0x66], opcode: [0x0f, 0x3a, 0x63], reg: d, rm: { kind: 'mem', base: base.n, index: -1, scale: 1, disp: b.rng.range(0, 0xff), size: 16 }, imms: [[BigInt(b.rng.int(128)), 1]] },
      { form: f.id, mn: 'pcmpistri' });
  },
});
add({
  id: 'fault: pcmpgtq from a misaligned address (#GP, SIGSEGV)', family: 'fault', isa: ['pcmpgtq'], seq: false, fault: true,
  gen: (b, f) => {
    const m = b.mem(16);
    if ((b.layout.mem + b.lastOff) % 16 === 0) throw new Retry('aligned');
    b.emit({ prefixes: [0x66], opcode: [0x0f, 0x38, 0x37], reg: b.xreg(), rm: m }, { form: f.id, mn: 'pcmpgtq' });
  },
});
