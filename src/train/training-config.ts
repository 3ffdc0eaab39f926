// The training configuration: validated with zod, saved as config.json in the run folder so the
// run can be resumed, evaluated and reproduced exactly.
import { z } from 'zod';
import { MAX_ZOOM } from '../data/index.js';

export const TrainingConfigSchema = z.object({
  data: z.string().min(1),
  /**
   * aplnet-s-ap: its map is the weighting its class scores are computed with, flat on blank images;
   * chosen over aplnet-s on validation macro-F1 (0.9692 vs 0.9691 seed 0, 0.9806 vs 0.9779 seed 1).
   */
  model: z.string().default('aplnet-s-ap'),
  /** Input side in pixels; default the preset's. */
  size: z.number().int().min(32).max(1024).optional(),
  epochs: z.number().int().min(1).max(10_000).default(30),
  batch: z.number().int().min(1).max(4096).default(32),
  lr: z.number().positive().max(10).default(2e-3),
  weightDecay: z.number().min(0).max(1).default(0.05),
  warmupEpochs: z.number().min(0).default(1),
  schedule: z.enum(['cosine', 'one-cycle']).default('cosine'),
  labelSmoothing: z.number().min(0).max(0.5).default(0.05),
  /**
   * Which epoch becomes the model: 'best' validation macro-F1, or the 'last' (the end of the
   * schedule). 'last' is for labels a cell only inherits (a case's label on every one of its cells),
   * where cell macro-F1 against them is noise: on pbc-cases it kept epochs 40, 34 and 10 of three
   * seeds (docs/case-results.md). Needs --patience 0.
   */
  keep: z.enum(['best', 'last']).default('best'),
  /** Stop when validation macro-F1 has not improved for this many epochs (0 = never). */
  patience: z.number().int().min(0).default(8),
  device: z.string().default('cpu'),
  threads: z.number().int().min(1).optional(),
  seed: z.number().int().min(0).default(0),
  folds: z.number().int().min(2).max(20).optional(),
  fold: z.number().int().min(0).optional(),
  /** none, weighted loss (inverse class frequency) or a class-balanced sampler. */
  balance: z.enum(['none', 'weights', 'sampler']).default('none'),
  augment: z.boolean().default(true),
  stainNorm: z.enum(['none', 'macenko', 'reinhard']).default('none'),
  resize: z.enum(['center-crop', 'letterbox']).default('center-crop'),
  /**
   * With center-crop, keep the middle 1/zoom of the shorter side (the cell) before resizing; 1 = the
   * whole crop. 'auto': chosen by train from the training cells measured on the whole crops
   * (autoZoom); the run's preprocessing.json holds the zoom it chose, config.json the measure.
   */
  zoom: z.union([z.number().min(1).max(MAX_ZOOM), z.literal('auto')]).default(1),
  onBadImage: z.enum(['skip', 'fail']).default('skip'),
  split: z.object({ train: z.number().gt(0).lt(1), val: z.number().gt(0).lt(1), test: z.number().min(0).lt(1) }).default({ train: 0.7, val: 0.15, test: 0.15 }),
  workers: z.number().int().min(0).max(64).optional(),
  cacheDir: z.string().optional(),
  /** Data-parallel runs: batch norm with the global batch's statistics (torch.nn.SyncBatchNorm) instead of each process's. */
  syncBn: z.boolean().default(false),
  // Recipe levers (docs/accuracy-results.md): each default is today's behaviour until validation shows a gain.
  /** Mixup (Zhang et al. 2018): Beta(α, α) blend of image pairs and their targets; 0 = off. */
  mixup: z.number().min(0).max(10).default(0),
  /** CutMix (Yun et al. 2019): a box pasted from the paired image, targets by area; Beta(α, α); 0 = off. */
  cutmix: z.number().min(0).max(10).default(0),
  /** Share of training batches mixed when mixup or cutmix is on (with both, each mixed batch picks one at even odds). */
  mixProbability: z.number().min(0).max(1).default(1),
  /** Exponential moving average of the weights with this decay (e.g. 0.99); 0 = off. When on, the average is what is validated, calibrated and saved. */
  ema: z.number().min(0).lt(1).default(0),
  /** Stochastic depth: the deepest residual branch is dropped with this probability, earlier ones linearly less; 0 = off. */
  dropPath: z.number().min(0).max(0.5).default(0),
  /** 'quarter': 90° turns + ±15° jitter; 'any': a uniform angle in [0°, 360°). Flips are on either way. */
  rotation: z.enum(['quarter', 'any']).default('quarter'),
  /** Corners a rotation uncovers: reflect the image, or fill with its background (border median) colour. */
  rotationFill: z.enum(['reflect', 'background']).default('reflect'),
  /**
   * Weight of the attention-pool map's normalised entropy in the loss (attention-pool presets only):
   * > 0 asks the pooling to gather its evidence from fewer positions, i.e. a sharper map; 0 = off.
   */
  attentionEntropy: z.number().min(0).max(10).default(0),
  /** Multiplies the stain (HED) jitter: 0 off, 1 = ±5% per stain amount, ±0.02 shift. */
  stainJitter: z.number().min(0).max(10).default(1),
});

export type TrainingConfig = z.infer<typeof TrainingConfigSchema>;

/** Validates user options; errors name the option and what is allowed. */
export function parseTrainingConfig(input: unknown): TrainingConfig {
  const result = TrainingConfigSchema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid training options: ${problems}`);
  }
  const config = result.data;
  const { train, val, test } = config.split;
  if (Math.abs(train + val + test - 1) > 1e-6) throw new Error(`invalid training options: --split fractions must add up to 1, got ${train}+${val}+${test}`);
  if (config.fold !== undefined && (config.folds === undefined || config.fold >= config.folds)) {
    throw new Error(`invalid training options: --fold ${config.fold} needs --folds greater than it`);
  }
  if (config.keep === 'last' && config.patience > 0) {
    throw new Error(`invalid training options: --keep last trains the whole schedule, so it needs --patience 0 (got ${config.patience})`);
  }
  if (config.zoom !== 1 && config.resize !== 'center-crop') {
    throw new Error(`invalid training options: --zoom ${config.zoom} needs --resize center-crop (--resize ${config.resize} keeps the whole image by design)`);
  }
  return config;
}

/** Every default, from the schema itself: the CLI shows these in its help but never passes them. */
export const TRAINING_DEFAULTS: Readonly<Omit<TrainingConfig, 'data'>> = (() => {
  const { data: _data, ...defaults } = TrainingConfigSchema.parse({ data: '-' });
  return Object.freeze(defaults);
})();
