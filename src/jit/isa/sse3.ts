import type { Family, EmitFn } from './types.js';
import { packedWith, shuffleInto } from './sse.js';
import { SIMD, T } from '../wasm/encoder.js';
import { flagBody } from './sse-bodies.js';
import { guardFlags, L32, L64, stageV, vecGuard } from './sse-flags.js';

/**
 * SSE3 (legacy encodings): addsub, horizontal add/subtract, movddup/movshdup/movsldup. lddqu is in
 * sse.ts (an unaligned move) and fisttp in x87.ts. Float arithmetic is Wasm SIMD, which V8 lowers
 * to the same SSE instructions, so NaN propagation (the first operand's NaN wins) matches the CPU
 * as long as every x86 `a op b` is emitted with a first. Each ends with the flags guard of
 * sse-flags.ts.
 */

const F32 = { add: SIMD.f32x4_add, sub: SIMD.f32x4_sub } as const;
const F64 = { add: SIMD.f64x2_add, sub: SIMD.f64x2_sub } as const;

/** Byte lanes of dwords `ws` (0-3 = first vector, 4-7 = second). */
const dw = (...ws: number[]) => ws.flatMap((w) => [w * 4, w * 4 + 1, w * 4 + 2, w * 4 + 3]);
const qw = (...ws: number[]) => ws.flatMap((w) => [0, 1, 2, 3, 4, 5, 6, 7].map((b) => w * 8 + b));

/** addsubps/addsubpd: even lanes dst - src, odd lanes dst + src. */
function addsub(dbl: boolean): EmitFn {
  const op = dbl ? F64 : F32;
  return packedWith((e, a, b) => {
    const f = e.f;
    f.get(a).get(b).simd(op.sub);
    f.get(a).get(b).simd(op.add);
    f.shuffle(dbl ? qw(0, 3) : dw(0, 5, 2, 7));
  }, (e, i, env, a, b, r, commit) => {
    guardFlags(e, env, vecGuard(e, { k: 'add', neg: 0b0101 }, { F: dbl ? L64 : L32, sel: 0xf, a, b, r }, stageV(e, a, b), flagBody(i), commit));
  });
}

/**
 * haddps/hsubps/haddpd/hsubpd: pairs of adjacent lanes, dst's pairs in the low half of the result,
 * src's in the high half; each result is even lane op odd lane.
 */
function horizontal(dbl: boolean, sub: boolean): EmitFn {
  const op = (dbl ? F64 : F32)[sub ? 'sub' : 'add'];
  const even = dbl ? qw(0, 2) : dw(0, 2, 4, 6);
  const odd = dbl ? qw(1, 3) : dw(1, 3, 5, 7);
  return packedWith((e, a, b) => {
    const f = e.f;
    f.get(a).get(b).shuffle(even);
    f.get(a).get(b).shuffle(odd);
    f.simd(op);
  }, (e, i, env, a, b, r, commit) => {
    // The guard sees the result lane by lane: even lanes op odd lanes.
    const f = e.f;
    const x = f.temp(T.v128), y = f.temp(T.v128);
    f.get(a).get(b).shuffle(even).set(x);
    f.get(a).get(b).shuffle(odd).set(y);
    guardFlags(e, env, vecGuard(e, { k: 'add', neg: sub ? 0xf : 0 }, { F: dbl ? L64 : L32, sel: 0xf, a: x, b: y, r }, stageV(e, a, b), flagBody(i), commit));
    f.free(T.v128, x); f.free(T.v128, y);
  });
}

export const sse3: Family = {
  addsubps: addsub(false), addsubpd: addsub(true),
  haddps: horizontal(false, false), hsubps: horizontal(false, true),
  haddpd: horizontal(true, false), hsubpd: horizontal(true, true),
  // movddup's memory operand is an m64 (loadV zero-extends it); the others read a whole m128.
  movddup: (e, i) => shuffleInto(e, i.ops[0], i.ops[1], null, qw(0, 0)),
  movshdup: (e, i) => shuffleInto(e, i.ops[0], i.ops[1], null, dw(1, 1, 3, 3)),
  movsldup: (e, i) => shuffleInto(e, i.ops[0], i.ops[1], null, dw(0, 0, 2, 2)),
};
