/**
 * The case cards' styles, kept beside the section that uses them and appended to the report's
 * stylesheet. Cards fill the row at any width (one column on a 400 px phone); bars are flex boxes
 * that shrink with their card; long case ids and class names break instead of widening the page.
 */
export const CASE_CSS = `
.case-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 300px), 1fr)); gap: 12px; margin: 12px 0; }
.case { border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; background: #fff; min-width: 0; overflow-wrap: anywhere; }
.case.refer { border-left: 5px solid var(--bad); }
.case.clear { border-left: 5px solid var(--good); }
.case header { display: flex; justify-content: space-between; align-items: baseline; gap: 8px; }
.case h3 { margin: 0; font-size: 15px; min-width: 0; }
.case .flag { font-size: 12px; font-weight: 600; text-transform: uppercase; letter-spacing: 0.04em; white-space: nowrap; }
.case.refer .flag { color: var(--bad); }
.case.clear .flag { color: var(--good); }
.case .call { margin: 6px 0; }
.case .source { color: var(--muted); font-size: 12px; }
.case .verdict { font-size: 12px; font-weight: 600; }
.case .verdict.right { color: var(--good); }
.case .verdict.wrong { color: var(--bad); }
.case .reasons { margin: 4px 0 6px; padding-left: 18px; color: var(--bad); font-size: 12px; }
.case .flagged { color: var(--muted); font-size: 12px; margin: 6px 0 0; }
.differential { margin: 6px 0; }
.differential .bar-label { color: var(--muted); font-size: 11px; text-transform: uppercase; letter-spacing: 0.04em; }
.differential .bar { display: flex; height: 12px; border-radius: 3px; overflow: hidden; background: var(--soft); }
.differential .bar span { display: block; height: 100%; min-width: 2px; }
.differential .counts { display: flex; flex-wrap: wrap; gap: 2px 10px; font-size: 12px; font-variant-numeric: tabular-nums; margin-top: 2px; }
.differential .count i { display: inline-block; width: 9px; height: 9px; border-radius: 2px; margin-right: 4px; vertical-align: baseline; }
@media print { .case { break-inside: avoid; page-break-inside: avoid; } .differential .bar span, .differential .count i { print-color-adjust: exact; -webkit-print-color-adjust: exact; } }
`;
