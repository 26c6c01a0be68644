/**
 * Differential test: the `main` stream (streams.ts: a fixed-seed batch of every generated form,
 * faulting ones included through the harness's signal handlers) runs natively and under usmjit
 * (dist/src/cli.js, so `npm run build` first — `npm test` does) and must agree exactly (flags the
 * SDM leaves undefined masked; MXCSR bit for bit, usmjit pinned to its fast SSE flavour). The
 * floating-point streams are diff-fp.test.ts (a separate file: one Capstone decoder per process).
 */
import { describe, it } from 'vitest';
import { expectStreamPasses } from './expect-stream.js';
import { stream } from './streams.js';

describe('differential instruction test (native CPU vs usmjit)', () => {
  const s = stream('main');
  it(`${s.options.cases} generated cases, seed ${s.options.seed}, ${s.flavour} flavour`, () => expectStreamPasses(s), 900_000);
});
