import type { ClassifierReport, TemperatureFit } from '../eval/index.js';

export interface DataCredit {
  /** Full citation, e.g. authors, title, journal, year. */
  citation: string;
  /** Shown as text, never as a link: the report must open offline without reaching out. */
  doi?: string;
  license?: string;
}

export interface DatasetSummary {
  name: string;
  /** Class names in model output order, as found in the data (folder names or manifest labels). */
  classNames: string[];
  /** Images per class for each split, e.g. { train: [...], validation: [...], test: [...] }. */
  countsBySplit: Record<string, number[]>;
  /** Distinct patients per split; absent when the data has no patient ids. */
  patientsBySplit?: Record<string, number>;
  credits?: DataCredit[];
}

/** One line of metrics.jsonl. Validation fields are null on epochs that skipped validation. */
export interface TrainingCurveRow {
  epoch: number;
  train_loss: number;
  val_loss: number | null;
  train_acc: number | null;
  val_acc: number | null;
  val_macro_f1: number | null;
  lr: number;
}

export interface EvaluationSection {
  /** Which split the numbers come from, e.g. "test". */
  splitName: string;
  uncalibrated: ClassifierReport;
  /** Absent when no temperature was fitted. */
  calibrated?: ClassifierReport;
  temperatureFit?: TemperatureFit;
}

export type GalleryKind = 'most-confident-right' | 'most-confident-wrong';

export interface GalleryImage {
  /** PNG bytes of the explanation panel (original | overlay | colour scale), or the plain crop. */
  png: Uint8Array;
  kind: GalleryKind;
  trueClass: string;
  predictedClass: string;
  confidence: number;
  caption?: string;
}

export interface ModelCardInput {
  modelName: string;
  /** What part of an image the model reads, in words (describeFraming). */
  framing?: string;
  /** The run's out-of-distribution check, when it has one: the share of validation images it flags. */
  oodCheck?: { validationFlagged: number } | null;
  /** Extra limitations known to the user, added to the standard ones. */
  limitations?: string[];
}

/** One case of the evaluated split, as the run layer's case summary gives it. */
export interface ReportCase {
  caseId: string;
  /** The case's label where labels belong to the patient, else null. */
  truth: string | null;
  /** Null for cell-type runs (the differential is the summary) or a case without usable cells. */
  call: { label: string; probability: number; /** The source in words, e.g. "baseline: mean of the cells' probabilities". */ source: string; /** Referred below this case probability. */ threshold: number } | null;
  refer: boolean;
  referReasons: string[];
  cells: number;
  failed: number;
  outOfDistribution: number;
  usable: number;
  /** What `flagged` counts: usable cells unsure on their own (labels are cell types), or images set aside (labels belong to the patient). */
  flagRule: 'low-confidence' | 'set-aside';
  flagged: number;
  flaggedShare: number;
  maxFlaggedShare: number;
  /** Usable cells unsure on their own, whatever the rule. */
  lowConfidence: number;
  /** Usable cells per predicted class, in the dataset's class order. */
  differential: number[];
  /** Cells per true class where the labels are cell types, else null. */
  trueDifferential: number[] | null;
}

export interface ReportInput {
  title?: string;
  runName: string;
  /** ISO time the report was made; passed in so the same inputs give the same bytes. */
  generatedAt: string;
  dataset: DatasetSummary;
  trainingCurves: TrainingCurveRow[];
  evaluation: EvaluationSection;
  gallery: GalleryImage[];
  /** What the gallery's overlays draw, in words (e.g. "gradient-weighted attention (attention-grad)"). */
  galleryMap: string;
  /** The run's config.json, shown verbatim. */
  config: unknown;
  modelCard: ModelCardInput;
  /** The evaluated split's cases, when its images have patient ids. */
  cases?: ReportCase[];
}
