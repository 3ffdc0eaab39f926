// How the page draws a map over its image, kept equal to the CLI and the report
// (src/explain/map-style.ts; test/explain-overlay-legend.test.ts checks the numbers match).
// The heatmap layer the server sends is already clear where the map is low (its alpha follows the
// value), so the opacity only scales the colour where the map is high.

export const DEFAULT_OPACITY = 0.6;
/** Map values at or below this are not painted. */
export const MAP_FLOOR = 0.2;
// Past this the hottest part of the cell is hidden under colour; the original beside it still
// shows the cell, but a remembered value (from an older page, or edited) is clamped into range.
export const MAX_OPACITY = 0.8;

const OPACITY_KEY = 'aplnet.opacity';

const clamp = (value) => Math.min(MAX_OPACITY, Math.max(0, value));

export function rememberedOpacity() {
  let stored = null;
  try { stored = localStorage.getItem(OPACITY_KEY); } catch { /* storage disabled: use the default */ }
  const value = stored === null ? NaN : Number(stored);
  return Number.isFinite(value) ? clamp(value) : DEFAULT_OPACITY;
}

export function rememberOpacity(value) {
  const opacity = clamp(value);
  try { localStorage.setItem(OPACITY_KEY, String(opacity)); } catch { /* not remembered; still applied */ }
  return opacity;
}
