// Bundles the CLI into one ES module (dist/src/usmjit.mjs): Node loads one file instead of ~130
// (the module loader's resolve/read/compile per file was ~40% of a static hello world's start-up).
// Capstone stays outside (its loader finds capstone.wasm next to itself).
import { build } from 'esbuild';

await build({
  entryPoints: ['dist/src/cli.js'],
  outfile: 'dist/src/usmjit.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['capstone-wasm'],
  // commander is CommonJS: its require() calls need a require in an ES module.
  banner: { js: "import { createRequire as __usmjitRequire } from 'node:module'; const require = __usmjitRequire(import.meta.url);" },
  logLevel: 'warning',
});
