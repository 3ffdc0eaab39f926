import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

let chartCounter = 0;

/**
 * Compiles a vega-lite spec and renders it to an SVG string with vega's headless renderer, so
 * the report needs neither a browser nor a script to show its charts.
 *
 * vega numbers clip paths and gradients with process-wide counters that restart from 1 in a new
 * process; a report whose SVGs came from two processes (or a page showing two reports) could
 * then have two elements with id "clip1". Prefixing every id with a per-chart key keeps each
 * inline SVG's references pointing at its own definitions.
 */
export async function renderVegaLiteToSvg(spec: TopLevelSpec, key = `chart${++chartCounter}`): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    return scopeSvgIds(svg, key);
  } finally {
    view.finalize();
  }
}

function scopeSvgIds(svg: string, key: string): string {
  return svg
    .replace(/\bid="([^"]+)"/g, (_, id: string) => `id="${key}-${id}"`)
    .replace(/url\(#([^)]+)\)/g, (_, id: string) => `url(#${key}-${id})`)
    .replace(/\bhref="#([^"]+)"/g, (_, id: string) => `href="#${key}-${id}"`);
}
