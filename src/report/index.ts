export { buildReportHtml } from './build-report.js';
export { selectGalleryCases, type GalleryCase } from './gallery-selection.js';
export { keyMetrics, cardMetrics, metricsSummary, type KeyMetric, type KeyMetrics } from './key-metrics.js';
export { formatWithInterval } from './format.js';
export type {
  ReportInput,
  DatasetSummary,
  DataCredit,
  TrainingCurveRow,
  EvaluationSection,
  GalleryImage,
  GalleryKind,
  ModelCardInput,
  ReportCase,
} from './report-input.js';
export { faithfulnessChartSvg, faithfulnessChartSpec, type FaithfulnessSeries } from './charts/faithfulness-chart.js';
export { detectDataCredits, PBC_CREDIT } from './data-credits.js';
