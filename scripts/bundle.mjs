// Bundles the CLI into one CommonJS file (dist/src/usmjit.cjs) and puts its JavaScript launcher
// beside it (dist/src/usmjit-launcher.cjs, from scripts/usmjit-launcher.cjs, which runs the bundle
// through a V8 code cache; the usmjit command dist/usmjit starts it, and so does
// `node dist/src/usmjit.mjs`). Node then loads one file instead of ~130: the module loader's resolve/read/compile per
// file was ~40% of a static hello world's start-up. Capstone stays outside (its loader finds
// capstone.wasm next to itself) and is loaded only when something must be decoded.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';

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
copyFileSync('scripts/usmjit-launcher.cjs', 'dist/src/usmjit-launcher.cjs');
// `node dist/src/usmjit.mjs`: the same launcher, for those who start Node themselves.
writeFileSync('dist/src/usmjit.mjs', "#!/usr/bin/env node\nimport { createRequire } from 'node:module';\ncreateRequire(import.meta.url)('./usmjit-launcher.cjs');\n");
// The bundle's hash names its V8 code cache and its build (jit/translation-store.ts buildId):
// computed here once rather than at every start (~9 ms of a ~250 ms hello world). The launcher
// uses it while the bundle's size and mtime are those recorded (else it hashes the bundle itself).
{
  const bundle = 'dist/src/usmjit.cjs';
  const hash = createHash('sha256').update(launcherSource(readFileSync(bundle, 'utf8'))).digest('hex').slice(0, 32);
  const st = statSync(bundle);
  writeFileSync('dist/src/usmjit.build.json', JSON.stringify({ hash, size: st.size, mtimeMs: st.mtimeMs }) + '\n');
}

/** What the launcher compiles of the bundle (a '#!' line made a comment), and hashes. */
function launcherSource(text) {
  return text.startsWith('#!') ? '//' + text.slice(2) : text;
}
chmodSync('dist/src/usmjit.mjs', 0o755);
