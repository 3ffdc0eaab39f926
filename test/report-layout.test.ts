// The report in a real browser (Debian's chromium through playwright-core) at a 400 px phone and a
// 1280 px screen: the page never scrolls sideways, every table sits in its own scrolling box and
// every chart fits. Full-page screenshots are kept for a person to look at.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { launchChromium } from './helpers/chromium.js';
import { buildReportHtml } from '../src/report/index.js';
import { CLASSES, fakeReportInput } from './report-fixtures.js';


let browser: Browser;
let folder: string;
let reportUrl: string;

before(async () => {
  folder = mkdtempSync(join(tmpdir(), 'aplnet-report-layout-'));
  // Patient ids give the widest tables: four metric columns, each value with its interval.
  const patientIds = Array.from({ length: CLASSES.length * 45 }, (_, i) => `P${Math.floor(i / 5)}`);
  const input = await fakeReportInput(patientIds);
  const page = await buildReportHtml({ ...input, runName: 'a-run-folder-name-without-any-space-that-is-long', dataset: { ...input.dataset, patientsBySplit: { train: 336, validation: 72, test: 72 } } });
  const path = join(folder, 'report.html');
  writeFileSync(path, page);
  reportUrl = pathToFileURL(path).href;
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

for (const width of [400, 1280]) {
  test(`at ${width} px the page has no sideways scroll; tables scroll in their box and charts fit`, async () => {
    const page = await browser.newPage({ viewport: { width, height: 900 } });
    await page.goto(reportUrl);
    const layout = await page.evaluate(() => {
      const viewport = document.documentElement.clientWidth;
      const describe = (el: Element) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${typeof el.className === 'string' && el.className ? `.${el.className.split(' ').join('.')}` : ''}`;
      const outside = [...document.querySelectorAll('body *')]
        .filter((el) => !el.closest('.table-scroll') && el.getBoundingClientRect().right > viewport + 0.5)
        .map(describe);
      return {
        viewport,
        pageWidth: document.documentElement.scrollWidth,
        outside: outside.slice(0, 8),
        tablesOutsideBox: [...document.querySelectorAll('table')].filter((t) => !t.parentElement?.classList.contains('table-scroll')).length,
        boxesWiderThanPage: [...document.querySelectorAll('.table-scroll')].filter((box) => box.getBoundingClientRect().right > viewport + 0.5).length,
        charts: [...document.querySelectorAll('figure svg')].map((svg) => svg.getBoundingClientRect().right <= viewport + 0.5),
      };
    });
    assert.equal(layout.pageWidth, layout.viewport, `the page is ${layout.pageWidth} px wide in a ${layout.viewport} px window; sticking out: ${layout.outside.join(', ')}`);
    assert.deepEqual(layout.outside, []);
    assert.equal(layout.tablesOutsideBox, 0);
    assert.equal(layout.boxesWiderThanPage, 0);
    assert.equal(layout.charts.length, 7);
    assert.ok(layout.charts.every(Boolean), 'a chart is wider than the window');
    const screenshot = join(tmpdir(), `aplnet-report-${width}.png`);
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(`screenshot: ${screenshot}`);
    await page.close();
  });
}
