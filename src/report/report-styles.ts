/**
 * The report's only stylesheet, inlined so the file opens anywhere offline. System fonts only
 * (no web fonts to fetch); print rules keep figures and table rows whole across pages.
 * Responsive down to a 400 px phone: nothing may widen the page itself. Tables scroll inside their
 * own box (numbers with intervals stay on one line), charts shrink with their viewBox, and long
 * names (run folders, class names) break rather than push the page sideways.
 */
export const REPORT_CSS = `
:root {
  --ink: #101828; --muted: #475467; --line: #d0d5dd; --soft: #f2f4f7; --accent: #2e6fad;
  --good: #067647; --bad: #b42318; --warn-bg: #fffaeb; --warn-line: #fedf89;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; color: var(--ink); background: #fff;
  font: 14px/1.5 Helvetica, Arial, sans-serif;
}
main { max-width: 1160px; margin: 0 auto; padding: 32px 40px 64px; }
header.report-header { border-bottom: 3px solid var(--accent); padding-bottom: 16px; margin-bottom: 8px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 40px 0 12px; padding-bottom: 6px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 24px 0 8px; }
p { margin: 6px 0 10px; }
.meta { color: var(--muted); margin: 0; }
.notice {
  background: var(--warn-bg); border: 1px solid var(--warn-line); border-radius: 6px;
  padding: 10px 14px; margin: 16px 0;
}
h1, h2, h3, p, dd, li, figcaption, .tile .caption { overflow-wrap: break-word; }
nav.toc { margin: 16px 0 0; color: var(--muted); display: flex; flex-wrap: wrap; gap: 4px 14px; }
nav.toc a { color: var(--accent); text-decoration: none; white-space: nowrap; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 12px; margin: 16px 0; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; background: var(--soft); }
.card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: 0.04em; }
.card .value { font-size: 24px; font-weight: 600; font-variant-numeric: tabular-nums; }
.card .sub { color: var(--muted); font-size: 12px; }
.table-scroll { max-width: 100%; overflow-x: auto; margin: 8px 0 16px; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 5px 12px; border-bottom: 1px solid var(--line); text-align: right; }
.table-scroll th, .table-scroll td { white-space: nowrap; }
th { background: var(--soft); font-weight: 600; border-bottom: 2px solid var(--line); }
th:first-child, td:first-child { text-align: left; }
tr.total td { font-weight: 600; border-top: 2px solid var(--line); }
td.low { color: var(--bad); font-weight: 600; }
.figures { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
figure { margin: 0; min-width: 0; max-width: 100%; }
figure svg { display: block; max-width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 12px; max-width: 420px; margin-top: 4px; }
.gallery-class { margin: 18px 0 6px; }
/* A tile is a panel original | overlay | colour scale (about 420 px): never narrower than the screen allows. */
.gallery-row { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 340px), 1fr)); gap: 12px; }
.tile { border: 1px solid var(--line); border-radius: 6px; overflow: hidden; background: #fff; }
.tile img { display: block; width: 100%; max-width: 480px; height: auto; margin: 0 auto; image-rendering: auto; }
.tile .caption { padding: 6px 8px; font-size: 12px; line-height: 1.35; }
.tile.right { border-top: 4px solid var(--good); }
.tile.wrong { border-top: 4px solid var(--bad); }
.empty { color: var(--muted); font-style: italic; }
pre.config {
  background: var(--soft); border: 1px solid var(--line); border-radius: 6px; padding: 12px 14px;
  font: 12px/1.45 ui-monospace, Menlo, Consolas, monospace; white-space: pre-wrap; word-break: break-word;
}
.model-card dt { font-weight: 600; margin-top: 10px; }
.model-card dd { margin: 2px 0 0 0; }
.model-card ul { margin: 4px 0; padding-left: 20px; }
footer { margin-top: 48px; color: var(--muted); font-size: 12px; border-top: 1px solid var(--line); padding-top: 10px; }
@media (max-width: 640px) {
  main { padding: 16px 14px 40px; }
  h1 { font-size: 21px; }
  h2 { font-size: 18px; margin-top: 32px; }
  .figures { gap: 16px; }
  th, td { padding: 4px 8px; }
}
@media print {
  @page { size: A4; margin: 14mm; }
  body { font-size: 11px; }
  main { max-width: none; padding: 0; }
  nav.toc { display: none; }
  h2 { break-after: avoid; page-break-after: avoid; }
  figure, .card, .tile, tr, .notice { break-inside: avoid; page-break-inside: avoid; }
  section { break-before: auto; }
  .card, th, pre.config { background: #fff; }
  .table-scroll { overflow: visible; }
}
`;
