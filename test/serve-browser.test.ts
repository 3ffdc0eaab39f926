// End to end: Debian's chromium, driven by playwright-core, uploads a real smear image to the page
// and waits for the prediction and its overlay. The screenshot is kept for a person to look at.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { chromium, type Browser } from 'playwright-core';
import { createServer, type Server } from '../src/serve/server.js';
import { trainTinyRun, type TinyRun } from './serve-fixtures.js';

const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const launchArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const skip = existsSync(chromiumPath) ? false : `${chromiumPath} is missing: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH`;
if (skip) console.warn(`serve browser test skipped: ${skip}`);

let run: TinyRun;
let server: Server;
let browser: Browser;
let url: string;

before(async () => {
  if (skip) return;
  run = await trainTinyRun();
  server = await createServer({ runDir: run.runDir, threads: 2, log: () => {} });
  url = await server.app.listen({ port: 0, host: '127.0.0.1' });
  browser = await chromium.launch({ executablePath: chromiumPath, args: launchArgs });
});
after(async () => {
  await browser?.close();
  await server?.close();
  await run?.cleanup();
});

test('a user uploads a real smear image and sees the prediction with its overlay', { skip }, async () => {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const consoleErrors: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  await page.goto(url);
  await page.getByRole('button', { name: /Model: aplnet-s/ }).waitFor();

  await page.setInputFiles('#file-input', run.sampleImage);
  await page.locator('.image-card').first().waitFor({ timeout: 30_000 });
  const heatmap = page.locator('.image-card img.heatmap').first();
  await heatmap.waitFor();
  assert.ok(await heatmap.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth === 144), 'the attention overlay is drawn');
  assert.match(await page.locator('#case .call').innerText(), /basophil|eosinophil|lymphocyte/);
  assert.equal(await page.locator('.image-card .bars li').count(), 3, 'a bar per class');

  // Keyboard: the overlay toggle and the opacity slider work without a mouse.
  await page.locator('input[name="overlay"][value="gradcam"]').focus();
  await page.keyboard.press('ArrowDown');
  assert.equal(await heatmap.isHidden(), true, 'overlay "none" hides the map');
  await page.keyboard.press('ArrowUp');
  await page.locator('#opacity').focus();
  await page.keyboard.press('ArrowRight');
  assert.equal(await heatmap.evaluate((img: HTMLImageElement) => img.style.opacity), '0.46');

  const screenshot = join(tmpdir(), 'aplnet-serve-e2e.png');
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(`screenshot: ${screenshot}`);

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export case (HTML)' }).click()]);
  const exported = join(tmpdir(), 'aplnet-serve-case.html');
  await download.saveAs(exported);
  const { readFile } = await import('node:fs/promises');
  const html = await readFile(exported, 'utf8');
  assert.match(html, /<img src="data:image\/png;base64,/, 'the export carries its overlays');
  assert.doesNotMatch(html, /src="(https?:|\/)/, 'the export is self-contained');

  await page.getByRole('button', { name: /Model:/ }).click();
  assert.match(await page.locator('#model-dialog').innerText(), /Referral threshold/);
  assert.deepEqual(consoleErrors, []);
});
