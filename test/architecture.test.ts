/**
 * The layering of src/ (docs/architecture.md, "Layers"): every import arrow between folders runs
 * one way. scripts/import-graph.mjs prints the folder graph and any cycle with the imports on it.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('architecture', () => {
  it('the folder import graph of src/ has no cycle', () => {
    const r = spawnSync(process.execPath, ['scripts/import-graph.mjs', 'src'], { encoding: 'utf8' });
    expect(r.stdout).not.toMatch(/cycle:/);
    expect(r.status).toBe(0);
  });

  it('each folder imports only the layers below it', () => {
    const r = spawnSync(process.execPath, ['scripts/import-graph.mjs', 'src'], { encoding: 'utf8' });
    const below: Record<string, string[]> = {
      core: [],
      paging: ['core'],
      decoder: ['core'],
      loader: ['core', 'paging'],
      jit: ['core', 'paging', 'decoder'],
      'linux-abi': ['core', 'paging', 'decoder', 'jit'],
      vmx: ['core', 'paging', 'decoder', 'jit', 'linux-abi'],
      process: ['core', 'paging', 'decoder', 'loader', 'jit', 'linux-abi', 'vmx'],
    };
    for (const line of r.stdout.split('\n')) {
      const m = /^(\S+) -> (.*)$/.exec(line);
      if (!m || m[1] === 'cli') continue;
      for (const to of m[2].split(', ')) expect(below[m[1]], `${m[1]} -> ${to}`).toContain(to);
    }
  });
});
