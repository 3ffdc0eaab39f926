import type { TopLevelSpec } from 'vega-lite';
import { renderVegaLiteToSvg } from '../charts/vega-svg.js';
import { html, trustedHtml, type SafeHtml } from '../html.js';

/** A rendered chart with its caption; the SVG comes from vega, so it is trusted markup. */
export async function chartFigure(spec: TopLevelSpec, caption: string, label: string): Promise<SafeHtml> {
  const svg = await renderVegaLiteToSvg(spec);
  return html`<figure role="img" aria-label="${label}">${trustedHtml(svg)}<figcaption>${caption}</figcaption></figure>`;
}

/** A table in its own horizontally scrolling box, so a wide table never widens the page on a phone. */
export function scrollingTable(table: SafeHtml): SafeHtml {
  return html`<div class="table-scroll">${table}</div>`;
}
