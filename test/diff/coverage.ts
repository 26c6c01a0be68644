/**
 * `npm run isa-coverage`: runs the differential tester's streams exactly as the tests do
 * (streams.ts: the same seed, case counts and options) and reports, per family and per SSE
 * flavour, the instruction forms that were executed and compared against this machine's CPU
 * (a form counts when a case containing it ran to the end in both runs, or, for a single
 * instruction, faulted the same way; passed or not), then the ISA-table mnemonics that are not
 * generated (not-generated.ts: why, and which test covers them). Ends with "forms tested: N", the
 * distinct forms executed and compared by the streams.
 *
 *   node dist/test/diff/coverage.js [--quiet]      (DIFF_SEED, DIFF_CASES, DIFF_FP_CASES as for the tests)
 */
import { ISA } from '../../src/jit/isa/index.js';
import { forms, type Form } from './forms.js';
import './gen.js';
import { NOT_GENERATED } from './not-generated.js';
import { runDiff, type Flavour } from './run.js';
import { streams } from './streams.js';

async function main(): Promise<void> {
  const quiet = process.argv.includes('--quiet');
  const compared: Record<Flavour, Map<string, number>> = { fast: new Map(), precise: new Map() };
  const passedBy = new Map<string, number>();
  let failed = 0;
  for (const s of streams()) {
    const r = await runDiff({ ...s.options, log: (l) => console.log(`[${s.name}] ${l}`) });
    console.log(`stream ${s.name} (${s.flavour} flavour, seed ${s.options.seed}): ${r.passed} passed, ${r.failed} failed, ` +
      `${r.formsCompared.size} forms executed and compared (driver ${r.emu}, ${r.seconds.toFixed(1)} s)`);
    failed += r.failed;
    for (const [f, n] of r.formsCompared) compared[s.flavour].set(f, (compared[s.flavour].get(f) ?? 0) + n);
    for (const [f, n] of r.formsPassed) passedBy.set(f, (passedBy.get(f) ?? 0) + n);
  }

  const byFamily = new Map<string, Form[]>();
  for (const f of forms) {
    const l = byFamily.get(f.family) ?? [];
    l.push(f);
    byFamily.set(f.family, l);
  }
  const implemented = new Set(ISA.names);
  const tested = new Set<string>();
  const never: string[] = [];
  const total = { fast: 0, precise: 0 };
  for (const [fam, fs] of [...byFamily].sort()) {
    const inTable = fs.filter((f) => f.isa.every((n) => implemented.has(n)));
    const fast = inTable.filter((f) => compared.fast.get(f.id)).length;
    const precise = inTable.filter((f) => compared.precise.get(f.id)).length;
    total.fast += fast;
    total.precise += precise;
    const mns = [...new Set(fs.flatMap((f) => f.isa))];
    console.log(`== ${fam}: ${inTable.length} forms; executed and compared: ${fast} fast, ${precise} precise (${mns.length} mnemonics: ${mns.join(' ')})`);
    for (const f of fs) {
      const nf = compared.fast.get(f.id) ?? 0, np = compared.precise.get(f.id) ?? 0;
      if (nf || np) tested.add(f.id); else if (inTable.includes(f)) never.push(f.id);
      if (!quiet) console.log(`   ${String(nf).padStart(5)} fast ${String(np).padStart(5)} precise  ${f.id}${f.seq ? '' : '  [single only]'}${f.fault ? '  [faults]' : ''}`);
    }
  }
  const outside = forms.filter((f) => !f.isa.every((n) => implemented.has(n)));
  if (outside.length) {
    console.log(`== forms for instructions outside the ISA table (not run): ${outside.length}`);
    for (const f of outside) console.log(`   ${f.id}  (needs ${f.isa.filter((n) => !implemented.has(n)).join(', ')})`);
  }
  const generated = new Set(forms.flatMap((f) => f.isa));
  const notGen = [...ISA.names].filter((m) => !generated.has(m));
  console.log(`== ISA-table mnemonics not generated: ${notGen.length}`);
  for (const m of notGen) {
    const why = NOT_GENERATED[m];
    console.log(`   ${m}: ${why ? `${why.reason}; covered by ${why.test}` : 'NO REASON GIVEN (add a form or an entry in test/diff/not-generated.ts)'}`);
  }
  if (never.length) console.log(`== forms in the table but not executed and compared by the streams: ${never.length}\n   ${never.join('\n   ')}`);
  const mnemonicsTested = new Set(forms.filter((f) => tested.has(f.id)).flatMap((f) => f.isa));
  console.log(`mnemonics of the ISA table executed and compared: ${[...ISA.names].filter((m) => mnemonicsTested.has(m)).length} of ${[...ISA.names].length}`);
  console.log(`forms executed and compared per flavour: fast ${total.fast}, precise ${total.precise}; mismatches: ${failed}`);
  console.log(`forms tested: ${tested.size}`);
  if (failed || notGen.some((m) => !NOT_GENERATED[m])) process.exitCode = 1;
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(2);
});
