/**
 * Screenshot of a built dashboard, for the README (docs/dashboard.png):
 *
 *   node dist/dashboard/screenshot.js SITE_DIR OUT.png [WIDTH HEIGHT]
 *
 * Loads SITE_DIR/index.html from file:// in the system chromium and captures the top of the page.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { launchChromium } from './browser.js';

async function main(): Promise<void> {
  const [site, out, w = '1280', h = '1100'] = process.argv.slice(2);
  if (!site || !out) {
    process.stderr.write('usage: node dist/dashboard/screenshot.js SITE_DIR OUT.png [WIDTH HEIGHT]\n');
    process.exit(2);
  }
  const { context, close } = await launchChromium({ width: Number(w), height: Number(h) });
  try {
    const page = await context.newPage();
    await page.goto(pathToFileURL(resolve(site, 'index.html')).href);
    await page.waitForFunction(() => (window as unknown as { usmjitDashboard?: { charts: unknown[] } }).usmjitDashboard?.charts.length);
    await page.screenshot({ path: out });
  } finally {
    await close();
  }
}

main().catch((e: Error) => {
  process.stderr.write(`screenshot: ${e.message}\n`);
  process.exit(1);
});
