/**
 * Differential tests on a real static binary nobody here wrote: Debian's busybox-static. Each
 * applet runs natively and under usmjit with the same arguments, environment and input; stdout,
 * stderr and the exit status must agree.
 *
 * busybox is required, not optional: CI installs it (.ci/run). Without it these tests fail.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, assert, beforeAll, describe, expect, it } from 'vitest';
import {
  BUSYBOX,
  CLI_PATH,
  describeRun,
  exitStatus,
  firstDifference,
  GUEST_ENV,
  requireBusybox,
  runNative,
  runUsmjit,
} from './helpers/guest.js';


let tmp: string | undefined;
let dataFile = '';

/** 1 MiB of deterministic bytes. */
function data(): Buffer {
  const b = Buffer.alloc(1 << 20);
  let x = 0x12345678;
  for (let i = 0; i < b.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    b[i] = x >>> 23;
  }
  return b;
}

/** Lines "line 0001".."line 0300" in a fixed shuffled order, with duplicates and mixed case. */
function shuffledLines(): string {
  const lines: string[] = [];
  for (let i = 0; i < 300; i++) lines.push(`line ${String(i).padStart(4, '0')}`);
  lines.push('Zebra', 'apple', 'Apple', 'apple', '', '42', '7', 'line 0100');
  let s = 7;
  for (let i = lines.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [lines[i], lines[j]] = [lines[j], lines[i]];
  }
  return lines.join('\n') + '\n';
}

interface Case {
  name: string;
  args: () => string[];
  input?: () => string;
  status: number;
  /** Checks of the native output, so the test notices if it is testing nothing. */
  expectStdout?: (out: string) => void;
}

const cases: Case[] = [
  { name: 'echo', args: () => ['echo', 'hello', 'world'], status: 0, expectStdout: (o) => expect(o).toBe('hello world\n') },
  {
    name: 'sha256sum',
    args: () => ['sha256sum', dataFile],
    status: 0,
    expectStdout: (o) => expect(o).toBe(`${createHash('sha256').update(data()).digest('hex')}  ${dataFile}\n`),
  },
  {
    name: 'sort',
    args: () => ['sort'],
    input: shuffledLines,
    status: 0,
    expectStdout: (o) => expect(o.split('\n').length).toBe(309),
  },
  {
    name: 'sh for loop',
    args: () => ['sh', '-c', 'for i in 1 2 3; do echo $i; done'],
    status: 0,
    expectStdout: (o) => expect(o).toBe('1\n2\n3\n'),
  },
  { name: 'true', args: () => ['true'], status: 0, expectStdout: (o) => expect(o).toBe('') },
  { name: 'false', args: () => ['false'], status: 1, expectStdout: (o) => expect(o).toBe('') },
  { name: 'wc -l', args: () => ['wc', '-l'], input: shuffledLines, status: 0, expectStdout: (o) => expect(o.trim()).toBe('308') },
  {
    name: 'seq 1 20',
    args: () => ['seq', '1', '20'],
    status: 0,
    expectStdout: (o) => expect(o).toBe(Array.from({ length: 20 }, (_, i) => `${i + 1}\n`).join('')),
  },
  { name: 'expr 6 * 7', args: () => ['expr', '6', '*', '7'], status: 0, expectStdout: (o) => expect(o).toBe('42\n') },
];

describe('busybox: native vs usmjit', () => {
  beforeAll(() => {
    if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} is missing: run \`npm run build\` first (npm test does)`);
    tmp = mkdtempSync(join(tmpdir(), 'usmjit-busybox-'));
    dataFile = join(tmp, 'data.bin');
    writeFileSync(dataFile, data());
  });
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('busybox-static is installed', () => {
    requireBusybox();
  });

  for (const c of cases) {
    it(c.name, () => {
      requireBusybox();
      const opts = { args: c.args(), input: c.input?.() ?? '', env: { ...GUEST_ENV } };
      const native = runNative(BUSYBOX, opts);
      expect(exitStatus(native), `native busybox ${c.name}: ${describeRun(native)}`).toBe(c.status);
      c.expectStdout?.(native.stdout);

      const emu = runUsmjit(BUSYBOX, opts);
      const what = `usmjit busybox ${c.name}: ${describeRun(emu)}`;
      expect(emu.timedOut, what).toBe(false);
      const diff = firstDifference(native.stdout, emu.stdout);
      if (diff !== null) assert.fail(`stdout differs (${what})\n${diff}`);
      expect(exitStatus(emu), what).toBe(exitStatus(native));
      const ediff = firstDifference(native.stderr, emu.stderr);
      if (ediff !== null) assert.fail(`stderr differs\n${ediff}`);
    });
  }
});
