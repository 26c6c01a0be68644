/**
 * A signal sent to the usmjit process from outside (kill, Ctrl-C) while the guest is in USM mode
 * reaches it as interrupt vector 200 + signo; without a handler the signal's Linux default action
 * applies (the process ends with 128 + signo and a one-line report).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CACHE_DIR, CLI_PATH, ROOT } from '../helpers/guest.js';

const SRC = join(ROOT, 'test', 'usm', 'external', 'wait_signal.c');
const BIN = join(CACHE_DIR, 'usm', 'wait_signal');

function runUntilReady(args: string[], signal: NodeJS.Signals): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(CLI_PATH, [BIN, ...args]);
    let stdout = '', stderr = '', sent = false;
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`timed out: ${stdout} ${stderr}`)); }, 60_000);
    child.stdout.on('data', (d) => {
      stdout += d;
      if (!sent && stdout.includes('ready\n')) {
        sent = true;
        // The guest spins in translated code: the signal arrives asynchronously.
        setTimeout(() => child.kill(signal), 100);
      }
    });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('close', (status) => { clearTimeout(timer); resolve({ status, stdout, stderr }); });
  });
}

describe('host signals in USM mode', () => {
  beforeAll(() => {
    const make = spawnSync('make', ['-C', join(ROOT, 'libusm')], { encoding: 'utf8' });
    if (make.status !== 0) throw new Error(make.stdout + make.stderr);
    mkdirSync(join(CACHE_DIR, 'usm'), { recursive: true });
    const cc = spawnSync('gcc', ['-O2', '-static', '-I', join(ROOT, 'include'), '-o', BIN, SRC, join(ROOT, 'libusm', 'libusm.a')], { encoding: 'utf8' });
    if (cc.status !== 0) throw new Error(cc.stderr);
  });

  it('kill -USR1 from outside arrives as vector 210 at the registered handler', async () => {
    const r = await runUntilReady([], 'SIGUSR1');
    expect(r.stdout).toBe('ready\ngot vector 210\n');
    expect(r.status).toBe(0);
  }, 90_000);

  it('without a handler, SIGINT (Ctrl-C) ends the process like Linux: status 130 and a report', async () => {
    const r = await runUntilReady(['nohandler'], 'SIGINT');
    expect(r.stdout).toBe('ready\n');
    expect(r.status).toBe(130);
    expect(r.stderr).toMatch(/usmjit: guest killed by .*SIGINT|signal 2/);
  }, 90_000);
});
