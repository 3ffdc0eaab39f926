// Per-image min-max scaling to [0, 1]: explanation maps are compared and drawn by their shape, not
// their raw scale (which differs between methods, layers and images). A flat map stays flat: a range
// below 1e-4 of the map's magnitude is float rounding, not structure, and is not stretched into a
// full-contrast pattern (which is how a blank image used to show a lattice).
import { meanOfViewMaps, tidy, type Tensor } from '../torch/index.js';

const FLAT_RELATIVE_RANGE = 1e-4;

/** maps: [N, 1, H, W] → the same shape, each image scaled to span [0, 1] (a flat image → all 0). */
export function normalizePerImage(maps: Tensor): Tensor {
  return tidy(() => {
    const low = maps.amin([1, 2, 3], true);
    const range = maps.amax([1, 2, 3], true).sub(low);
    const roundingScale = maps.abs().amax([1, 2, 3], true).mul(FLAT_RELATIVE_RANGE);
    return maps.sub(low).div(range.maximum(roundingScale).clamp(1e-12));
  });
}

/**
 * maps: [N, 1, H, W] of values ≥ 0 → each image divided by its maximum, so its largest value is 1
 * (an all-zero map stays 0). The documented scale of every map; a mean of maps (the eight views of
 * test-time augmentation, the members of an ensemble) has its peaks in slightly different places,
 * so its maximum falls below 1 and it would be drawn faint: this restores the scale without moving
 * any share of the map's mass or the order of its values.
 */
export function divideByMaximum(maps: Tensor): Tensor {
  return tidy(() => maps.div(maps.amax([1, 2, 3], true).clamp(1e-30)));
}

/** The maps of a dihedralBatch's eight views [8N, 1, H, W], turned back, averaged and at the maps' scale: [N, 1, H, W]. */
export function meanMapOfViews(mapsOfViews: Tensor): Tensor {
  return tidy(() => divideByMaximum(meanOfViewMaps(mapsOfViews)));
}

/** The mean of several models' maps of the same images (an ensemble's members), at the maps' scale. */
export function meanMapOfMembers(maps: readonly Tensor[]): Tensor {
  if (maps.length === 0) throw new Error('meanMapOfMembers: no maps to average');
  return tidy(() => divideByMaximum(maps.reduce((sum, map) => sum.add(map)).div(maps.length)));
}
