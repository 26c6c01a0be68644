// Builds usmjit's host-side C files with the machine's gcc, which the guest programs need anyway:
// native/fast-exit.c into dist/fast-exit.so (src/fast-exit.ts) and native/worker-priority.c into
// dist/worker-priority.so (src/worker-priority.ts), native/code-placement.c into
// dist/code-placement.so (which the usmjit command preloads into Node), and native/launcher.c into
// dist/usmjit, the usmjit command (it starts this Node). A failure stops the build: usmjit would work without the
// libraries, only slower, and nobody would notice why.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

mkdirSync('dist', { recursive: true });
for (const name of ['fast-exit', 'worker-priority', 'code-placement']) {
  const r = spawnSync('gcc', ['-O2', '-shared', '-fPIC', '-o', `dist/${name}.so`, `native/${name}.c`], { stdio: 'inherit' });
  if (r.error || r.status !== 0) {
    console.error(`build-native: gcc failed on native/${name}.c (${r.error?.message ?? `status ${r.status}`}); install gcc (apt-get install gcc)`);
    process.exit(1);
  }
}
{
  const r = spawnSync('gcc', ['-O2', `-DUSMJIT_NODE=${JSON.stringify(process.execPath)}`, '-o', 'dist/usmjit', 'native/launcher.c'], { stdio: 'inherit' });
  if (r.error || r.status !== 0) {
    console.error(`build-native: gcc failed on native/launcher.c (${r.error?.message ?? `status ${r.status}`}); install gcc (apt-get install gcc)`);
    process.exit(1);
  }
}
