import { readRegularFile } from './files/regular-file.js';
import { decodeAndPreprocess, type DecodedImage } from './decode/image-decode.js';
import { PixelCache } from './pixel-cache.js';
import { preprocessingId, type DecodeLimits, type Preprocessing } from './preprocessing.js';
import { noStainNormalization, stainNormalizerId, type StainNormalizer } from './stain-normalizer.js';
import type { WorkerPool } from './worker-pool.js';

/** An image known to decode: where it is and what its bytes hash to. */
export interface StoredImage {
  path: string;
  hash: string;
}

/**
 * Where the loader gets pixels: preprocessed (and stain-normalised) uint8 RGB, from the disk
 * cache when there is one, else decoded on demand. Stain normalisation runs on the worker pool.
 */
export class ImageStore {
  private readonly preprocessingKey: string;
  private stainKey: string;

  constructor(
    readonly preprocessing: Preprocessing,
    readonly limits: DecodeLimits,
    readonly cache: PixelCache | undefined,
    private readonly pool: WorkerPool,
    private stain: StainNormalizer = noStainNormalization,
  ) {
    this.preprocessingKey = preprocessingId(preprocessing);
    this.stainKey = stainNormalizerId(stain);
  }

  get stainNormalizer(): StainNormalizer {
    return this.stain;
  }

  setStainNormalizer(stain: StainNormalizer): void {
    this.stain = stain;
    this.stainKey = stainNormalizerId(stain);
  }

  /** Decoded and resized, before stain normalisation. `bytes` saves a read when the caller has them. */
  async base(image: StoredImage, bytes?: Buffer): Promise<DecodedImage & { fromCache: boolean }> {
    const key = PixelCache.key(image.hash, this.preprocessingKey, 'none');
    const cached = await this.cache?.read(key);
    if (cached) return { ...cached, fromCache: true };
    const decoded = await decodeAndPreprocess(bytes ?? (await readRegularFile(image.path)), image.path, this.preprocessing, this.limits);
    await this.cache?.write(key, decoded);
    return { ...decoded, fromCache: false };
  }

  /** What the model sees before augmentation: base pixels with stain normalisation applied. */
  async pixels(images: StoredImage[]): Promise<DecodedImage[]> {
    if (this.stain.method === 'none') return Promise.all(images.map((image) => this.base(image)));
    const key = (image: StoredImage) => PixelCache.key(image.hash, this.preprocessingKey, this.stainKey);
    const cached = await Promise.all(images.map((image) => this.cache?.read(key(image))));
    const missing = images.map((_, i) => i).filter((i) => !cached[i]);
    if (missing.length === 0) return cached as DecodedImage[];
    const bases = await Promise.all(missing.map((i) => this.base(images[i])));
    const normalized = await this.pool.run<Uint8Array[]>({ kind: 'stain-normalize', images: bases.map((b) => b.pixels), normalizer: this.stain });
    const result = cached.slice();
    await Promise.all(
      missing.map(async (i, j) => {
        const image: DecodedImage = { pixels: normalized[j], width: bases[j].width, height: bases[j].height, notes: bases[j].notes };
        result[i] = image;
        await this.cache?.write(key(images[i]), image);
      }),
    );
    return result as DecodedImage[];
  }
}
