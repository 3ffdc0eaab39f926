// One drawing of an explanation for people: the original | the overlay | the colour scale, with a
// caption over each image. The CLI writes it, the report shows its first two parts (with the legend
// once per gallery), and the web page lays out the same three parts in HTML.
import sharp from 'sharp';
import { resizeHeatMap, type HeatMap } from './heat-map.js';
import { LEGEND_FONT, LEGEND_MIN_HEIGHT, LEGEND_WIDTH, legendSvg } from './legend.js';
import { DEFAULT_OPACITY } from './map-style.js';
import { paintOverlay, type OverlayOptions, type RgbImage } from './overlay.js';

export interface PanelOptions extends OverlayOptions {
  /** The explanation method's name, for the overlay's caption and the legend's title. */
  method: string;
  /** Draw the colour scale at the right (default true). */
  legend?: boolean;
}

const PAD = 6;
const GAP = 8;
const CAPTION = 16;

export interface PanelLayout {
  width: number;
  height: number;
  original: { left: number; top: number };
  overlay: { left: number; top: number };
  legend: { left: number; top: number; height: number } | null;
}

/** Where each part goes; the legend box spans the captions and images, and never shrinks below legibility. */
export function panelLayout(width: number, height: number, withLegend = true): PanelLayout {
  const top = PAD + CAPTION;
  const overlayLeft = PAD + width + GAP;
  const legendLeft = overlayLeft + width + GAP;
  const legendHeight = withLegend ? Math.max(CAPTION + height, LEGEND_MIN_HEIGHT) : 0;
  return {
    width: withLegend ? legendLeft + LEGEND_WIDTH + PAD : overlayLeft + width + PAD,
    height: PAD + Math.max(CAPTION + height, legendHeight) + PAD,
    original: { left: PAD, top },
    overlay: { left: overlayLeft, top },
    legend: withLegend ? { left: legendLeft, top: PAD, height: legendHeight } : null,
  };
}

const caption = (x: number, body: string): string => `<text x="${x}" y="${PAD + 11}" font-family="${LEGEND_FONT}" font-size="11" fill="#5b6470">${body.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)}</text>`;

/** original | overlay | legend, as one PNG; the map is resized to the image. */
export async function renderExplanationPanel(image: RgbImage, map: HeatMap, options: PanelOptions): Promise<Buffer> {
  const { width, height } = image;
  const overlay = paintOverlay(image, resizeHeatMap(map, width, height), options);
  const layout = panelLayout(width, height, options.legend ?? true);
  const opacity = Math.round((options.opacity ?? DEFAULT_OPACITY) * 100);
  const svg = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${layout.width}" height="${layout.height}"><rect width="100%" height="100%" fill="#fff"/>`,
    caption(layout.original.left, 'original'),
    caption(layout.overlay.left, `overlay ${opacity}%`),
    layout.legend ? legendSvg(options, layout.legend.left, layout.legend.top, layout.legend.height) : '',
    '</svg>',
  ].join('');
  const place = (pixels: Uint8Array, at: { left: number; top: number }) => ({
    input: Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength),
    raw: { width, height, channels: 3 as const },
    ...at,
  });
  return sharp(Buffer.from(svg))
    .composite([place(image.data, layout.original), place(overlay, layout.overlay)])
    .png()
    .toBuffer();
}
