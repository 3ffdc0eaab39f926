// How much haematoxylin each pixel holds, by colour deconvolution (Ruifrok & Johnston, Anal. Quant.
// Cytol. Histol. 2001): optical density is linear in stain amounts, so one 3×3 matrix unmixes it.
// Haematoxylin stains nuclei (and platelets' granules) purple; eosin stains red cells pink, so the
// H channel alone finds the nucleated cell where a grey-level threshold would also take red cells.
// The stain vectors and the OD convention are the data layer's (src/data/optical-density.ts), so the
// mask and stain normalisation agree on what haematoxylin is.
import { hedFromRgb, opticalDensity, type RgbImage } from '../../data/index.js';

/** Column 0 of hedFromRgb: OD-RGB · it = haematoxylin amount. */
const H_COLUMN = [hedFromRgb[0][0], hedFromRgb[1][0], hedFromRgb[2][0]];
const OD = Float64Array.from({ length: 256 }, (_, value) => opticalDensity(value));

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
