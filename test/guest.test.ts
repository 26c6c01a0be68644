/**
 * Differential tests: every C program in test/guest is compiled with `gcc -O2 -static` (plus its
 * `// CFLAGS:`), run natively and under usmjit with the same arguments, environment and standard
 * input, and the two runs must agree on stdout, exit status and stderr. For a program that dies of
 * a signal natively, only stdout and the status are compared, and usmjit must say why on stderr
 * with a line starting `usmjit:`.
 *
 * Directives in a test program (see test/helpers/guest.ts): `// CFLAGS:`, `// ARGS:`, `// STDIN:`,
 * `// EXIT:` (the expected native status, checked so a broken test program is noticed) and
 * `// XFAIL: reason` (a known emulator gap: the test must fail until the gap is closed).
 */
import { existsSync } from 'node:fs';
import { assert, beforeAll, describe, expect, it } from 'vitest';
import {
  CLI_PATH,
  compileC,
  describeRun,
  diedBySignal,
  exitStatus,
  firstDifference,
  GUEST_ENV,
  listGuests,
  runNative,
  runUsmjit,
  type GuestSpec,
} from './helpers/guest.js';

const guests = listGuests();

function check(spec: GuestSpec): void {
  const bin = compileC(spec.file);
  const opts = { args: spec.args, input: spec.stdin, env: { ...GUEST_ENV } };

  const native = runNative(bin, opts);
  expect(native.timedOut, `native run of ${spec.name} timed out`).toBe(false);
  expect(exitStatus(native), `native run of ${spec.name} (the test program itself): ${describeRun(native)}`).toBe(spec.exit);

  const emu = runUsmjit(bin, opts);
  const what = `usmjit ${spec.name}: ${describeRun(emu)}`;
  expect(emu.timedOut, what).toBe(false);
  expect(emu.error, what).toBeUndefined();

  const diff = firstDifference(native.stdout, emu.stdout);
  if (diff !== null) assert.fail(`stdout of ${spec.name} differs (usmjit ${describeRun(emu)})\n${diff}`);
  expect(exitStatus(emu), `exit status of ${spec.name}: ${what}`).toBe(exitStatus(native));

  if (diedBySignal(native)) {
    expect(emu.stderr, `usmjit must explain the fatal signal on stderr`).toMatch(/^usmjit:/m);
  } else {
    const ediff = firstDifference(native.stderr, emu.stderr);
    if (ediff !== null) assert.fail(`stderr of ${spec.name} differs\n${ediff}`);
  }
}

describe('guest programs: native vs usmjit', () => {
  beforeAll(() => {
    if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} is missing: run \`npm run build\` first (npm test does)`);
  });

  it('has test programs', () => {
    expect(guests.length).toBeGreaterThanOrEqual(32);
  });

  for (const spec of guests) {
    const title = spec.xfail ? `${spec.name} (XFAIL: ${spec.xfail})` : spec.name;
    if (spec.xfail) it.fails(title, () => check(spec));
    else it(title, () => check(spec));
  }
});
