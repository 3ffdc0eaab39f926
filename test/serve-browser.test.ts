// End to end: Debian's chromium, driven by playwright-core, uploads a real smear image to the page
// and waits for the prediction and its overlay. Screenshots at desktop and phone width are kept for
// a person to look at.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './helpers/chromium.js';
import { createServer, type Server } from '../src/serve/server.js';
import { trainTinyRun, type TinyRun } from './serve-fixtures.js';


/**
 * The drawing a person reads: the original beside the overlay (same size, side by side), the colour
 * scale with the method's name, and a layer that is clear where the map is low (RGBA, alpha
 * following the value), so the page blends as the CLI's panel does.
 */
async function assertReadableOverlay(page: Page): Promise<void> {
  const card = page.locator('.image-card').first();
  const original = card.locator('figure.original img');
  const overlaid = card.locator('figure.overlaid .stack');
  for (const part of [original, overlaid, page.locator('#legend .legend-bar')]) assert.equal(await part.isVisible(), true);
  const [a, b] = [await original.boundingBox(), await overlaid.boundingBox()];
  assert.ok(a && b && Math.abs(a.y - b.y) < 1 && a.x + a.width <= b.x && Math.abs(a.width - b.width) < 1 && a.width >= 140, `original ${JSON.stringify(a)} beside overlay ${JSON.stringify(b)}`);
  assert.match(await page.locator('#legend').innerText(), /attention-pool[\s\S]*0 low[\s\S]*1 high/);
  assert.match(await card.locator('figure.overlaid figcaption').innerText(), /overlay \d+%/);
  // A one-epoch attention-pool head still weighs every position about alike (its map is near 1
  // everywhere, truthfully); Grad-CAM's min-max scaled map has low regions to leave clear.
  await page.locator('input[name="overlay"][value="gradcam"]').check();
  const alpha = await card.locator('img.heatmap').evaluate((img: HTMLImageElement) => {
    const canvas = document.createElement('canvas');
    [canvas.width, canvas.height] = [img.naturalWidth, img.naturalHeight];
    const ctx = canvas.getContext('2d')!;
    ctx.drawImage(img, 0, 0);
    const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
    const alphas = data.filter((_, i) => i % 4 === 3);
    return { clear: alphas.filter((v) => v === 0).length / alphas.length, max: Math.max(...alphas) };
  });
  assert.ok(alpha.clear > 0.05 && alpha.max === 255, `the layer is clear where the map is low (${JSON.stringify(alpha)})`);
  await page.locator('#attention-choice input').check();
}

let run: TinyRun;
let server: Server;
let browser: Browser;
let url: string;

before(async () => {
  run = await trainTinyRun();
  server = await createServer({ runDir: run.runDir, threads: 2, log: () => {} });
  url = await server.listen(0);
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await server?.close();
  await run?.cleanup();
});

test('a user uploads a real smear image and sees the prediction with its overlay', async () => {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const consoleErrors: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  await page.goto(url);
  await page.getByRole('button', { name: /Model: aplnet-s/ }).waitFor();
  for (const id of ['#controls', '#case']) assert.equal(await page.locator(id).isHidden(), true, `${id} is hidden until there is a case`);

  await page.setInputFiles('#file-input', run.sampleImage);
  await page.locator('.image-card').first().waitFor({ timeout: 30_000 });
  const heatmap = page.locator('.image-card img.heatmap').first();
  await heatmap.waitFor();
  assert.ok(await heatmap.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth === 144), 'the attention overlay is drawn');
  await assertReadableOverlay(page);
  assert.match(await page.locator('#case .call').innerText(), /basophil|eosinophil|lymphocyte/);
  assert.equal(await page.locator('.image-card .bars li').count(), 3, 'a bar per class');

  // Keyboard: the overlay toggle and the opacity slider work without a mouse.
  await page.locator('input[name="overlay"][value="gradcam"]').focus();
  await page.keyboard.press('ArrowDown');
  assert.equal(await heatmap.isHidden(), true, 'overlay "none" hides the map');
  await page.keyboard.press('ArrowUp');
  await page.locator('#opacity').focus();
  await page.keyboard.press('ArrowRight');
  assert.equal(await heatmap.evaluate((img: HTMLImageElement) => img.style.opacity), '0.61');
  // Past 80% the hottest part of the cell is hidden under colour, so the slider stops there.
  await page.keyboard.press('End');
  assert.equal(await heatmap.evaluate((img: HTMLImageElement) => img.style.opacity), '0.8');
  assert.equal(await page.locator('#opacity-value').innerText(), '80%');
  await page.keyboard.press('ArrowLeft');

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

  // The opacity chosen is remembered across visits.
  await page.reload();
  await page.getByRole('button', { name: /Model:/ }).waitFor();
  assert.equal(await page.locator('#opacity').inputValue(), '79');
});

test('a remembered opacity that would hide the cell is brought back into range', async () => {
  for (const stored of ['1', '100', 'NaN', '-3']) {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.addInitScript((value) => localStorage.setItem('aplnet.opacity', value), stored);
    await page.goto(url);
    await page.getByRole('button', { name: /Model:/ }).waitFor();
    await page.setInputFiles('#file-input', run.sampleImage);
    const opacity = Number(await page.locator('.image-card img.heatmap').first().evaluate((img: HTMLImageElement) => img.style.opacity));
    assert.ok(opacity >= 0 && opacity <= 0.8, `stored ${stored} gives opacity ${opacity}`);
    assert.equal(await page.locator('#opacity-value').innerText(), `${Math.round(opacity * 100)}%`, 'the slider says what is drawn');
    await page.close();
  }
});

test('the page fits a desktop and a phone screen, empty and with a case', async () => {
  for (const [width, height] of [[1280, 900], [390, 844]]) {
    const page = await browser.newPage({ viewport: { width, height } });
    await page.goto(url);
    await page.getByRole('button', { name: /Model:/ }).waitFor();
    assert.equal(await page.locator('#controls').isHidden(), true);
    await page.screenshot({ path: join(tmpdir(), `aplnet-serve-empty-${width}.png`), fullPage: true });
    await page.setInputFiles('#file-input', run.sampleImage);
    await page.locator('.image-card img.heatmap').first().waitFor({ timeout: 30_000 });
    assert.equal(await page.locator('#controls').isVisible(), true);
    await assertReadableOverlay(page);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `${width} px: the page is ${overflow} px wider than the screen`);
    const screenshot = join(tmpdir(), `aplnet-serve-case-${width}.png`);
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(`screenshots: ${join(tmpdir(), `aplnet-serve-empty-${width}.png`)}, ${screenshot}`);
    await page.close();
  }
});
