/**
 * Differential test of SSE floating point in both of usmjit's flavours (streams.ts): the same
 * fixed-seed cases of the float forms (arithmetic, compares, conversions, SSE3/SSE4.1 float ops,
 * ldmxcsr/stmxcsr, alone and in sequences), once in the fast flavour (MXCSR's default control
 * with random sticky flags; usmjit pinned to its inline translations and their flag guards,
 * src/jit/isa/sse-flags.ts) and once in the precise one (a random rounding mode, DAZ, FTZ and
 * flags; usmjit pinned to src/jit/isa/sse-precise.ts), MXCSR compared bit for bit in both.
 */
import { describe, it } from 'vitest';
import { expectStreamPasses } from './expect-stream.js';
import { stream } from './streams.js';

describe('differential floating-point test, both SSE flavours (native CPU vs usmjit)', () => {
  for (const name of ['fp-fast', 'fp-precise']) {
    const s = stream(name);
    it(`${s.options.cases} floating-point cases, ${s.flavour} flavour, seed ${s.options.seed}`, () => expectStreamPasses(s), 900_000);
  }
});
