/**
 * Writes the dashboard as a self-contained static site: index.html, data.js (the page model) and
 * assets/ (uPlot copied from node_modules, the page's script and style from dashboard/page). No
 * network references and no fetch: everything loads with classic <script> tags, so the page works
 * from file:// as well as from any static server.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ROOT } from '../test/helpers/guest.js';
import type { HistoryEntry } from '../bench/history.js';
import { buildModel, type Model } from './model.js';

const PAGE_DIR = join(ROOT, 'dashboard', 'page');

/** uPlot's browser build and stylesheet, wherever npm put the package. */
function uplotDir(): string {
  return dirname(createRequire(import.meta.url).resolve('uplot/package.json'));
}

const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** Builds the site into `out` (created if needed); returns the model it shows. */
export function writeSite(history: HistoryEntry[], out: string, generated = new Date()): Model {
  const model = buildModel(history, generated);
  const assets = join(out, 'assets');
  mkdirSync(assets, { recursive: true });
  const uplot = join(uplotDir(), 'dist');
  copyFileSync(join(uplot, 'uPlot.iife.min.js'), join(assets, 'uPlot.iife.min.js'));
  copyFileSync(join(uplot, 'uPlot.min.css'), join(assets, 'uPlot.min.css'));
  copyFileSync(join(PAGE_DIR, 'dashboard.js'), join(assets, 'dashboard.js'));
  copyFileSync(join(PAGE_DIR, 'dashboard.css'), join(assets, 'dashboard.css'));
  // A script, not JSON: browsers refuse fetch() from file://. `<` is escaped so no string in the
  // history can close a script element.
  const json = JSON.stringify(model).replace(/</g, '\\u003c');
  writeFileSync(join(out, 'data.js'), `window.USMJIT_DASHBOARD = ${json};\n`);
  const html = readFileSync(join(PAGE_DIR, 'index.html'), 'utf8').replace('{{generated}}', escapeHtml(model.generated));
  writeFileSync(join(out, 'index.html'), html);
  return model;
}
