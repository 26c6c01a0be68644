#!/usr/bin/env node
/**
 * `npm run dashboard -- --out DIR` writes the perf regression dashboard (a static site) from the
 * benchmark history; `--serve` (the default with no --out, as in `npx usmjit-dashboard`) also
 * serves it on localhost.
 *
 *   usmjit-dashboard [--out DIR] [--serve] [--port N] [--history PATH]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readHistory } from '../bench/history.js';
import { DEFAULT_HISTORY } from '../bench/record.js';
import { serveDir } from './serve.js';
import { writeSite } from './site.js';

interface Options {
  out?: string;
  serve: boolean;
  port: number;
  history: string;
}

function usage(msg?: string): never {
  if (msg) process.stderr.write(`dashboard: ${msg}\n`);
  process.stderr.write('usage: usmjit-dashboard [--out DIR] [--serve] [--port N] [--history PATH]\n');
  process.exit(msg ? 2 : 0);
}

function parseOptions(argv: string[]): Options {
  const o: Options = { serve: false, port: 8377, history: DEFAULT_HISTORY };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--out') o.out = argv[++i] ?? usage('--out needs a directory');
    else if (a === '--serve') o.serve = true;
    else if (a === '--port') {
      o.port = Number(argv[++i]);
      if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) usage('--port needs a port number');
    } else if (a === '--history') o.history = argv[++i] ?? usage('--history needs a path');
    else if (a === '-h' || a === '--help') usage();
    else usage(`unknown argument '${a}'`);
  }
  if (!o.out) o.serve = true;
  return o;
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const history = readHistory(o.history);
  const out = resolve(o.out ?? mkdtempSync(join(tmpdir(), 'usmjit-dashboard-')));
  if (!o.out) {
    // A site built only to be served goes away with the server.
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      process.on(sig, () => {
        rmSync(out, { recursive: true, force: true });
        process.exit(0);
      });
    }
  }
  const model = writeSite(history, out);
  const charts = model.machines.reduce((n, m) => n + m.suites.reduce((k, s) => k + s.charts.length, 0), 0);
  process.stdout.write(`dashboard: ${history.length} runs, ${model.machines.length} machine description(s), ${charts} charts -> ${join(out, 'index.html')}\n`);
  if (o.serve) {
    const { url } = await serveDir(out, o.port);
    process.stdout.write(`dashboard: serving ${url} (Ctrl-C to stop)\n`);
  }
}

main().catch((e: Error) => {
  process.stderr.write(`dashboard: ${e.message}\n`);
  process.exit(1);
});
