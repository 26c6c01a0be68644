// Makes dist/src/usmjit.v8, the V8 code cache of the bundled CLI that the launcher
// (scripts/usmjit-launcher.cjs) uses when the user's cache directory has none yet: usmjit runs a
// small static C program once (built here with the machine's gcc, which the guest programs need
// anyway) and keeps the code cache that run wrote, which holds what a run compiles (loading an
// ELF, translating, system calls, exiting). Measured: a static hello world with an empty cache
// home starts ~70 ms sooner. A failure stops the build.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const fail = (why) => {
  console.error(`js-code-cache: ${why}`);
  process.exit(1);
};
const out = 'dist/src/usmjit.v8';
rmSync(out, { force: true });
const dir = mkdtempSync(join(tmpdir(), 'usmjit-jscache-'));
try {
  const src = join(dir, 'hello.c');
  writeFileSync(src, '#include <stdio.h>\n#include <stdlib.h>\nint main(int argc, char **argv) {\n' +
    '  char *p = malloc(64);\n  snprintf(p, 64, "%d %s", argc, argv[0]);\n  printf("hello %s\\n", p);\n  free(p);\n  return 0;\n}\n');
  const prog = join(dir, 'hello');
  const cc = spawnSync('gcc', ['-O2', '-static', '-o', prog, src], { stdio: 'inherit' });
  if (cc.error || cc.status !== 0) fail(`gcc -static failed (${cc.error?.message ?? `status ${cc.status}`}); install gcc and libc6-dev`);
  const home = join(dir, 'cache');
  const run = spawnSync('dist/usmjit', [prog], { env: { ...process.env, XDG_CACHE_HOME: home }, encoding: 'utf8' });
  if (run.status !== 0 || !run.stdout.startsWith('hello ')) fail(`usmjit ${prog} failed: status ${run.status}, ${run.stderr}`);
  const made = readdirSync(join(home, 'usmjit')).filter((n) => /^js-.*\.v8$/.test(n));
  if (made.length !== 1) fail(`expected one code cache file, found ${made.join(', ') || 'none'}`);
  copyFileSync(join(home, 'usmjit', made[0]), out);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
