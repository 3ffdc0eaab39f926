// The report's case section: every case of the split with its call, source, truth, review flag and
// differential, escaped, absent when there are no cases, and laid out at a phone's and a screen's
// width in a real browser without sideways scrolling.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { launchChromium } from './helpers/chromium.js';
import { buildReportHtml, type ReportCase, type ReportInput } from '../src/report/index.js';
import { CLASSES, fakeReportInput } from './report-fixtures.js';

function reportCase(caseId: string, differential: number[], extra: Partial<ReportCase> = {}): ReportCase {
  const usable = differential.reduce((a, b) => a + b, 0);
  return {
    caseId, truth: null, call: null, refer: false, referReasons: [], cells: usable, failed: 0, outOfDistribution: 0, usable,
    flagRule: 'low-confidence', flagged: 0, flaggedShare: 0, maxFlaggedShare: 0.2, lowConfidence: 0, differential, trueDifferential: null, ...extra,
  };
}

const source = "baseline: mean of the cells' probabilities";
/** Case-level calls on the report's 8 classes: one right and clear, one wrong and referred, one with cells set aside. */
const calledCases: ReportCase[] = [
  reportCase('case-001', [0, 0, 0, 14, 0, 0, 2, 0], { truth: 'ig', call: { label: 'ig', probability: 0.912, source, threshold: 0.7 } }),
  reportCase('case-002', [0, 0, 6, 0, 5, 0, 5, 0], {
    truth: 'neutrophil', call: { label: 'erythroblast', probability: 0.55, source, threshold: 0.7 }, refer: true, flagged: 4, flaggedShare: 0.25,
    referReasons: ['4 of 16 usable cells (25.0%) were flagged for low confidence, above the stated share of 20.0%', 'case probability 55.0% is below the referral threshold of 70.0%'],
  }),
  reportCase('a-very-long-case-identifier-without-spaces-from-a-laboratory-information-system-0003', [1, 1, 1, 1, 1, 1, 1, 5], {
    truth: 'platelet', call: { label: 'platelet', probability: 0.81, source, threshold: 0.7 }, cells: 15, failed: 1, outOfDistribution: 2,
  }),
];

let input: ReportInput;
before(async () => {
  input = await fakeReportInput();
});

test('the case section lists every case with its call, source, truth, review flag and differential counts', async () => {
  const page = await buildReportHtml({ ...input, cases: calledCases });
  assert.match(page, /<a href="#cases">Cases<\/a>/);
  const section = page.slice(page.indexOf('<section id="cases">'), page.indexOf('</section>', page.indexOf('<section id="cases">')));
  assert.match(section, /3 case\(s\): 2 of 3 calls agree with the truth; 1 referred for review\./);
  assert.match(section, /<strong>ig 91\.2%<\/strong> <span class="verdict right">= truth<\/span>/);
  assert.match(section, /<span class="verdict wrong">truth: neutrophil<\/span>/);
  assert.equal((section.match(/baseline: mean of the cells&#39; probabilities/g) ?? []).length, 3, 'the source is named on every call');
  assert.match(section, /<article class="case refer">\s*<header><h3>case-002<\/h3><span class="flag">refer<\/span>/);
  assert.match(section, /<li>case probability 55\.0% is below the referral threshold of 70\.0%<\/li>/);
  assert.match(section, /ig 14 \(88%\)/);
  assert.match(section, /4 of 16 usable cells flagged \(25\.0%; stated share 20\.0%\)/);
  assert.match(section, /1 unreadable, 2 not like the training cells set aside/);
});

test('a cell-type run shows each case as its predicted differential above the true one, with no call', async () => {
  const cases = [reportCase('P1', [0, 0, 0, 0, 3, 1, 6, 0], { trueDifferential: [0, 0, 0, 0, 3, 0, 7, 0] })];
  const page = await buildReportHtml({ ...input, cases });
  assert.match(page, /The run&#39;s labels are cell types, so each case is its differential/);
  assert.ok(!page.includes('<strong>No call</strong>'), 'the section says it once, not every card');
  assert.match(page, /<div class="bar-label">predicted<\/div>/);
  assert.match(page, /<div class="bar-label">true<\/div>/);
  assert.match(page, /neutrophil 7 \(70%\)/);
});

test('a case without usable cells says there is no call', async () => {
  const empty = reportCase('P2', [0, 0, 0, 0, 0, 0, 0, 0], { cells: 3, failed: 3, refer: true, referReasons: ['no usable cells: all 3 image(s) were unreadable or unlike the training cells'], flaggedShare: 1 });
  const page = await buildReportHtml({ ...input, cases: [empty] });
  assert.match(page, /<strong>No call<\/strong>: no usable cells/);
  assert.match(page, /<li>no usable cells: all 3 image\(s\) were unreadable or unlike the training cells<\/li>/);
  assert.match(page, /3 unreadable set aside/);
});

test('case ids and reasons from the data are escaped, and counts that do not match the classes are refused', async () => {
  const page = await buildReportHtml({ ...input, cases: [reportCase('<script>alert(1)</script>', [1, 0, 0, 0, 0, 0, 0, 0])] });
  assert.ok(!page.includes('<script>alert(1)</script>'));
  assert.match(page, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  await assert.rejects(buildReportHtml({ ...input, cases: [reportCase('short', [1, 2, 3])] }), /case "short" has 3 class counts for 8 classes/);
});

test('without cases there is no case section and no Cases link', async () => {
  const page = await buildReportHtml(input);
  assert.ok(!page.includes('id="cases"'));
  assert.ok(!page.includes('href="#cases"'));
});

let browser: Browser;
let folder: string;
after(async () => {
  await browser?.close();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

for (const width of [400, 1280]) {
  test(`at ${width} px the case cards fit the window: no sideways scroll, bars inside their cards`, async () => {
    folder ??= mkdtempSync(join(tmpdir(), 'aplnet-case-report-'));
    browser ??= await launchChromium();
    const path = join(folder, 'report.html');
    writeFileSync(path, await buildReportHtml({ ...input, cases: calledCases }));
    const page = await browser.newPage({ viewport: { width, height: 900 } });
    await page.goto(pathToFileURL(path).href);
    const layout = await page.evaluate(() => {
      const viewport = document.documentElement.clientWidth;
      const cards = [...document.querySelectorAll('#cases .case')];
      return {
        viewport,
        pageWidth: document.documentElement.scrollWidth,
        cards: cards.length,
        cardsOutside: cards.filter((card) => card.getBoundingClientRect().right > viewport + 0.5).length,
        barsOutsideCards: [...document.querySelectorAll('#cases .bar')].filter((bar) => bar.getBoundingClientRect().right > bar.closest('.case')!.getBoundingClientRect().right + 0.5).length,
        columns: new Set(cards.map((card) => Math.round(card.getBoundingClientRect().left))).size,
      };
    });
    await page.close();
    assert.equal(layout.pageWidth, layout.viewport);
    assert.equal(layout.cards, calledCases.length);
    assert.equal(layout.cardsOutside, 0);
    assert.equal(layout.barsOutsideCards, 0);
    if (width === 400) assert.equal(layout.columns, 1, 'one column of cards on a phone');
    else assert.ok(layout.columns >= 3, `cards side by side on a screen (${layout.columns} column(s))`);
  });
}
