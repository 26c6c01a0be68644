/**
 * Where a benchmark run comes from: the commit (from git) and the machine description (CPU model,
 * cores, Node and V8 versions) that history entries carry.
 */
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import type { Machine } from './history.js';

export function describeMachine(): Machine {
  const c = cpus();
  return { cpu: (c[0]?.model ?? 'unknown').trim().replace(/\s+/g, ' '), cores: c.length, node: process.version, v8: process.versions.v8 };
}

export interface CommitInfo {
  commit: string;
  commitDate: string;
  subject: string;
  dirty: boolean;
}

function git(root: string, args: string[]): string | undefined {
  const r = spawnSync('git', ['-C', root, ...args], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout : undefined;
}

/**
 * The commit checked out at `root`. Changes under bench/history (the history itself) do not make
 * the tree dirty. Outside a git checkout the commit is `unknown`, dated now.
 */
export function describeCommit(root: string, rev = 'HEAD'): CommitInfo {
  const log = git(root, ['log', '-1', '--format=%H%x00%cI%x00%s', rev]);
  if (!log) return { commit: 'unknown', commitDate: new Date().toISOString(), subject: '', dirty: true };
  const [commit, commitDate, subject] = log.trim().split('\0');
  const status = git(root, ['status', '--porcelain', '--untracked-files=no', '--', '.', ':(exclude)bench/history']);
  return { commit, commitDate: new Date(commitDate).toISOString(), subject, dirty: status === undefined || status.trim() !== '' };
}
