/**
 * The seeding parser (bench/tables.ts): the tables `npm run bench` and `npm run bench:usm` print,
 * as old commits print them, back into history rows; columns are found by header.
 */
import { describe, expect, it } from 'vitest';
import { parseBenchOutput, parseTables, parseUsmOutput } from '../../bench/tables.js';

const BENCH = `| workload | native s | usmjit s | ratio | guest insns translated | blocks | compile ms |
|---|---:|---:|---:|---:|---:|---:|
| crc32 | 1.167 | 4.883 | 4.2x | 9121 | 1996 | 1206.6 |
| interp | 0.674 | FAIL (timeout) | - | 8898 | 1949 | 886.4 |
| sieve | 0.708 | 4.625 | 6.5x MISMATCH | - | - | - |

Median ratio (usmjit / native) over 1 of 3 workloads: **4.18x**

Start-up (wall time, median of 3 runs):

| program | native ms | usmjit ms |
|---|---:|---:|
| static hello world | 7.0 | 1073.7 |
| busybox true | 9.9 | FAIL (exit 1) |
`;

const USM = `| test | usmbench (usmjit) ns | linbench (usmjit) ns | linbench (native) ns | usm/native ratio | linbench usmjit/native |
|---|---:|---:|---:|---:|---:|
| syscall | 393.1 | 704.2 | 1333.5 | 0.29x | 0.53x |
| watchpoint | 45487.1 | unsupported | FAIL | - | - |
| timer | - | 23459.0 | 26130.9 | - | 0.90x |
`;

/** Today's table: one for both groups, with usmjit's CPU time and qemu-user's columns. */
const BENCH_PROGRAMS = `| workload | group | native s | usmjit s | usmjit cpu s | qemu s | ratio | qemu ratio | guest insns translated | blocks | compile ms |
|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|
| crc32 | compute | 1.000 | 4.000 | 4.500 | 2.000 | 4.0x | 2.0x | 9121 | 1996 | 1206.6 |
| bash-loop | programs | - | MISSING (/bin/bash-static missing (apt-get install bash-static)) | - | - | - | - | - | - | - |
| md5sum | programs | 0.100 | 5.000 | 6.000 | not installed | 50.0x | - | 13562 | 2901 | 485.6 |

| program | native ms | usmjit ms | qemu ms |
|---|---:|---:|---:|
| static hello world | 1.0 | 500.0 | 20.0 |
`;

describe('seeding parser', () => {
  it('reads the group, CPU time and qemu columns of the combined table', () => {
    const rows = parseBenchOutput(BENCH_PROGRAMS);
    expect(rows.map((r) => `${r.name}:${r.group}:${r.status}`)).toEqual([
      'crc32:compute:ok',
      'bash-loop:programs:MISSING',
      'md5sum:programs:ok',
      'static hello world:startup:ok',
    ]);
    expect(rows[0]).toMatchObject({ native: 1, usmjit: 4, qemu: 2, ratio: 4, extra: { usmjitCpu: 4.5 } });
    expect(rows[2].qemu).toBeUndefined();
    expect(rows[3]).toMatchObject({ qemu: 20, usmjit: 500 });
  });

  it('reads every table with its header', () => {
    const t = parseTables(BENCH);
    expect(t.map((x) => x.header[0])).toEqual(['workload', 'program']);
    expect(t[0].rows).toHaveLength(3);
  });

  it('turns the bench tables into rows with ratios and translation figures', () => {
    const rows = parseBenchOutput(BENCH);
    expect(rows.map((r) => `${r.name}:${r.group}:${r.status}`)).toEqual([
      'crc32:compute:ok',
      'interp:compute:FAIL',
      'sieve:compute:MISMATCH',
      'static hello world:startup:ok',
      'busybox true:startup:FAIL',
    ]);
    expect(rows[0]).toEqual({
      name: 'crc32',
      group: 'compute',
      unit: 's',
      native: 1.167,
      usmjit: 4.883,
      ratio: 4.883 / 1.167,
      status: 'ok',
      translation: { insns: 9121, blocks: 1996, compileMs: 1206.6 },
    });
    expect(rows[1]).toMatchObject({ native: 0.674, note: 'timeout' });
    expect(rows[1].ratio).toBeUndefined();
    expect(rows[3]).toMatchObject({ unit: 'ms', native: 7, usmjit: 1073.7 });
  });

  it('reads a qemu column wherever it is', () => {
    const withQemu = '| workload | native s | qemu s | usmjit s | ratio |\n|---|---:|---:|---:|---:|\n| sha256 | 0.5 | 1.5 | 3.0 | 6.0x |\n';
    expect(parseBenchOutput(withQemu)[0]).toMatchObject({ native: 0.5, qemu: 1.5, usmjit: 3, ratio: 6 });
  });

  it('turns the bench:usm table into ns per operation rows, usmbench against native linbench', () => {
    const rows = parseUsmOutput(USM);
    expect(rows[0]).toEqual({
      name: 'syscall',
      group: 'usm',
      unit: 'ns/op',
      native: 1333.5,
      usmjit: 393.1,
      ratio: 393.1 / 1333.5,
      status: 'ok',
      extra: { linbenchUsmjit: 704.2 },
    });
    expect(rows[1]).toMatchObject({ name: 'watchpoint', status: 'linbench native: FAIL', usmjit: 45487.1 });
    expect(rows[2]).toMatchObject({ name: 'timer', status: 'usmbench: -', native: 26130.9 });
  });
});
