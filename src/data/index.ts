// aplnet's data layer: sources, robust decoding, transforms, stain normalisation, splits, cache, loader.
export { DataError, isDataError, skippableReasons, type DataErrorReason } from './errors.js';
export { readSource } from './sources/read-source.js';
export { readClassFolders } from './sources/class-folders.js';
export { readCsvManifest } from './sources/csv-manifest.js';
export { readCaseManifest, type CaseManifestRow } from './sources/case-manifest.js';
export { formatCsvRow } from './csv.js';
/** The manifest parser, for columns only evaluation reads (a cell's own type, for key-instance detection). */
export { parseCsvRows, type CsvRow } from './csv.js';
export type { SampleRecord, DatasetSource, SourceOptions } from './sources/source-types.js';
export { imageExtensions, listImageFiles, type ListedImages } from './files/list-image-files.js';
export { readRegularFile } from './files/regular-file.js';
export { writeSkippedList } from './files/skipped-list.js';
export { saveClassNames, loadClassNames, classIndexMap } from './class-names.js';
export { decodeAndPreprocess, type ConversionNote, type RgbImage, type DecodedImage } from './decode/image-decode.js';
export { defaultDecodeLimits, validatePreprocessing, preprocessingId, describeFraming, MAX_ZOOM, type Preprocessing, type DecodeLimits } from './preprocessing.js';
export { ChannelStatsAccumulator, writeNormalizedChw, loadChannelStats, parseChannelStats, type ChannelStats } from './channel-stats.js';
export { augmentImage, smearAugmentation, smearAugmentationWith, type Augmentation, type AugmentationChoice } from './augmentation.js';
export { flipHorizontal, flipVertical, rotateQuarterTurns, affineTransform, type AffineJitter } from './geometric-transforms.js';
export { adjustBrightnessContrast, adjustHsv, jitterHed } from './color-transforms.js';
export { gaussianBlur } from './gaussian-blur.js';
export {
  fitStainNormalizer,
  applyStainNormalizer,
  stainNormalizerId,
  parseStainNormalizer,
  saveStainNormalizer,
  loadStainNormalizer,
  noStainNormalization,
  type StainNormalizer,
  type StainNormalizationMethod,
} from './stain-normalizer.js';
export type { MacenkoParams } from './macenko.js';
export type { ReinhardParams } from './reinhard.js';
export { stratifiedHoldout, stratifiedKFold, validateFractions, type SplitItem, type SplitFractions } from './stratified-split.js';
export { computeSplit, foldAssignments, assertGroupsDisjoint, saveSplitFile, loadSplitFile, assignmentsFor, type SplitFile, type SplitSpec } from './split-file.js';
export { splitNames, isSplitName, type SplitName } from './split-names.js';
export { classCounts, inverseFrequencyClassWeights, balancedEpochOrder } from './class-balance.js';
export { PixelCache } from './pixel-cache.js';
export { FileIndex } from './file-index.js';
export { ImageStore, type StoredImage } from './image-store.js';
export { WorkerPool, defaultWorkerCount } from './worker-pool.js';
export { DataLoader, type DataSubset, type LoaderOptions, type Batch } from './data-loader.js';
export { BadImageLog, type BadImagePolicy } from './bad-image-log.js';
export { formatDataSummary, type DataSummary, type SkippedImage, type SummaryFormat } from './data-summary.js';
export { prepareDataset, type DatasetOptions, type PreparedDataset } from './dataset.js';
export type { DatasetSplit } from './dataset/split-choice.js';
export {
  loadImageForInference,
  saveInferencePreprocessing,
  loadInferencePreprocessing,
  type InferencePreprocessing,
  type InferenceImage,
} from './inference.js';
export { randomFor, mixSeed, mulberry32, shuffleInPlace, type Random } from './prng.js';
export { hedFromRgb, opticalDensity } from './optical-density.js';
export { blankImage, noiseImage, grayscaleImage, washedOutImage, restainedImage, photoCrop, BLANK_COLOURS, type NoiseKind, type StainStyle } from './ood-images.js';
export { makeOodSets, OOD_SET_NAMES, type OodSetName, type OodSetOptions } from './ood-sets.js';
export { autoZoom, cellExtentAdvice, type CellExtentSummary } from './cell-extent.js';
