/**
 * One stream of streams.ts run natively and under usmjit, as a test: every case must pass, the
 * real CLI must have run the harness, and the encoder's self-check must be clean. The run's log
 * (notes) is printed always, the failures when there are any.
 */
import { expect } from 'vitest';
import { runDiff } from './run.js';
import type { Stream } from './streams.js';

export async function expectStreamPasses(s: Stream): Promise<void> {
  const lines: string[] = [];
  const r = await runDiff({ ...s.options, log: (l) => lines.push(l) });
  // The run's notes (e.g. that vmcall is checked against the architecture on this host) are
  // printed also when everything passed.
  if (lines.length) console.log(lines.map((l) => `[${s.name}] ${l}`).join('\n'));
  const report = [...r.failures, `${r.passed} passed, ${r.failed} failed (${r.seconds.toFixed(1)} s, driver ${r.emu})`].join('\n\n');
  if (r.failed) console.log(report);
  expect(r.emu, 'the real CLI must have run the harness').toBe('cli');
  expect(r.encodingErrors, 'encoding self-check errors (see the log)').toBe(0);
  expect(r.failed, 'mismatches between the native CPU and usmjit (see the log)').toBe(0);
  expect(r.passed).toBe(s.options.cases);
}
