// Builds usmjit's one host-side C file, native/fast-exit.c, into dist/fast-exit.so (see
// src/fast-exit.ts) with the machine's gcc, which the guest programs need anyway. A failure stops
// the build: usmjit would work without it, only slower to exit, and nobody would notice why.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

mkdirSync('dist', { recursive: true });
const r = spawnSync('gcc', ['-O2', '-shared', '-fPIC', '-o', 'dist/fast-exit.so', 'native/fast-exit.c'], { stdio: 'inherit' });
if (r.error || r.status !== 0) {
  console.error(`build-native: gcc failed (${r.error?.message ?? `status ${r.status}`}); install gcc (apt-get install gcc)`);
  process.exit(1);
}
