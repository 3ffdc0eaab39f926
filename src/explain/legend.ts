// The colour scale of an overlay: the colormap as the overlay paints it (transparent up to the
// floor, then fading in to full colour at 1), with "0 low" / "1 high" and the method's name, so a
// reader never has to guess what red means. The same scale is an SVG fragment (for composing a
// panel), a PNG (for the report), and a CSS gradient (the web page's legend; a test keeps it equal).
import sharp from 'sharp';
import { colormapTable, type ColormapName } from './colormaps.js';
import { checkUnitRange, DEFAULT_COLORMAP, DEFAULT_FLOOR, valueAlpha } from './map-style.js';

export interface LegendOptions {
  /** The explanation method's name, shown as the legend's title. */
  method: string;
  colormap?: ColormapName;
  floor?: number;
  /** When the overlay is outlined: the quantile of its line (0.9 → "line: top 10%"). */
  contourQuantile?: number;
}

export const LEGEND_WIDTH = 104;
/** Below this the title, the bar's labels and the contour's key would overlap. */
export const LEGEND_MIN_HEIGHT = 140;
export const LEGEND_FONT = 'DejaVu Sans, Liberation Sans, Helvetica, Arial, sans-serif';

/** Colour stops every 1/16 of the range, plus one at the floor where the fade begins. */
export function legendStops(colormap: ColormapName, floor: number): { at: number; rgb: [number, number, number]; alpha: number }[] {
  checkUnitRange('legend: floor', floor);
  const table = colormapTable(colormap);
  const values = [...new Set([...Array.from({ length: 17 }, (_, i) => i / 16), floor])].sort((a, b) => a - b);
  return values.map((at) => {
    const level = Math.round(at * 255) * 3;
    return { at, rgb: [table[level], table[level + 1], table[level + 2]], alpha: Math.round(valueAlpha(at, floor) * 100) / 100 };
  });
}

/** The scale left to right as CSS, for the web page's legend. */
export function legendGradientCss(colormap: ColormapName = DEFAULT_COLORMAP, floor = DEFAULT_FLOOR): string {
  const stops = legendStops(colormap, floor).map(({ at, rgb, alpha }) => `rgba(${rgb.join(',')},${alpha}) ${+(at * 100).toFixed(2)}%`);
  return `linear-gradient(to right, ${stops.join(', ')})`;
}

const escapeXml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The legend as SVG elements in a LEGEND_WIDTH × height box at (x, y). */
export function legendSvg({ method, colormap = DEFAULT_COLORMAP, floor = DEFAULT_FLOOR, contourQuantile }: LegendOptions, x: number, y: number, requestedHeight: number): string {
  const height = Math.max(requestedHeight, LEGEND_MIN_HEIGHT);
  const id = `scale-${colormap}-${Math.round(floor * 1000)}`;
  const stops = legendStops(colormap, floor).map(({ at, rgb, alpha }) => `<stop offset="${1 - at}" stop-color="rgb(${rgb.join(',')})" stop-opacity="${alpha}"/>`).reverse();
  const barTop = y + 34;
  const barBottom = y + height - (contourQuantile === undefined ? 6 : 24);
  const barHeight = Math.max(24, barBottom - barTop);
  const floorY = barTop + barHeight * (1 - floor);
  const text = (tx: number, ty: number, body: string, { size = 11, fill = '#1b1f24', weight = 'normal' } = {}): string =>
    `<text x="${tx}" y="${ty}" font-family="${LEGEND_FONT}" font-size="${size}" font-weight="${weight}" fill="${fill}">${body}</text>`;
  const parts = [
    `<defs><linearGradient id="${id}" x1="0" y1="0" x2="0" y2="1">${stops.join('')}</linearGradient></defs>`,
    text(x, y + 12, escapeXml(method), { weight: 'bold' }),
    text(x, y + 26, 'map value', { fill: '#5b6470' }),
    `<rect x="${x + 1}" y="${barTop}" width="16" height="${barHeight}" fill="url(#${id})" stroke="#8a94a0" stroke-width="1"/>`,
    text(x + 22, barTop + 9, '1 high'),
    text(x + 22, barTop + barHeight, '0 low'),
  ];
  // The floor's tick is labelled only where the label clears "0 low" and "1 high".
  if (floor > 0 && barHeight * floor >= 16 && barHeight * (1 - floor) >= 24) {
    parts.push(`<line x1="${x + 17}" x2="${x + 21}" y1="${floorY}" y2="${floorY}" stroke="#5b6470"/>`, text(x + 22, floorY + 4, `${floor} clear`, { fill: '#5b6470', size: 10 }));
  }
  if (contourQuantile !== undefined) {
    const lineY = y + height - 8;
    parts.push(`<line x1="${x + 1}" x2="${x + 17}" y1="${lineY}" y2="${lineY}" stroke="#fff" stroke-width="4"/><line x1="${x + 1}" x2="${x + 17}" y1="${lineY}" y2="${lineY}" stroke="#000" stroke-width="1.5"/>`,
      text(x + 22, lineY + 4, `top ${+((1 - contourQuantile) * 100).toFixed(1)}%`));
  }
  return parts.join('\n');
}

/** The legend alone, as a PNG with a white background (the report shows it once per gallery). */
export function renderLegend(options: LegendOptions, height = LEGEND_MIN_HEIGHT): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${LEGEND_WIDTH + 8}" height="${Math.max(height, LEGEND_MIN_HEIGHT)}"><rect width="100%" height="100%" fill="#fff"/>${legendSvg(options, 4, 0, height)}</svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}
