/**
 * Seeds bench/history with past commits, so that the dashboard starts with a real trend. Old
 * commits have no --record: each sampled commit is checked out in a temporary `git worktree`, its
 * own `npm run bench` (and `npm run bench:usm` where it exists with usmbench) runs there, and the
 * printed tables are parsed into history entries marked `seeded`.
 *
 *   node dist/bench/seed-history.js [--every N] [--max N] [--commits rev,rev] [--timeout SECONDS]
 *                                   [--usm-only name,name] [--history DIR] [--dry-run]
 *
 * --every N samples every Nth commit (first-parent, oldest first) among those whose package.json
 * has a `bench` script, leaving out HEAD (record that one with `npm run bench -- --record`); --max
 * keeps the newest N of the sample; --dry-run only lists the sample. A commit that fails to build or run is skipped and reported.
 * Run it with `nice -n 10`: it takes tens of minutes.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../test/helpers/guest.js';
import { appendEntry } from './history.js';
import { newEntry } from './record.js';
import { parseBenchOutput, parseUsmOutput } from './tables.js';

interface Options {
  every: number;
  max?: number;
  commits?: string[];
  timeoutS: number;
  usmOnly?: string;
  historyDir: string;
  dryRun: boolean;
}

function usage(msg?: string): never {
  if (msg) process.stderr.write(`seed-history: ${msg}\n`);
  process.stderr.write(
    'usage: node dist/bench/seed-history.js [--every N] [--max N] [--commits rev,rev] [--timeout SECONDS] [--usm-only name,name] [--history DIR] [--dry-run]\n',
  );
  process.exit(msg ? 2 : 0);
}

function parseOptions(argv: string[]): Options {
  const o: Options = { every: 10, timeoutS: 180, historyDir: join(ROOT, 'bench', 'history'), dryRun: false };
  const positive = (flag: string, v: string | undefined): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) usage(`${flag} needs a positive integer`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--every') o.every = positive(a, argv[++i]);
    else if (a === '--max') o.max = positive(a, argv[++i]);
    else if (a === '--commits') o.commits = (argv[++i] ?? '').split(',').filter(Boolean);
    else if (a === '--timeout') o.timeoutS = positive(a, argv[++i]);
    else if (a === '--usm-only') o.usmOnly = argv[++i];
    else if (a === '--history') o.historyDir = argv[++i] ?? usage('--history needs a directory');
    else if (a === '--dry-run') o.dryRun = true;
    else if (a === '-h' || a === '--help') usage();
    else usage(`unknown argument '${a}'`);
  }
  return o;
}

const log = (msg: string): void => void process.stderr.write(`seed-history: ${msg}\n`);

function git(args: string[], cwd = ROOT): string {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout;
}

function scriptsAt(commit: string): Record<string, string> {
  try {
    return (JSON.parse(git(['show', `${commit}:package.json`])) as { scripts?: Record<string, string> }).scripts ?? {};
  } catch {
    return {};
  }
}

/** Every Nth commit with `npm run bench`, oldest first, counted from the first one; HEAD left out. */
function sample(o: Options): string[] {
  if (o.commits) return o.commits.map((c) => git(['rev-parse', c]).trim());
  const all = git(['rev-list', '--first-parent', '--reverse', 'HEAD']).trim().split('\n').slice(0, -1);
  // The skeleton already named `bench` in package.json; the runner came later.
  const hasRunner = (c: string) => spawnSync('git', ['cat-file', '-e', `${c}:bench/run.ts`], { cwd: ROOT }).status === 0;
  const withBench = all.filter((c) => 'bench' in scriptsAt(c) && hasRunner(c));
  const picked = withBench.filter((_, i) => i % o.every === 0);
  return o.max ? picked.slice(-o.max) : picked;
}

/** Runs an npm script in the worktree; the stdout, or why it failed. */
function npmRun(dir: string, script: string, args: string[], timeoutMs: number): { stdout?: string; error?: string } {
  const r = spawnSync('npm', ['run', '--silent', script, '--', ...args], {
    cwd: dir,
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 64 << 20,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  writeFileSync(join(dir, `.seed-${script.replace(':', '-')}.log`), r.stderr ?? '');
  if (r.error) return { stdout: r.stdout, error: r.error.message };
  if (r.status !== 0 && !r.stdout?.includes('|---')) {
    // tsc reports compile errors on stdout, the runners theirs on stderr.
    const tail = `${r.stdout ?? ''}\n${r.stderr ?? ''}`.trim().split('\n').slice(-2).join(' / ');
    return { error: `exit ${r.status}: ${tail}` };
  }
  return { stdout: r.stdout };
}

interface Outcome {
  commit: string;
  seconds: number;
  recorded: string[];
  skipped: string[];
}

function seedOne(commit: string, o: Options, tmp: string): Outcome {
  const started = Date.now();
  const out: Outcome = { commit: commit.slice(0, 7), seconds: 0, recorded: [], skipped: [] };
  const dir = join(tmp, commit.slice(0, 10));
  git(['worktree', 'add', '--detach', '--force', dir, commit]);
  try {
    // package-lock.json has not changed over the project's history; when it has, install afresh.
    const sameLock = git(['show', `${commit}:package-lock.json`]) === readFileSync(join(ROOT, 'package-lock.json'), 'utf8');
    if (sameLock || !existsSync(join(ROOT, 'node_modules'))) symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
    else {
      const ci = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, encoding: 'utf8' });
      if (ci.status !== 0) throw new Error(`npm ci failed: ${ci.stderr.trim().split('\n').pop()}`);
    }
    const scripts = scriptsAt(commit);
    const timeoutMs = o.timeoutS * 1000;
    const benchArgs = ['--runs', '1', '--timeout', String(o.timeoutS), '--startup-runs', '3'];
    log(`${out.commit}: npm run bench -- ${benchArgs.join(' ')}`);
    const bench = npmRun(dir, 'bench', benchArgs, timeoutMs * 12);
    const rows = bench.stdout ? parseBenchOutput(bench.stdout) : [];
    if (bench.error || !rows.length) out.skipped.push(`bench (${bench.error ?? 'no table in its output'})`);
    else {
      appendEntry(o.historyDir, newEntry('bench', rows, { runs: 1, startupRuns: 3, timeoutS: o.timeoutS }, { commit }));
      out.recorded.push(`bench (${rows.length} rows)`);
    }
    if ('bench:usm' in scripts && existsSync(join(dir, 'bench', 'usm', 'usmbench.c'))) {
      const usmArgs = ['--timeout', String(o.timeoutS), ...(o.usmOnly ? ['--only', o.usmOnly] : [])];
      log(`${out.commit}: npm run bench:usm -- ${usmArgs.join(' ')}`);
      const usm = npmRun(dir, 'bench:usm', usmArgs, timeoutMs * 4);
      const urows = usm.stdout ? parseUsmOutput(usm.stdout) : [];
      if (usm.error || !urows.length) out.skipped.push(`bench:usm (${usm.error ?? 'no table in its output'})`);
      else {
        appendEntry(o.historyDir, newEntry('bench:usm', urows, { scale: 1, ...(o.usmOnly ? { only: o.usmOnly } : {}), timeoutS: o.timeoutS }, { commit }));
        out.recorded.push(`bench:usm (${urows.length} rows)`);
      }
    }
  } catch (e) {
    out.skipped.push(`all (${(e as Error).message.split('\n')[0]})`);
  } finally {
    git(['worktree', 'remove', '--force', dir]);
    out.seconds = Math.round((Date.now() - started) / 1000);
  }
  return out;
}

function main(): void {
  const o = parseOptions(process.argv.slice(2));
  const commits = sample(o);
  log(`${commits.length} commits: ${commits.map((c) => c.slice(0, 7)).join(' ')}`);
  if (o.dryRun) return;
  const tmp = mkdtempSync(join(tmpdir(), 'usmjit-seed-'));
  const started = Date.now();
  const outcomes: Outcome[] = [];
  try {
    for (const c of commits) {
      const r = seedOne(c, o, tmp);
      outcomes.push(r);
      log(`${r.commit}: ${r.seconds} s; recorded ${r.recorded.join(', ') || 'nothing'}${r.skipped.length ? `; skipped ${r.skipped.join(', ')}` : ''}`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const minutes = ((Date.now() - started) / 60000).toFixed(1);
  const lines = [`Seeded ${outcomes.filter((r) => r.recorded.length).length} of ${outcomes.length} commits in ${minutes} min:`];
  for (const r of outcomes) lines.push(`- ${r.commit}: ${r.seconds} s, ${r.recorded.join(', ') || 'nothing recorded'}${r.skipped.length ? `; skipped ${r.skipped.join(', ')}` : ''}`);
  process.stdout.write(lines.join('\n') + '\n');
}

main();
