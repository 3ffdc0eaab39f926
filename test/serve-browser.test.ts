// End to end: Debian's chromium, driven by playwright-core, reviews a case on the page as a lab
// would: images added in two batches (each sent in requests under the API's per-request limit), a
// bad file reported by name and skipped while the case stays, a cell reclassified, the case exported
// and found again after a reload. Screenshots at desktop and phone width are kept for a person.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { tmpdir } from 'node:os';
import type { Browser, Download, Page } from 'playwright-core';
import { launchChromium } from './helpers/chromium.js';
import { createServer, type Server } from '../src/serve/server.js';
import { realImages } from './data-fixtures.js';
import { serveClasses, trainTinyRun, type TinyRun } from './serve-fixtures.js';

let run: TinyRun;
let server: Server;
let browser: Browser;
let url: string;
let cells: string[];
let notAnImage: string;
const requests: string[] = [];

before(async () => {
  run = await trainTinyRun();
  // Two files a request, so a batch of three takes two requests, as 200 cells take seven at 32.
  server = await createServer({ runDir: run.runDir, threads: 2, maxFiles: 2, log: () => {} });
  server.app.addHook('onRequest', async (request) => { if (request.method === 'POST') requests.push(request.url); });
  url = await server.listen(0);
  browser = await launchChromium();
  cells = (await Promise.all(['neutrophil', 'basophil', 'lymphocyte'].map((c) => realImages(c, 2)))).flat();
  notAnImage = join(tmpdir(), 'aplnet-patient-list.jpg');
  await writeFile(notAnImage, 'id,name\n1,Jane Doe\n');
});
after(async () => {
  await browser?.close();
  await server?.close();
  await run?.cleanup();
});

async function openPage(width = 1280, height = 900): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width, height }, acceptDownloads: true });
  const errors: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error' && !/404 \(Not Found\)/.test(m.text())) errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await page.getByRole('button', { name: /Model: aplnet-s/ }).waitFor();
  return { page, errors };
}

async function addImages(page: Page, files: string[], done: RegExp): Promise<void> {
  await page.setInputFiles('#file-input', files);
  await page.waitForFunction((pattern) => new RegExp(pattern).test(document.getElementById('status')!.textContent!), done.source, { timeout: 60_000 });
}

const downloaded = async (download: Download): Promise<string> => readFile((await download.path())!, 'utf8');
const reviewedCount = async (page: Page, className: string): Promise<number> => Number(await page.locator(`#differential tr[data-class="${className}"] .reviewed-count`).innerText());
const modelCount = async (page: Page, className: string): Promise<number> => Number(await page.locator(`#differential tr[data-class="${className}"] .model-count`).innerText());

test('a reviewer builds a case in two batches, skips a bad file, reclassifies a cell, exports the case and finds it after a reload', async () => {
  const { page, errors } = await openPage();
  assert.match(await page.locator('#case-id').inputValue(), /^case-\d{8}-\d{6}-[0-9a-f]{4}$/, 'a case id is generated');
  for (const id of ['#summary', '#controls', '#exports']) assert.equal(await page.locator(id).isHidden(), true, `${id} is hidden until there is a case`);
  await page.locator('#case-id').fill('ACC-2026-0042');
  await page.getByRole('button', { name: 'Rename' }).click();
  assert.match(page.url(), /#case=ACC-2026-0042$/);

  requests.length = 0;
  await addImages(page, cells.slice(0, 3), /Added 3 of 3/);
  assert.equal(requests.length, 2, 'three images went in two requests of at most two');
  assert.equal(await page.locator('.tile').count(), 3);
  await addImages(page, [...cells.slice(3), notAnImage], /Added 3 of 4/);
  assert.equal(await page.locator('.tile').count(), 6, 'the second batch is added to the case, not in its place');
  assert.match(await page.locator('#problems').innerText(), /aplnet-patient-list\.jpg[\s\S]*not-an-image/, 'the bad file is named with its reason');
  assert.match(await page.locator('#group-unreadable').innerText(), /aplnet-patient-list\.jpg/);
  assert.match(await page.locator('#summary').innerText(), /7 images: \d+ usable, \d+ set aside as not like the training cells, 1 unreadable/);
  assert.match(await page.locator('#summary').innerText(), /Differential only/, 'a cell-type model makes no diagnosis');
  // The same files again: not counted twice, and said in one line that names them all.
  await addImages(page, [cells[0], cells[1]], /Added 0 of 2/);
  assert.equal(await page.locator('.tile').count(), 6);
  const problems = await page.locator('#problem-list li').allInnerTexts();
  assert.equal(problems.length, 1, problems.join(' | '));
  assert.match(problems[0], new RegExp(`2 files already in this case[\\s\\S]*${basename(cells[0]).replace('.', '\\.')}, ${basename(cells[1]).replace('.', '\\.')}`));
  const flag = page.locator('#summary .flag');
  if (/Refer/.test(await flag.innerText())) assert.equal(await flag.evaluate((e) => e.classList.contains('refer')), true);
  // The gallery groups the cells by the model's call, with counts that match the differential.
  for (const name of serveClasses) {
    const group = page.locator(`#group-${name}`);
    if (await group.count()) assert.equal(Number(await group.locator('.count').innerText()), await group.locator('.tile').count());
  }

  // Reclassify the first cell the model counted: the reviewed count moves, the model's does not.
  const tile = page.locator('#gallery .group:not(.out-of-distribution):not(.unreadable) .tile').first();
  const index = await tile.getAttribute('data-index');
  const call = (await page.locator(`.tile[data-index="${index}"] select.review`).getAttribute('aria-label'))!.match(/model: (\w+)/)![1];
  const other = serveClasses.find((c) => c !== call)!;
  const before = { model: await modelCount(page, other), reviewed: await reviewedCount(page, other), from: await reviewedCount(page, call) };
  await page.locator(`.tile[data-index="${index}"] select.review`).selectOption(other);
  await page.waitForFunction(([name, n]) => document.querySelector(`#differential tr[data-class="${name}"] .reviewed-count`)?.textContent === String(n), [other, before.reviewed + 1] as const);
  assert.equal(await reviewedCount(page, call), before.from - 1);
  assert.equal(await modelCount(page, other), before.model, 'the model\'s count is kept');
  assert.match(await page.locator(`.tile[data-index="${index}"] .badge`).innerText(), new RegExp(`→ ${other}`));
  assert.match(await page.locator('#review-count').innerText(), /Reviewed 1 of 6 cells: 0 confirmed, 1 reclassified/);
  // Low-confidence cells are reviewed one by one: their group offers no "confirm all" (a class group
  // does; the one-epoch run here calls nothing with confidence, so that button is checked by hand).
  assert.equal(await page.locator('#group-low-confidence .confirm-all').count(), 0);

  // The cell up close: the original beside its map, and the review beside the model's call.
  await page.locator(`.tile[data-index="${index}"] .thumb`).click();
  const dialog = page.locator('#cell-dialog');
  await dialog.waitFor();
  const [a, b] = [await dialog.locator('figure.original img').boundingBox(), await dialog.locator('figure.overlaid .stack').boundingBox()];
  assert.ok(a && b && Math.abs(a.y - b.y) < 1 && a.x + a.width <= b.x && Math.abs(a.width - b.width) < 1 && a.width >= 140, `original ${JSON.stringify(a)} beside overlay ${JSON.stringify(b)}`);
  assert.match(await dialog.innerText(), new RegExp(`Model: ${call}[\\s\\S]*Reviewer: ${other}`));
  // Stepping through the cells in the gallery's order, as a reviewer does.
  const title = await page.locator('#cell-title').innerText();
  await page.getByRole('button', { name: 'Next ›' }).click();
  assert.notEqual(await page.locator('#cell-title').innerText(), title);
  await page.keyboard.press('ArrowLeft');
  assert.equal(await page.locator('#cell-title').innerText(), title);
  await page.keyboard.press('Escape');

  const [csv] = await Promise.all([page.waitForEvent('download'), page.locator('#export-csv').click()]);
  assert.equal(csv.suggestedFilename(), 'aplnet-case-ACC-2026-0042.csv');
  const lines = (await downloaded(csv)).trim().split('\r\n');
  const header = lines[0].split(',');
  const reclassified = lines.map((l) => l.split(',')).find((f) => f[0] === 'cell' && f[header.indexOf('reviewer_class')] === other)!;
  assert.equal(reclassified[header.indexOf('model_call')], call, 'the CSV has the model\'s call beside the reviewer\'s class');
  assert.ok(lines.some((l) => l.startsWith('cell,') && l.includes('aplnet-patient-list.jpg') && l.includes('unreadable: not-an-image')));
  const [json] = await Promise.all([page.waitForEvent('download'), page.locator('#export-json').click()]);
  const exported = JSON.parse(await downloaded(json));
  assert.equal(exported.caseId, 'ACC-2026-0042');
  assert.equal(exported.cells.length, 7);
  assert.deepEqual(exported.cells.filter((c: { review: unknown }) => c.review).map((c: { predicted: string; review: { className: string } }) => [c.predicted, c.review.className]), [[call, other]]);
  const [html] = await Promise.all([page.waitForEvent('download'), page.locator('#export-html').click()]);
  const report = await downloaded(html);
  assert.equal((report.match(/<div class="pair"><img src="data:image\/png;base64,/g) ?? []).length, 6, 'original beside the overlay for each readable cell');
  assert.doesNotMatch(report, /src="(https?:|\/)|<script/, 'the export is self-contained');

  // A reload finds the case on the server, reviews included.
  await page.reload();
  await page.locator('.tile').nth(5).waitFor();
  assert.equal(await page.locator('#case-id').inputValue(), 'ACC-2026-0042');
  assert.match(await page.locator(`.tile[data-index="${index}"] .badge`).innerText(), new RegExp(`→ ${other}`));

  // A new case starts empty: nothing of the last one stays on screen, even under an error.
  await page.getByRole('button', { name: 'New case' }).click();
  assert.equal(await page.locator('.tile').count(), 0);
  assert.equal(await page.locator('#summary').isHidden(), true);
  await addImages(page, [notAnImage], /Added 0 of 1/);
  assert.equal(await page.locator('.tile').count(), 0, 'the previous case is not shown under the new one\'s error');
  assert.match(await page.locator('#summary').innerText(), /Refer[\s\S]*no usable cells/);
  assert.notEqual(await page.locator('#case-id').inputValue(), 'ACC-2026-0042');
  assert.deepEqual(errors, []);
  await page.close();
});

test('the maps: the model\'s own map on each cell, toggled per cell, the opacity by keyboard and remembered', async () => {
  const { page } = await openPage();
  assert.equal(await page.locator('#gradcam-choice').isHidden(), true, 'no Grad-CAM choice before any cell has one');
  await page.locator('#gradcam-too').check();
  await addImages(page, cells, /Added 6 of 6/);
  // A set-aside image starts without its map (over something not like a cell it explains nothing).
  for (const toggle of await page.locator('#group-out-of-distribution .map-toggle').all()) assert.equal(await toggle.getAttribute('aria-pressed'), 'false');
  const tile = page.locator('#gallery .group:not(.out-of-distribution) .tile').first();
  const heatmap = tile.locator('img.heatmap');
  await heatmap.waitFor();
  assert.ok(await heatmap.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth === 144), 'the attention map is drawn on the cell');
  assert.match(await page.locator('#legend').innerText(), /evidence[\s\S]*0 low[\s\S]*1 high/);
  await tile.locator('.map-toggle').click();
  assert.equal(await heatmap.isHidden(), true, 'the map is turned off on that cell');
  assert.equal(await tile.locator('.map-toggle').getAttribute('aria-pressed'), 'false');
  await tile.locator('.map-toggle').click();
  // The layer's alpha follows the map: clear where it is low, painted where it is high. (Under the
  // default test-time augmentation the map is the mean of eight views' maps, so its peak is below 1.)
  await page.locator('input[name="overlay"][value="gradcam"]').check();
  const alpha = await heatmap.evaluate(async (img: HTMLImageElement) => {
    await img.decode();
    const canvas = document.createElement('canvas');
    [canvas.width, canvas.height] = [img.naturalWidth, img.naturalHeight];
    const ctx = canvas.getContext('2d')!;
    ctx.drawImage(img, 0, 0);
    const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
    const alphas = data.filter((_, i) => i % 4 === 3);
    return { clear: alphas.filter((v) => v === 0).length / alphas.length, max: Math.max(...alphas), src: img.getAttribute('src') };
  });
  assert.match(alpha.src!, /\/maps\/gradcam\.png$/);
  assert.ok(alpha.clear > 0 && alpha.max > 50, `the layer is clear where the map is low, painted where it is high (${JSON.stringify(alpha)})`);
  await page.locator('input[name="overlay"][value="gradcam"]').focus();
  await page.keyboard.press('ArrowDown');
  assert.equal(await heatmap.isHidden(), true, 'map "none" hides it');
  await page.keyboard.press('ArrowUp');
  await page.locator('#opacity').focus();
  await page.keyboard.press('End');
  assert.equal(await heatmap.evaluate((img: HTMLImageElement) => img.style.opacity), '0.8', 'past 80% the cell hides under colour, so the slider stops there');
  await page.keyboard.press('ArrowLeft');
  assert.match(await page.locator('#export-html').getAttribute('href') ?? '', /overlay=gradcam&opacity=0\.79/, 'the HTML export draws what is shown');
  await page.reload();
  await page.getByRole('button', { name: /Model:/ }).waitFor();
  assert.equal(await page.locator('#opacity').inputValue(), '79');
  await page.close();
});

test('a remembered opacity that would hide the cell is brought back into range', async () => {
  for (const stored of ['1', '100', 'NaN', '-3']) {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.addInitScript((value) => localStorage.setItem('aplnet.opacity', value), stored);
    await page.goto(url);
    await page.getByRole('button', { name: /Model:/ }).waitFor();
    const opacity = Number(await page.locator('#opacity').inputValue()) / 100;
    assert.ok(opacity >= 0 && opacity <= 0.8, `stored ${stored} gives opacity ${opacity}`);
    assert.equal(await page.locator('#opacity-value').innerText(), `${Math.round(opacity * 100)}%`, 'the slider says what is drawn');
    await page.close();
  }
});

test('the page fits a desktop and a phone screen, empty and with a case', async () => {
  for (const [width, height] of [[1280, 900], [390, 844]]) {
    const { page } = await openPage(width, height);
    await page.screenshot({ path: join(tmpdir(), `aplnet-serve-empty-${width}.png`), fullPage: true });
    await addImages(page, cells, /Added 6 of 6/);
    assert.equal(await page.locator('#controls').isVisible(), true);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `${width} px: the page is ${overflow} px wider than the screen`);
    const tile = await page.locator('.tile').first().boundingBox();
    assert.ok(tile && tile.width >= 100, `a cell is big enough to judge (${tile?.width} px)`);
    const screenshot = join(tmpdir(), `aplnet-serve-case-${width}.png`);
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(`screenshots: ${join(tmpdir(), `aplnet-serve-empty-${width}.png`)}, ${screenshot}`);
    await page.close();
  }
});
