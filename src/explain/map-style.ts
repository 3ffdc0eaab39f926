// How a map value is painted, in what colour and how strongly: the one rule the CLI, the report and
// the web page share. Colour opacity follows the value, so the low end of the map (most of a smear's
// background) is left as the stain shows it instead of being washed in the colormap's low colour.
import type { ColormapName } from './colormaps.js';

// Viridis, not turbo: its bright end (yellow) lightens a purple nucleus rather than darkening it, so
// chromatin stays readable under the hottest spots, and brighter always means higher.
export const DEFAULT_COLORMAP: ColormapName = 'viridis';

/** Opacity of the colour at a map value of 1 (CLI, report and the page's starting slider). */
export const DEFAULT_OPACITY = 0.6;
/** Values at or below this are not painted at all; above it the colour fades in linearly. */
export const DEFAULT_FLOOR = 0.2;

export function checkUnitRange(what: string, value: number): void {
  if (!(value >= 0 && value <= 1)) throw new Error(`${what} must be in [0, 1], got ${value}`);
}

/** The share of the colour painted at value v, in [0, 1]: 0 up to the floor, 1 at v = 1. */
export function valueAlpha(v: number, floor: number): number {
  if (!Number.isFinite(v) || v <= floor) return 0;
  return floor >= 1 ? 1 : Math.min(1, (v - floor) / (1 - floor));
}
