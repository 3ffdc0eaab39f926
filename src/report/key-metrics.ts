// The few numbers that stand for a model wherever it is summed up in one line: the report's
// summary and model card, and (through metrics.json's summary) the web app's model card. One list
// here so they all show the same metrics with the same intervals in the same words.
import type { ClassifierReport, Interval, MetricsReport } from '../eval/index.js';
import { formatWithInterval, type MetricScale } from './format.js';

export interface KeyMetric {
  /** The MetricsReport field it comes from. */
  name: 'accuracy' | 'balancedAccuracy' | 'macroF1' | 'macroAuc' | 'expectedCalibrationError';
  label: string;
  value: number | null;
  interval: Interval | null;
  /** e.g. "96.4% (95% CI 94.9–97.6)". */
  text: string;
}

function keyMetric(metrics: MetricsReport, name: KeyMetric['name'], label: string, value: number | null, scale: MetricScale, digits?: number): KeyMetric {
  const interval = metrics.intervals?.[name] ?? null;
  return { name, label, value, interval, text: formatWithInterval(value, interval, metrics.intervals?.level, scale, digits) };
}

export type KeyMetrics = Record<KeyMetric['name'], KeyMetric>;

/** Accuracy, balanced accuracy, macro-F1, macro ROC-AUC and ECE with their intervals, in that (reading) order. */
export function keyMetrics(metrics: MetricsReport): KeyMetrics {
  return {
    accuracy: keyMetric(metrics, 'accuracy', 'accuracy', metrics.accuracy, 'percent'),
    balancedAccuracy: keyMetric(metrics, 'balancedAccuracy', 'balanced accuracy', metrics.balancedAccuracy, 'percent'),
    macroF1: keyMetric(metrics, 'macroF1', 'macro-F1', metrics.macroF1, 'fixed'),
    macroAuc: keyMetric(metrics, 'macroAuc', 'macro ROC-AUC', metrics.roc.macroAuc, 'fixed'),
    expectedCalibrationError: keyMetric(metrics, 'expectedCalibrationError', 'ECE', metrics.calibration.expectedCalibrationError, 'percent', 2),
  };
}

/** The metrics a model card lists, in one line each. */
const CARD_METRICS: KeyMetric['name'][] = ['accuracy', 'macroF1', 'macroAuc', 'expectedCalibrationError'];

export function cardMetrics(metrics: MetricsReport): KeyMetric[] {
  const all = keyMetrics(metrics);
  return CARD_METRICS.map((name) => all[name]);
}

/**
 * A flat label → text record of the card metrics (image level, then patient level), for
 * metrics.json's `summary`, so a reader of that file (the web app's model card) needs no knowledge
 * of how ClassifierReport nests them: { "accuracy": "96.4% (95% CI 94.9–97.6)", … }.
 */
export function metricsSummary(report: ClassifierReport): Record<string, string> {
  const summary: Record<string, string> = {};
  for (const m of cardMetrics(report.images)) summary[m.label] = m.text;
  if (report.patients) for (const m of cardMetrics(report.patients)) summary[`patient ${m.label}`] = m.text;
  return summary;
}
