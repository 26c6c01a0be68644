// usmjit's JavaScript launcher (dist/src/usmjit-launcher.cjs, copied by scripts/bundle.mjs), which
// the usmjit command (dist/usmjit, native/launcher.c) and `node dist/src/usmjit.mjs` start: runs the
// bundled CLI (usmjit.cjs) through a V8 code cache kept beside the translation cache, so that a
// start does not parse and compile ~1 MB of JavaScript again (Node 20 has no compile cache of its
// own). --no-cache before the program name turns it off, as it does the translation cache.
// CommonJS: Node starts an ES module ~9 ms later (its ESM loader).
'use strict';
const { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { homedir } = require('node:os');
const { dirname, join } = require('node:path');
const { pathToFileURL } = require('node:url');
const { Script } = require('node:vm');

const bundle = join(__dirname, 'usmjit.cjs');
let source = readFileSync(bundle, 'utf8');
if (source.startsWith('#!')) source = '//' + source.slice(2);

// usmjit's own options come before the program: is --no-cache among them?
let noCache = false;
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === '--no-cache') noCache = true;
  else if (a === '-E' || a === '-U' || a === '-0' || a === '-L') i++;
  else if (!a.startsWith('-')) break;
}
const env = process.env;
const base = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.startsWith('/') ? env.XDG_CACHE_HOME : join(env.HOME || homedir(), '.cache');
const dir = join(base, 'usmjit');
// The build recorded the bundle's hash (scripts/bundle.mjs) for the bundle it wrote: trusted while
// the bundle's size and mtime are still those, else (an edited bundle) computed here.
let hash, builtHash;
try {
  const built = JSON.parse(readFileSync(join(dirname(bundle), 'usmjit.build.json'), 'utf8'));
  const st = statSync(bundle);
  if (st.size === built.size && st.mtimeMs === built.mtimeMs && /^[0-9a-f]{32}$/.test(built.hash)) hash = builtHash = built.hash;
} catch { /* not recorded */ }
if (!hash) hash = require('node:crypto').createHash('sha256').update(source).digest('hex').slice(0, 32);
const file = join(dir, `js-${hash}.v8`);
// The bundle names its build by the same hash (jit/translation-store.ts buildId): no second pass.
globalThis.__usmjitBundleHash = hash;
// The user's cache, else the one `npm run build` made beside the bundle (scripts/js-code-cache.mjs):
// a first run after installing (or with an empty cache home) does not compile usmjit's JavaScript
// either. That one is part of the build, so --no-cache does not turn it off; it was made for the
// bundle the build recorded, so an edited bundle does not use it (V8 checks only the source's
// length: an edit of the same size would run the cached bytecode of the old text).
let cachedData;
if (!noCache) {
  try { cachedData = readFileSync(file); } catch { /* first run */ }
}
if (!cachedData && builtHash) {
  try { cachedData = readFileSync(join(dirname(bundle), 'usmjit.v8')); } catch { /* not built */ }
}
const script = new Script(`(function (require, module, exports, __filename, __dirname, __usmjit_import_meta_url) {${source}\n})`, { filename: bundle, cachedData });
if (!noCache && (!cachedData || script.cachedDataRejected)) {
  // At exit the cache also holds the functions this run compiled lazily. Only written when no
  // cache served this start: the build's (a static hello world's run) serves as well as one a
  // busybox run writes (warm busybox md5sum 131 vs 132 ms), and writing it cost every first run
  // (busybox true with an empty cache home, median of 7: 331 -> 323 ms).
  process.once('exit', () => {
    try {
      const data = script.createCachedData();
      mkdirSync(dir, { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, data);
      renameSync(tmp, file);
    } catch { /* no cache: slower next time, nothing else */ }
  });
}
const bundleModule = { exports: {} };
script.runInThisContext()(createRequire(bundle), bundleModule, bundleModule.exports, bundle, dirname(bundle), pathToFileURL(bundle).href);
