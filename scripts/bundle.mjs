// Bundles the CLI into one CommonJS file (dist/src/usmjit.cjs) and puts usmjit's command beside it
// (dist/src/usmjit.mjs, from scripts/usmjit-launcher.mjs, which runs the bundle through a V8 code
// cache). Node then loads one file instead of ~130: the module loader's resolve/read/compile per
// file was ~40% of a static hello world's start-up. Capstone stays outside (its loader finds
// capstone.wasm next to itself) and is loaded only when something must be decoded.
import { build } from 'esbuild';
import { chmodSync, copyFileSync } from 'node:fs';

await build({
  entryPoints: ['dist/src/cli.js'],
  outfile: 'dist/src/usmjit.cjs',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['capstone-wasm'],
  // The launcher passes the bundle's own URL (the modules use it to find package.json and to name
  // the build, jit/translation-store.ts).
  define: { 'import.meta.url': '__usmjit_import_meta_url' },
  logLevel: 'warning',
});
copyFileSync('scripts/usmjit-launcher.mjs', 'dist/src/usmjit.mjs');
chmodSync('dist/src/usmjit.mjs', 0o755);
