/**
 * Lists, per family, the instruction forms the differential tester generates (with how often a
 * batch of N generated cases hits each), the forms left out because the emulator's ISA table lacks
 * them, and ends with "forms tested: N". Every generated snippet also goes through the encoding
 * self-check (Capstone must decode what the encoder meant).
 *
 *   node dist/test/diff/coverage.js [--cases N] [--seed S] [--all] [--signals] [--quiet]
 */
import { ISA } from '../../src/jit/isa/index.js';
import { Decoder } from '../../src/decoder/capstone.js';
import { checkEncoding, Generator, selectForms } from './gen.js';
import { harnessLayout, buildHarness } from './lib.js';
import type { Form } from './forms.js';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const opt = (name: string, def: number) => {
    const i = argv.indexOf(name);
    return i >= 0 ? Number(argv[i + 1]) : def;
  };
  const cases = opt('--cases', 20000);
  const seed = opt('--seed', 1) >>> 0;
  const all = argv.includes('--all');
  const quiet = argv.includes('--quiet');
  const implemented = ISA.names;
  const faults = argv.includes('--signals');
  const { use, skipped } = selectForms({ implemented, all, faults });
  const layout = harnessLayout(buildHarness());
  const gen = new Generator(layout, use);
  const hits = new Map<string, number>();
  // Every generated snippet is also decoded by Capstone and compared with what the encoder meant.
  const decoder = await Decoder.create();
  let encodingErrors = 0;
  for (let k = 0; k < cases; k++) {
    const c = gen.make(seed, k);
    for (const f of c.forms) hits.set(f, (hits.get(f) ?? 0) + 1);
    const problems = checkEncoding(c, layout, (b, a) => decoder.decode(b, a, 64));
    if (problems.length && encodingErrors++ < 10) console.log(`encoding self-check, case ${k}: ${problems.join('; ')}`);
  }

  const byFamily = new Map<string, Form[]>();
  for (const f of use) {
    const l = byFamily.get(f.family) ?? [];
    l.push(f);
    byFamily.set(f.family, l);
  }
  let tested = 0;
  const never: string[] = [];
  for (const [fam, fs] of [...byFamily].sort()) {
    const hit = fs.filter((f) => hits.get(f.id));
    tested += hit.length;
    const mns = [...new Set(fs.flatMap((f) => f.isa))];
    console.log(`== ${fam}: ${hit.length}/${fs.length} forms hit (${mns.length} mnemonics: ${mns.join(' ')})`);
    if (!quiet) for (const f of fs) console.log(`   ${String(hits.get(f.id) ?? 0).padStart(5)}  ${f.id}${f.seq ? '' : '  [single only]'}`);
    for (const f of fs) if (!hits.get(f.id)) never.push(f.id);
  }
  if (skipped.length) {
    console.log(`== not generated: the emulator's ISA table lacks them (${skipped.length} forms; --all generates them anyway)`);
    for (const f of skipped) console.log(`   ${f.id}  (needs ${f.isa.filter((n) => !implemented.has(n)).join(', ')})`);
  }
  if (never.length) console.log(`== in the table but not hit by ${cases} cases of seed ${seed}: ${never.length}`);
  console.log(`cases generated: ${cases} (seed ${seed}); encoding self-check errors: ${encodingErrors}; forms in table: ${use.length + skipped.length}`);
  console.log(`forms tested: ${tested}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(2);
});
