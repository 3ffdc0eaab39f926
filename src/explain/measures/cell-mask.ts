// The nucleated cell of a smear image, found from the image itself so that "does the map point at
// the cell?" needs no hand-drawn masks: stain colour deconvolution → haematoxylin density → Otsu
// threshold → the component at (or nearest) the centre (the dataset's cells are centred) → holes
// filled → grown to take the cytoplasm, which is lighter than the nucleus.
import { gaussianBlur, type RgbImage } from '../../data/index.js';
import { areaFraction, componentNearest, dilate, fillHoles, growWithin, type BinaryMask } from './binary-mask.js';
import { convexHull } from './convex-hull.js';
import { haematoxylinDensity, totalOpticalDensity } from './hematoxylin.js';
import { otsuThreshold } from './otsu.js';

export interface CellMaskOptions {
  /** Gaussian blur before unmixing, in pixels: JPEG noise would otherwise speckle the threshold. */
  blurSigma?: number;
  /**
   * Lowest nucleus threshold (haematoxylin OD). Otsu splits background from red cells instead when
   * the cell is tiny (a platelet); on PBC, red cells stay below 0.15 and nuclei above 0.45.
   */
  minThreshold?: number;
  /** Blue cytoplasm (lymphocytes, monocytes) is taken where haematoxylin exceeds this fraction of the nucleus threshold. */
  looseFraction?: number;
  /** How far that cytoplasm may reach beyond the nucleus, as a fraction of the image side. */
  growFraction?: number;
  /**
   * Pale granular cytoplasm (neutrophils) holds little haematoxylin, as little as red cells do; it is
   * taken as any stained pixel this close to the nucleus (fraction of the side), so a touching red
   * cell costs at most this much.
   */
  ringFraction?: number;
  /** A final margin, in pixels, for the cell's edge that the blur and thresholds cut off. */
  margin?: number;
}

export interface CellMask extends BinaryMask {
  /** Share of the image inside the mask: what a map that knows nothing scores as cell energy. */
  areaFraction: number;
  /** The thresholds used (OD units), so odd masks can be traced. */
  threshold: number;
  looseThreshold: number;
  stainedThreshold: number;
}

const above = (values: Float32Array, t: number, width: number, height: number): BinaryMask =>
  ({ data: Uint8Array.from(values, (v) => (v > t ? 1 : 0)), width, height });

function union(a: BinaryMask, b: BinaryMask): BinaryMask {
  return { ...a, data: a.data.map((v, p) => v | b.data[p]) };
}

export function cellMask(image: RgbImage, options: CellMaskOptions = {}): CellMask {
  const { blurSigma = 1, minThreshold = 0.3, looseFraction = 0.5, growFraction = 0.08, ringFraction = 0.05, margin = 2 } = options;
  const { width, height } = image;
  const side = Math.min(width, height);
  const blurred = gaussianBlur(image, blurSigma);
  const density = haematoxylinDensity(blurred);
  const threshold = Math.max(minThreshold, otsuThreshold(density));
  // Specks under 0.2% of the image are dust or stain precipitate, not the cell the image is centred on.
  const nucleus = fillHoles(componentNearest(above(density, threshold, width, height), (width - 1) / 2, (height - 1) / 2, Math.ceil(0.002 * width * height)));
  const core = convexHull(nucleus);
  const looseThreshold = threshold * looseFraction;
  const blue = growWithin(core, above(density, looseThreshold, width, height), Math.round(growFraction * side));
  // Stained versus background, judged on the pixels that are not nucleus (nuclei would take Otsu's split for themselves).
  const optical = totalOpticalDensity(blurred);
  const stainedThreshold = otsuThreshold(optical.filter((_, p) => density[p] <= threshold));
  const pale = growWithin(core, above(optical, stainedThreshold, width, height), Math.round(ringFraction * side));
  const mask = dilate(fillHoles(union(blue, pale)), margin);
  return { ...mask, areaFraction: areaFraction(mask), threshold, looseThreshold, stainedThreshold };
}
