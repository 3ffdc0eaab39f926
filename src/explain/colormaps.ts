// Perceptual colormaps as 256-entry RGB lookup tables, from published polynomial fits (max error
// under 1% of the range): viridis (matplotlib's default, uniform and colour-blind safe; fit by
// Matt Zucker, CC0) and Turbo (Google's rainbow replacement; fit by Ruofei Du, Apache-2.0).
export type ColormapName = 'viridis' | 'turbo';
export const COLORMAPS: readonly ColormapName[] = ['viridis', 'turbo'];

type Rgb = [number, number, number];

function viridis(t: number): Rgb {
  const c = [
    [0.2777273272234177, 0.005407344544966578, 0.3340998053353061],
    [0.1050930431085774, 1.404613529898575, 1.384590162594685],
    [-0.3308618287255563, 0.214847559468213, 0.09509516302823659],
    [-4.634230498983486, -5.799100973351585, -19.33244095627987],
    [6.228269936347081, 14.17993336680509, 56.69055260068105],
    [4.776384997670288, -13.74514537774601, -65.35303263337234],
    [-5.435455855934631, 4.645852612178535, 26.3124352495832],
  ];
  return [0, 1, 2].map((ch) => c.reduceRight((acc, coef) => acc * t + coef[ch], 0)) as Rgb;
}

function turbo(t: number): Rgb {
  const red = [0.13572138, 4.6153926, -42.66032258, 132.13108234, -152.94239396, 59.28637943];
  const green = [0.09140261, 2.19418839, 4.84296658, -14.18503333, 4.27729857, 2.82956604];
  const blue = [0.1066733, 12.64194608, -60.58204836, 110.36276771, -89.90310912, 27.34824973];
  const poly = (coef: number[]): number => coef.reduceRight((acc, k) => acc * t + k, 0);
  return [poly(red), poly(green), poly(blue)];
}

const tables = new Map<ColormapName, Uint8Array>();

/** RGB bytes for 256 levels: entry i is the colour of value i/255. */
export function colormapTable(name: ColormapName): Uint8Array {
  const cached = tables.get(name);
  if (cached) return cached;
  const fn = name === 'viridis' ? viridis : name === 'turbo' ? turbo : null;
  if (!fn) throw new Error(`unknown colormap "${name as string}": choose from ${COLORMAPS.join(', ')}`);
  const table = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    fn(i / 255).forEach((v, ch) => { table[i * 3 + ch] = Math.round(Math.min(1, Math.max(0, v)) * 255); });
  }
  tables.set(name, table);
  return table;
}
