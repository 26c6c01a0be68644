/**
 * The benchmark history: one entry per recorded run of a benchmark suite (`npm run bench`,
 * `npm run bench:usm`), kept in the repository under bench/history/ as one JSON file per run (so two
 * branches that both record never conflict in git). A `.jsonl` file (one entry per line) reads as a
 * history too; the test fixtures use that.
 *
 * The format is generic over benchmark names and kinds: a run has whatever rows its runner
 * produced, and the page and the regression check take them all. bench/history/README.md
 * describes the fields.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const SCHEMA = 1;

/** What the regression check compares machines by (bench/check.ts): runs on another description are ignored. */
export interface Machine {
  /** CPU model name as the kernel reports it. */
  cpu: string;
  cores: number;
  /** `process.version`, e.g. v20.20.2. */
  node: string;
  /** `process.versions.v8`. */
  v8: string;
}

/** One benchmark of one run. Times are in `unit`; `ratio` is usmjit / native, the figure tracked over time. */
export interface HistoryRow {
  /** Unique within the run, stable across runs (the chart's identity). */
  name: string;
  /** A family of rows: `compute`, `startup`, `usm`, ... (the page groups and labels by it). */
  group?: string;
  /** Unit of native, usmjit and qemu: `s`, `ms`, `ns/op`. */
  unit: string;
  native?: number;
  usmjit?: number;
  /** qemu-x86_64 on the same program, when it was installed. */
  qemu?: number;
  ratio?: number;
  /** `ok`, or why the row has no usable ratio (FAIL, MISMATCH, timeout, unsupported...). Only ok rows are compared. */
  status: string;
  note?: string;
  /** Translation figures from usmjit's --stats, e.g. insns, blocks, compileMs. */
  translation?: Record<string, number>;
  /** Further measured columns in `unit`, e.g. linbench under usmjit. */
  extra?: Record<string, number>;
}

export interface HistoryEntry {
  schema: number;
  /** The npm script that produced it: `bench` or `bench:usm`. */
  suite: string;
  /** When the run was recorded (ISO 8601). */
  date: string;
  commit: string;
  /** Committer date of the commit (ISO 8601): the history's order. */
  commitDate: string;
  /** First line of the commit message. */
  subject: string;
  /** The working tree had uncommitted changes outside bench/history. */
  dirty?: boolean;
  /** Recorded afterwards by bench/seed-history.ts from the commit's printed table. */
  seeded?: boolean;
  machine: Machine;
  /** The runner's options that change what was measured (runs, scale, only...). */
  options?: Record<string, unknown>;
  rows: HistoryRow[];
}

/** Drops undefined fields so that the stored JSON has only what was measured. */
export function clean(row: HistoryRow): HistoryRow {
  for (const k of Object.keys(row) as (keyof HistoryRow)[]) if (row[k] === undefined) delete row[k];
  return row;
}

/** Same machine description, for the regression check's "same machine" rule. */
export function machineKey(m: Machine): string {
  return `${m.cpu} | ${m.cores} cores | node ${m.node} | V8 ${m.v8}`;
}

/** History order: by commit date, then by run date (several runs of one commit stay in recording order). */
export function byHistoryOrder(a: HistoryEntry, b: HistoryEntry): number {
  const c = Date.parse(a.commitDate) - Date.parse(b.commitDate);
  return c !== 0 ? c : Date.parse(a.date) - Date.parse(b.date);
}

/** Rejects what the page and the check could not use, naming the source and the field. */
export function validateEntry(e: unknown, where: string): HistoryEntry {
  const bad = (why: string): never => {
    throw new Error(`${where}: not a history entry: ${why}`);
  };
  if (typeof e !== 'object' || e === null) bad('not an object');
  const x = e as Partial<HistoryEntry>;
  for (const k of ['suite', 'date', 'commit', 'commitDate'] as const) if (typeof x[k] !== 'string') bad(`${k} is not a string`);
  if (Number.isNaN(Date.parse(x.date!)) || Number.isNaN(Date.parse(x.commitDate!))) bad('date or commitDate is not a date');
  if (typeof x.machine !== 'object' || x.machine === null) bad('no machine');
  if (!Array.isArray(x.rows)) bad('rows is not an array');
  const names = new Set<string>();
  for (const r of x.rows!) {
    if (typeof r?.name !== 'string' || typeof r.status !== 'string' || typeof r.unit !== 'string') bad('a row lacks name, unit or status');
    if (names.has(r.name)) bad(`row ${r.name} appears twice`);
    names.add(r.name);
  }
  return { subject: '', ...x } as HistoryEntry;
}

function readJsonl(file: string): HistoryEntry[] {
  const out: HistoryEntry[] = [];
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (line.trim()) out.push(validateEntry(JSON.parse(line), `${file}:${i + 1}`));
    });
  return out;
}

/**
 * Every entry of a history directory (its *.json and *.jsonl files) or of one .jsonl file, in
 * history order. A missing directory is an empty history.
 */
export function readHistory(path: string): HistoryEntry[] {
  if (!existsSync(path)) return [];
  const entries: HistoryEntry[] = [];
  if (statSync(path).isDirectory()) {
    for (const f of readdirSync(path).sort()) {
      const file = join(path, f);
      if (f.endsWith('.jsonl')) entries.push(...readJsonl(file));
      else if (f.endsWith('.json')) entries.push(validateEntry(JSON.parse(readFileSync(file, 'utf8')), file));
    }
  } else {
    entries.push(...readJsonl(path));
  }
  return entries.sort(byHistoryOrder);
}

/** The file an entry is stored in: date, suite and commit, so names sort by recording time and never collide in practice. */
export function entryFileName(e: HistoryEntry): string {
  const stamp = e.date.replace(/[-:]/g, '').replace(/\.\d+/, '');
  return `${stamp}-${e.suite.replace(/[^A-Za-z0-9_]+/g, '-')}-${e.commit.slice(0, 10)}.json`;
}

/** Appends a run to the history directory (never over an earlier file); returns the file written. */
export function appendEntry(dir: string, e: HistoryEntry): string {
  mkdirSync(dir, { recursive: true });
  const name = entryFileName(e);
  let file = join(dir, name);
  for (let n = 2; existsSync(file); n++) file = join(dir, name.replace(/\.json$/, `-${n}.json`));
  writeFileSync(file, JSON.stringify(e, null, 1) + '\n');
  return file;
}
