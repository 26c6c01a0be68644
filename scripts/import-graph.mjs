// Prints the folder-level import graph of src/ (top folders; src/*.ts counts as "cli") and its cycles.
// Exits 1 when the graph has a cycle. Used by test/architecture.test.ts.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(process.argv[2] ?? 'src');
const files = [];
(function walk(d) {
  for (const n of readdirSync(d)) {
    const p = join(d, n);
    if (statSync(p).isDirectory()) walk(p);
    else if (n.endsWith('.ts')) files.push(p);
  }
})(root);
const layer = (p) => { const r = relative(root, p).split('/'); return r.length === 1 ? 'cli' : r[0]; };
const edges = new Map();
for (const f of files) {
  const src = readFileSync(f, 'utf8');
  for (const m of src.matchAll(/(?:from\s+|import\()\s*'(\.[^']+)'/g)) {
    const to = resolve(dirname(f), m[1]);
    const [a, b] = [layer(f), layer(to)];
    if (a === b) continue;
    if (!edges.has(a)) edges.set(a, new Map());
    const e = edges.get(a);
    e.set(b, [...(e.get(b) ?? []), `${relative(root, f)} -> ${m[1]}`]);
  }
}
for (const [a, m] of [...edges].sort()) console.log(`${a} -> ${[...m.keys()].sort().join(', ')}`);
// cycles: a -> ... -> a
const cycles = [];
const seen = new Set();
function dfs(start, node, path) {
  for (const next of edges.get(node)?.keys() ?? []) {
    if (next === start) cycles.push([...path, next]);
    else if (!path.includes(next) && !seen.has(next)) dfs(start, next, [...path, next]);
  }
}
for (const a of [...edges.keys()].sort()) { dfs(a, a, [a]); seen.add(a); }
for (const c of cycles) {
  console.log(`cycle: ${c.join(' -> ')}`);
  for (let i = 0; i + 1 < c.length; i++) for (const w of edges.get(c[i]).get(c[i + 1])) console.log(`    ${w}`);
}
process.exit(cycles.length ? 1 : 0);
