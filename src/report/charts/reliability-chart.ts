import type { TopLevelSpec } from 'vega-lite';
import type { CalibrationReport } from '../../eval/index.js';
import { chartConfig, SMALL_CHART } from './chart-theme.js';

/**
 * Reliability diagram: accuracy per confidence bin as bars, the gap to the bin's mean
 * confidence as a red band (over-confidence above the bar, under-confidence inside it), and the
 * diagonal a calibrated model would follow. Bar opacity follows the bin's share of images so
 * that a large gap on three images does not look like a large gap on three thousand.
 * eceText: the ECE as the report writes it (with its interval).
 */
export function reliabilityChartSpec(calibration: CalibrationReport, title: string, eceText: string): TopLevelSpec {
  const total = calibration.bins.reduce((sum, b) => sum + b.count, 0);
  const values = calibration.bins
    .filter((b) => b.count > 0)
    .map((b) => ({
      lower: b.lower,
      upper: b.upper,
      accuracy: b.accuracy,
      confidence: b.meanConfidence,
      share: b.count / total,
      count: b.count,
    }));
  return {
    config: chartConfig,
    // The bins drawn are the bins the ECE was computed on (calibrationBinCount in eval), so the
    // subtitle's number is the chart's weighted gap.
    title: {
      text: title,
      subtitle: `ECE ${eceText} · ${calibration.bins.length} equal-width bins`,
    },
    ...SMALL_CHART,
    height: 240,
    layer: [
      {
        data: { values },
        mark: { type: 'rect', color: '#2e6fad', stroke: 'white', strokeWidth: 0.5 },
        encoding: {
          x: { field: 'lower', type: 'quantitative', title: 'confidence (top-class probability)', scale: { domain: [0, 1] } },
          x2: { field: 'upper' },
          y: { field: 'accuracy', type: 'quantitative', title: 'accuracy', scale: { domain: [0, 1] } },
          y2: { datum: 0 },
          opacity: { field: 'share', type: 'quantitative', scale: { domain: [0, 0.2], range: [0.35, 1], clamp: true }, legend: null },
        },
      },
      {
        data: { values },
        mark: { type: 'rect', color: '#d92d20', opacity: 0.45 },
        encoding: {
          x: { field: 'lower', type: 'quantitative' },
          x2: { field: 'upper' },
          y: { field: 'accuracy', type: 'quantitative' },
          y2: { field: 'confidence' },
        },
      },
      {
        data: { values: [{ x: 0, y: 0 }, { x: 1, y: 1 }] },
        mark: { type: 'line', strokeDash: [4, 4], color: '#475467', strokeWidth: 1 },
        encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
      },
    ],
  };
}
