/**
 * Reads the markdown tables that `npm run bench` and `npm run bench:usm` print, back into history
 * rows. Old commits have no --record, so bench/seed-history.ts runs their own runner and parses
 * its output. Columns are found by their header, so a table with columns added or moved (a qemu
 * column, say) still reads.
 */
import { clean, type HistoryRow } from './history.js';

export interface Table {
  header: string[];
  rows: string[][];
}

const cells = (line: string): string[] => line.trim().replace(/^\|/, '').replace(/\|$/, '').split('|').map((c) => c.trim());

/** Every `| a | b |` table in the text: a header line, a `|---|` line, then rows. */
export function parseTables(text: string): Table[] {
  const lines = text.split('\n');
  const out: Table[] = [];
  for (let i = 0; i + 1 < lines.length; i++) {
    if (!lines[i].trim().startsWith('|') || !/^\s*\|[\s|:-]+\|\s*$/.test(lines[i + 1])) continue;
    const t: Table = { header: cells(lines[i]), rows: [] };
    for (i += 2; i < lines.length && lines[i].trim().startsWith('|'); i++) t.rows.push(cells(lines[i]));
    out.push(t);
  }
  return out;
}

/** A plain number cell, or undefined for `-`, FAIL and other words. */
function num(cell: string | undefined): number | undefined {
  if (cell === undefined || !/^-?[0-9]+(\.[0-9]+)?$/.test(cell)) return undefined;
  return Number(cell);
}

/** The column whose header matches, or -1. */
const col = (t: Table, re: RegExp): number => t.header.findIndex((h) => re.test(h));

/** What a non-number cell says, shortened: `FAIL (timeout)` -> FAIL, with the rest as the note. */
function verdict(cell: string): { status: string; note?: string } {
  const m = /^([A-Z][A-Z ]*[A-Z])\s*(?:\((.*)\))?$/.exec(cell);
  if (m) return { status: m[1], note: m[2] };
  return { status: cell || 'missing' };
}

function ratioOf(usmjit: number | undefined, native: number | undefined): number | undefined {
  return usmjit !== undefined && native !== undefined && native > 0 ? usmjit / native : undefined;
}

/** `npm run bench`'s workload table (`| workload | native s | usmjit s | ratio | ... |`). */
export function benchRows(t: Table): HistoryRow[] {
  const iNative = col(t, /^native s$/), iUsm = col(t, /^usmjit s$/), iQemu = col(t, /^qemu s$/), iRatio = col(t, /^ratio$/);
  const iGroup = col(t, /^group$/), iCpu = col(t, /^usmjit cpu s$/);
  const figures: [number, string][] = [
    [col(t, /^guest insns/), 'insns'],
    [col(t, /^blocks$/), 'blocks'],
    [col(t, /^compile ms$/), 'compileMs'],
  ];
  return t.rows.map((c) => {
    const native = num(c[iNative]), usmjit = num(c[iUsm]);
    const row: HistoryRow = { name: c[0], group: (iGroup >= 0 && c[iGroup]) || 'compute', unit: 's', native, usmjit, status: 'ok' };
    if (iQemu >= 0 && num(c[iQemu]) !== undefined) row.qemu = num(c[iQemu]);
    if (iCpu >= 0 && num(c[iCpu]) !== undefined) row.extra = { usmjitCpu: num(c[iCpu])! };
    row.ratio = ratioOf(usmjit, native);
    if (usmjit === undefined) Object.assign(row, verdict(c[iUsm] ?? ''));
    else if (/MISMATCH/.test(c[iRatio] ?? '')) row.status = 'MISMATCH';
    const tr: Record<string, number> = {};
    for (const [i, k] of figures) if (i >= 0 && num(c[i]) !== undefined) tr[k] = num(c[i])!;
    if (Object.keys(tr).length) row.translation = tr;
    return clean(row);
  });
}

/** `npm run bench`'s start-up table (`| program | native ms | usmjit ms | qemu ms |`). */
export function startupRows(t: Table): HistoryRow[] {
  const iNative = col(t, /^native ms$/), iUsm = col(t, /^usmjit ms$/), iQemu = col(t, /^qemu ms$/);
  return t.rows.map((c) => {
    const native = num(c[iNative]), usmjit = num(c[iUsm]);
    const row: HistoryRow = { name: c[0], group: 'startup', unit: 'ms', native, usmjit, ratio: ratioOf(usmjit, native), status: 'ok' };
    if (iQemu >= 0 && num(c[iQemu]) !== undefined) row.qemu = num(c[iQemu]);
    if (usmjit === undefined) Object.assign(row, verdict(c[iUsm] ?? ''));
    return clean(row);
  });
}

/**
 * `npm run bench:usm`'s table: usmbench under usmjit against linbench natively, per primitive, in ns
 * per operation; linbench under usmjit as an extra column.
 */
export function usmRows(t: Table): HistoryRow[] {
  const iUsm = col(t, /^usmbench .*ns$/), iLinUsm = col(t, /^linbench \(usmjit\) ns$/), iNative = col(t, /^linbench \(native\) ns$/);
  return t.rows.map((c) => {
    const usmjit = num(c[iUsm]), native = num(c[iNative]), linUsm = num(c[iLinUsm]);
    const row: HistoryRow = { name: c[0], group: 'usm', unit: 'ns/op', native, usmjit, ratio: ratioOf(usmjit, native), status: 'ok' };
    if (linUsm !== undefined) row.extra = { linbenchUsmjit: linUsm };
    if (row.ratio === undefined) {
      row.status = usmjit === undefined ? `usmbench: ${c[iUsm] || 'missing'}` : `linbench native: ${c[iNative] || 'missing'}`;
    }
    return clean(row);
  });
}

/** All rows of one `npm run bench` output: the workload table and the start-up table. */
export function parseBenchOutput(stdout: string): HistoryRow[] {
  const rows: HistoryRow[] = [];
  for (const t of parseTables(stdout)) {
    if (t.header[0] === 'workload') rows.push(...benchRows(t));
    else if (t.header[0] === 'program') rows.push(...startupRows(t));
  }
  return rows;
}

/** All rows of one `npm run bench:usm` output. */
export function parseUsmOutput(stdout: string): HistoryRow[] {
  return parseTables(stdout)
    .filter((t) => t.header[0] === 'test')
    .flatMap(usmRows);
}
