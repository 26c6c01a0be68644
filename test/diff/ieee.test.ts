/**
 * softfloat/ieee.ts: the host-double fast path (ieee-fast.ts) against the exact BigInt path, on
 * random operands near the fast path's range limits and in the middle, every rounding mode, with
 * and without DAZ/FTZ: results and flags must be identical. (The exact path itself is checked
 * against the CPU by the differential tests, diff-fp.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import * as S from '../../src/jit/softfloat/ieee.js';

function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x; };
}

describe('ieee.ts fast path vs exact path', () => {
  for (const F of [S.F32, S.F64]) {
    it(`binary${F === S.F32 ? 32 : 64}: add sub mul div sqrt`, () => {
      const r = rng(F === S.F32 ? 7 : 11);
      const bits = F.mb + F.eb + 1;
      const rnd = (): bigint => {
        // Biased exponents: all over, or near the edges of the fast path's range.
        const sign = BigInt(r() & 1);
        const emask = (1 << F.eb) - 1;
        const pick = r() % 4;
        const e = pick === 0 ? r() % (emask + 1) : pick === 1 ? (F.bias + (r() % 41) - 20) : pick === 2 ? (r() % 90) : emask - 1 - (r() % 90);
        let m = (BigInt(r()) << 32n | BigInt(r())) & F.mmask;
        if (r() % 4 === 0) m &= ~((1n << BigInt(r() % F.mb)) - 1n); // short significands: exact results
        return (sign << BigInt(bits - 1)) | (BigInt(e) << BigInt(F.mb)) | m;
      };
      const ops: [string, (a: bigint, b: bigint, env: S.Env) => bigint][] = [
        ['add', (a, b, env) => S.add(a, b, false, F, env)],
        ['sub', (a, b, env) => S.add(a, b, true, F, env)],
        ['mul', (a, b, env) => S.mul(a, b, F, env)],
        ['div', (a, b, env) => S.div(a, b, F, env)],
        ['sqrt', (a, _b, env) => S.sqrt(a, F, env)],
      ];
      let bad = 0;
      const msgs: string[] = [];
      for (let k = 0; k < 40000; k++) {
        const a = rnd(), b = r() % 3 === 0 ? (a ^ BigInt(r() & 0xff)) : rnd();
        const mx = 0x1f80 | ((r() & 3) << 13) | (r() % 4 === 0 ? 0x40 : 0) | (r() % 4 === 0 ? 0x8000 : 0);
        for (const [name, op] of ops) {
          S.tuning.fast = true;
          const e1 = S.envOf(mx);
          const r1 = op(a, b, e1);
          S.tuning.fast = false;
          const e2 = S.envOf(mx);
          const r2 = op(a, b, e2);
          S.tuning.fast = true;
          if (r1 !== r2 || e1.flags !== e2.flags) {
            bad++;
            if (msgs.length < 10) msgs.push(`${name} ${a.toString(16)} ${b.toString(16)} mxcsr=${mx.toString(16)}: fast ${r1.toString(16)}/${e1.flags} exact ${r2.toString(16)}/${e2.flags}`);
          }
        }
      }
      expect(msgs.join('\n')).toBe('');
      expect(bad).toBe(0);
    });
  }
});
