import type { RgbImage } from './decode/image-decode.js';

function blurKernel(sigma: number): Float64Array {
  const radius = Math.max(1, Math.ceil(3 * sigma));
  const kernel = Float64Array.from({ length: 2 * radius + 1 }, (_, i) => Math.exp(-((i - radius) ** 2) / (2 * sigma * sigma)));
  const total = kernel.reduce((sum, weight) => sum + weight, 0);
  return kernel.map((weight) => weight / total);
}

/** One 1-D pass along lines of `length` pixels spaced `stride` apart; `clamped` maps padded positions to border-clamped ones. */
function blurPass(source: Float32Array, target: Float32Array, lines: number, length: number, lineStride: number, stride: number, kernel: Float64Array): void {
  const radius = (kernel.length - 1) / 2;
  const clamped = Int32Array.from({ length: length + 2 * radius }, (_, i) => Math.min(length - 1, Math.max(0, i - radius)) * stride);
  for (let line = 0; line < lines; line++) {
    const base = line * lineStride;
    for (let position = 0; position < length; position++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let k = 0; k < kernel.length; k++) {
        const at = base + clamped[position + k];
        const weight = kernel[k];
        r += weight * source[at];
        g += weight * source[at + 1];
        b += weight * source[at + 2];
      }
      const to = base + position * stride;
      target[to] = r;
      target[to + 1] = g;
      target[to + 2] = b;
    }
  }
}

/** Separable Gaussian blur with clamped borders; imitates slight defocus. */
export function gaussianBlur(image: RgbImage, sigma: number): RgbImage {
  if (sigma <= 0) return image;
  const kernel = blurKernel(sigma);
  const { width, height, pixels } = image;
  // Both passes on float32 keep blurPass monomorphic, which V8 compiles several times faster.
  const input = Float32Array.from(pixels);
  const rows = new Float32Array(pixels.length);
  blurPass(input, rows, height, width, 3 * width, 3, kernel);
  blurPass(rows, input, width, height, 3, 3 * width, kernel);
  const out = new Uint8Array(pixels.length);
  // Storing into a Uint8Array truncates, so add 0.5 to round; a weighted mean of bytes stays in [0, 255].
  for (let i = 0; i < out.length; i++) out[i] = input[i] + 0.5;
  return { width, height, pixels: out };
}
