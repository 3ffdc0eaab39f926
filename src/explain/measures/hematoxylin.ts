// How much haematoxylin each pixel holds, by colour deconvolution (Ruifrok & Johnston, Anal. Quant.
// Cytol. Histol. 2001): optical density is linear in stain amounts, so one 3×3 matrix unmixes it.
// Haematoxylin stains nuclei (and platelets' granules) purple; eosin stains red cells pink, so the
// H channel alone finds the nucleated cell where a grey-level threshold would also take red cells.
// The stain vectors and the OD convention (I0 = 256, I + 1) are those of src/data/optical-density.ts,
// which src/data keeps off its public surface; were it exported, this file would import it instead.
import type { RgbImage } from '../../data/index.js';

/** Ruifrok & Johnston's stain vectors in OD-RGB, rows haematoxylin, eosin, DAB (as in scikit-image). */
const RGB_FROM_HED = [
  [0.65, 0.7, 0.29],
  [0.07, 0.99, 0.11],
  [0.27, 0.57, 0.78],
];

/** Column 0 of the inverse of the row-normalised stain matrix: OD-RGB · it = haematoxylin amount. */
function haematoxylinColumn(): [number, number, number] {
  const [[a, b, c], [d, e, f], [g, h, i]] = RGB_FROM_HED.map((row) => row.map((v) => v / Math.hypot(...row)));
  const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  return [(e * i - f * h) / det, (f * g - d * i) / det, (d * h - e * g) / det];
}

const H_COLUMN = haematoxylinColumn();
const OD = Float64Array.from({ length: 256 }, (_, value) => -Math.log((value + 1) / 256));

/** Per pixel (row-major), the optical density summed over R, G and B: how much of any stain is there (0 on white). */
export function totalOpticalDensity({ pixels, width, height }: RgbImage): Float32Array {
  if (pixels.length !== width * height * 3) throw new Error(`totalOpticalDensity: ${pixels.length} bytes is not ${width}×${height} RGB`);
  const out = new Float32Array(width * height);
  for (let p = 0, i = 0; p < out.length; p++, i += 3) out[p] = OD[pixels[i]] + OD[pixels[i + 1]] + OD[pixels[i + 2]];
  return out;
}

/** Per pixel (row-major), the haematoxylin amount in optical-density units; about 0 on white background. */
export function haematoxylinDensity({ pixels, width, height }: RgbImage): Float32Array {
  if (pixels.length !== width * height * 3) throw new Error(`haematoxylinDensity: ${pixels.length} bytes is not ${width}×${height} RGB`);
  const out = new Float32Array(width * height);
  for (let p = 0, i = 0; p < out.length; p++, i += 3) {
    out[p] = OD[pixels[i]] * H_COLUMN[0] + OD[pixels[i + 1]] * H_COLUMN[1] + OD[pixels[i + 2]] * H_COLUMN[2];
  }
  return out;
}
